"""The search log: one JSON line per finished call, read back to resume a search.

The first line of a log is its header (the space searched and the target); each
later line is one call: its number, where its point came from (``"x0"`` or
``"search"``), the parameters, the scores, the value minimised, the seconds it took,
and whether it succeeded. Calls are appended as they finish and synced to disk, so a
search stopped at any moment resumes with every finished call. The serial
(:func:`recasketch.tuning.search.resumable_search`) and batched
(:func:`recasketch.tuning.batched.batched_search`) searches write and read the same log, and
share what a call is: its arguments' checks (:func:`check_search`), its evaluation
(:func:`evaluate_call`), its record (:func:`log_call`) and a resumed search's seed
(:func:`resume_seed`).
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from skopt.space import check_dimension
from tqdm import tqdm

from ..utils import check_count, plain

__all__ = ["FitFailed", "WORST_VALUE", "append_record", "calls_frame", "check_search", "check_x0",
           "describe_space", "dimensions", "evaluate_call", "log_call", "point_of", "progress_bar",
           "read_calls", "read_records", "resume_seed", "start_log"]


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


def read_records(path: Path | None) -> list[dict]:
    """The records of a JSON-lines log in order, none without one; a torn line (a crash) is ignored."""
    records = []
    if path is not None and path.exists():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


def read_calls(path: Path | None, dims) -> list[dict]:
    """Finished calls of a search log in order (none without a log); a torn last line is ignored."""
    records = read_records(path)
    header = next((record for record in records if "space" in record), None)
    calls = [record for record in records if "call" in record and record is not header]
    if header is not None and header["space"] != describe_space(dims):
        raise ValueError(
            f"{path} holds a search over another space ({header['space']}); resume it with the "
            "same space, or give this search a new log_path."
        )
    calls.sort(key=lambda r: r["call"])
    if [r["call"] for r in calls] != list(range(len(calls))):
        raise ValueError(f"{path}: the logged calls are not numbered 0, 1, 2, ...; the log is damaged.")
    return calls


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


def start_log(path: Path | None, dims, target: str) -> None:
    """Write a new search log's header (the space and the target); an existing log is kept."""
    if path is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        append_record(path, {"space": describe_space(dims), "target": target})


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
