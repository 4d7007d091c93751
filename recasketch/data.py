"""Reading and validating the Sketchfab likes and features files.

The real crawl is two pipe-separated files from rec-a-sketch's ``data/`` folder:

``model_likes_anon.psv``
    header ``modelname|mid|uid``: one row per like (a user id liking a model id), with the
    model's name.
``model_feats.psv``
    header ``mid|type|value``: one row per category or tag of a model, ``type`` being
    ``category`` or ``tag``.

Both are written by ``csv.writer(delimiter='|', quotechar='\\\\', quoting=csv.QUOTE_MINIMAL)``:
a field holding ``|`` (or a backslash, or a line break) is wrapped in backslashes, and a
backslash inside such a field is doubled, as in ``\\Freedom | Limited Edition\\``. They are
read back as the posts did, with ``quotechar='\\\\'``. Passing ``escapechar='\\\\'`` as well
would make the parser take each closing backslash for an escape, so it is left out.

:func:`read_likes` and :func:`read_features` check everything the rest of the package relies
on (header, field counts, UTF-8, non-empty and well-formed ids, feature types), and raise
:class:`DataError` naming the file, the line (counted as a text editor counts them, the header
being line 1) or the column at fault, and how to fix it. They count exact duplicate rows
(``df.attrs["n_duplicates"]``) and drop them on request. :mod:`recasketch.download` fetches
the crawl; from the shell: ``python -m recasketch.download [--dest DIR]``.

Ids. A user id (``uid``) is an HMAC-MD5 hex digest: 32 lowercase hex characters. A model id
(``mid``) is a Sketchfab model uid: 32 lowercase hex characters for most models, but older
models have 26-27 ASCII letters and digits (``b7LzIm8JrnPw4GBDOMBNGYc39qM``), and
rec-a-sketch's model catalog (``data/model_urls.psv``) holds both kinds; ids of 20-31 letters
and digits are accepted. See :data:`UID_PATTERN` and :data:`MID_PATTERN`.

Notes
-----
``implicit.datasets.sketchfab`` mirrors the likes only (as an HDF5 file of ids, without model
names, categories or tags); the psv files are the source with everything, so this module reads
those.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import config
from .download import DownloadError  # re-exported for code that imports it from here

__all__ = [
    "DataError",
    "DownloadError",
    "FEATURE_TYPES",
    "FEATURES_COLUMNS",
    "LIKES_COLUMNS",
    "MID_PATTERN",
    "UID_PATTERN",
    "Dataset",
    "load_dataset",
    "read_features",
    "read_likes",
]

logger = logging.getLogger(__name__)

#: The header of the likes file, in order.
LIKES_COLUMNS = ("modelname", "mid", "uid")
#: The header of the features file, in order.
FEATURES_COLUMNS = ("mid", "type", "value")
#: The values the ``type`` column of the features file may take.
FEATURE_TYPES = ("category", "tag")

#: A valid user id (whole-string regular expression).
UID_PATTERN = r"[0-9a-f]{32}"
#: A valid model id (whole-string regular expression): a current 32-hex uid or an older one.
MID_PATTERN = r"[0-9a-f]{32}|[0-9A-Za-z]{20,31}"

# The posts' psv dialect. No escapechar: see the module docstring.
_DELIMITER = "|"
_QUOTECHAR = "\\"
_READ_OPTIONS = dict(
    sep=_DELIMITER,
    quoting=csv.QUOTE_MINIMAL,
    quotechar=_QUOTECHAR,
    dtype=str,
    keep_default_na=False,
    na_filter=False,
    index_col=False,  # a first row with an extra field must not become an index
    skip_blank_lines=False,  # keeps record k on line k + 2, so errors can name the line
    encoding="utf-8",
)
_FIX_QUOTING = (
    "If a field contains '|', wrap it in backslashes (\\like | this\\) and double any "
    "backslash inside it, as csv.writer(delimiter='|', quotechar='\\\\') does; otherwise "
    "fix or delete the line."
)
_HOW_TO_GET_FILES = (
    "Run `make data` (or `python -m recasketch.download`) to download the Sketchfab "
    "crawl, or `make sample` to write the synthetic sample."
)


class DataError(ValueError):
    """A data file or frame is not what the recasketch readers expect.

    The message names the file and, where it can, the line or column at fault.
    """


# ------------------------------------------------------------------ reading


def read_likes(path, *, drop_duplicates: bool = False) -> pd.DataFrame:
    """Read and validate the likes file, ``model_likes_anon.psv``.

    Parameters
    ----------
    path : str or os.PathLike
        The pipe-separated file, with header ``modelname|mid|uid``.
    drop_duplicates : bool, default=False
        Drop exact duplicate rows (keeping the first) and renumber the index. The crawl holds
        155 of them; the post drops them.

    Returns
    -------
    pandas.DataFrame
        One row per like, in file order: ``modelname`` (str), and ``mid`` and ``uid`` as
        categoricals (the ids repeat; categories are in order of first appearance). ``df.attrs["n_duplicates"]`` holds the number of exact duplicate rows found
        (whether or not they were dropped). A model named ``NA`` or ``null`` stays a string.

    Raises
    ------
    DataError
        If the file is missing, empty or has no rows; if its header is not
        ``modelname|mid|uid`` (a comma- or tab-separated file is reported as such); if it is
        not UTF-8; if a line does not have three fields; or if a ``mid`` or ``uid`` is empty
        or not a valid id (see :data:`MID_PATTERN`, :data:`UID_PATTERN`). The message names
        the file and the line (the header is line 1) or column, and says how to fix it.

    See Also
    --------
    read_features : the companion file of categories and tags.

    Examples
    --------
    >>> likes = read_likes("data/sample/model_likes_anon.psv")  # doctest: +SKIP
    >>> likes.attrs["n_duplicates"]  # doctest: +SKIP
    """
    table = _read_table(path, LIKES_COLUMNS)
    table.check_ids("mid", MID_PATTERN)
    table.check_ids("uid", UID_PATTERN)
    return table.finish(drop_duplicates)


def read_features(path, *, drop_duplicates: bool = False) -> pd.DataFrame:
    """Read and validate the features file, ``model_feats.psv``.

    Parameters
    ----------
    path : str or os.PathLike
        The pipe-separated file, with header ``mid|type|value``.
    drop_duplicates : bool, default=False
        Drop exact duplicate rows (keeping the first) and renumber the index.

    Returns
    -------
    pandas.DataFrame
        One row per (model, category or tag), in file order: ``mid`` (categorical), and
        ``type`` (one of :data:`FEATURE_TYPES`) and ``value`` (str). ``df.attrs["n_duplicates"]``
        holds the number of exact duplicate rows found.

    Raises
    ------
    DataError
        If the file is missing, empty or has no rows; if its header is not
        ``mid|type|value``; if it is not UTF-8; if a line does not have three fields; if a
        ``mid`` is empty or not a valid model id; or if a ``type`` is not ``category`` or
        ``tag``. The message names the file and the line or column, and says how to fix it.

    See Also
    --------
    read_likes : the likes file.
    recasketch.preprocess.build_item_features : turns this frame into a feature matrix.
    """
    table = _read_table(path, FEATURES_COLUMNS)
    table.check_ids("mid", MID_PATTERN)
    table.check_choice("type", FEATURE_TYPES)
    return table.finish(drop_duplicates)


@dataclass
class _Table:
    """A parsed psv file, with what is needed to name the line of any of its records.

    ``frame`` holds every record pandas read, blank lines included, so that record ``k``
    (0-based) is the one pandas numbered ``k``; ``blank`` marks the blank lines, which are
    skipped. ``one_line`` says each record sits on one physical line, record ``k`` then
    being on line ``k + 2``.
    """

    path: Path
    data: bytes  # the file after its header line, with CRLF turned into LF
    frame: pd.DataFrame
    blank: np.ndarray
    one_line: bool
    quoted: np.ndarray | None  # with one_line: the records whose line holds a backslash
    id_codes: dict = dataclasses.field(default_factory=dict)  # column -> factorize() of its ids

    def fail(self, message: str, line: int | None = None) -> DataError:
        where = f"{self.path}, line {line}" if line is not None else f"{self.path}"
        return DataError(f"{where}: {message}")

    def lines_of(self, positions: np.ndarray) -> np.ndarray:
        """The 1-based line on which each record in ``positions`` starts."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.one_line:
            return positions + 2
        # A quoted field may span lines: count the line breaks inside each record.
        breaks = np.zeros(len(self.frame), dtype=np.int64)
        for column in self.frame.columns:
            if "\n" in _joined(self.frame[column]):
                values = self.frame[column].to_numpy(dtype=object)
                breaks += np.fromiter((v.count("\n") for v in values), np.int64, len(values))
        starts = 2 + np.arange(len(self.frame)) + np.concatenate(([0], np.cumsum(breaks)[:-1]))
        return starts[positions]

    def _report_rows(self, bad: np.ndarray, column: str, what: str, fix: str) -> DataError:
        positions = np.flatnonzero(bad)
        lines = self.lines_of(positions[:5])
        first = self.frame[column].iat[int(positions[0])]
        shown = ", ".join(str(n) for n in lines)
        more = f" (and {len(positions) - len(lines)} more)" if len(positions) > len(lines) else ""
        value = f" holds {first!r}, which" if first != "" else ""
        return self.fail(
            f"column {column!r}{value} {what}; {len(positions)} row(s) in all, on line(s) "
            f"{shown}{more}. {fix}",
            line=int(lines[0]),
        )

    def check_ids(self, column: str, pattern: str) -> None:
        values = self.frame[column].to_numpy(dtype=object)
        empty = (values == "") & ~self.blank
        if empty.any():
            raise self._report_rows(
                empty,
                column,
                "is empty",
                f"Every row needs a {column}; fill it in or delete the line.",
            )
        # Ids repeat (a user likes many models): check each distinct id once.
        codes, uniques = pd.factorize(values)
        self.id_codes[column] = (codes, uniques)
        valid = _match_ids(np.asarray(uniques, dtype=object), pattern)
        bad = ~(valid[codes] | self.blank)
        if bad.any():
            kind = "user" if pattern == UID_PATTERN else "model"
            raise self._report_rows(
                bad,
                column,
                f"is not a valid {kind} id (whole-string pattern {pattern!r})",
                "Check that the columns are in the order of the header and that no id has "
                "spaces or other characters around it.",
            )

    def check_choice(self, column: str, choices) -> None:
        bad = ~(self.frame[column].isin(choices).to_numpy() | self.blank)
        if bad.any():
            raise self._report_rows(
                bad,
                column,
                f"is not one of {', '.join(map(repr, choices))}",
                f"Use {' or '.join(map(repr, choices))} (lowercase) in the {column!r} column.",
            )

    def finish(self, drop_duplicates: bool) -> pd.DataFrame:
        keep = ~self.blank
        if len(self.id_codes) >= 2:
            # Two id columns: a duplicate row repeats an (id, id) pair, which integer codes
            # find at once; the few rows that share a pair are then compared in full.
            (a, ua), (b, _) = list(self.id_codes.values())[:2]
            pair = a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b
            shared = pd.Series(pair).duplicated(keep=False).to_numpy() & keep
            duplicated = np.zeros(len(self.frame), dtype=bool)
            if shared.any():
                duplicated[shared] = self.frame[shared].duplicated().to_numpy()
            n_duplicates = int(duplicated.sum())
            if drop_duplicates:
                keep &= ~duplicated
        elif self.one_line:
            keys = self._line_keys()
            if drop_duplicates:
                duplicated = pd.Series(keys).duplicated().to_numpy()
                n_duplicates = int(duplicated.sum())
                keep[keep] = ~duplicated
            else:
                n_duplicates = len(keys) - len(set(keys))
        else:
            duplicated = self.frame[keep].duplicated().to_numpy()
            n_duplicates = int(duplicated.sum())
            if drop_duplicates and n_duplicates:
                keep[keep] = ~duplicated
        frame = self.frame.copy(deep=False)
        for column, (codes, uniques) in self.id_codes.items():
            # The ids were factorised for validation: keep them as categoricals, which
            # costs nothing here and makes every later groupby/factorize much cheaper.
            frame[column] = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
        if not keep.all():
            frame = frame[keep]
            for column in self.id_codes:
                frame[column] = frame[column].cat.remove_unused_categories()
        frame = frame.reset_index(drop=True)
        frame.attrs["n_duplicates"] = n_duplicates
        if n_duplicates:
            logger.info(
                "%s: %d exact duplicate row(s)%s.",
                self.path,
                n_duplicates,
                " dropped" if drop_duplicates else " (pass drop_duplicates=True to drop them)",
            )
        return frame

    def _line_keys(self):
        """One key per non-blank record, equal for equal records (one record per line).

        A line's bytes are a key for its record, and hashing them is several times faster
        than comparing the parsed columns. A line holding a backslash may be quoted in more
        than one way, so it is re-written in the canonical form first.
        """
        lines = self.data.split(b"\n")
        if self.data.endswith(b"\n"):
            lines.pop()
        if self.quoted is not None and len(self.quoted):
            rows = self.frame.iloc[self.quoted].to_numpy(dtype=object)
            for k, row in zip(self.quoted, rows):
                lines[k] = _canonical_line(row)
        if not self.blank.any():
            return lines
        keys = np.empty(len(lines), dtype=object)
        keys[:] = lines
        return keys[~self.blank]


def _read_table(path, columns: tuple) -> _Table:
    """Read ``path`` as a psv file with header ``columns`` and check its structure."""
    path = Path(path)
    raw = _read_bytes(path)
    end = raw.find(b"\n")
    header_bytes = raw if end < 0 else raw[:end]
    data = b"" if end < 0 else raw[end + 1 :]
    try:
        header = header_bytes.decode("utf-8")
    except UnicodeDecodeError:
        _check_utf8(raw, path)
    _check_header(header, columns, path)

    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    has_quotes = b"\\" in data
    try:
        with warnings.catch_warnings(record=True) as caught:
            # pandas only warns (and drops the field) when the first row has an extra field.
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(raw), **_READ_OPTIONS)
    except UnicodeDecodeError:
        _check_utf8(raw, path)  # names the line of the first bad byte
        raise
    except pd.errors.ParserError as err:
        raise _parser_error(err, raw, columns, path) from None
    for warning in caught:
        if issubclass(warning.category, pd.errors.ParserWarning):
            raise _parser_error(warning.message, raw, columns, path)
        warnings.warn_explicit(
            warning.message, warning.category, warning.filename, warning.lineno
        )
    frame.columns = list(columns)

    n_lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    one_line = n_lines == len(frame) and b"\r" not in data
    quoted = _lines_containing(data, b"\\") if one_line and has_quotes else None
    table = _Table(path, data, frame, np.zeros(len(frame), dtype=bool), one_line, quoted)
    table.blank = _blank_records(table)
    n_records = len(frame) - int(table.blank.sum())
    if n_records == 0:
        raise DataError(
            f"{path}: has no rows, only the header (line 1). Each row should read "
            f"{'|'.join(columns)}. {_HOW_TO_GET_FILES}"
        )

    # Every record has len(columns) - 1 delimiters: count them all at once, and look for the
    # line at fault only if the total is off.
    in_fields = 0  # only a quoted field can hold the delimiter
    if quoted is not None and len(quoted):
        rows = frame.iloc[quoted].to_numpy(dtype=object)
        in_fields = sum(value.count(_DELIMITER) for value in rows.ravel())
    elif has_quotes:
        in_fields = sum(_joined(frame[c]).count(_DELIMITER) for c in columns)
    if data.count(_DELIMITER.encode()) != (len(columns) - 1) * n_records + in_fields:
        bad, _ = _scan_records(raw, len(columns))
        if bad is not None:
            line, n_fields = bad
            raise DataError(
                f"{path}, line {line}: expected {len(columns)} fields "
                f"({'|'.join(columns)}), found {n_fields}. {_FIX_QUOTING}"
            )
    return table


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file. Check the path. {_HOW_TO_GET_FILES}") from None
    except IsADirectoryError:
        raise DataError(
            f"{path}: is a folder, not a file. Pass the path of the psv file itself "
            f"(e.g. {path / config.LIKES_FILE})."
        ) from None
    except PermissionError:
        raise DataError(f"{path}: permission denied. Make the file readable.") from None
    if not raw[:4096].strip() and not raw.strip():
        size = "0 bytes" if not raw else "only white space"
        raise DataError(
            f"{path}: the file is empty ({size}). It may be a failed download; delete it and "
            f"download it again. {_HOW_TO_GET_FILES}"
        )
    return raw


def _check_utf8(raw: bytes, path: Path) -> None:
    """Raise a DataError naming the line of the first byte of ``raw`` that is not UTF-8."""
    if raw.isascii():
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise DataError(
            f"{path}, line {line}: byte {column} of the line (0x{raw[err.start]:02x}) is not "
            "valid UTF-8. Save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.psv > "
            "out.psv` for a Latin-1 file."
        ) from None


def _check_header(header: str, columns: tuple, path: Path) -> None:
    header = header.lstrip("\ufeff").rstrip("\r")
    expected = "|".join(columns)
    if _DELIMITER not in header:
        for sep, name in ((",", "comma"), ("\t", "tab")):
            if sep in header:
                raise DataError(
                    f"{path}, line 1: the header {header!r} has no '|' but has {name}s; the "
                    f"file looks {name}-separated. The readers expect pipe-separated "
                    f"values with the header {expected!r}; write the file with sep='|'."
                )
    found = next(csv.reader([header], delimiter=_DELIMITER, quotechar=_QUOTECHAR))
    if tuple(found) != columns:
        missing = [c for c in columns if c not in found]
        extra = [c for c in found if c not in columns]
        detail = []
        if missing:
            detail.append(f"missing {missing}")
        if extra:
            detail.append(f"unexpected {extra}")
        if not detail:
            detail.append("same names in another order")
        hint = ""
        if set(found) == set(LIKES_COLUMNS) and columns == FEATURES_COLUMNS:
            hint = " This looks like the likes file; read it with read_likes."
        elif set(found) == set(FEATURES_COLUMNS) and columns == LIKES_COLUMNS:
            hint = " This looks like the features file; read it with read_features."
        raise DataError(
            f"{path}, line 1: expected the header {expected!r}, found {header!r} "
            f"({'; '.join(detail)}). Make the first line exactly {expected!r}.{hint}"
        )


def _blank_records(table: _Table) -> np.ndarray:
    """Mark the records that are blank lines (no delimiter, nothing but white space)."""
    frame = table.frame
    candidate = np.ones(len(frame), dtype=bool)
    for column in frame.columns[1:]:
        candidate &= frame[column].to_numpy(dtype=object) == ""
    positions = np.flatnonzero(candidate)
    if len(positions) == 0:
        return candidate
    first = frame[frame.columns[0]].to_numpy(dtype=object)[positions]
    candidate[positions] = [value.strip() == "" for value in first]
    # "||" parses like a blank line but is a record with empty fields: look at the line.
    positions = np.flatnonzero(candidate)
    lines = table.data.split(b"\n")
    for k, line in zip(positions, table.lines_of(positions)):
        if _DELIMITER.encode() in lines[line - 2]:
            candidate[k] = False
    return candidate


def _scan_records(raw: bytes, n_columns: int):
    """Find the first record without ``n_columns`` fields, the slow exact way.

    Only called once something is known to be wrong. Returns ``((line, n_fields), last)``:
    the start line and field count of the first bad record (or ``None``), and the start line
    of the last record.
    """
    text = raw.decode("utf-8-sig")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_DELIMITER, quotechar=_QUOTECHAR
    )
    start, last, bad = 1, None, None
    try:
        for row in reader:
            if start > 1 and not (len(row) <= 1 and "".join(row).strip() == ""):
                last = start
                if bad is None and len(row) != n_columns:
                    bad = (start, len(row))
            start = reader.line_num + 1
    except csv.Error as err:
        return (start, f"none that can be read ({err})"), start
    return bad, last


def _parser_error(err: Exception, raw: bytes, columns: tuple, path: Path) -> DataError:
    _check_utf8(raw, path)  # pandas may stop at a bad line before it meets a bad byte
    message = str(err).strip()
    bad, last = _scan_records(raw, len(columns))
    if "EOF inside string" in message and last is not None:
        return DataError(
            f"{path}, line {last}: a field opened with a backslash (the quote character) is "
            "never closed, so the rest of the file reads as one field. Close it with a "
            "backslash, or double the backslash (\\\\) if it is part of a name."
        )
    if bad is not None:
        line, n_fields = bad
        return DataError(
            f"{path}, line {line}: expected {len(columns)} fields ({'|'.join(columns)}), "
            f"found {n_fields}. {_FIX_QUOTING}"
        )
    found = re.search(r"line (\d+)", message)
    where = f", line {found.group(1)}" if found else ""
    return DataError(f"{path}{where}: cannot be parsed ({message}). {_FIX_QUOTING}")


def _joined(column: pd.Series) -> str:
    """All values of a string column as one string (a fast way to count a character)."""
    return "".join(column.to_numpy(dtype=object))


def _match_ids(values: np.ndarray, pattern: str) -> np.ndarray:
    """Whole-string match of ``pattern`` (:data:`UID_PATTERN` or :data:`MID_PATTERN`).

    Works on the ids' bytes with numpy, several times faster than a regular expression per
    row; an id with a non-ASCII character is invalid either way.
    """
    try:
        fixed = values.astype("S33")  # 33 bytes: a longer id shows a 33rd byte
    except UnicodeEncodeError:
        return pd.Series(values, dtype=object).str.fullmatch(pattern).to_numpy(dtype=bool)
    chars = fixed.view(np.uint8).reshape(len(values), 33)
    # _HEX is False for the zero padding, so a shorter id fails too.
    hex32 = _HEX[chars[:, :32]].all(axis=1) & (chars[:, 32] == 0)
    if pattern == UID_PATTERN:
        return hex32
    if pattern == MID_PATTERN:
        rest = np.flatnonzero(~hex32)
        if len(rest):
            length = np.char.str_len(fixed[rest])
            padding = np.arange(32) >= length[:, None]
            older = (_ALNUM[chars[rest, :32]] | padding).all(axis=1)
            hex32[rest] = older & (length >= 20) & (length <= 31)
        return hex32
    return pd.Series(values, dtype=object).str.fullmatch(pattern).to_numpy(dtype=bool)


def _byte_class(characters: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(characters, dtype=np.uint8)] = True
    return table


_HEX = _byte_class(b"0123456789abcdef")
_ALNUM = _byte_class(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _lines_containing(data: bytes, needle: bytes) -> np.ndarray:
    """0-based indices of the lines of ``data`` that contain the byte ``needle``."""
    array = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(array == ord("\n"))
    hits = np.flatnonzero(array == needle[0])
    return np.unique(np.searchsorted(newlines, hits))


def _canonical_line(fields) -> bytes:
    buffer = io.StringIO()
    csv.writer(
        buffer, delimiter=_DELIMITER, quotechar=_QUOTECHAR, quoting=csv.QUOTE_MINIMAL,
        lineterminator="\n",
    ).writerow(fields)
    return buffer.getvalue()[:-1].encode("utf-8")


# ------------------------------------------------------------------ datasets



class Dataset(NamedTuple):
    """A dataset as the notebooks use it.

    Attributes
    ----------
    name : str
        ``"sample"``, ``"synthetic-full"`` or ``"sketchfab"``.
    likes, features : pandas.DataFrame
        The two files as :func:`read_likes` and :func:`read_features` return them
        (duplicates kept: counting them is part of the story).
    model_topics, user_topics : pandas.DataFrame or None
        The generator's ground truth for synthetic data; ``None`` for the real crawl.
    synthetic : bool
        Whether the data was generated by :mod:`recasketch.synthetic`.
    description : str
        One line saying what the data is and where it lives.
    """

    name: str
    likes: pd.DataFrame
    features: pd.DataFrame
    model_topics: pd.DataFrame | None
    user_topics: pd.DataFrame | None
    synthetic: bool
    description: str


_HOW_TO_GET = {
    "sample": "run `make sample` to regenerate it",
    "synthetic-full": "run `make synthetic-full` to generate it",
    "sketchfab": "run `make data` (needs internet) to download it",
}


def load_dataset(name: str = "sample", data_dir=None) -> Dataset:
    """Read one of the named datasets: the committed synthetic sample, the full-size
    synthetic data, or the real Sketchfab crawl.

    Parameters
    ----------
    name : {"sample", "synthetic-full", "sketchfab"}, default="sample"
    data_dir : str or Path, default=None
        Folder holding the files; defaults to ``recasketch.config.dataset_dir(name)``.

    Raises
    ------
    DataError
        If the files are missing (the message says which ``make`` target makes them),
        or invalid.
    """
    folder = Path(data_dir) if data_dir is not None else config.dataset_dir(name)
    likes_path = folder / config.LIKES_FILE
    features_path = folder / config.FEATURES_FILE
    for path in (likes_path, features_path):
        if not path.exists():
            raise DataError(
                f"{path} does not exist: the {name!r} dataset is not there; "
                f"{_HOW_TO_GET.get(name, 'pass data_dir= to point at the files')}."
            )
    likes = read_likes(likes_path)
    features = read_features(features_path)
    truth_path = folder / config.TRUTH_FILE
    model_topics = user_topics = None
    synthetic = name != "sketchfab"
    if truth_path.exists():
        from .synthetic import read_ground_truth

        model_topics, user_topics = read_ground_truth(truth_path)
        synthetic = True
    kind = "SYNTHETIC data made by recasketch.synthetic" if synthetic else "the real Sketchfab crawl"
    try:
        shown = folder.resolve().relative_to(config.PROJ_ROOT)
    except ValueError:
        shown = folder
    description = (
        f"{name}: {kind} — {len(likes):,} like rows, {len(features):,} feature rows, from {shown}/"
    )
    return Dataset(name, likes, features, model_topics, user_topics, synthetic, description)
