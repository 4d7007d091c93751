"""Model-based searches that evaluate several points at once, on a Dask cluster.

:func:`recasketch.tuning.resumable_search` runs post 2's ``forest_minimize``: one call
at a time, each proposal made knowing every result before it. With several workers that
leaves all but one idle. :func:`batched_search` asks scikit-optimize's ``Optimizer``
for ``n_points`` points at once (``ask(n_points=..., strategy="cl_min")``: after each
proposal the optimizer is told a *constant lie* for it, the best value seen so far, so
the next proposal looks elsewhere), evaluates the batch on the cluster's workers,
``tell``\\ s the true values, and asks again.

It keeps :func:`~recasketch.tuning.resumable_search`'s contract: the same JSON-lines log
(each call appended as it finishes, numbered in the order calls finish), the same
resume (a rerun reads the log, tells the optimizer every logged call and runs only the
calls still missing), the same :class:`~recasketch.tuning.SearchResult`, and a call that
raises :class:`~recasketch.tuning.FitFailed` (a diverged LightFM fit) logged as failed
and scored :data:`~recasketch.tuning.WORST_VALUE`. A log written by one search can be
resumed by the other.

The serial search stays the way to reproduce the post; a batch of ``n_points`` makes
proposals from less information than ``n_points`` serial calls, so at equal calls it
may find less, and at equal wall time it runs about ``n_points`` times as many calls.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import cluster, tuning

__all__ = ["STRATEGIES", "batched_search", "compare_searches"]

#: The constant-liar strategies of ``skopt.Optimizer.ask``: lie the best (``cl_min``, the
#: values minimised being ``-p@k``), the mean or the worst value seen.
STRATEGIES = ("cl_min", "cl_mean", "cl_max")


def _evaluate(objective: Callable, params: dict, target: str, origin: str) -> dict:
    """One call of the objective, on a worker: what the log records of it, less its number."""
    start = time.perf_counter()
    try:
        scores = {k: float(v) for k, v in objective(dict(params)).items()}
        if target not in scores:
            raise KeyError(f"The objective returned {sorted(scores)}, without the target {target!r}.")
        if not np.isfinite(scores[target]):
            raise tuning.FitFailed(f"{target} is {scores[target]}")
        status, reason, value = "ok", None, -scores[target]
    except tuning.FitFailed as err:
        scores, status, reason, value = {}, "failed", str(err), tuning.WORST_VALUE
    return {"origin": origin, "params": params, "scores": scores, "objective": value,
            "seconds": time.perf_counter() - start, "status": status, "reason": reason}


def _seed(random_state, n_done: int):
    """The optimizer's seed: ``random_state`` for a fresh search, one derived from it and the
    calls done for a resumed one (so its random points are not the logged ones again)."""
    if random_state is None or n_done == 0:
        return random_state
    return int(np.random.SeedSequence([int(random_state), n_done]).generate_state(1)[0])


def batched_search(
    objective: Callable[[dict], Mapping],
    space: Mapping,
    n_calls: int,
    log_path=None,
    x0=None,
    n_initial_points: int = 10,
    target: str = "p@k",
    n_points: int | None = None,
    base_estimator: str = "ET",
    acq_func: str = "EI",
    acq_optimizer: str = "sampling",
    strategy: str = "cl_min",
    scheduler=None,
    time_budget_s: float | None = None,
    random_state: int | None = None,
    progress: bool = True,
) -> tuning.SearchResult:
    """Maximise ``objective[target]`` with batches of scikit-optimize proposals run in parallel.

    Parameters
    ----------
    objective : callable
        As for :func:`recasketch.tuning.resumable_search` (e.g.
        :class:`recasketch.tuning.LightFMObjective`); it is sent to every worker once,
        so it must pickle, and :class:`~recasketch.tuning.FitFailed` marks a failed call.
    space : mapping of str to skopt dimension or tuple
        Name -> dimension, as for :func:`~recasketch.tuning.resumable_search`.
    n_calls : int
        Total calls, including ``x0`` and the calls already in the log.
    log_path : str or Path, default=None
        JSON-lines log in :func:`~recasketch.tuning.resumable_search`'s format;
        ``None`` keeps nothing on disk.
    x0 : list of points, or one point, default=None
        Starting points, evaluated in the first batches.
    n_initial_points : int, default=10
        Random points (after ``x0``) before the surrogate model proposes.
    target : str, default="p@k"
        The score to maximise; the optimizer minimises ``-scores[target]``.
    n_points : int, default=None
        Points evaluated at once; ``None`` means one per worker of the cluster.
    base_estimator : str or sklearn regressor, default="ET"
        The surrogate: ``"ET"`` (extra trees, as ``forest_minimize``), ``"RF"``,
        ``"GP"`` or ``"GBRT"``.
    acq_func : str, default="EI"
        Acquisition function, as in ``skopt.Optimizer`` (``"EI"``, ``"PI"``, ``"LCB"``, ...).
    acq_optimizer : str, default="sampling"
        ``"sampling"`` or ``"lbfgs"``; skopt allows the latter only with
        ``base_estimator="GP"`` and raises ``ValueError`` otherwise (before any log is
        written).
    strategy : {"cl_min", "cl_mean", "cl_max"}, default="cl_min"
        The constant lie told for each pending point while a batch is proposed.
    scheduler : str or distributed.Client, default=None
        ``"local"``, the address of a Dask scheduler or a Client (see
        :mod:`recasketch.cluster`); ``None`` reads ``RECASKETCH_SCHEDULER``. A search
        always runs on Dask: ``"processes"`` means the LocalCluster here.
    time_budget_s : float, default=None
        Wall seconds after which no new batch is started (the running one finishes);
        ``n_calls`` stays the cap. ``None``: run until ``n_calls``.
    random_state : int, default=None
        Seed of the optimizer. With the same seed, ``n_points`` and objective, a fresh
        search proposes the same points, whatever order the calls finish in.
    progress : bool, default=True
        Show a progress bar over calls.

    Returns
    -------
    recasketch.tuning.SearchResult
        The calls as a table (numbered in the order they finished), skopt's
        ``OptimizeResult`` over all calls, and how many came from the log.

    Raises
    ------
    ValueError
        For an empty space, too few calls for ``x0`` and the random points, an unknown
        ``strategy``, ``n_points`` below 1, or a log of another search.
    """
    from skopt import Optimizer

    dims = tuning._dimensions(space)
    names = [d.name for d in dims]
    if not tuning._is_count(n_calls) or n_calls < 1:
        raise ValueError(f"n_calls must be an integer >= 1, got {n_calls!r}.")
    if not tuning._is_count(n_initial_points):
        raise ValueError(f"n_initial_points must be an integer >= 0, got {n_initial_points!r}.")
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}.")
    if n_points is not None and (not tuning._is_count(n_points) or n_points < 1):
        raise ValueError(f"n_points must be an integer >= 1 or None, got {n_points!r}.")
    if time_budget_s is not None and not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be > 0 or None, got {time_budget_s!r}.")
    starts = tuning._check_x0(x0, dims)
    if len(starts) + n_initial_points > n_calls:
        raise ValueError(
            f"n_calls={n_calls} leaves no room for the {len(starts)} x0 point(s) and "
            f"n_initial_points={n_initial_points} random ones; raise n_calls or lower them."
        )
    if len(starts) + n_initial_points == 0:
        raise ValueError("Give x0 or n_initial_points >= 1: the surrogate needs points to start from.")

    log_path = Path(log_path) if log_path is not None else None
    done = tuning._read_search_log(log_path, dims) if log_path is not None else []
    n_resumed = len(done)
    # Built before the log is started, as skopt rejects a surrogate and an acq_optimizer that do not
    # go together; on copies, as a Gaussian process rescales its dimensions in place.
    optimizer = Optimizer(copy.deepcopy(dims), base_estimator, n_initial_points=len(starts) + n_initial_points,
                          acq_func=acq_func, acq_optimizer=acq_optimizer,
                          random_state=_seed(random_state, len(done)))
    if log_path is not None and not log_path.exists():
        log_path.parent.mkdir(parents=True, exist_ok=True)
        tuning._append_log(log_path, {"space": tuning._describe_space(dims), "target": target})
    if done:
        optimizer.tell([tuning._point(dims, r["params"]) for r in done], [r["objective"] for r in done])
    pending_starts = starts[sum(r["origin"] == "x0" for r in done):]

    scheduler = cluster.resolve_scheduler(scheduler)
    client = cluster.get_client(cluster.LOCAL if scheduler == cluster.PROCESSES else scheduler)
    batch_size = n_points or cluster.n_workers(client)
    shared = cluster.Shared(client, objective=objective)  # sent to the workers once, at the first batch

    bar = tqdm(total=n_calls, initial=min(len(done), n_calls), desc="search", unit="call", disable=not progress)

    def record(call, result):
        entry = {"call": len(done), **result}
        done.append(entry)
        if log_path is not None:
            tuning._append_log(log_path, entry)
        bar.update(1)
        bar.set_postfix_str(f"best {target} {max(-r['objective'] for r in done) + 0.0:.4f}", refresh=False)

    started = time.perf_counter()
    try:
        while len(done) < n_calls:
            if time_budget_s is not None and time.perf_counter() - started >= time_budget_s:
                break
            size = min(batch_size, n_calls - len(done))
            points = [("x0", p) for p in pending_starts[:size]]
            pending_starts = pending_starts[len(points):]
            if len(points) < size:
                asked = optimizer.ask(n_points=size - len(points), strategy=strategy)
                points += [("search", [tuning._plain(v) for v in p]) for p in asked]
            calls = [{"origin": origin, "params": {n: tuning._plain(v) for n, v in zip(names, p)}}
                     for origin, p in points]
            first = len(done)
            cluster.map_unordered(client, _evaluate, calls, record, shared=shared, common={"target": target})
            batch = done[first:]
            optimizer.tell([tuning._point(dims, r["params"]) for r in batch], [r["objective"] for r in batch])
    finally:
        bar.close()
        shared.release()
    result = optimizer.get_result() if optimizer.Xi else None
    return tuning.SearchResult(tuning._calls_frame(done, names), result, n_resumed)



def compare_searches(objective: Callable[[dict], Mapping], space: Mapping, n_calls: int, seeds,
                     n_initial_points: int = 10, n_points: int | None = None, scheduler=None,
                     target: str = "p@k") -> pd.DataFrame:
    """The serial forest search against the batched one, at equal calls and at equal wall time.

    For each seed: post 2's serial search (:func:`recasketch.tuning.resumable_search`,
    ``forest_minimize``) with ``n_calls`` calls; the batched search with the same calls;
    and the batched search given the serial search's wall time (at most ``4 * n_calls``
    calls), so it runs as many calls as fit in it.

    Returns
    -------
    pandas.DataFrame
        One row per (seed, search): ``seed``, ``search``, ``calls``, ``failed``,
        ``wall seconds`` and ``best`` (the best ``target`` found).
    """
    scheduler = cluster.resolve_scheduler(scheduler)
    client = cluster.get_client(cluster.LOCAL if scheduler == cluster.PROCESSES else scheduler)
    n_points = n_points or cluster.n_workers(client)
    rows = []

    def add(seed, name, result, seconds):
        ok = result.calls[result.calls.status == "ok"]
        rows.append({"seed": seed, "search": name, "calls": len(result.calls), "failed": result.n_failed,
                     "wall seconds": seconds, "best": float(ok[target].max()) if len(ok) else np.nan})

    for seed in seeds:
        start = time.perf_counter()
        serial = tuning.resumable_search(objective, space, n_calls, n_initial_points=n_initial_points,
                                         target=target, random_state=seed, progress=False)
        budget = time.perf_counter() - start
        add(seed, "serial forest", serial, budget)
        start = time.perf_counter()
        batched = batched_search(objective, space, n_calls, n_initial_points=n_initial_points, target=target,
                                 n_points=n_points, scheduler=client, random_state=seed, progress=False)
        add(seed, f"batched x{n_points}, equal calls", batched, time.perf_counter() - start)
        start = time.perf_counter()
        timed = batched_search(objective, space, 4 * n_calls, n_initial_points=n_initial_points, target=target,
                               n_points=n_points, scheduler=client, time_budget_s=budget, random_state=seed,
                               progress=False)
        add(seed, f"batched x{n_points}, equal wall time", timed, time.perf_counter() - start)
    return pd.DataFrame(rows)
