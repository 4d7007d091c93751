"""The package's own exceptions, defined in one place.

:class:`DataError` is raised by the readers (:mod:`recasketch.data`) and by the steps that
check a frame (:mod:`recasketch.preprocess`); :class:`DownloadError` by
:mod:`recasketch.datasets.download`. Both are importable from :mod:`recasketch.data` as well.
:class:`EngineUnavailableError` is raised where a distributed engine cannot be used: Spark
without pyspark or Java (:mod:`recasketch.models.spark_als`), a Dask scheduler that cannot be
reached (:mod:`recasketch.parallel.cluster`): a malformed address, or one where nothing answers
as a Dask scheduler within the timeout (a stopped scheduler, a firewall, the dashboard's port, a
server speaking another protocol). Its message names the address and where it came from (the
argument or ``RECASKETCH_SCHEDULER``).
"""

from __future__ import annotations

__all__ = ["DataError", "DownloadError", "EngineUnavailableError"]


class DataError(ValueError):
    """A data file or frame is not what recasketch expects.

    The message names the file and, where it can, the line or column at fault, and says how
    to fix it.
    """


class DownloadError(RuntimeError):
    """A file of the crawl could not be downloaded, or did not verify.

    Parameters
    ----------
    message : str
        What went wrong and how to fix it; it names the URL and the number of attempts.
    url : str
        The URL that failed.
    attempts : int
        How many requests were made for it.
    status : int or None, default=None
        The last HTTP status received, if any.
    """

    def __init__(self, message: str, *, url: str, attempts: int, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.attempts = attempts
        self.status = status


class EngineUnavailableError(RuntimeError):
    """A distributed engine cannot be used here: a package, Java or a scheduler is missing.

    The message says what is missing and how to install or reach it, in place of the
    engine's own stack trace (a Java gateway that never started, a connection timeout).

    Parameters
    ----------
    message : str
        What is missing and how to fix it.
    engine : str
        ``"spark"`` or ``"dask"``.
    """

    def __init__(self, message: str, *, engine: str):
        super().__init__(message)
        self.engine = engine
