r"""Reading likes and item features, and loading the datasets the notebooks use.

A dataset is a folder holding a likes table (one row per like: a user, an item, optionally the
item's name and a timestamp), optionally an item-features table (one row per feature of an
item: the item, a type and a value) and, for data made by :mod:`recasketch.datasets.synthetic`, its
ground truth (``ground_truth.psv``). Feature types are free text: the Sketchfab crawl has
``category`` and ``tag``; yours may have ``genre`` or ``decade``. The models see each feature
as ``'{type}_{value}'``, as post 2 does (:func:`recasketch.preprocess.feature_keys`).

**The header convention.** A table's first line names its columns, in any order, with these
names and no others (:data:`LIKES_HEADER`, :data:`FEATURES_HEADER`); a column with another
name (a rating, say) is refused, not guessed at:

=============  =============  ==================================================
header name    crawl's name   frame column
=============  =============  ==================================================
``user``       ``uid``        ``uid`` (required)
``item``       ``mid``        ``mid`` (required)
``name``       ``modelname``  ``modelname`` (optional; the item id when absent)
``timestamp``                 ``timestamp`` (optional; kept as text)
``type``                      ``type`` (features table)
``value``                     ``value`` (features table)
=============  =============  ==================================================

**Formats, by file extension.** ``.csv`` (comma) and ``.tsv`` (tab) use standard double-quote
quoting. ``.psv`` and any other name is read in the crawl's dialect: rec-a-sketch wrote its
``model_likes_anon.psv`` and ``model_feats.psv`` with
``csv.writer(delimiter='|', quotechar='\\', quoting=csv.QUOTE_MINIMAL)``, so a field holding
``|`` (or a backslash, or a line break) is wrapped in backslashes and a backslash inside it is
doubled: ``\Freedom | Limited Edition\``. Passing ``escapechar='\\'`` as well would make the
parser take each closing backslash for an escape, so it is left out.

**Ids are text**: any non-empty string without white space around it (``user_17``, ``42``;
``007`` stays ``007``). The crawl's formats (:data:`UID_PATTERN`, :data:`MID_PATTERN`) are
checked only by ``load_dataset("sketchfab")``. :func:`load_dataset` also checks the tables
against each other: a features table whose item ids match none of the likes table's is refused,
and for a folder of your own a partial match is reported with a :class:`UserWarning`.

**Errors** raise :class:`DataError` naming the file, the line (the header is line 1; a quoted
field spanning lines counts each line) and how to fix it. Finding the line re-reads the file
with the :mod:`csv` module, which happens only once something is known to be wrong.

This module imports nothing from :mod:`recasketch.datasets.synthetic`: the generator writes
``ground_truth.psv`` and the loader reads it here with the other tables, so the imports run one
way (``synthetic -> preprocess -> errors``; ``data -> config, errors``).
"""

from __future__ import annotations

import csv
import io
import logging
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import config
from .errors import DataError, DownloadError  # both re-exported: importable from here

__all__ = ["DataError", "DownloadError", "FEATURES_COLUMNS", "FEATURES_FILES", "FEATURES_HEADER",
           "LIKES_COLUMNS", "LIKES_FILES", "LIKES_HEADER", "MID_PATTERN", "UID_PATTERN", "Dataset",
           "load_dataset", "read_features", "read_ground_truth", "read_likes"]

logger = logging.getLogger(__name__)

#: The columns of the frame :func:`read_likes` returns (then ``timestamp``, if the file has one).
LIKES_COLUMNS = ("modelname", "mid", "uid")
#: The columns of the frame :func:`read_features` returns.
FEATURES_COLUMNS = ("mid", "type", "value")

#: The header convention of a likes table: each name it may use -> the frame column.
LIKES_HEADER = {
    "user": "uid", "uid": "uid",
    "item": "mid", "mid": "mid",
    "name": "modelname", "modelname": "modelname",
    "timestamp": "timestamp",
}
#: The header convention of a features table: each name it may use -> the frame column.
FEATURES_HEADER = {"item": "mid", "mid": "mid", "type": "type", "value": "value"}

#: The names :func:`load_dataset` looks for in a folder: the likes table (exactly one) ...
LIKES_FILES = (config.LIKES_FILE, "likes.csv", "likes.tsv", "likes.psv")
#: ... and the features table (at most one).
FEATURES_FILES = (config.FEATURES_FILE, "features.csv", "features.tsv", "features.psv")

#: A user id of the Sketchfab crawl: an HMAC-MD5 hex digest (whole-string regular expression).
UID_PATTERN = r"[0-9a-f]{32}"
#: A model id of the crawl: a current 32-hex Sketchfab uid, or an older one of 20-31 letters
#: and digits (``b7LzIm8JrnPw4GBDOMBNGYc39qM``; rec-a-sketch's model catalog holds both kinds).
MID_PATTERN = r"[0-9a-f]{32}|[0-9A-Za-z]{20,31}"

# separator and quote character by extension; anything else is read as the crawl's psv
_DIALECTS = {".csv": (",", '"'), ".tsv": ("\t", '"')}
_PSV = ("|", "\\")
_READ_OPTIONS = dict(
    quoting=csv.QUOTE_MINIMAL,
    dtype=str,
    keep_default_na=False,  # a model named "NA" or "null" stays a string
    na_filter=False,
    index_col=False,  # a first row with an extra field must not become an index
    encoding="utf-8",
)
_HOW_TO_GET_FILES = (
    " Run `make data` (or `python -m recasketch.datasets.download`) to download the Sketchfab "
    "crawl, or `make sample` to write the synthetic sample."
)
_FAILED_DOWNLOAD = " It may be a failed download; delete it and download it again."
_HOW_TO_GET = {
    "sample": "run `make sample` to regenerate it",
    "synthetic-full": "run `make synthetic-full` to generate it",
    "sketchfab": "run `make data` (needs internet) to download it",
}


class _Kind(NamedTuple):
    """A kind of table: its header convention, and the names to use, for messages."""

    what: str
    header: dict  # header name -> frame column
    required: tuple  # frame columns that must be there
    convention: str


_LIKES = _Kind("likes", LIKES_HEADER, ("uid", "mid"),
               "user, item and optionally name, timestamp (or the crawl's modelname, mid, uid)")
_FEATURES = _Kind("features", FEATURES_HEADER, ("mid", "type", "value"),
                  "item, type, value (or the crawl's mid, type, value)")
_TRUTH = _Kind("ground truth", {c: c for c in ("kind", "id", "topic", "weight")},
               ("kind", "id", "topic", "weight"), "kind, id, topic, weight")


# ------------------------------------------------------------------ the readers


def read_likes(path, *, drop_duplicates: bool = False) -> pd.DataFrame:
    """Read and check a likes table: the crawl's ``model_likes_anon.psv`` or your own file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.tsv`` or ``.psv`` file whose header names the columns ``user`` and
        ``item``, optionally ``name`` and ``timestamp`` (or the crawl's ``modelname|mid|uid``);
        see the module docstring.
    drop_duplicates : bool, default=False
        Drop exact duplicate rows (keeping the first) and renumber the index. The crawl holds
        155 of them; the post drops them.

    Returns
    -------
    pandas.DataFrame
        One row per like, in file order: ``modelname`` (str; the item id when the file has no
        name column), ``mid`` and ``uid`` as categoricals (the ids repeat; categories in order
        of first appearance), and ``timestamp`` (str) if the file has one. A name or id such as
        ``NA`` or ``007`` stays the string it is. ``df.attrs["n_duplicates"]`` holds the
        number of exact duplicate rows found, whether or not they were dropped.

    Raises
    ------
    DataError
        If the file is missing, empty or not UTF-8; if its header breaks the convention (or
        the file is separated otherwise than its extension says); if a line has too many or
        too few fields or an unclosed quote; or if an id is empty or has white space around
        it. The message names the file and line, and says how to fix it.

    See Also
    --------
    read_features : the companion table of item features.
    load_dataset : reads a folder's tables at once.

    Examples
    --------
    >>> likes = read_likes("tests/data/own_likes/likes.csv")
    >>> likes.columns.tolist()
    ['modelname', 'mid', 'uid', 'timestamp']
    >>> likes.iloc[0].tolist()
    ['Sword, Low Poly', 'item_1', 'user_1', '2016-10-02']
    """
    frame, names = _read_table(path, _LIKES)
    if "modelname" not in frame:
        frame["modelname"] = frame["mid"]
    extra = ["timestamp"] if "timestamp" in frame else []
    frame = frame[[*LIKES_COLUMNS, *extra]]
    _check_filled(frame, path, names, ["mid", "uid"], categorical=True)
    return _count_duplicates(frame, path, ["mid", "uid"], drop_duplicates)


def read_features(path, *, drop_duplicates: bool = False) -> pd.DataFrame:
    """Read and check an item-features table: the crawl's ``model_feats.psv`` or your own.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.tsv`` or ``.psv`` file whose header names the columns ``item``,
        ``type`` and ``value`` (or the crawl's ``mid|type|value``).
    drop_duplicates : bool, default=False
        Drop exact duplicate rows (keeping the first) and renumber the index.

    Returns
    -------
    pandas.DataFrame
        One row per (item, feature), in file order: ``mid`` (categorical), ``type`` and
        ``value`` (str). ``type`` is free text (``category``, ``tag``, ``genre``, ...);
        ``value`` may be empty. ``df.attrs["n_duplicates"]`` holds the number of exact
        duplicate rows found.

    Raises
    ------
    DataError
        For the same faults as :func:`read_likes`, and if a ``type`` is empty or has white
        space around it.

    See Also
    --------
    read_likes : the likes table.
    recasketch.preprocess.build_item_features : turns this frame into a feature matrix.
    """
    frame, names = _read_table(path, _FEATURES)
    frame = frame[list(FEATURES_COLUMNS)]
    _check_filled(frame, path, names, ["type"], categorical=False)
    _check_filled(frame, path, names, ["mid"], categorical=True)
    return _count_duplicates(frame, path, ["mid", "type"], drop_duplicates)


def read_ground_truth(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a ``ground_truth.psv`` written by :func:`recasketch.datasets.synthetic.write_dataset`.

    Parameters
    ----------
    path : str or pathlib.Path
        The file, or the folder holding ``ground_truth.psv``. Its header is
        ``kind|id|topic|weight``; ``kind`` is ``model`` (the model's one topic, weight 1) or
        ``user`` (one row per topic of the user).

    Returns
    -------
    model_topics : pandas.DataFrame
        Columns ``mid``, ``topic``.
    user_topics : pandas.DataFrame
        Columns ``uid``, ``topic``, ``weight`` (float).

    Raises
    ------
    DataError
        For the same structural faults as :func:`read_likes`; if a ``kind`` is neither
        ``model`` nor ``user``; or if a ``weight`` is not a number.
    """
    path = Path(path)
    if path.is_dir():
        path = path / config.TRUTH_FILE
    truth, names = _read_table(path, _TRUTH)
    _check_filled(truth, path, names, ["kind", "id"], categorical=False)
    bad = ~truth["kind"].isin(["model", "user"]).to_numpy()
    if bad.any():
        raise _rows_error(path, bad, "kind", truth["kind"], "is not 'model' or 'user'",
                          "Each row is the topic of a model or of a user.")
    weight = pd.to_numeric(truth["weight"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(weight).any():
        raise _rows_error(path, np.isnan(weight), "weight", truth["weight"], "is not a number",
                          "Write the topic's weight as a decimal number, e.g. 0.5.")
    models = (truth["kind"] == "model").to_numpy()
    ids, topics = truth["id"].to_numpy(), truth["topic"].to_numpy()
    model_topics = pd.DataFrame({"mid": ids[models], "topic": topics[models]})
    user_topics = pd.DataFrame({"uid": ids[~models], "topic": topics[~models], "weight": weight[~models]})
    return model_topics, user_topics


# ------------------------------------------------------------------ the checks


def _dialect(path: Path) -> tuple[str, str]:
    return _DIALECTS.get(path.suffix.lower(), _PSV)


def _read_table(path, kind: _Kind) -> tuple[pd.DataFrame, dict]:
    """Read ``path`` with pandas after checking its header; check its structure.

    Returns the frame, its columns renamed to the frame columns of ``kind``, and a dict
    from each frame column to its name in the file (for messages).
    """
    path = Path(path)
    raw = _read_bytes(path)
    sep, quotechar = _dialect(path)
    names = _check_header(raw, path, kind, sep, quotechar)
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops the field) when the first row has an extra field
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(raw), sep=sep, quotechar=quotechar, **_READ_OPTIONS)
    except UnicodeDecodeError:
        raise _utf8_error(raw, path) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        raise _structure_error(raw, path, names, str(err)) from None
    if len(frame) == 0:
        raise DataError(
            f"{path}: has no rows, only the header (line 1). Each row should hold "
            f"{sep.join(names.values())}.{_how_to_get(path)}"
        )
    # A line with too few fields leaves its last field empty: only then look closer.
    if (frame.iloc[:, -1] == "").any():
        error = _fields_error(path, names, sep, *_records(path))
        if error is not None:
            raise error
    frame.columns = list(names)
    return frame, names


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file. Check the path.{_how_to_get(path)}") from None
    except IsADirectoryError:
        raise DataError(
            f"{path}: is a folder, not a file. Pass the path of the table itself "
            f"(e.g. {path / config.LIKES_FILE}), or the folder to load_dataset."
        ) from None
    except PermissionError:
        raise DataError(f"{path}: permission denied. Make the file readable.") from None
    if not raw or raw.isspace():
        size = "0 bytes" if not raw else "only white space"
        raise DataError(f"{path}: the file is empty ({size}).{_how_to_get(path, True)}")
    return raw


def _how_to_get(path: Path, failed: bool = False) -> str:
    """How to get a file that has the crawl's name (the crawl's or the sample's)."""
    if path.name not in (config.LIKES_FILE, config.FEATURES_FILE):
        return ""
    return (_FAILED_DOWNLOAD if failed else "") + _HOW_TO_GET_FILES


def _check_header(raw: bytes, path: Path, kind: _Kind, sep: str, quotechar: str) -> dict:
    """Map the header's names to frame columns, or say what is wrong with the header."""
    try:
        end = raw.find(b"\n")
        header = raw[: end if end >= 0 else None].decode("utf-8").lstrip("\ufeff").rstrip("\r")
    except UnicodeDecodeError:
        raise _utf8_error(raw, path) from None
    if sep not in header:
        for other, name, extension in ((",", "comma", ".csv"), ("\t", "tab", ".tsv"),
                                       ("|", "pipe", ".psv")):
            if other != sep and other in header:
                raise DataError(
                    f"{path}, line 1: the header {header!r} has no {sep!r} but has {name}s; "
                    f"the file looks {name}-separated. A {path.suffix or 'psv'} file is read "
                    f"as {sep!r}-separated: rename it to end in {extension}, or write it with "
                    f"sep={sep!r}."
                )
    found = next(csv.reader([header], delimiter=sep, quotechar=quotechar))
    columns = [kind.header.get(name) for name in found]
    problems = [f"missing {' or '.join(repr(n) for n, c in kind.header.items() if c == column)}"
                for column in kind.required if column not in columns]
    unknown = [name for name, column in zip(found, columns) if column is None]
    if unknown:
        problems.append(f"unknown {', '.join(map(repr, unknown))}")
    twice = sorted({c for c in columns if c is not None and columns.count(c) > 1})
    if twice:
        problems.append(f"{', '.join(map(repr, twice))} named twice")
    if problems:
        hint = ""
        for other in (_LIKES, _FEATURES):
            theirs = {other.header.get(name) for name in found}
            if other is not kind and None not in theirs and set(other.required) <= theirs:
                hint = f" This looks like a {other.what} table; read it with read_{other.what}."
        raise DataError(
            f"{path}, line 1: the header {header!r} does not name the columns of a {kind.what} "
            f"table ({'; '.join(problems)}). Name them in the first line, in any order: "
            f"{kind.convention}.{hint}"
        )
    return dict(zip(columns, found))


def _records(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first line and the number of fields of each record after the header.

    Blank lines are skipped, as pandas skips them, so record ``k`` here is row ``k`` of the
    frame. Row by row with the :mod:`csv` module: only called to name the line of an error.
    """
    sep, quotechar = _dialect(path)
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar=quotechar)
    starts, counts, start, header = [], [], 1, True
    try:
        for row in reader:
            if not header and not (len(row) <= 1 and "".join(row).strip() == ""):
                starts.append(start)
                counts.append(len(row))
            header, start = False, reader.line_num + 1
    except csv.Error as err:
        raise DataError(f"{path}, line {start}: cannot be parsed ({err}).") from None
    return np.array(starts, dtype=np.int64), np.array(counts, dtype=np.int64)


def _fields_error(path: Path, names: dict, sep: str, starts, counts) -> DataError | None:
    """The error for the first record (of ``_records(path)``) without one field per column, if any."""
    bad = np.flatnonzero(counts != len(names))
    if not len(bad):
        return None
    if sep == "|":
        fix = ("If a field contains '|', wrap it in backslashes (\\like | this\\) and double any "
               "backslash inside it, as csv.writer(delimiter='|', quotechar='\\\\') does; "
               "otherwise fix or delete the line.")
    else:
        fix = (f"If a field contains {sep!r}, wrap it in double quotes, as pandas' to_csv and "
               "csv.writer do; otherwise fix or delete the line.")
    return DataError(
        f"{path}, line {starts[bad[0]]}: expected {len(names)} fields ({sep.join(names.values())}), "
        f"found {counts[bad[0]]}. {fix}"
    )


def _structure_error(raw: bytes, path: Path, names: dict, message: str) -> DataError:
    """The error for a file pandas could not parse, naming the line at fault."""
    error = _utf8_error(raw, path)  # pandas may stop at a bad line before a bad byte
    if error is not None:
        return error
    sep, quotechar = _dialect(path)
    starts, counts = _records(path)
    if "EOF inside string" in message and len(starts):
        if quotechar == "\\":
            what = "a backslash (the quote character)"
            close = "a backslash, or double the backslash (\\\\)"
        else:
            what, close = "a double quote", 'a double quote, or double the quote ("")'
        return DataError(
            f"{path}, line {starts[-1]}: a field opened with {what} is never closed, so the "
            f"rest of the file reads as one field. Close it with {close} if it is part of a "
            "name."
        )
    return (_fields_error(path, names, sep, starts, counts)
            or DataError(f"{path}: cannot be parsed ({message.strip()})."))


def _utf8_error(raw: bytes, path: Path) -> DataError | None:
    """A DataError naming the line of the first byte of ``raw`` that is not UTF-8, if any."""
    if raw.isascii():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        return DataError(
            f"{path}, line {line}: byte {column} of the line (0x{raw[err.start]:02x}) is not "
            "valid UTF-8. Save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.psv > "
            "out.psv` for a Latin-1 file."
        )
    return None


def _check_filled(frame, path, names: dict, columns, *, categorical: bool) -> None:
    """Check that ``columns`` hold text without white space around it on every row.

    Each distinct value is checked once. With ``categorical``, the columns become
    categoricals (categories in order of first appearance), which makes every later
    groupby and factorize on the ids much cheaper.
    """
    for column in columns:
        codes, uniques = pd.factorize(frame[column].to_numpy(dtype=object))
        uniques = pd.Index(uniques, dtype=object)
        name = names.get(column, column)
        empty = (uniques == "")[codes]
        if empty.any():
            raise _rows_error(path, empty, name, frame[column], "is empty",
                              f"Every row needs a {name}; fill it in or delete the line.")
        spaced = np.fromiter((u != u.strip() for u in uniques), bool, len(uniques))[codes]
        if spaced.any():
            raise _rows_error(path, spaced, name, frame[column], "has white space around it",
                              "Remove it (a space after the separator is part of the field).")
        if categorical:
            frame[column] = pd.Categorical.from_codes(codes, categories=uniques)


def _rows_error(path, bad: np.ndarray, name: str, values, what: str, fix: str) -> DataError:
    """A DataError for the rows marked in ``bad`` (row ``k`` of the frame read from ``path``)."""
    positions = np.flatnonzero(bad)
    starts, _ = _records(Path(path))
    lines = starts[positions[:5]]
    first = values.iat[int(positions[0])]
    shown = ", ".join(str(n) for n in lines)
    more = f" (and {len(positions) - len(lines)} more)" if len(positions) > len(lines) else ""
    value = f" holds {first!r}, which" if first != "" else ""
    return DataError(
        f"{path}, line {lines[0]}: column {name!r}{value} {what}; {len(positions)} row(s) in "
        f"all, on line(s) {shown}{more}. {fix}"
    )


def _count_duplicates(frame, path, ids: list, drop: bool) -> pd.DataFrame:
    """Count the exact duplicate rows into ``attrs["n_duplicates"]``; drop them if asked.

    Only rows whose ``ids`` repeat can be duplicates, and comparing the (categorical) ids
    first is much cheaper than comparing every field of every row.
    """
    maybe = frame.duplicated(subset=ids, keep=False).to_numpy()
    duplicated = np.zeros(len(frame), dtype=bool)
    if maybe.any():
        duplicated[maybe] = frame[maybe].duplicated().to_numpy()
    n_duplicates = int(duplicated.sum())
    if drop and n_duplicates:
        # each dropped row repeats a kept one, so every category is still used
        frame = frame[~duplicated].reset_index(drop=True)
    if n_duplicates:
        logger.info("%s: %d exact duplicate row(s)%s.", path, n_duplicates,
                    " dropped" if drop else " (pass drop_duplicates=True to drop them)")
    frame.attrs["n_duplicates"] = n_duplicates
    return frame


# ------------------------------------------------------------------ datasets


class Dataset(NamedTuple):
    """A dataset as the notebooks use it.

    Attributes
    ----------
    name : str
        ``"sample"``, ``"synthetic-full"``, ``"sketchfab"``, or the name of the folder it was
        read from (``"own_likes"`` for ``tests/data/own_likes``).
    likes : pandas.DataFrame
        The likes table as :func:`read_likes` returns it (duplicates kept: counting them is
        part of the story).
    features : pandas.DataFrame or None
        The item-features table as :func:`read_features` returns it, or ``None`` when the
        folder has none (the sections on side information then have nothing to use). At
        least one of its items is a liked item.
    model_topics, user_topics : pandas.DataFrame or None
        The generator's ground truth (:func:`read_ground_truth`) where the folder holds
        ``ground_truth.psv``; ``None`` otherwise.
    synthetic : bool
        Whether the data was made by :mod:`recasketch.datasets.synthetic`: true exactly when the
        ground truth is there.
    description : str
        One line saying what the data is and where it lives.
    """

    name: str
    likes: pd.DataFrame
    features: pd.DataFrame | None
    model_topics: pd.DataFrame | None
    user_topics: pd.DataFrame | None
    synthetic: bool
    description: str


def load_dataset(name_or_path="sample", *, data_dir=None) -> Dataset:
    """Read a dataset: one of the three named ones, or any folder of tables.

    Parameters
    ----------
    name_or_path : str or os.PathLike, default="sample"
        ``"sample"`` (the committed synthetic sample), ``"synthetic-full"`` (the full-size
        synthetic data) or ``"sketchfab"`` (the real crawl); or a folder holding one likes
        table (:data:`LIKES_FILES`: ``likes.csv``, ``likes.tsv``, ``likes.psv`` or
        ``model_likes_anon.psv``), optionally one features table (:data:`FEATURES_FILES`)
        and ``ground_truth.psv``. A relative path is looked up as
        :func:`recasketch.config.dataset_dir` says. The notebooks pass ``RECASKETCH_DATA``.
    data_dir : str or os.PathLike, default=None
        For a named dataset kept elsewhere (e.g. the crawl downloaded with ``--dest``): the
        folder holding its files.

    Returns
    -------
    Dataset
        Named after the dataset or the folder; ``synthetic`` only where the generator's
        ground truth is there; ``features`` is ``None`` where there is no features table.

    Raises
    ------
    DataError
        If the files are missing (for a named dataset the message says which ``make``
        target makes them), ambiguous (two likes tables) or invalid; for ``"sketchfab"``,
        also if an id is not in the crawl's format (:data:`UID_PATTERN`,
        :data:`MID_PATTERN`), naming the file and line; or if the features table's item ids
        match none of the likes table's (``1`` against ``item_1``), giving an id of each.
    ValueError
        If ``name_or_path`` is neither a known name nor a folder.

    Warns
    -----
    UserWarning
        For a folder of your own (not a named dataset, no ground truth) whose tables match only
        in part: how many liked items have no features, and how many items of the features
        table have no like (their features go unused), with an example id of each.

    Examples
    --------
    >>> own = load_dataset("tests/data/own_likes")
    >>> own.name, own.synthetic, len(own.likes), own.features["type"].unique().tolist()
    ('own_likes', False, 186, ['genre', 'decade'])
    """
    named = isinstance(name_or_path, str) and name_or_path in config.DATASETS
    if data_dir is not None:
        if not named:
            raise ValueError(f"data_dir= is for the named datasets {sorted(config.DATASETS)}; "
                             f"pass the folder itself as the first argument instead.")
        folder = Path(data_dir)
    else:
        folder = config.dataset_dir(name_or_path)
    name = name_or_path if named else config.dataset_name(name_or_path)
    if named:
        likes_path, features_path = folder / config.LIKES_FILE, folder / config.FEATURES_FILE
        for path in (likes_path, features_path):
            if not path.exists():
                raise DataError(f"{path} does not exist: the {name!r} dataset is not there; "
                                f"{_HOW_TO_GET[name]}.")
    else:
        likes_path = _find_table(folder, LIKES_FILES, required=True)
        features_path = _find_table(folder, FEATURES_FILES, required=False)
    likes = read_likes(likes_path)
    features = read_features(features_path) if features_path is not None else None
    if named and name == "sketchfab":
        _check_crawl_ids(likes, likes_path, {"mid": MID_PATTERN, "uid": UID_PATTERN})
        _check_crawl_ids(features, features_path, {"mid": MID_PATTERN})
    synthetic = (folder / config.TRUTH_FILE).exists()
    if features is not None:
        # the generator leaves some liked models without features by design, as the crawl does
        _check_same_items(folder, likes, likes_path, features, features_path,
                          warn=not (named or synthetic))

    model_topics, user_topics = read_ground_truth(folder / config.TRUTH_FILE) if synthetic else (None, None)
    shown = config.shown_path(folder)
    what = f"{len(likes):,} like rows, " + (
        f"{len(features):,} feature rows" if features is not None else "no features table")
    kind = ("SYNTHETIC data made by recasketch.synthetic — " if synthetic
            else "the real Sketchfab crawl — " if named and name == "sketchfab" else "")
    description = f"{name}: {kind}{what}, from {shown}/"
    return Dataset(name, likes, features, model_topics, user_topics, synthetic, description)


def _check_same_items(folder: Path, likes, likes_path: Path, features, features_path: Path, *,
                      warn: bool) -> None:
    """Check that the features table describes the liked items; with ``warn``, say what differs.

    Both ``mid`` columns are categoricals whose categories are the distinct ids in order of
    first appearance, so comparing the categories compares the tables' item sets.
    """
    liked = pd.Index(likes["mid"].cat.categories, dtype=object)
    featured = pd.Index(features["mid"].cat.categories, dtype=object)
    in_features = liked.isin(featured)
    lname, fname = likes_path.name, features_path.name
    if not in_features.any():
        raise DataError(
            f"{folder}: the item ids of {fname} match none of {lname}'s: {fname} has "
            f"{featured[0]!r}, {lname} has {liked[0]!r} (the first of {len(featured):,} and "
            f"{len(liked):,} distinct ids). Write each item's id the same way in the item "
            "column of both files; ids are compared as exact text ('007' is not '7', "
            "'Item_1' is not 'item_1')."
        )
    unliked = featured[~featured.isin(liked)]
    unfeatured = liked[~in_features]
    if not warn or not (len(unliked) or len(unfeatured)):
        return
    parts = []
    if len(unfeatured):
        parts.append(f"{len(unfeatured):,} of the {len(liked):,} liked items "
                     f"{'has' if len(unfeatured) == 1 else 'have'} no features in {fname} "
                     f"(e.g. {unfeatured[0]!r})")
    if len(unliked):
        parts.append(f"{len(unliked):,} of the {len(featured):,} items in {fname} "
                     f"{'has' if len(unliked) == 1 else 'have'} no like in {lname} "
                     f"(e.g. {unliked[0]!r}), so {'its' if len(unliked) == 1 else 'their'} "
                     "features go unused")
    warnings.warn(
        f"{folder}: {'; '.join(parts)}. If an item is in both tables, write its id the same "
        "way in the item column of both files.", UserWarning, stacklevel=3)


def _find_table(folder: Path, candidates, *, required: bool) -> Path | None:
    found = [folder / name for name in candidates if (folder / name).is_file()]
    what = "likes" if candidates == LIKES_FILES else "features"
    if len(found) > 1:
        raise DataError(f"{folder}: holds {' and '.join(p.name for p in found)}; keep one "
                        f"{what} table.")
    if not found and required:
        raise DataError(
            f"{folder}: no likes table. Put one there named {', '.join(candidates[1:])} or "
            f"{candidates[0]}, whose first line names its columns: user, item and optionally "
            f"name, timestamp (e.g. 'user,item' for a CSV)."
        )
    return found[0] if found else None


def _check_crawl_ids(frame: pd.DataFrame, path: Path, patterns: dict) -> None:
    """Check that the ids of the crawl's files have the crawl's formats."""
    for column, pattern in patterns.items():
        ids = frame[column]
        valid = pd.Index(ids.cat.categories, dtype=object).str.fullmatch(pattern)
        bad = ~np.asarray(valid, dtype=bool)[ids.cat.codes.to_numpy()]
        if bad.any():
            kind = "user" if column == "uid" else "model"
            raise _rows_error(
                path, bad, column, ids.astype(object),
                f"is not a valid {kind} id of the Sketchfab crawl (whole-string pattern "
                f"{pattern!r})",
                "`make data` downloads the crawl and verifies it by git blob id. To read "
                "other data, put it in a folder of its own and load that: "
                "load_dataset('path/to/folder').",
            )
