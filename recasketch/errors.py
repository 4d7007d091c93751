"""The package's own exceptions, defined in one place.

:class:`DataError` is raised by the readers (:mod:`recasketch.data`) and by the steps that
check a frame (:mod:`recasketch.preprocess`); :class:`DownloadError` by
:mod:`recasketch.download`. Both are importable from :mod:`recasketch.data` as well.
"""

from __future__ import annotations

__all__ = ["DataError", "DownloadError"]


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
