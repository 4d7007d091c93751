"""Model-based searches that evaluate several points at once, on a Dask cluster.

:func:`recasketch.tuning.search.resumable_search` runs post 2's ``forest_minimize``: one call
at a time, each proposal made knowing every result before it. With several workers that
leaves all but one idle. :func:`batched_search` asks scikit-optimize's ``Optimizer``
for ``n_points`` points at once (``ask(n_points=..., strategy="cl_min")``: after each
proposal the optimizer is told a *constant lie* for it, the best value seen so far, so
the next proposal looks elsewhere), evaluates the batch on the cluster's workers,
``tell``\\ s the true values, and asks again.

A batch waits for its slowest call, and at the posts' scale, where one call trains for
minutes, that leaves workers idle for a large share of the search. With
``pipelined=True`` the search instead keeps every worker busy: call ``j`` is proposed as
soon as calls ``0 .. j - n_points`` have been told, with a constant lie for each call
proposed since, and starts on the worker that call ``j - n_points`` left free. The
proposals depend only on the seed and the values of the calls before them, never on
which call finished first, so a pipelined search is as reproducible as a batched one (its
points are not the same as the batched search's).

It keeps :func:`~recasketch.tuning.search.resumable_search`'s contract: the same JSON-lines log
(each call appended as it finishes, numbered in the order calls finish), a resume that
runs only the calls still missing, the same :class:`~recasketch.tuning.search.SearchResult`, and a call that
raises :class:`~recasketch.tuning.search_log.FitFailed` (a diverged LightFM fit) logged as failed
and scored :data:`~recasketch.tuning.search_log.WORST_VALUE`. A log written by one search can be
resumed by the other.

A batch is told in the order it was proposed, whatever order its calls finish in. A resumed
batched search replays its log: it proposes the batches again from the same seed and
tells each proposal found in the log its logged value, so it goes on with the proposals an
uninterrupted run would have made. A log these batches did not make (the serial or the
pipelined search's, another seed or batch size) is told to the optimizer at once, as the
pipelined search always does, and the search goes on from a seed derived from the calls
done.

The serial search stays the way to reproduce the post; a batch of ``n_points`` makes
proposals from less information than ``n_points`` serial calls, so at equal calls it
may find less, and at equal wall time it runs about ``n_points`` times as many calls.
"""

from __future__ import annotations

import copy
import time
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from skopt import Optimizer

from ..parallel import cluster
from ..utils import check_count, plain
from .search import SearchResult, resumable_search
from .search_log import (calls_frame, check_search, dimensions, evaluate_call, log_call, numbered_calls,
                         open_log, point_of, progress_bar, resume_seed, search_key)

__all__ = ["CONSTANT_LIARS", "batched_search", "compare_searches"]

#: The constant-liar strategies of ``skopt.Optimizer.ask``: lie the best (``cl_min``, the
#: values minimised being ``-p@k``), the mean or the worst value seen.
CONSTANT_LIARS = ("cl_min", "cl_mean", "cl_max")


def batched_search(objective: Callable[[dict], Mapping], space: Mapping, n_calls: int, log_path=None, x0=None,
                   n_initial_points: int = 10, target: str = "p@k", n_points: int | None = None,
                   base_estimator: str = "ET", acq_func: str = "EI", acq_optimizer: str = "sampling",
                   strategy: str = "cl_min", scheduler=None, time_budget_s: float | None = None,
                   random_state: int | None = None, progress: bool = True, pipelined: bool = False) -> SearchResult:
    """Maximise ``objective[target]`` with batches of scikit-optimize proposals run in parallel.

    Parameters
    ----------
    objective : callable
        As for :func:`recasketch.tuning.search.resumable_search` (e.g.
        :class:`recasketch.tuning.objectives.LightFMObjective`); it is sent to every worker once,
        so it must pickle, and :class:`~recasketch.tuning.search_log.FitFailed` marks a failed call.
    space : mapping of str to skopt dimension or tuple
        Name -> dimension, as for :func:`~recasketch.tuning.search.resumable_search`.
    n_calls : int
        Total calls, including ``x0`` and the calls already in the log.
    log_path : str or Path, default=None
        JSON-lines log in :func:`~recasketch.tuning.search.resumable_search`'s format;
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
        The constant lie (:data:`CONSTANT_LIARS`) told for each pending point of a batch.
    scheduler : str or distributed.Client, default=None
        ``"local"``, the address of a Dask scheduler or a Client (see
        :mod:`recasketch.parallel.cluster`); ``None`` reads ``RECASKETCH_SCHEDULER``. A search
        always runs on Dask: ``"processes"`` means the LocalCluster here.
    time_budget_s : float, default=None
        Wall seconds after which no new batch is started (the running one finishes);
        ``n_calls`` stays the cap. ``None``: run until ``n_calls``.
    random_state : int, default=None
        Seed of the optimizer. With the same seed, ``n_points`` and objective, a fresh
        search proposes the same points, whatever order the calls finish in.
    progress : bool, default=True
        Show a progress bar over calls.
    pipelined : bool, default=False
        Propose each call as soon as the call ``n_points`` before it is told, instead of
        batch by batch (see above): no worker waits for the slowest call of a batch. With
        ``time_budget_s``, no call is started after it has passed.

    Returns
    -------
    recasketch.tuning.search.SearchResult
        The calls as a table (numbered in the order they finished), skopt's
        ``OptimizeResult`` over all calls, and how many came from the log.

    Raises
    ------
    ValueError
        For an empty space, too few calls for ``x0`` and the random points, an unknown
        ``strategy``, ``n_points`` below 1, or a log of another search
        (:class:`~recasketch.tuning.search_log.LogMismatchError`, as for
        :func:`~recasketch.tuning.search.resumable_search`).
    """
    if strategy not in CONSTANT_LIARS:
        raise ValueError(f"Unknown strategy {strategy!r}; choose one of {list(CONSTANT_LIARS)}.")
    if n_points is not None:
        check_count(n_points, "n_points")
    if time_budget_s is not None and not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be > 0 or None, got {time_budget_s!r}.")
    dims = dimensions(space)
    names = [d.name for d in dims]
    starts = check_search(dims, n_calls, n_initial_points, x0)
    if len(starts) + n_initial_points == 0:
        raise ValueError("Give x0 or n_initial_points >= 1: the surrogate needs points to start from.")

    with open_log(log_path, "search", search_key(objective, dims, target, random_state)) as (log_path, records):
        done = numbered_calls(log_path, records)
        n_resumed = len(done)
        # On copies, as a Gaussian process rescales its dimensions in place. skopt refuses a surrogate
        # and an acq_optimizer that do not go together; a log this refused start began is removed.
        def new_optimizer(seed):
            return Optimizer(copy.deepcopy(dims), base_estimator, n_initial_points=len(starts) + n_initial_points,
                             acq_func=acq_func, acq_optimizer=acq_optimizer, random_state=seed)

        def resumed_optimizer():
            """An optimizer told every logged call at once, seeded anew so its random points are others."""
            optimizer = new_optimizer(resume_seed(random_state, len(done)))
            if done:
                optimizer.tell([point_of(dims, r["params"]) for r in done], [r["objective"] for r in done])
            return optimizer, starts[sum(r["origin"] == "x0" for r in done):]

        if pipelined:
            optimizer, pending_starts = resumed_optimizer()
            _run_pipelined(objective, optimizer, done, pending_starts, n_calls, dims, target, scheduler, n_points,
                           strategy, time_budget_s, log_path, progress)
        else:
            optimizer = _run_batches(objective, new_optimizer(random_state), resumed_optimizer, done, list(starts),
                                     n_calls, dims, target, scheduler, n_points, strategy, time_budget_s, log_path,
                                     progress)
    result = optimizer.get_result() if optimizer.Xi else None
    return SearchResult(calls_frame(done, names), result, n_resumed)


def _run_batches(objective, optimizer, resumed_optimizer, done: list, pending_starts: list, n_calls: int, dims,
                 target: str, scheduler, n_points, strategy: str, time_budget_s, log_path, progress: bool):
    """Ask, evaluate on the cluster and tell, batch after batch, until ``n_calls`` calls are told
    (each logged as it finishes) or ``time_budget_s`` has passed; return the optimizer.

    Each batch is told in the order it was proposed, whatever order its calls finish in, so
    the proposals depend only on the seed and the values. The calls already in the log
    (``done``) are replayed: ``optimizer``, freshly seeded, proposes the batches again, and
    each proposal found in the log is told its logged value instead of running again, so a
    resumed search makes the proposals an uninterrupted one would. A log that these batches
    did not make (another design, seed or batch size) is told at once to the optimizer
    ``resumed_optimizer()`` returns, as ``(optimizer, x0 points still pending)``.
    """
    names = [d.name for d in dims]
    client = _client(scheduler)
    batch_size = n_points or cluster.n_workers(client)
    shared = cluster.Shared(client, objective=objective)  # sent to the workers once, at the first batch
    bar = progress_bar(n_calls, len(done), progress)
    logged = {}  # the log's calls not yet told, by their parameters
    for record in done:
        logged.setdefault(_params_key(record["params"]), []).append(record)
    told = 0
    started = time.perf_counter()
    try:
        while told < n_calls:
            if time_budget_s is not None and time.perf_counter() - started >= time_budget_s:
                break
            size = min(batch_size, n_calls - told)
            calls, still_pending = _propose(optimizer, pending_starts, size, strategy, names)
            keys = [_params_key(call["params"]) for call in calls]
            if logged and not any(key in logged for key in keys):
                optimizer, pending_starts = resumed_optimizer()  # not this search's batches
                logged, told = {}, len(done)
                continue
            pending_starts = still_pending
            records = [logged[key].pop(0) if logged.get(key) else None for key in keys]
            logged = {key: rest for key, rest in logged.items() if rest}
            new = [call for call, record in zip(calls, records) if record is None]
            if new:
                ran = {}  # this batch's new records, by their parameters

                def finished(call, result):
                    ran.setdefault(_params_key(call["params"]), []).append(log_call(done, result, log_path, bar,
                                                                                    target))

                cluster.map_unordered(client, evaluate_call, new, finished, shared=shared, common={"target": target})
                records = [record if record is not None else ran[key].pop(0) for key, record in zip(keys, records)]
            optimizer.tell([point_of(dims, r["params"]) for r in records], [r["objective"] for r in records])
            told += len(records)
        rest = [record for records in logged.values() for record in records]
        if rest:  # logged calls beyond n_calls
            optimizer.tell([point_of(dims, r["params"]) for r in rest], [r["objective"] for r in rest])
    finally:
        bar.close()
        shared.release()
    return optimizer


def _params_key(params: Mapping) -> tuple:
    """A call's parameters as a hashable key, the same for a proposal and its logged record."""
    return tuple(sorted((name, repr(plain(value))) for name, value in params.items()))


def _run_pipelined(objective, optimizer, done: list, pending_starts: list, n_calls: int, dims, target: str,
                   scheduler, n_points, strategy: str, time_budget_s, log_path, progress: bool) -> None:
    """Keep ``n_points`` calls running until ``n_calls`` calls are ``done``: call ``j`` of this run is
    proposed right after call ``j - n_points`` is told, the calls are told in the order they were
    proposed, and a call that finishes before the ones proposed ahead of it waits to be told."""
    names = [d.name for d in dims]
    client = _client(scheduler)
    width = n_points or cluster.n_workers(client)
    shared = cluster.Shared(client, objective=objective)
    bar = progress_bar(n_calls, len(done), progress)
    started = time.perf_counter()
    to_run = n_calls - len(done)
    proposed, finished = [], {}  # this run's calls in the order proposed; those finished, not yet told
    told = 0  # the first calls of ``proposed`` told to the optimizer

    def propose() -> list:
        """The calls that may start now: those proposed while fewer than ``width`` wait to be told."""
        calls = []
        while len(proposed) < to_run and len(proposed) - told < width and (
                time_budget_s is None or time.perf_counter() - started < time_budget_s):
            call = _propose_one(optimizer, pending_starts, proposed[told:], strategy, names, dims)
            call["index"] = len(proposed)
            proposed.append(call)
            calls.append(call)
        return calls

    def finish(call, result) -> None:
        finished[call["index"]] = log_call(done, result, log_path, bar, target)

    def tell_and_propose(call, result) -> list:
        nonlocal told
        calls = []
        while told in finished:  # tell in proposal order, proposing after each
            record = finished.pop(told)
            optimizer.tell(point_of(dims, record["params"]), record["objective"])
            told += 1
            calls += propose()
        return calls

    try:
        first = propose()
        if first:
            cluster.map_unordered(client, _evaluate_proposed, first, finish, shared=shared,
                                  common={"target": target}, more=tell_and_propose)
    finally:
        bar.close()
        shared.release()


def _evaluate_proposed(objective, params: dict, target: str, origin: str, index: int) -> dict:
    """:func:`~recasketch.tuning.search_log.evaluate_call` of a pipelined call (its ``index`` is the
    client's)."""
    return evaluate_call(objective, params, target, origin)


def _propose_one(optimizer, pending_starts: list, waiting: list, strategy: str, names: list, dims) -> dict:
    """The next call: the next ``x0`` point still pending, else the optimizer's proposal with a constant
    lie told (on a copy) for each call in ``waiting``, proposed but not yet told."""
    if pending_starts:
        point, origin = pending_starts.pop(0), "x0"
    else:
        # as skopt's own ask(n_points=...): a copy seeded from the optimizer's generator, so the main
        # optimizer's state advances the same way on every run
        ahead = optimizer.copy(random_state=optimizer.rng.randint(0, np.iinfo(np.int32).max))
        if waiting:
            lie = {"cl_min": np.min, "cl_mean": np.mean, "cl_max": np.max}[strategy](optimizer.yi) \
                if optimizer.yi else 0.0
            ahead.tell([point_of(dims, c["params"]) for c in waiting], [float(lie)] * len(waiting))
        point, origin = [plain(v) for v in ahead.ask()], "search"
    return {"origin": origin, "params": {n: plain(v) for n, v in zip(names, point)}}


def _propose(optimizer, pending_starts: list, size: int, strategy: str, names: list) -> tuple[list, list]:
    """The next ``size`` calls (``origin``, ``params``): the ``x0`` points still pending first, then
    the optimizer's proposals; and the ``x0`` points still pending after them."""
    points = [("x0", p) for p in pending_starts[:size]]
    if len(points) < size:
        asked = optimizer.ask(n_points=size - len(points), strategy=strategy)
        points += [("search", [plain(v) for v in p]) for p in asked]
    calls = [{"origin": origin, "params": {n: plain(v) for n, v in zip(names, p)}} for origin, p in points]
    return calls, pending_starts[len(points):]


def _client(scheduler):
    """The Dask client a search runs on: ``"processes"`` means the LocalCluster here."""
    scheduler = cluster.resolve_scheduler(scheduler)
    return cluster.get_client(cluster.LOCAL if scheduler == cluster.PROCESSES else scheduler)


def compare_searches(objective: Callable[[dict], Mapping], space: Mapping, n_calls: int, seeds,
                     n_initial_points: int = 10, n_points: int | None = None, scheduler=None,
                     target: str = "p@k") -> pd.DataFrame:
    """The serial forest search against the batched one, at equal calls and at equal wall time.

    For each seed: post 2's serial search (:func:`recasketch.tuning.search.resumable_search`,
    ``forest_minimize``) with ``n_calls`` calls; the batched search with the same calls;
    and the batched search given the serial search's wall time (at most ``4 * n_calls``
    calls), so it runs as many calls as fit in it.

    Returns
    -------
    pandas.DataFrame
        One row per (seed, search): ``seed``, ``search``, ``calls``, ``failed``,
        ``wall seconds`` and ``best`` (the best ``target`` found).
    """
    client = _client(scheduler)
    n_points = n_points or cluster.n_workers(client)
    rows = []

    def add(seed, name, result, seconds):
        ok = result.calls[result.calls.status == "ok"]
        rows.append({"seed": seed, "search": name, "calls": len(result.calls), "failed": result.n_failed,
                     "wall seconds": seconds, "best": float(ok[target].max()) if len(ok) else np.nan})

    for seed in seeds:
        start = time.perf_counter()
        serial = resumable_search(objective, space, n_calls, n_initial_points=n_initial_points,
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
