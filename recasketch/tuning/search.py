"""Model-based search with scikit-optimize, every call logged, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, NamedTuple

import pandas as pd
from skopt import forest_minimize

from ..utils import plain
from .search_log import (calls_frame, check_search, dimensions, evaluate_call, log_call, numbered_calls,
                         open_log, point_of, progress_bar, read_calls, resume_seed, search_key)

__all__ = ["SearchResult", "clip_to_space", "projected_search_seconds", "read_search_log", "resumable_search"]


class SearchResult(NamedTuple):
    """What :func:`resumable_search` returns.

    Attributes
    ----------
    calls : pandas.DataFrame
        One row per call in order: ``call`` (0-based), ``origin`` ("x0" for a given
        starting point, "search" for a point skopt chose), one column per dimension,
        one per score the objective returned, ``objective`` (the value minimised),
        ``seconds``, ``status`` ("ok"/"failed") and ``reason`` (why a call failed).
    optimize_result : scipy.optimize.OptimizeResult
        scikit-optimize's result over all calls (``x_iters``, ``func_vals``, ``models``,
        ...), e.g. for ``skopt.plots.plot_convergence``.
    n_resumed : int
        Calls read back from the log rather than run in this session.
    """

    calls: pd.DataFrame
    optimize_result: object
    n_resumed: int

    @property
    def best(self) -> pd.Series:
        """The successful call with the lowest ``objective``."""
        ok = self.calls[self.calls["status"] == "ok"]
        if ok.empty:
            raise ValueError("Every call of the search failed; there is no best call.")
        return ok.loc[ok["objective"].idxmin()]

    @property
    def n_failed(self) -> int:
        """Number of failed calls."""
        return int((self.calls["status"] == "failed").sum())


def resumable_search(objective: Callable[[dict], Mapping], space: Mapping, n_calls: int, log_path=None,
                     x0=None, n_initial_points: int = 10, target: str = "p@k", minimizer: Callable | None = None,
                     random_state: int | None = None, progress: bool = True) -> SearchResult:
    """Maximise ``objective[target]`` with scikit-optimize, logging every call, resumably.

    A search of the post's kind (``forest_minimize`` over a few hyper-parameters, each
    call a full training run) takes hours at full size. Here every finished call is
    appended at once to ``log_path`` (one JSON line: parameters, scores, seconds,
    status), and running the same search again with the same log resumes it: the
    logged calls are handed to the minimiser as ``x0``/``y0`` and its
    ``n_initial_points`` is lowered by the random starting points already done (left
    as it is, skopt would draw its random start again on every resume). An
    interrupted search therefore reaches ``n_calls`` calls with none lost or repeated,
    and a finished one can be extended by asking for more calls.

    Parameters
    ----------
    objective : callable
        Takes a dict ``{name: value}`` of one point and returns a mapping of scores
        (e.g. :class:`~recasketch.tuning.objectives.LightFMObjective`). It raises
        :class:`~recasketch.tuning.search_log.FitFailed` when the point gives no score (a
        diverged fit): the call is logged as failed and scored
        :data:`~recasketch.tuning.search_log.WORST_VALUE`. Any other exception stops the search (the calls finished
        so far stay in the log).
    space : mapping of str to skopt dimension or tuple
        Name -> ``skopt.space.Integer``/``Real``/``Categorical`` or a tuple skopt
        understands, e.g. ``{"epochs": (1, 260), "learning_rate": (1e-4, 1.0,
        "log-uniform")}``. The order of the mapping is the order of skopt's points.
    n_calls : int
        Total calls, including ``x0`` and the calls already in the log.
    log_path : str or Path, default=None
        JSON-lines log; ``None`` keeps nothing on disk. Its header holds the search's key
        (:func:`~recasketch.tuning.search_log.search_key`: the space, the target, the seed and
        what the objective's ``log_key()`` says decides its scores: the data, ``k``, the
        protocol, the model's fixed parameters); a log of another search is refused, and
        ``{key}`` in the name gives each key a file of its own
        (:func:`~recasketch.tuning.search_log.log_file`). Another run writing the log at the
        same time is refused.
    x0 : list of points, or one point, default=None
        Starting points evaluated first (a warm start), each a list in the order of
        ``space`` or a dict by name. Points already in the log are not run again.
    n_initial_points : int, default=10
        Random points after ``x0`` before skopt's model proposes points.
    target : str, default="p@k"
        The score to maximise: the minimiser sees ``-scores[target]``.
    minimizer : callable, default=None
        A skopt minimiser with its interface (``forest_minimize``, ``gp_minimize``,
        ``gbrt_minimize``); ``None`` uses ``forest_minimize``, as post 2 did.
        (skopt 0.10.2's ``dummy_minimize`` fails with current scikit-learn; for random
        search see :func:`recasketch.tuning.strategies.random_search`.)
    random_state : int, default=None
        Seed of the minimiser. A fresh search calls it with exactly this seed, so it
        proposes what ``forest_minimize(..., random_state=random_state)`` would; a
        resumed one uses a seed derived from it and the number of calls done, so its
        random points are not the ones already logged.
    progress : bool, default=True
        Show a progress bar over calls.

    Returns
    -------
    SearchResult
        The calls as a table, skopt's ``OptimizeResult`` and how many calls came from
        the log; ``.best`` is the best successful call.

    Raises
    ------
    ValueError
        For an empty space, or ``n_calls`` below ``len(x0) + n_initial_points`` on a fresh
        search.
    recasketch.tuning.search_log.LogMismatchError
        For a log of another search, a grid's log, or one that cannot be checked (see
        :func:`~recasketch.tuning.search_log.open_log`).
    recasketch.tuning.search_log.LogInUseError
        If another run is writing the log.
    """
    dims = dimensions(space)
    names = [d.name for d in dims]
    starts = check_search(dims, n_calls, n_initial_points, x0)
    with open_log(log_path, "search", search_key(objective, dims, target, random_state)) as (log_path, records):
        done = numbered_calls(log_path, records)
        n_resumed = len(done)
        bar = progress_bar(n_calls, len(done), progress)

        def evaluate(point) -> float:
            params = {name: plain(v) for name, v in zip(names, point)}
            origin = "x0" if len(done) < len(starts) else "search"
            record = log_call(done, evaluate_call(objective, params, target, origin), log_path, bar, target)
            return record["objective"]

        try:
            result = _minimize(minimizer or forest_minimize, evaluate, dims, done, starts, n_calls,
                               n_initial_points, random_state)
        finally:
            bar.close()
    return SearchResult(calls_frame(done, names), result, n_resumed)


def _minimize(minimizer, evaluate, dims, done, starts, n_calls, n_initial_points, random_state):
    """Run ``minimizer`` on ``evaluate`` up to ``n_calls`` calls, the calls ``done`` included: a
    resumed search finishes the ``starts`` cut short, then hands the minimiser every call done
    as ``x0``/``y0``, fewer random points and a seed derived from ``random_state``."""
    if not done:
        return minimizer(evaluate, dims, n_calls=n_calls, x0=starts or None,
                         n_initial_points=n_initial_points, random_state=random_state)
    for point in starts[len(done):]:  # a warm start cut short by the interruption
        evaluate(point)
    done_random = sum(r["origin"] == "search" for r in done)
    return minimizer(evaluate, dims, n_calls=max(n_calls - len(done), 0),
                     x0=[point_of(dims, r["params"]) for r in done], y0=[r["objective"] for r in done],
                     n_initial_points=max(n_initial_points - done_random, 0),
                     random_state=resume_seed(random_state, len(done)))


def read_search_log(path, space: Mapping) -> pd.DataFrame:
    """The calls of a :func:`resumable_search` log as the table it returns (``calls``)."""
    dims = dimensions(space)
    return calls_frame(read_calls(Path(path), dims), [d.name for d in dims])


def clip_to_space(point: Mapping, space: Mapping) -> dict:
    """``point`` with every value of a numeric dimension moved into its bounds.

    A warm start carried over from another search (post 2 starts its search with
    item features at the best point without them) can lie outside the new space,
    and skopt refuses such an ``x0``.

    Examples
    --------
    >>> clip_to_space({"epochs": 300, "item_alpha": 1e-7}, {"epochs": (1, 260), "item_alpha": (1e-5, 1e-3, "log-uniform")})
    {'epochs': 260, 'item_alpha': 1e-05}
    """
    out = {}
    for dim in dimensions(space):
        value = point[dim.name]
        if hasattr(dim, "low"):
            value = type(value)(min(max(value, dim.low), dim.high))
        out[dim.name] = value
    return out


def projected_search_seconds(calls: pd.DataFrame, n_calls: int, epochs=None) -> float:
    """Wall seconds that ``n_calls`` calls of a search like ``calls`` would take.

    The median seconds per training epoch of the successful calls, times the mean
    epochs per call, times ``n_calls``. Training dominates a call, and its cost
    grows with the epochs, so calls made with fewer epochs (a budget that caps them)
    still predict a search over the full range.

    Parameters
    ----------
    calls : pandas.DataFrame
        ``SearchResult.calls`` (needs ``epochs``, ``seconds`` and ``status``). A learning-curve
        search's calls are timed by their ``epochs trained``, not by the best ``epochs``.
    n_calls : int
    epochs : tuple of (int, int), default=None
        The epochs range of the search to project; a call is assumed to draw its
        epochs uniformly from it, so its mean is the midpoint. ``None`` uses the mean
        epochs of ``calls`` themselves.

    Examples
    --------
    >>> calls = pd.DataFrame({"epochs": [10, 30], "seconds": [1.0, 3.0], "status": ["ok", "ok"]})
    >>> projected_search_seconds(calls, 250), projected_search_seconds(calls, 250, epochs=(1, 259))
    (500.0, 3250.0)
    >>> projected_search_seconds(calls.assign(**{"epochs trained": [20, 60]}), 250, epochs=(1, 259))
    1625.0
    """
    ok = calls[calls["status"] == "ok"]
    if ok.empty:
        raise ValueError("No successful call to project from.")
    trained = ok["epochs trained"] if "epochs trained" in ok else ok["epochs"]   # a curve trains past its best
    per_epoch = float((ok["seconds"] / trained).median())
    mean_epochs = float(ok["epochs"].mean()) if epochs is None else (epochs[0] + epochs[1]) / 2
    return per_epoch * mean_epochs * int(n_calls)
