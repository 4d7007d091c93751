"""The logs of long runs, read back to resume them, and the search log's calls.

Every grid and search log is a JSON-lines file whose first line is its header: the
kind of log (``"grid"`` or ``"search"``) and the *key* of what made it — a fingerprint
of the data, ``k``, the protocol, the evaluated users, the estimator and its fixed
parameters, and for a search the space, the target and the seed. :func:`open_log`
checks a log against the key of the run that opens it, so that a rerun never returns
results made by another one: a log of another run, of the other kind, written before
logs had keys, or whose header is damaged, is refused with a message that says what
differs and what to do; an empty log, or one that holds nothing but a header, is
started afresh. A run holds a lock on its log while it writes (a second writer is
refused at once), and a log path whose name holds ``{key}`` (:func:`log_file`, as the
notebooks name theirs) gets one file per key, so that each configuration keeps its own.

Each later line of a search log is one call: its number, where its point came from
(``"x0"`` or ``"search"``), the parameters, the scores, the value minimised, the
seconds it took, and whether it succeeded. Calls are appended as they finish and
synced to disk, so a search stopped at any moment resumes with every finished call. The serial
(:func:`recasketch.tuning.search.resumable_search`) and batched
(:func:`recasketch.tuning.batched.batched_search`) searches write and read the same log, and
share what a call is: its arguments' checks (:func:`check_search`), its evaluation
(:func:`evaluate_call`), its record (:func:`log_call`) and a resumed search's seed
(:func:`resume_seed`).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pandas as pd
from skopt.space import check_dimension
from tqdm import tqdm

from ..parallel.cache import fingerprint
from ..utils import check_count, json_default, plain

__all__ = ["FitFailed", "KEY_MARK", "LOG_KINDS", "LogInUseError", "LogMismatchError", "WORST_VALUE",
           "append_record", "calls_frame", "check_search", "check_x0", "data_key", "describe_callable",
           "describe_space", "dimensions", "evaluate_call", "key_hash", "keyed_path", "log_call", "log_file",
           "numbered_calls", "objective_key", "open_log", "point_of", "progress_bar", "read_calls", "read_log",
           "resume_seed", "search_key"]

#: The kinds of log: a grid's (one line per combination) and a search's (one line per call).
LOG_KINDS = ("grid", "search")

#: In a log path's name, the place of the hash of the run's key (:func:`keyed_path`).
KEY_MARK = "{key}"

#: What a line of each kind of log counts, for messages.
_UNITS = {"grid": "combination(s)", "search": "call(s)"}


class LogMismatchError(ValueError):
    """A log was made by another run, is of the other kind, or cannot be checked: it is not reused."""


class LogInUseError(RuntimeError):
    """Another run is writing the log now."""


class FitFailed(Exception):
    """Raised by a search objective when a call cannot give a score (e.g. a diverged fit).

    :func:`evaluate_call` (and so every search) logs such a call with status ``"failed"`` and the message
    as its reason, scores it as the worst value, and goes on.
    """


#: What :func:`evaluate_call` scores a failed call: ``-p@k`` of a model that finds
#: nothing, the worst value a precision can take.
WORST_VALUE = 0.0


def dimensions(space: Mapping) -> list:
    """skopt dimensions named after the keys of ``space``."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty mapping of parameter name -> skopt dimension.")
    dims = []
    for name, spec in space.items():
        dim = copy.copy(check_dimension(spec))
        dim.name = name
        dims.append(dim)
    return dims


def describe_space(dims) -> dict:
    return {d.name: repr(d) for d in dims}


def _read_lines(path: Path | None) -> tuple[list[dict], bool]:
    """The readable records of a JSON-lines log in order (none without one; a torn line, from a
    crash, is passed over), and whether its first line was torn."""
    records, first_torn = [], False
    if path is not None and path.exists():
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    first_torn = first_torn or number == 0
                    continue
                if isinstance(record, dict):
                    records.append(record)
                else:
                    first_torn = first_torn or number == 0
    return records, first_torn


def _is_header(record: dict) -> bool:
    """Whether a record is a log's header: this one's, or a search's from before logs had keys."""
    return "log" in record or ("space" in record and "call" not in record)


def _kind_of(records: list[dict]) -> str | None:
    """The kind of log that lines without a header come from: a grid's hold curves, a search's calls."""
    if any("curve" in r for r in records):
        return "grid"
    if any("call" in r for r in records):
        return "search"
    return None


def read_log(path, kind: str) -> tuple[dict | None, list[dict]]:
    """A log's header and its records, for reading it back (no key to check it against).

    Raises :class:`LogMismatchError` for a log of the other kind. A log written before logs
    had keys reads with a header of ``None`` (a search's old header, ``space`` and
    ``target``, is returned as it is).
    """
    records, _ = _read_lines(Path(path))
    header = records[0] if records and _is_header(records[0]) else None
    body = records[1:] if header is not None else records
    found = header.get("log", "search") if header is not None else _kind_of(body)
    if found is not None and found != kind:
        raise LogMismatchError(f"{path} is a {found} log, not a {kind} log; give this {kind} another log_path.")
    return header, body


def read_calls(path: Path | None, dims) -> list[dict]:
    """Finished calls of a search log in order (none without a log); a torn last line is ignored."""
    if path is None:
        return []
    header, records = read_log(path, "search")
    space = None if header is None else header.get("key", header).get("space")
    if space is not None and space != describe_space(dims):
        raise LogMismatchError(
            f"{path} holds a search over another space ({space}); resume it with the "
            "same space, or give this search a new log_path."
        )
    return numbered_calls(path, records)


def numbered_calls(path, records: list[dict]) -> list[dict]:
    """The calls among a search log's ``records``, in order; :class:`LogMismatchError` if some are missing."""
    calls = sorted((record for record in records if "call" in record), key=lambda r: r["call"])
    if [r["call"] for r in calls] != list(range(len(calls))):
        raise LogMismatchError(f"{path}: the logged calls are not numbered 0, 1, 2, ...; the log is damaged.")
    return calls


def key_hash(key: Mapping) -> str:
    """Twelve hex digits naming ``key`` (canonical JSON): equal keys, equal names.

    >>> key_hash({"k": 5, "seed": 1}) == key_hash({"seed": 1, "k": 5}), key_hash({"k": 5}) == key_hash({"k": 10})
    (True, False)
    """
    return hashlib.sha1(_canonical(key).encode()).hexdigest()[:12]


def _canonical(key) -> str:
    return json.dumps(key, sort_keys=True, default=json_default)


def keyed_path(path, key: Mapping) -> Path | None:
    """``path`` with :data:`KEY_MARK` in its name replaced by :func:`key_hash` of ``key``.

    >>> keyed_path("results/als_grid-full-{key}.jsonl", {"k": 5}).name == f"als_grid-full-{key_hash({'k': 5})}.jsonl"
    True
    >>> keyed_path("results/log.jsonl", {"k": 5}).name, keyed_path(None, {"k": 5})
    ('log.jsonl', None)
    """
    if path is None:
        return None
    path = Path(path)
    return path.with_name(path.name.replace(KEY_MARK, key_hash(key))) if KEY_MARK in path.name else path


def log_file(folder, name: str, budget: str) -> Path | None:
    """The log ``name`` of a run at ``budget`` in ``folder``, one file per key; ``None`` without a folder.

    The name holds the budget and :data:`KEY_MARK`, which the grid or search that opens the
    log replaces with the hash of its key: a run with other data, another ``k``, seed,
    space or protocol writes a log of its own, and a rerun of the same one resumes its log.

    >>> log_file("results", "als_grid", "full").name, log_file(None, "als_grid", "full")
    ('als_grid-full-{key}.jsonl', None)
    """
    return None if folder is None else Path(folder) / f"{name}-{budget}-{KEY_MARK}.jsonl"


def describe_callable(function) -> str | dict:
    """How a key names an estimator, a factory or an objective: its module and qualified name.

    A ``functools.partial`` is named with its arguments; an object that is not a function or
    a class, by its class. Two lambdas share the name ``<lambda>``: give an estimator whose
    settings matter a name (a function or a partial) so that its key tells them apart.

    >>> from functools import partial
    >>> describe_callable(json.dumps), describe_callable(partial(json.dumps, indent=2))
    ('json.dumps', {'function': 'json.dumps', 'args': [], 'keywords': {'indent': 2}})
    """
    if isinstance(function, functools.partial):
        return {"function": describe_callable(function.func), "args": [_plain_key(a) for a in function.args],
                "keywords": {k: _plain_key(v) for k, v in sorted(function.keywords.items())}}
    named = function if hasattr(function, "__qualname__") else type(function)
    return f"{named.__module__}.{named.__qualname__}"


def _plain_key(value):
    """A partial's argument as a key holds it: a plain value as it is, data as its fingerprint."""
    try:
        json.dumps(value, default=json_default)
        return value
    except TypeError:
        try:
            return fingerprint(value)
        except (TypeError, ValueError):
            return describe_callable(value)


def data_key(**data) -> dict:
    """Each named matrix, array or frame as its :func:`~recasketch.parallel.cache.fingerprint`, ``None`` as itself."""
    return {name: None if value is None else fingerprint(value) for name, value in data.items()}


def objective_key(objective) -> str | dict:
    """What decides an objective's scores: its ``log_key()`` if it has one, else its name.

    :class:`~recasketch.tuning.objectives.LightFMObjective` gives the data's fingerprints,
    ``k``, the protocols and the model's fixed parameters. An objective of your own is known
    by its name only: give it a ``log_key()`` method returning what decides its scores, so
    that a search on other data is not resumed from its log.
    """
    log_key = getattr(objective, "log_key", None)
    return log_key() if callable(log_key) else describe_callable(objective)


def search_key(objective, dims, target: str, random_state) -> dict:
    """The key of a search: the space, the target, the seed and :func:`objective_key`."""
    return {"space": describe_space(dims), "target": target, "seed": random_state,
            "objective": objective_key(objective)}


def _flat(key, prefix: str = "") -> dict:
    """A nested key as ``{"a.b": value}``, so that a message names the field that differs."""
    if not isinstance(key, Mapping):
        return {prefix or "key": key}
    out = {}
    for name, value in key.items():
        out.update(_flat(value, f"{prefix}{name}.") if isinstance(value, Mapping) else {f"{prefix}{name}": value})
    return out


def _differences(logged: Mapping, here: Mapping) -> str:
    """The fields of two keys that differ, as a reader wants them: ``k is 10 here, 5 in the log``."""
    logged, here = _flat(json.loads(_canonical(logged))), _flat(json.loads(_canonical(here)))
    parts = []
    for name in sorted(set(logged) | set(here)):
        if logged.get(name, "(absent)") != here.get(name, "(absent)"):
            parts.append(f"{name} is {_shown(here.get(name, '(absent)'))} here, "
                         f"{_shown(logged.get(name, '(absent)'))} in the log")
    return "; ".join(parts[:6]) + (f"; and {len(parts) - 6} more" if len(parts) > 6 else "")


def _shown(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=json_default)
    return text if len(text) <= 100 else text[:97] + "..."


def _check(path: Path, kind: str, key: Mapping, records: list[dict], first_torn: bool) -> list[dict]:
    """The records of a log after its header, once the header is found to match ``key``."""
    header = records[0] if records and "log" in records[0] else None
    body = records[1:] if header is not None else records
    unit, count = _UNITS[kind], sum("call" in r or "curve" in r for r in body)
    if header is not None:
        if header["log"] != kind:
            raise LogMismatchError(f"{path} is a {header['log']} log, not a {kind} log; give this {kind} "
                                   "another log_path.")
        if _canonical(header.get("key")) != _canonical(key):
            raise LogMismatchError(
                f"{path} was written by another {kind}: {_differences(header.get('key') or {}, key)}. Its "
                f"{count} {unit} were made by that {kind}, so none is reused here. Give this {kind} "
                f"another log_path (a name with {KEY_MARK}, as recasketch.tuning.search_log.log_file makes, "
                "keeps one log per configuration), or delete the log to start it over.")
        return body
    found = _kind_of(body) or ("search" if body and _is_header(body[0]) else None)
    if found is not None and found != kind:
        raise LogMismatchError(f"{path} is a {found} log, not a {kind} log; give this {kind} another log_path.")
    what = ("its first line, the header, is damaged" if first_torn else
            "it was written before logs carried the key of what made them")
    raise LogMismatchError(
        f"{path}: {what}, so its {count} {unit} cannot be checked against this {kind} and none is "
        f"reused. Delete the log (or move it aside) to start this {kind} over, or give it another log_path.")


@contextlib.contextmanager
def open_log(path, kind: str, key: Mapping) -> Iterator[tuple[Path | None, list[dict]]]:
    """Open the log of a run for writing: ``(path, records)``, the records made by this same run.

    Parameters
    ----------
    path : str or Path or None
        The log; :data:`KEY_MARK` in its name is replaced by :func:`key_hash` of ``key``.
        ``None``: nothing is kept, and ``(None, [])`` is given.
    kind : {"grid", "search"}
    key : mapping
        What made the run's results (see the module's docstring).

    Yields
    ------
    (Path or None, list of dict)
        The log's path and its records, header excluded. A new or empty log, or one with
        nothing but a header (of any key), is started afresh with this key's header.

    Raises
    ------
    LogMismatchError
        For a log written by another run (the message names the fields that differ), of the
        other kind, without a key (written before logs had one), or with a damaged header.
    LogInUseError
        If another run (another process, or another open of it here) is writing the log.

    Notes
    -----
    The lock is held until the block ends and released if the process dies. If the block
    raises before anything was appended to a log it started, the log is removed, so that a
    refused start leaves no file behind.
    """
    if kind not in LOG_KINDS:
        raise ValueError(f"Unknown kind of log {kind!r}; choose one of {list(LOG_KINDS)}.")
    path = keyed_path(path, key)
    if path is None:
        yield None, []
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LogInUseError(f"{path} is being written by another run now; wait for it to finish, or give "
                                "this run another log_path.") from None
        records, first_torn = _read_lines(path)
        started = len(records) <= 1 and all(_is_header(r) for r in records)
        if started:  # nothing to lose: a new, empty or torn log, or a header alone
            _write_header(path, kind, key)
            body = []
        else:
            body = _check(path, kind, key, records, first_torn)
        size = path.stat().st_size
        try:
            yield path, body
        except BaseException:
            if started and path.stat().st_size == size:
                path.unlink(missing_ok=True)
            raise


def _write_header(path: Path, kind: str, key: Mapping) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"log": kind, "key": key}, default=json_default) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def point_of(dims, params: Mapping) -> list:
    return [plain(params[d.name]) for d in dims]


def check_x0(x0, dims) -> list[list]:
    if x0 is None:
        return []
    points = [x0] if isinstance(x0, Mapping) or (len(x0) and not isinstance(x0[0], (list, tuple, Mapping))) else list(x0)
    out = []
    for point in points:
        if isinstance(point, Mapping):
            missing = [d.name for d in dims if d.name not in point]
            if missing:
                raise ValueError(f"x0 point {dict(point)} lacks {missing}.")
            point = point_of(dims, point)
        point = [plain(v) for v in point]
        if len(point) != len(dims):
            raise ValueError(f"x0 point {point} has {len(point)} values; the space has {len(dims)}.")
        for dim, value in zip(dims, point):
            if value not in dim:
                raise ValueError(f"x0 value {value!r} of {dim.name!r} lies outside {dim}.")
        out.append(point)
    return out


def calls_frame(records: list[dict], names: list[str]) -> pd.DataFrame:
    score_names = list(dict.fromkeys(k for r in records for k in r["scores"]))
    rows = [{"call": r["call"], "origin": r["origin"], **{n: r["params"][n] for n in names},
             **{s: r["scores"].get(s, np.nan) for s in score_names},
             "objective": r["objective"], "seconds": r["seconds"], "status": r["status"],
             "reason": r["reason"]} for r in records]
    columns = ["call", "origin", *names, *score_names, "objective", "seconds", "status", "reason"]
    return pd.DataFrame(rows, columns=columns)


def append_record(path: Path, record: dict) -> None:
    """Append one record to a JSON-lines log and sync it to disk, after a torn last line if any."""
    line = json.dumps(record, default=float) + "\n"
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:  # a torn last line (from a crash) must not swallow this one
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                line = "\n" + line
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def check_search(dims, n_calls, n_initial_points, x0) -> list[list]:
    """The ``x0`` points of a search, checked to fit in ``n_calls`` with the random ones."""
    check_count(n_calls, "n_calls")
    check_count(n_initial_points, "n_initial_points", low=0)
    starts = check_x0(x0, dims)
    if len(starts) + n_initial_points > n_calls:
        raise ValueError(
            f"n_calls={n_calls} leaves no room for the {len(starts)} x0 point(s) and "
            f"n_initial_points={n_initial_points} random ones; raise n_calls or lower them."
        )
    return starts


def resume_seed(random_state, n_done: int):
    """The minimiser's seed: ``random_state`` for a fresh search, one derived from it and the calls
    done for a resumed one (so that its random points are not the logged ones again).

    Examples
    --------
    >>> resume_seed(3, 0), resume_seed(None, 5), resume_seed(3, 5) != resume_seed(3, 6)
    (3, None, True)
    """
    if random_state is None or n_done == 0:
        return random_state
    return int(np.random.SeedSequence([int(random_state), n_done]).generate_state(1)[0])


def evaluate_call(objective: Callable, params: dict, target: str, origin: str) -> dict:
    """One call of ``objective`` at ``params``: the record the log keeps of it, less its number.

    A call whose objective raises :class:`FitFailed`, or scores a non-finite ``target``, is
    ``"failed"`` and scored :data:`WORST_VALUE`; scores without ``target`` raise ``KeyError``.
    """
    start = time.perf_counter()
    try:
        scores = {k: float(v) for k, v in objective(dict(params)).items()}
        if target not in scores:
            raise KeyError(f"The objective returned {sorted(scores)}, without the target {target!r}.")
        if not np.isfinite(scores[target]):
            raise FitFailed(f"{target} is {scores[target]}")
        status, reason, value = "ok", None, -scores[target]
    except FitFailed as err:
        scores, status, reason, value = {}, "failed", str(err), WORST_VALUE
    return {"origin": origin, "params": params, "scores": scores, "objective": value,
            "seconds": time.perf_counter() - start, "status": status, "reason": reason}


def progress_bar(n_calls: int, n_done: int, progress: bool) -> tqdm:
    """A search's bar over its calls, starting at those already done."""
    return tqdm(total=n_calls, initial=min(n_done, n_calls), desc="search", unit="call",
                disable=not progress)


def log_call(done: list, result: dict, path: Path | None, bar: tqdm, target: str) -> dict:
    """Number :func:`evaluate_call`'s ``result``, add it to ``done`` and the log, advance ``bar``."""
    record = {"call": len(done), **result}
    done.append(record)
    if path is not None:
        append_record(path, record)
    bar.update(1)
    bar.set_postfix_str(f"best {target} {max(-r['objective'] for r in done) + 0.0:.4f}", refresh=False)
    return record
