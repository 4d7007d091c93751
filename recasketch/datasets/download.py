"""Downloading the Sketchfab crawl: rec-a-sketch's two psv files, pinned and verified.

:func:`download_sketchfab_data` fetches ``model_likes_anon.psv`` and ``model_feats.psv``
from rec-a-sketch at a fixed commit (:data:`SKETCHFAB_DATA_URL`) and checks each against its
git blob id (:data:`SKETCHFAB_BLOB_IDS`, the ids ``git ls-tree`` shows for that commit), so
the files on disk are byte for byte the ones the posts used. Retries are urllib3's
:class:`~urllib3.util.Retry`, mounted on a :class:`requests.Session` through an
:class:`~requests.adapters.HTTPAdapter`. Each file is streamed into a temporary file beside its
target and moved into place only once verified, so the destination never holds a partial or
unverified file.

From the shell::

    python -m recasketch.datasets.download [--dest DIR] [--base-url URL] [--no-progress]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import logging
import os
import re
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import requests
from requests.adapters import HTTPAdapter
from tqdm.auto import tqdm
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry

from .. import __version__, config
from ..data import read_features, read_likes
from ..errors import DataError, DownloadError

__all__ = ["SKETCHFAB_BLOB_IDS", "SKETCHFAB_COMMIT", "SKETCHFAB_DATA_URL", "DownloadError",
           "download_sketchfab_data", "git_blob_id", "main", "mount_retries", "retrying_session"]

logger = logging.getLogger(__name__)

#: The rec-a-sketch commit the crawl is downloaded from.
SKETCHFAB_COMMIT = "83d74f9a0629bb80c086f38f3f2f2895e81af1f0"

#: Where rec-a-sketch keeps the crawl at :data:`SKETCHFAB_COMMIT`; each file is at
#: ``f"{SKETCHFAB_DATA_URL}/{name}"``.
SKETCHFAB_DATA_URL = (
    f"https://raw.githubusercontent.com/EthanRosenthal/rec-a-sketch/{SKETCHFAB_COMMIT}/data"
)

#: The git blob id of each file of the crawl at :data:`SKETCHFAB_COMMIT` (read-only).
SKETCHFAB_BLOB_IDS = MappingProxyType({
    config.LIKES_FILE: "cf71d964adbd9f64075b06542b880f8d66d1dfeb",
    config.FEATURES_FILE: "8b85bf2cd232bd10e9ae62359870fe862bc9bc3b",
})

_FILES = (config.LIKES_FILE, config.FEATURES_FILE)
_RETRY_STATUSES = frozenset([429, *range(500, 600)])
_BLOB_ID = re.compile(r"[0-9a-f]{40}")
_CHUNK_SIZE = 1 << 16


def git_blob_id(data) -> str:
    """The git blob id of a file or of bytes: what ``git hash-object`` prints.

    That is the SHA-1 of ``b"blob <size>\\0"`` followed by the content, ``<size>`` being the
    content's length in bytes, in decimal. A file is read in chunks, so a large one is never
    held in memory.

    Parameters
    ----------
    data : bytes, bytearray, memoryview, str or os.PathLike
        The content itself, or the path of a file holding it.

    Returns
    -------
    str
        40 lowercase hex characters.

    Raises
    ------
    TypeError
        If ``data`` is neither bytes-like nor a path.

    Examples
    --------
    >>> git_blob_id(b"hello\\n")
    'ce013625030ba8dba906f756967f9e9ca394464a'
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        content = memoryview(data).cast("B")
        digest = hashlib.sha1(b"blob %d\0" % content.nbytes)
        digest.update(content)
        return digest.hexdigest()
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(
            f"git_blob_id takes bytes or a file path, got {type(data).__name__}; pass the "
            "content as bytes or the path as a str or pathlib.Path."
        )
    with open(data, "rb") as handle:
        digest = hashlib.sha1(b"blob %d\0" % os.fstat(handle.fileno()).st_size)
        while chunk := handle.read(_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def download_sketchfab_data(dest, base_url: str = SKETCHFAB_DATA_URL, *, files=_FILES, timeout: float = 30,
                            retries: int = 3, backoff: float = 1.0, max_wait: float = 60.0,
                            session: requests.Session | None = None, progress: bool = True,
                            expected: Mapping[str, str] | None = SKETCHFAB_BLOB_IDS) -> dict[str, Path]:
    """Download the Sketchfab crawl (the two psv files) into ``dest`` and verify it.

    Each file is streamed into a temporary file in ``dest``, synced to disk, verified, and
    only then moved into place, so ``dest`` never holds a partial or unverified file, even
    after an error or Ctrl-C. A file is verified by its git blob id (see :func:`git_blob_id`)
    against ``expected``, or, with ``expected=None``, by reading it with
    :func:`recasketch.data.read_likes` or :func:`recasketch.data.read_features`. A file
    already in ``dest`` that verifies is kept and not requested again; one that does not is
    downloaded again, and stays as it was if that download fails.

    Parameters
    ----------
    dest : str or os.PathLike
        The folder to write into (created if missing), usually
        :data:`recasketch.config.REAL_DIR`.
    base_url : str, default=SKETCHFAB_DATA_URL
        The http(s) URL of the folder holding the files; each is fetched from
        ``f"{base_url}/{name}"``.
    files : str or sequence of str, default=(config.LIKES_FILE, config.FEATURES_FILE)
        The file name(s) to fetch; each must be one of those two.
    timeout : float, default=30
        Seconds to wait to connect, and then for each read from the server.
    retries : int, default=3
        How many times to request a file again after a transient failure: a connection
        error, a timeout or a broken connection before the response's headers, or HTTP 429
        or 5xx. Other HTTP errors are not retried, nor is a body cut short once it has
        started (the error says so; running the download again fetches that file anew).
    backoff : float, default=1.0
        urllib3's ``backoff_factor``: no wait before the first retry, then ``2 * backoff``,
        ``4 * backoff``, ... seconds. A server's ``Retry-After`` replaces it when present.
    max_wait : float, default=60.0
        The longest wait between two attempts, in seconds; it caps both the backoff and a
        server's ``Retry-After``.
    session : requests.Session or None, default=None
        The session to use (for proxies, headers or tests); ``None`` opens a new one and
        closes it at the end. A session passed in is used with its headers, proxies and
        cookies, but the retry policy above replaces its own for ``base_url`` during the
        call: an adapter is mounted for that prefix and removed again before returning.
    progress : bool, default=True
        Show a progress bar per file.
    expected : mapping of str to str or None, default=SKETCHFAB_BLOB_IDS
        The git blob id each file must have. ``None`` skips that check and validates each
        file with the readers instead (for a ``base_url`` serving other content).

    Returns
    -------
    dict of str to pathlib.Path
        Each file name mapped to its path in ``dest``.

    Raises
    ------
    DownloadError
        If a file cannot be fetched, or its blob id is not the expected one; the message
        names the URL, the HTTP status, the underlying error or the two ids, and the number
        of attempts. Nothing is written to ``dest`` for that file.
    recasketch.data.DataError
        With ``expected=None``, if a downloaded file is not a valid psv file (e.g. an HTML
        error page served with status 200); nothing is written to ``dest``.
    ValueError
        If an argument is out of range, a file name is unknown, or ``expected`` lacks a
        valid blob id for a file.

    Examples
    --------
    >>> from recasketch import config
    >>> from recasketch.data import read_likes
    >>> paths = download_sketchfab_data(config.REAL_DIR)  # doctest: +SKIP
    >>> likes = read_likes(paths[config.LIKES_FILE], drop_duplicates=True)  # doctest: +SKIP
    """
    files = (files,) if isinstance(files, str) else tuple(files)
    unknown = [name for name in files if name not in _FILES]
    if unknown:
        raise ValueError(f"Unknown file name(s) {unknown}; choose from {list(_FILES)}.")
    if not isinstance(base_url, str) or not re.match(r"https?://", base_url):
        raise ValueError(
            f"base_url must be an http:// or https:// URL, got {base_url!r}; the default is "
            f"{SKETCHFAB_DATA_URL}."
        )
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}.")
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}.")
    for name, value in (("backoff", backoff), ("max_wait", max_wait)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0 seconds, got {value}.")
    checks = {name: None if expected is None else _expected_id(expected, name) for name in files}

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    with retrying_session(session, base_url + "/", retries=retries, backoff=backoff,
                          max_wait=max_wait) as session:
        paths = {}
        for name in files:
            target = dest / name
            if target.is_file():
                problem = _problem(target, name, checks[name])
                if problem is None:
                    logger.info("%s is already present and verified; not downloading it.", target)
                    paths[name] = target
                    continue
                logger.warning("%s %s; downloading it again.", target, problem)
            _download(session, f"{base_url}/{name}", target, checks[name], retries=retries,
                      timeout=timeout, progress=progress)
            paths[name] = target
        return paths


def _expected_id(expected: Mapping[str, str], name: str) -> str:
    if name not in expected:
        raise ValueError(
            f"expected has no blob id for {name!r}; add one (`git hash-object {name}` prints "
            "it) or pass expected=None to validate the file with the readers instead."
        )
    value = expected[name]
    if not isinstance(value, str) or not _BLOB_ID.fullmatch(value.lower()):
        raise ValueError(
            f"expected[{name!r}] is {value!r}, not a git blob id (40 hex characters); compute "
            "one with `git hash-object FILE` or recasketch.datasets.download.git_blob_id(FILE)."
        )
    return value.lower()


def mount_retries(session: requests.Session, prefix: str, *, retries: int, backoff: float,
                  max_wait: float):
    """Retry GET requests to ``prefix`` on ``session`` for the length of a ``with`` block.

    The package's one retry policy, shared by :func:`download_sketchfab_data` and
    :class:`recasketch.display.thumbnails.ThumbnailClient`: urllib3's :class:`~urllib3.util.Retry`,
    mounted through an :class:`~requests.adapters.HTTPAdapter`. A connection error, a
    timeout, or HTTP 429 or 5xx is retried up to ``retries`` times, with urllib3's
    exponential backoff (``backoff`` is its ``backoff_factor``) or the server's
    ``Retry-After``, each wait capped at ``max_wait`` seconds. Once the retries are spent,
    the last response comes back with its status (it is not raised), and ``response.raw.retries``
    holds the history. Whatever was mounted for ``prefix`` before is put back on exit.

    Parameters
    ----------
    session : requests.Session
        The session to mount the policy on.
    prefix : str
        The URL prefix it applies to, e.g. ``"https://api.sketchfab.com/v3/"``.
    retries : int
        The most retries after the first attempt.
    backoff : float
        urllib3's ``backoff_factor``, in seconds.
    max_wait : float
        The longest wait between two attempts, in seconds; it caps the backoff and a
        server's ``Retry-After`` alike.

    Returns
    -------
    contextlib.AbstractContextManager
        Use it in a ``with`` statement.
    """
    retry = Retry(
        total=retries,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=["GET"],
        backoff_factor=backoff,
        backoff_max=max_wait,
        respect_retry_after_header=True,
        retry_after_max=max_wait,
        raise_on_status=False,  # the last response comes back, with its status and history
    )
    return _mounted(session, prefix, HTTPAdapter(max_retries=retry))


@contextlib.contextmanager
def retrying_session(session: requests.Session | None, prefix: str, *, retries: int, backoff: float,
                     max_wait: float):
    """``session`` with :func:`mount_retries` for ``prefix``, for the length of a ``with`` block.

    ``None`` opens a new session, which names recasketch as its User-Agent and is closed on exit.
    """
    with contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(requests.Session())
            session.headers["User-Agent"] = f"recasketch/{__version__}"
        stack.enter_context(mount_retries(session, prefix, retries=retries, backoff=backoff,
                                          max_wait=max_wait))
        yield session


@contextlib.contextmanager
def _mounted(session: requests.Session, prefix: str, adapter: HTTPAdapter):
    """Mount ``adapter`` on ``session`` for ``prefix``; put back what was there on exit."""
    previous = session.adapters.get(prefix)
    session.mount(prefix, adapter)
    try:
        yield
    finally:
        if previous is None:
            session.adapters.pop(prefix, None)
        else:
            session.mount(prefix, previous)
        adapter.close()


def _problem(path: Path, name: str, blob_id: str | None) -> str | None:
    """Why the file at ``path`` is not a good ``name``, or ``None`` if it is."""
    if blob_id is not None:
        actual = git_blob_id(path)
        if actual == blob_id:
            return None
        return f"has git blob id {actual}, not the expected {blob_id}"
    reader = read_likes if name == config.LIKES_FILE else read_features
    try:
        reader(path)
    except DataError as err:
        return f"is not valid ({err})"
    return None


def _download(session, url: str, target: Path, blob_id, *, retries, timeout, progress) -> None:
    """Stream ``url`` to a temporary file beside ``target``, verify it, move it into place."""
    handle, tmp = _open_temporary(target)
    try:
        with handle:
            attempts = _stream(session, url, handle, target, retries=retries, timeout=timeout,
                               progress=progress)
            handle.flush()
            os.fsync(handle.fileno())
        _verify(tmp, url, target, blob_id, attempts)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _verify(tmp: Path, url: str, target: Path, blob_id, attempts: int) -> None:
    if blob_id is not None:
        actual = git_blob_id(tmp)
        if actual != blob_id:
            raise DownloadError(
                f"{url}: the download has git blob id {actual}, not the expected {blob_id} "
                f"for {target.name} (after {attempts} attempt(s)); nothing was written. "
                "Check base_url: it should point at rec-a-sketch's data folder at commit "
                f"{SKETCHFAB_COMMIT}. To keep content that differs on purpose, pass "
                "expected=None (--no-verify on the command line).",
                url=url, attempts=attempts,
            )
        return
    reader = read_likes if target.name == config.LIKES_FILE else read_features
    try:
        reader(tmp)
    except DataError as err:
        detail = str(err).replace(str(tmp), "the downloaded file")
        raise DataError(
            f"{url}: the download is not a valid {target.name} ({detail}) Nothing was "
            "written. Check base_url: it should point at a folder of raw psv files."
        ) from None


def _open_temporary(target: Path):
    """Create a new hidden file beside ``target``, with the permissions a plain open gives."""
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return os.fdopen(fd, "wb"), tmp


def _stream(session, url, handle, target: Path, *, retries, timeout, progress) -> int:
    """Write the body of ``url`` to ``handle``; return the number of requests it took."""
    try:
        response = session.get(
            url, stream=True, timeout=(timeout, timeout), headers={"Accept-Encoding": "identity"}
        )
    except requests.RequestException as err:
        reason = err.args[0] if err.args else err
        if isinstance(reason, MaxRetryError):
            attempts = retries + 1
            raise DownloadError(
                f"Could not download {url}: {_describe(reason.reason)} (gave up after "
                f"{attempts} attempt(s)). Check your internet connection or proxy and try "
                "again, pass a larger timeout or more retries, or put the file into "
                f"{target.parent} by hand.",
                url=url, attempts=attempts,
            ) from None
        raise DownloadError(
            f"Could not download {url}: {_describe(err)} (after 1 attempt; not retried, as "
            "it is not a transient error). Check base_url.",
            url=url, attempts=1,
        ) from None
    with response:
        history = getattr(response.raw, "retries", None)
        attempts = len(history.history) + 1 if history is not None else 1
        status = response.status_code
        if status in _RETRY_STATUSES:
            raise DownloadError(
                f"Could not download {url}: HTTP {status} {response.reason} (gave up after "
                f"{attempts} attempt(s)). The server is busy or failing; try again later, or "
                "pass more retries.",
                url=url, attempts=attempts, status=status,
            )
        if status != 200:
            raise DownloadError(
                f"Could not download {url}: HTTP {status} {response.reason} (after "
                f"{attempts} attempt(s); not retried, as HTTP {status} is not a transient "
                "error). Check base_url and the file name.",
                url=url, attempts=attempts, status=status,
            )
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        try:
            with tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=target.name,
                disable=not progress, leave=False,
            ) as bar:
                # urllib3 raises if the body ends before its Content-Length
                for chunk in response.iter_content(chunk_size=_CHUNK_SIZE):
                    handle.write(chunk)
                    bar.update(len(chunk))
        except requests.RequestException as err:
            broke = f"the connection broke while the body was being read ({_describe(err)})"
        else:
            return attempts
        raise DownloadError(
            f"Could not download {url}: {broke} (on attempt {attempts} of at most "
            f"{retries + 1}; a body that breaks off is not retried). Nothing was written; run "
            "the download again, which keeps the files already verified.",
            url=url, attempts=attempts, status=status,
        )


def _describe(err: BaseException) -> str:
    if isinstance(err, requests.RequestException) and err.args:
        # requests wraps urllib3's error; name the one that says what happened.
        inner = err.args[0]
        if isinstance(inner, BaseException):
            err = inner.reason if isinstance(inner, MaxRetryError) else inner
    if isinstance(err, (requests.Timeout, Urllib3Timeout, TimeoutError)):
        return f"timed out ({type(err).__name__}: {err})"
    return f"{type(err).__name__}: {err}"


# ------------------------------------------------------------------ command line


def main(argv=None) -> int:
    """Run the command line: ``python -m recasketch.datasets.download [--dest DIR] [--base-url URL]``.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit status: 0 on success, 1 on error (the message goes to stderr, without a
        traceback), 130 when interrupted.
    """
    parser = argparse.ArgumentParser(
        prog="python -m recasketch.datasets.download",
        description="Download the Sketchfab crawl (the likes and features psv files) from "
                    f"rec-a-sketch at commit {SKETCHFAB_COMMIT}, verified by git blob id.",
    )
    parser.add_argument("--dest", type=Path, default=config.REAL_DIR,
                        help=f"folder to write into (default: {config.REAL_DIR})")
    parser.add_argument("--base-url", default=SKETCHFAB_DATA_URL,
                        help=f"folder URL holding the files (default: {SKETCHFAB_DATA_URL})")
    parser.add_argument("--timeout", type=float, default=30,
                        help="seconds to wait to connect and for each read (default: 30)")
    parser.add_argument("--retries", type=int, default=3,
                        help="retries after a transient error (default: 3)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the git blob id check and validate the files with the "
                             "readers instead (for a --base-url serving other content)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        paths = download_sketchfab_data(
            args.dest, args.base_url, timeout=args.timeout, retries=args.retries,
            progress=not args.no_progress, expected=None if args.no_verify else SKETCHFAB_BLOB_IDS,
        )
    except (DownloadError, DataError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no partial file was left behind.", file=sys.stderr)
        return 130
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
