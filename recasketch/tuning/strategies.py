"""Three ways to spend the same wall time tuning WARP, compared call by call.

Post 2 tuned LightFM's WARP with ``forest_minimize`` over ``epochs``, ``learning_rate``,
``no_components`` and ``alpha``: every call trains a model from scratch for the epochs
it drew, so a point at 200 epochs costs as much as twenty at 10. This module runs three
strategies on the same space, split and seed, each until a wall-time budget is spent,
and records every call with the seconds elapsed since the strategy began:

``"forest"`` (:func:`forest_search`)
    The post's: ``forest_minimize`` with ``epochs`` a search dimension, run through
    :func:`recasketch.tuning.search.resumable_search`.
``"learning curve"`` (:func:`learning_curve_search`)
    ``forest_minimize`` over the space *without* ``epochs``. Each point is trained once,
    ``step`` epochs at a time with ``fit_partial`` up to ``max_epochs``, scored on the
    validation likes at every checkpoint and stopped early when the score has not
    improved for ``patience`` checkpoints; the call's value is its best checkpoint.
``"random"`` (:func:`random_search`)
    Uniform random points over the full space, as ``dummy_minimize`` draws them.

:func:`compare_strategies` runs them one after the other and stacks their calls;
:func:`best_so_far_curve` turns the calls into the step function to plot (best
validation p@k so far against elapsed seconds).

A call whose fit diverges (LightFM's ``ValueError("Not all estimated parameters are
finite")``, factors whose scores would overflow float32, or non-finite scores) is
recorded with status ``"failed"`` and the worst value, and the search goes on. With
``num_threads=1`` every strategy is deterministic given ``random_state``: the same
points, epochs and values, only the seconds differ.
"""

from __future__ import annotations

import multiprocessing
import numbers
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd
from skopt import forest_minimize
from skopt.space import Integer, check_dimension
from tqdm import tqdm

from ..parallel import cache, cluster
from ..utils import check_count, check_random_state, duration, seed_from
from .objectives import LightFMObjective, best_checkpoint, checkpoints
from .search import resumable_search
from .search_log import WORST_VALUE, FitFailed, describe_space, dimensions

__all__ = ["CALL_COLUMNS", "STRATEGIES", "best_so_far_curve", "compare_strategies", "forest_search", "reach_sentence",
           "learning_curve_search", "random_search", "recommend", "recommended", "time_to_best",
           "time_to_reach"]

#: The columns of a calls frame, with one column per searched parameter (all but
#: ``epochs``) between ``call`` and ``epochs_used``.
CALL_COLUMNS = ("strategy", "call", "epochs_used", "epochs_trained", "value", "seconds", "elapsed",
                "best_so_far", "status", "reason")

#: A ceiling on calls for a search bounded by time only (skopt needs a number of calls).
_UNBOUNDED_CALLS = 10**6


# --------------------------------------------------------------------- one call


class _Call(NamedTuple):
    """What one call of a strategy gives, before it is timed and numbered."""

    value: float
    epochs_used: int | None
    epochs_trained: int
    reason: str | None = None
    model: object = None  # the model at epochs_used, where the objective keeps it
    fit_seconds: float | None = None  # how long it trained to get there


class _Objective(LightFMObjective):
    """:class:`recasketch.tuning.objectives.LightFMObjective` scoring one protocol only, with checkpoints.

    The parent builds the model for a point (``LightFM(loss, random_state,
    **post_lightfm_params(point))``) and trains it for ``point["epochs"]``; here a call
    scores only the p@k the search maximises, so that no strategy pays for a score it
    does not use, and :meth:`curve` trains a point a few epochs at a time instead.
    """

    def __init__(self, train, validation, users=None, k=5, item_features=None, loss="warp",
                 num_threads=1, random_state=2016, exclude_train=False, keep_model=False):
        super().__init__(train, validation, users=users, k=k, item_features=item_features,
                         loss=loss, num_threads=num_threads, random_state=random_state)
        self.exclude = self.train.tocsr() if exclude_train else None
        self.keep_model = keep_model

    def p_at_k(self, model) -> float:
        """Validation p@k of a fitted ``model``; FitFailed where it means nothing (see
        :meth:`recasketch.tuning.objectives.LightFMObjective.score`)."""
        return float(self.score(model, {"p@k": (self.test, self.exclude)}, self.num_threads)["p@k"])

    def full_fit(self, point: Mapping) -> _Call:
        """Train ``point["epochs"]`` epochs from scratch and score once (strategies a and c)."""
        epochs = int(point["epochs"])
        start = time.perf_counter()
        model = self.fit(point)
        fit_seconds = time.perf_counter() - start
        return _Call(self.p_at_k(model), epochs, epochs, None, model if self.keep_model else None, fit_seconds)

    def curve(self, point: Mapping, epochs: list[int], patience: int) -> _Call:
        """Train ``point`` along its learning curve and keep its best checkpoint (strategy b),
        as :func:`recasketch.tuning.objectives.best_checkpoint` does."""
        best = best_checkpoint(self, point, epochs, patience, {"p@k": (self.test, self.exclude)},
                               keep_model=self.keep_model)
        return _Call(float(best.scores["p@k"]), best.epochs, best.epochs_trained, best.reason, best.model,
                     best.fit_seconds)


class _Recorder:
    """The objective handed to ``resumable_search``: runs one call, times and records it, and hands
    each call that reaches the best so far (a tie too) to ``on_best``."""

    def __init__(self, strategy, run, names, start, bar, time_budget_s, on_best=None):
        self.on_best = on_best
        self.strategy = strategy
        self.time_budget_s = time_budget_s
        self.run = run
        self.names = names
        self.start = start
        self.bar = bar
        self.rows = []
        self.best = np.nan

    def __call__(self, point: Mapping) -> dict:
        began = time.perf_counter()
        try:
            call = self.run(point)
            status = "ok"
        except FitFailed as err:
            trained = getattr(err, "epochs_trained", point.get("epochs"))
            call = _Call(-WORST_VALUE + 0.0, None, trained, str(err))
            status = "failed"
        end = time.perf_counter()
        params = {n: point[n] for n in self.names}
        if status == "ok" and not call.value < self.best:  # a tie reaches the best too
            self.best = call.value
            if self.on_best is not None:
                self.on_best({**params, "epochs": int(call.epochs_used)}, call.model, call.fit_seconds)
        self.rows.append({
            "strategy": self.strategy, "call": len(self.rows), **params,
            "epochs_used": call.epochs_used, "epochs_trained": call.epochs_trained,
            "value": call.value, "seconds": end - began, "elapsed": end - self.start,
            "best_so_far": self.best, "status": status, "reason": call.reason,
        })
        if self.time_budget_s is None:
            self.bar.update(1)
        else:  # the bar counts seconds of the budget
            self.bar.update(max(min(end - self.start, self.time_budget_s) - self.bar.n, 0))
        self.bar.set_postfix_str(f"best {self.best:.4f}", refresh=False)
        if status == "failed":
            raise FitFailed(call.reason)
        return {"p@k": call.value}

    def frame(self) -> pd.DataFrame:
        columns = ["strategy", "call", *self.names, *CALL_COLUMNS[2:]]
        calls = pd.DataFrame(self.rows, columns=columns)
        return calls.astype({"call": "int64", "epochs_used": "Int64", "epochs_trained": "Int64",
                             "value": "float64", "best_so_far": "float64"})


# --------------------------------------------------------------------- driver


def _check_budget(time_budget_s, max_calls):
    if time_budget_s is None and max_calls is None:
        raise ValueError(
            "Give time_budget_s (seconds) or max_calls (or both), or the search never stops."
        )
    if time_budget_s is not None and (isinstance(time_budget_s, bool)
                                      or not isinstance(time_budget_s, numbers.Real)
                                      or not time_budget_s > 0):
        raise ValueError(f"time_budget_s must be a number of seconds > 0, got {time_budget_s!r}.")
    if max_calls is not None:
        check_count(max_calls, "max_calls")


def _int_seed(random_state) -> int:
    """An int seed for skopt and LightFM: an int as given, else one drawn from it."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return seed_from(check_random_state(random_state))


def _epochs_high(space: Mapping, strategy: str) -> int:
    if "epochs" not in space:
        raise ValueError(
            f"The {strategy!r} strategy needs an 'epochs' dimension in space (e.g. (1, 260)); "
            f"it has {list(space)}."
        )
    dim = check_dimension(space["epochs"])
    if not isinstance(dim, Integer):
        raise ValueError(f"space['epochs'] must be an integer range such as (1, 260), got {dim}.")
    return int(dim.high)


def _search(strategy, run, train, validation, users, space, time_budget_s, max_calls,
            n_initial_points, k, num_threads, item_features, exclude_train, progress, seed, on_best=None):
    """Run ``run`` (an :class:`_Objective` method) under ``forest_minimize`` until out of budget.

    ``n_initial_points=None`` makes every point a random one: skopt's Optimizer then
    never fits its forest and draws each point uniformly from the space, which is
    random search. (``dummy_minimize`` would do the same, but skopt 0.10.2 cannot
    build its optimizer with scikit-learn >= 1.6.)
    """
    _check_budget(time_budget_s, max_calls)
    n_calls = _UNBOUNDED_CALLS if max_calls is None else int(max_calls)
    if n_initial_points is None:
        n_initial_points = n_calls
    n_initial_points = min(check_count(n_initial_points, "n_initial_points", low=0), n_calls)
    objective = _Objective(train, validation, users=users, k=k, item_features=item_features,
                           num_threads=num_threads, random_state=seed, exclude_train=exclude_train,
                           keep_model=on_best is not None)
    names = [name for name in space if name != "epochs"]
    if time_budget_s is None:
        bar = tqdm(total=n_calls, unit="call", desc=strategy, disable=not progress)
    else:  # a bar over the seconds of the budget
        bar = tqdm(total=time_budget_s, desc=strategy, disable=not progress,
                   bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s{postfix}")
    start = time.perf_counter()
    recorder = _Recorder(strategy, lambda point: run(objective, point), names, start, bar,
                         time_budget_s, on_best)

    def spent(result) -> bool:  # skopt calls it after each call; True stops the search
        return time_budget_s is not None and time.perf_counter() - start >= time_budget_s

    def minimize(func, dimensions, **kwargs):
        return forest_minimize(func, dimensions, callback=[spent], **kwargs)

    try:
        resumable_search(recorder, space, n_calls, n_initial_points=n_initial_points,
                                minimizer=minimize, random_state=seed, progress=False)
    finally:
        bar.close()
    return recorder.frame()


def forest_search(train, validation, users, space: Mapping, time_budget_s=None, max_calls=None,
                  n_initial_points: int = 10, k: int = 5, num_threads: int = 1,
                  item_features=None, exclude_train: bool = False, progress: bool = True,
                  random_state=2016, on_best=None) -> pd.DataFrame:
    """Post 2's search: ``forest_minimize`` with ``epochs`` a dimension, one full fit per call.

    Parameters
    ----------
    train, validation : scipy.sparse matrix of shape (n_users, n_items)
        Likes to train on and held-out likes to score (a train/validation split; keep
        the test likes out of it).
    users : array-like of int, or None
        Validation users (the split's ``user_index``); ``None`` scores every user with
        a validation like.
    space : mapping of str to skopt dimension or tuple
        As ``recasketch.study.budgets.warp_search(...).space``: ``epochs`` (an integer range)
        plus the model's parameters (``learning_rate``, ``no_components``, ``alpha``,
        or ``item_alpha`` and ``scaling``; see :func:`recasketch.tuning.objectives.post_lightfm_params`).
    time_budget_s : float, default=None
        Wall seconds: no call is launched once they are spent (a call in progress
        finishes, and the first call always runs).
    max_calls : int, default=None
        Stop after this many calls. At least one of the two budgets must be given.
    n_initial_points : int, default=10
        Random points before the forest proposes (skopt's default, as in the post);
        lowered to ``max_calls`` where that is smaller.
    k : int, default=5
        Cut-off of the validation precision@k.
    num_threads : int, default=1
        LightFM's training threads and the scoring's; with 1 a run is repeatable.
    item_features : scipy.sparse matrix of shape (n_items, n_features), default=None
        Side information for training and scoring.
    exclude_train : bool, default=False
        ``False`` scores p@k with every item ranked (the posts' protocol, as
        :class:`recasketch.tuning.objectives.LightFMObjective`'s ``"p@k"``); ``True`` removes each
        user's train likes first.
    progress : bool, default=True
        Show a progress bar (over seconds, or calls when only ``max_calls`` is given).
    random_state : int, default=2016
        Seed of the minimiser and of LightFM (every call's model gets the same seed, as
        in post 2). ``None`` or a Generator draws one int seed from it.
    on_best : callable, default=None
        Called after each call that reaches the best value so far (a tie too, so that the
        last of equal calls is kept as well), as ``on_best(point,
        model, fit_seconds)``: the call's parameters with ``epochs`` the epochs it used,
        its model at those epochs, and the seconds it trained (the time it takes counts
        against ``time_budget_s``). :class:`recasketch.study.experiment.KeepWarp` keeps the
        model where ``fit_warp`` finds it, so the search's best point is not trained again.

    Returns
    -------
    pandas.DataFrame
        One row per call, in order: ``strategy`` ("forest"), ``call`` (0-based), one
        column per parameter of ``space`` but ``epochs``, ``epochs_used`` (the point's
        epochs; <NA> for a failed call), ``epochs_trained`` (the point's epochs),
        ``value`` (validation p@k; ``-WORST_VALUE`` for a failed call),
        ``seconds`` (of the call), ``elapsed`` (seconds since the search began, at the
        call's end, the minimiser's own time included), ``best_so_far`` (the best
        ``value`` of the ok calls so far; NaN before the first), ``status``
        ("ok"/"failed") and ``reason`` (why a call failed; else None).
    """
    _epochs_high(space, "forest")
    return _search("forest", _Objective.full_fit, train, validation, users, space, time_budget_s,
                   max_calls, n_initial_points, k, num_threads, item_features, exclude_train,
                   progress, _int_seed(random_state), on_best)


def random_search(train, validation, users, space: Mapping, time_budget_s=None, max_calls=None,
                  k: int = 5, num_threads: int = 1, item_features=None, exclude_train: bool = False,
                  progress: bool = True, random_state=2016, on_best=None) -> pd.DataFrame:
    """Random search over the full space, one full fit per call.

    Parameters and the frame returned are those of :func:`forest_search` (with
    ``strategy`` "random"); every point is drawn uniformly (log-uniformly on a
    log-uniform dimension) from ``space``, ``epochs`` included, by skopt's Optimizer
    with only random points, as ``dummy_minimize`` draws them.
    """
    _epochs_high(space, "random")
    return _search("random", _Objective.full_fit, train, validation, users, space, time_budget_s,
                   max_calls, None, k, num_threads, item_features, exclude_train, progress,
                   _int_seed(random_state), on_best)


def learning_curve_search(train, validation, users, space: Mapping, time_budget_s=None,
                          max_calls=None, step: int = 10, max_epochs: int | None = None,
                          patience: int = 3, n_initial_points: int = 10, k: int = 5,
                          num_threads: int = 1, item_features=None, exclude_train: bool = False,
                          progress: bool = True, random_state=2016, on_best=None) -> pd.DataFrame:
    """``forest_minimize`` over the space without ``epochs``; a point scores its best checkpoint.

    A point is trained once, ``step`` epochs at a time (``fit_partial``), and scored on
    the validation likes at epochs ``step, 2 * step, ...`` up to ``max_epochs`` (which
    is always a checkpoint). It stops early once ``patience`` checkpoints in a row have
    not raised the best score (ties do not count as a rise); the call's value is its
    best checkpoint, the earliest where several tie. Training in steps gives the same
    model as one fit of as many epochs, so the best checkpoint's value is what
    :func:`forest_search` would score at that point and those epochs.

    A fit that diverges before its first checkpoint is scored fails as in
    :func:`forest_search`; one that diverges later keeps its best checkpoint (it is
    ``"ok"``, and ``reason`` says where it diverged).

    The value is the best of several scores on the same validation likes, so it is a
    little optimistic beside the other strategies' single scores: compare the
    strategies' best points on the test likes too.

    Parameters
    ----------
    step : int, default=10
        Epochs between checkpoints.
    max_epochs : int, default=None
        Last checkpoint; ``None`` takes the upper bound of ``space["epochs"]``.
    patience : int, default=3
        Checkpoints without improvement before the curve stops.
    train, validation, users, space, time_budget_s, max_calls, n_initial_points, k, \
num_threads, item_features, exclude_train, progress, random_state, on_best
        As in :func:`forest_search` (``on_best`` gets the model at the call's best
        checkpoint). ``space`` may hold ``epochs`` (it is dropped from
        the search) or not (then give ``max_epochs``).

    Returns
    -------
    pandas.DataFrame
        As :func:`forest_search`'s, with ``strategy`` "learning curve",
        ``epochs_used`` the best checkpoint and ``epochs_trained`` the last one
        trained (where the curve stopped or diverged).
    """
    step = check_count(step, "step")
    patience = check_count(patience, "patience")
    if max_epochs is None:
        max_epochs = _epochs_high(space, "learning curve")
    epochs = checkpoints(step, check_count(max_epochs, "max_epochs"))
    searched = {name: dim for name, dim in space.items() if name != "epochs"}
    if not searched:
        raise ValueError(
            "space holds only 'epochs'; the learning-curve strategy has nothing left to search."
        )

    def run(objective, point):
        return objective.curve(point, epochs, patience)

    return _search("learning curve", run, train, validation, users, searched, time_budget_s,
                   max_calls, n_initial_points, k, num_threads, item_features, exclude_train,
                   progress, _int_seed(random_state), on_best)


#: The strategies by name, in the order :func:`compare_strategies` runs them.
STRATEGIES = {
    "forest": forest_search,
    "learning curve": learning_curve_search,
    "random": random_search,
}


def compare_strategies(train, validation, users, space: Mapping, time_budget_s=None,
                       max_calls=None, strategies=tuple(STRATEGIES), step: int = 10,
                       max_epochs: int | None = None, patience: int = 3,
                       n_initial_points: int = 10, k: int = 5, num_threads: int = 1,
                       item_features=None, exclude_train: bool = False, progress: bool = True,
                       random_state=2016, cache_dir=None, side_by_side: bool = False,
                       on_best=None) -> pd.DataFrame:
    """Run each strategy with the same budget, space, split and seed; stack their calls.

    Parameters
    ----------
    strategies : sequence of str, default=all of :data:`STRATEGIES`
        Which strategies to run, in order.
    step, max_epochs, patience
        The learning-curve strategy's (see :func:`learning_curve_search`).
    n_initial_points
        Random starting points of the two forest searches.
    train, validation, users, space, time_budget_s, max_calls, k, num_threads, \
item_features, exclude_train, progress, random_state
        As in :func:`forest_search`; every strategy gets the same. ``None`` or a
        Generator as ``random_state`` draws one seed shared by all.
    cache_dir : str or Path, default=None
        Where each finished strategy's calls are kept (``strategy-<name>.pkl``, see
        :mod:`recasketch.parallel.cache`): run again with the same data and settings, a finished
        strategy is read back and only the others run, so an interrupted comparison
        loses at most the strategy it was in. Each strategy keeps its own unbroken clock.
        ``None`` keeps nothing.
    side_by_side : bool, default=False
        Run the strategies at once, one process each, instead of one after the other: each
        gets the same wall time and the same share of the machine (two thirds of a core
        each, three strategies on two cores), and the comparison takes one budget of wall
        time instead of one per strategy. Their progress bars are not shown.
    on_best : callable, default=None
        Given to every strategy (see :func:`forest_search`), so that each strategy's best call
        keeps its model; side by side, it runs in the strategy's process and must pickle.

    Returns
    -------
    pandas.DataFrame
        The strategies' calls one after the other (see :func:`forest_search`), each
        with its own ``call`` numbers and ``elapsed`` clock.

    Notes
    -----
    The strategies are timed, so they run alone: a LocalCluster that earlier steps started
    here (:func:`recasketch.parallel.cluster.get_client`) is stopped first.
    """
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown or not len(strategies):
        raise ValueError(f"Unknown or no strategies {unknown or list(strategies)}; "
                         f"choose from {list(STRATEGIES)}.")
    seed = _int_seed(random_state)
    cluster.close_local()
    shared = dict(time_budget_s=time_budget_s, max_calls=max_calls, k=k, num_threads=num_threads,
                  item_features=item_features, exclude_train=exclude_train, progress=progress,
                  random_state=seed, on_best=on_best)
    options = {"forest": dict(n_initial_points=n_initial_points),
               "learning curve": dict(n_initial_points=n_initial_points, step=step,
                                      max_epochs=max_epochs, patience=patience),
               "random": {}}
    data = cache.fingerprint(train, validation, None if users is None else np.asarray(users), item_features)
    settings = {name: value for name, value in shared.items()
                if name not in ("progress", "item_features", "on_best")}
    space_text = describe_space(dimensions(space))
    stored = {}
    for name in strategies:
        key = {"strategy": name, "space": space_text, "data": data, **settings, **options[name]}
        stored[name] = (cache.path_for(cache_dir, f"strategy-{name.replace(' ', '-')}", key), key)
    ran = {}
    if side_by_side:
        todo = [name for name, (path, key) in stored.items() if not cache.is_stored(path, key)]
        ran = _side_by_side(todo, train, validation, users, space, options, dict(shared, progress=False))
    frames = [cache.cached(path, key, lambda name=name: ran[name] if name in ran else STRATEGIES[name](
        train, validation, users, space, **options[name], **shared)) for name, (path, key) in stored.items()]
    return pd.concat(frames, ignore_index=True)


def _side_by_side(names, train, validation, users, space, options, shared) -> dict:
    """Run the strategies ``names`` at once, one spawned process each; their calls frames by name."""
    if len(names) < 2:
        return {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(names), mp_context=context) as pool:
        futures = {name: pool.submit(STRATEGIES[name], train, validation, users, space, **options[name], **shared)
                   for name in names}
        return {name: future.result() for name, future in futures.items()}


def best_so_far_curve(calls: pd.DataFrame, until: float | None = None) -> pd.DataFrame:
    """The best validation p@k against elapsed seconds, as steps to draw, per strategy.

    One row where each strategy first has a successful call and one at each later
    improvement, then a last row at its final ``elapsed`` (or at ``until``, when that
    is later, e.g. the time budget) holding its final best. Draw each strategy with
    ``plt.step(curve["elapsed"], curve["best_so_far"], where="post")``.

    Parameters
    ----------
    calls : pandas.DataFrame
        A frame of :func:`compare_strategies` (or of one strategy).
    until : float, default=None
        Carry every curve on to at least this many seconds.

    Returns
    -------
    pandas.DataFrame
        Columns ``strategy``, ``elapsed``, ``best_so_far``, ``call`` (the call that
        set the best). A strategy with no successful call has no rows.

    Examples
    --------
    >>> calls = pd.DataFrame({"strategy": "random", "call": [0, 1, 2, 3],
    ...                       "elapsed": [1.0, 2.0, 3.0, 4.0], "value": [0.0, 0.1, 0.05, 0.2],
    ...                       "status": ["failed", "ok", "ok", "ok"]})
    >>> best_so_far_curve(calls, until=10)
      strategy  elapsed  best_so_far  call
    0   random      2.0          0.1     1
    1   random      4.0          0.2     3
    2   random     10.0          0.2     3
    """
    needed = ("strategy", "call", "elapsed", "value", "status")
    missing = [c for c in needed if c not in calls.columns]
    if missing:
        raise ValueError(f"calls lacks the columns {missing}; pass a frame of compare_strategies.")
    rows = []
    for strategy, group in calls.groupby("strategy", sort=False):
        group = group.sort_values("elapsed")
        best, best_call = -np.inf, None
        for row in group.itertuples(index=False):
            if row.status == "ok" and row.value > best:
                best, best_call = float(row.value), int(row.call)
                rows.append((strategy, float(row.elapsed), best, best_call))
        if best_call is None:
            continue
        end = float(group["elapsed"].iloc[-1])
        if until is not None:
            end = max(end, float(until))
        if end > rows[-1][1]:
            rows.append((strategy, end, best, best_call))
    return pd.DataFrame(rows, columns=["strategy", "elapsed", "best_so_far", "call"])


def time_to_best(calls: pd.DataFrame) -> pd.DataFrame:
    """When each strategy found the best call it ended with.

    Parameters
    ----------
    calls : pandas.DataFrame
        A frame of :func:`compare_strategies` (or of one strategy).

    Returns
    -------
    pandas.DataFrame
        Indexed by strategy: ``best`` (the best validation p@k), ``seconds`` (elapsed
        seconds at the end of the call that found it), ``call`` (its number), ``calls``
        and ``total seconds`` (all the strategy's calls). Strategies with no successful
        call are left out.

    Examples
    --------
    >>> calls = pd.DataFrame({"strategy": "random", "call": [0, 1, 2, 3],
    ...                       "elapsed": [1.0, 2.0, 3.0, 4.0], "value": [0.0, 0.2, 0.05, 0.2],
    ...                       "status": ["failed", "ok", "ok", "ok"]})
    >>> time_to_best(calls).to_dict("index")
    {'random': {'best': 0.2, 'seconds': 2.0, 'call': 1, 'calls': 4, 'total seconds': 4.0}}
    """
    curve = best_so_far_curve(calls)
    rows = {}
    for strategy, group in calls.groupby("strategy", sort=False):
        steps = curve[curve["strategy"] == strategy]
        if steps.empty:
            continue
        best_call = int(steps["call"].iloc[-1])
        found = group[group["call"] == best_call].iloc[0]
        rows[strategy] = {"best": float(steps["best_so_far"].iloc[-1]), "seconds": float(found["elapsed"]),
                          "call": best_call, "calls": len(group), "total seconds": float(group["elapsed"].max())}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "strategy"
    return out


def _pick(table: pd.DataFrame, score: str) -> tuple:
    """:func:`recommend`'s choice: the pick, the highest-scoring strategy, and the rows tied with it."""
    columns = [f"{score} {part}" for part in ("mean", "low", "high")]
    missing = [c for c in ["seconds", "call", *columns] if c not in table.columns]
    if missing or table.empty:
        raise ValueError(f"table lacks the columns {missing} or has no rows; give time_to_best's table "
                         f"joined with the test scores.")
    mean, low, high = columns
    top = table[mean].idxmax()
    tied = table[(table[high] >= table.at[top, low]) & (table[low] <= table.at[top, high])]
    return tied["seconds"].idxmin(), top, tied


def recommended(table: pd.DataFrame, score: str = "test p@5") -> str:
    """The name of the strategy :func:`recommend` picks from ``table``."""
    return _pick(table, score)[0]


def recommend(table: pd.DataFrame, search_seconds: float | None = None, search_calls: int | None = None,
              score: str = "test p@5") -> str:
    """Which strategy to use, in one sentence written from the comparison's table.

    The strategy with the highest test score is the pick unless another one's interval
    overlaps it (no clear difference) and it found its final best sooner; then the
    soonest of those is the pick, because it gives as good a model for less search.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`time_to_best`'s table joined with each strategy's best call scored on test:
        columns ``seconds`` and ``call`` plus ``<score> mean``, ``<score> low`` and
        ``<score> high`` (a bootstrap interval).
    search_seconds, search_calls : optional
        The seconds its calls took (one core each: the sum of a search log's
        ``seconds``, whatever number of workers ran them) and the number of calls of
        the full search run elsewhere, to say what the pick saves.
    score : str, default="test p@5"
        The prefix of the score columns.

    Examples
    --------
    >>> t = pd.DataFrame({"seconds": [1500.0, 400.0, 1700.0], "call": [20, 6, 30],
    ...                   "test p@5 mean": [0.050, 0.049, 0.041], "test p@5 low": [0.046, 0.045, 0.037],
    ...                   "test p@5 high": [0.054, 0.053, 0.045]},
    ...                  index=pd.Index(["forest", "learning curve", "random"], name="strategy"))
    >>> recommend(t, search_seconds=7 * 3600, search_calls=250)
    'Use learning curve: its test p@5 (0.0490, 95 % CI 0.0450–0.0530) shows no clear difference from the highest, forest (0.0500), and it found its final best after 7 min (call 7), the soonest of them; the full search above spent 7.0 h fitting and scoring its 250 calls.'
    >>> recommend(t.assign(**{"test p@5 low": [0.0495, 0.045, 0.037], "test p@5 high": [0.054, 0.0492, 0.045]}))
    'Use forest: its test p@5 (0.0500, 95 % CI 0.0495–0.0540) is clearly the highest; it found its final best after 25 min (call 21).'
    """
    pick, top, tied = _pick(table, score)
    mean, low, high = (f"{score} {part}" for part in ("mean", "low", "high"))
    row = table.loc[pick]
    interval = f"{row[mean]:.4f}, 95 % CI {row[low]:.4f}–{row[high]:.4f}"
    found = f"found its final best after {duration(row['seconds'])} (call {int(row['call']) + 1})"
    if pick == top and len(tied) == 1:
        sentence = f"Use {pick}: its {score} ({interval}) is clearly the highest; it {found}"
    elif pick == top:
        others = ", ".join(str(name) for name in tied.index if name != pick)
        sentence = (f"Use {pick}: its {score} ({interval}) is the highest, with no clear difference from "
                    f"{others}, and it {found}, the soonest of them")
    else:
        sentence = (f"Use {pick}: its {score} ({interval}) shows no clear difference from the highest, "
                    f"{top} ({table.at[top, mean]:.4f}), and it {found}, the soonest of them")
    if search_seconds is not None:
        calls = f"its {search_calls} calls" if search_calls is not None else "its calls"
        sentence += f"; the full search above spent {duration(search_seconds)} fitting and scoring {calls}"
    return sentence + "."


def time_to_reach(calls: pd.DataFrame, strategy: str, reference: str = "forest") -> dict:
    """When ``strategy`` first reached the validation score ``reference`` ended its budget with.

    Parameters
    ----------
    calls : pandas.DataFrame
        A frame of :func:`compare_strategies` holding both strategies.
    strategy, reference : str

    Returns
    -------
    dict
        ``target`` (the reference's final best; ``None`` when none of its calls succeeded, so
        there is nothing to reach), ``budget`` (the longest clock of the two), ``seconds`` (the
        end of ``strategy``'s first call at or above the target, ``None`` when it never got
        there) and ``fraction`` (``seconds / budget``, or ``None``).

    Examples
    --------
    >>> calls = pd.DataFrame({"strategy": ["forest"] * 3 + ["learning curve"] * 2, "call": [0, 1, 2, 0, 1],
    ...                       "elapsed": [100.0, 600.0, 1000.0, 150.0, 900.0], "value": [0.1, 0.3, 0.2, 0.32, 0.33],
    ...                       "status": "ok"})
    >>> time_to_reach(calls, "learning curve")
    {'target': 0.3, 'budget': 1000.0, 'seconds': 150.0, 'fraction': 0.15}
    """
    for name in (strategy, reference):
        if name not in set(calls["strategy"]):
            raise ValueError(f"No calls of {name!r} in this comparison: it has {sorted(set(calls['strategy']))}.")
    ok = calls[calls["status"] == "ok"]
    budget = float(calls.loc[calls["strategy"].isin([strategy, reference]), "elapsed"].max())
    scored = ok.loc[ok["strategy"] == reference, "value"]
    if scored.empty:  # every call of the reference failed (diverged): it ended with no score
        return {"target": None, "budget": budget, "seconds": None, "fraction": None}
    target = float(scored.max())
    mine = ok[(ok["strategy"] == strategy) & (ok["value"] >= target)].sort_values("elapsed")
    seconds = float(mine["elapsed"].iloc[0]) if len(mine) else None
    return {"target": target, "budget": budget, "seconds": seconds,
            "fraction": None if seconds is None else seconds / budget}


def reach_sentence(calls: pd.DataFrame, strategy: str, reference: str = "forest") -> str:
    """:func:`time_to_reach` in one sentence.

    Examples
    --------
    >>> calls = pd.DataFrame({"strategy": ["forest"] * 2 + ["learning curve"] * 2, "call": [0, 1, 0, 1],
    ...                       "elapsed": [100.0, 1000.0, 150.0, 900.0], "value": [0.1, 0.3, 0.2, 0.25],
    ...                       "status": "ok"})
    >>> reach_sentence(calls, "learning curve")
    'learning curve did not reach the validation p@k that forest ended its 17 min with (0.3000).'
    """
    reach = time_to_reach(calls, strategy, reference)
    if reach["target"] is None:
        return (f"{reference} ended its {duration(reach['budget'])} without a successful call (every one "
                f"diverged), so it set no validation p@k for {strategy} to reach.")
    where = f"the validation p@k that {reference} ended its {duration(reach['budget'])} with ({reach['target']:.4f})"
    if reach["seconds"] is None:
        return f"{strategy} did not reach {where}."
    return (f"{strategy} reached {where} after {duration(reach['seconds'])}, "
            f"{reach['fraction']:.0%} of that time.")
