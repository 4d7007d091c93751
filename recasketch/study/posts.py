"""Post 2's comparisons as notebook 02 runs them: its two WARP searches and its models side by side."""

from __future__ import annotations

import time
from typing import Mapping, NamedTuple

import pandas as pd
import scipy.sparse as sp

from .. import metrics
from ..tuning.batched import batched_search
from ..tuning.curves import train_more
from ..tuning.objectives import CurveObjective, LightFMObjective, ValidationObjective, side_information_start
from ..tuning.search import SearchResult, projected_search_seconds, read_search_log, resumable_search
from ..tuning.search_log import dimensions, keyed_path, log_file, objective_key, search_key
from ..utils import duration
from . import budgets
from .evaluation import PROTOCOLS, Fitted
from .experiment import KeepWarp

__all__ = ["BATCH", "PROJECTION_CALLS", "Candidate", "compare_models", "warp_search", "warp_searches"]

#: Points a learning-curve search evaluates at once, on the Dask cluster's workers. Fixed, so that
#: the same seed proposes the same points on any machine, whatever its number of cores.
BATCH = 2

#: Calls of a long ``forest_minimize`` search after which it prints what they project for the whole.
PROJECTION_CALLS = 10


class Candidate(NamedTuple):
    """A model for :func:`compare_models`, with what it needs to train.

    Attributes
    ----------
    model : unfitted model
        An implicit model, :class:`recasketch.models.baselines.Popularity` or a
        ``lightfm.LightFM``.
    epochs : int, default=None
        LightFM's training epochs (required for LightFM); implicit models train for
        their own ``iterations``.
    item_features : scipy.sparse matrix, default=None
        LightFM's item features, for training and scoring.
    """

    model: object
    epochs: int | None = None
    item_features: object = None


def compare_models(candidates: Mapping[str, Candidate], train, test, users=None, k: int = 5,
                   num_threads: int = 1, n_boot: int = 1000, random_state=0) -> pd.DataFrame:
    """Train each candidate on ``train`` and score test precision@k in both protocols, with intervals.

    Parameters
    ----------
    candidates : mapping of str to Candidate or Fitted
        Display name -> model to train (in order; a bare model is taken as
        ``Candidate(model)``), or a model trained already
        (:class:`recasketch.study.evaluation.Fitted`: scored as it is, with its seconds).
    train, test : scipy.sparse matrix of shape (n_users, n_items)
    users : array-like of int, default=None
        Users to score (the split's ``user_index``).
    k : int, default=5
    num_threads : int, default=1
        LightFM's training threads (1 is exactly repeatable).
    n_boot : int, default=1000
        Bootstrap resamples of the users for each interval
        (:func:`recasketch.metrics.bootstrap_ci`); the same ``random_state`` resamples the
        same users for every model, so the intervals compare.
    random_state : int, default=0

    Returns
    -------
    pandas.DataFrame
        Two rows per model: ``model``, ``protocol`` (``PROTOCOLS``), ``metric``
        (``"p@<k>"``), ``mean`` (test p@k), ``low`` and ``high`` (its 95 % interval) and
        ``fit seconds``; the columns :func:`recasketch.study.evaluation.ranking_sentence` reads.
    """
    rows = []
    for name, candidate in candidates.items():
        if isinstance(candidate, Fitted):
            model, item_features, seconds = candidate
            rows += _score_both(name, model, item_features, seconds, train, test, users, k, n_boot, random_state)
            continue
        if not isinstance(candidate, Candidate):
            candidate = Candidate(candidate)
        model = candidate.model
        start = time.perf_counter()
        if hasattr(model, "fit_partial"):
            if candidate.epochs is None:
                raise ValueError(f"{name!r} is a LightFM model: give its Candidate the epochs to train.")
            train_more(model, train, candidate.epochs, item_features=candidate.item_features,
                       num_threads=num_threads)
        else:
            model.fit(sp.csr_matrix(train), show_progress=False)
        seconds = time.perf_counter() - start
        rows += _score_both(name, model, candidate.item_features, seconds, train, test, users, k, n_boot, random_state)
    return pd.DataFrame(rows, columns=["model", "protocol", "metric", "mean", "low", "high", "fit seconds"])


def _score_both(name, model, item_features, seconds, train, test, users, k, n_boot, random_state) -> list[dict]:
    """:func:`compare_models`' two rows of one trained model: test p@k in each protocol, with its interval."""
    rows = []
    for exclude, protocol in zip((False, True), PROTOCOLS):
        per_user = metrics.precision_at_k(model, test, k, users=users, item_features=item_features,
                                          exclude=train if exclude else None, per_user=True)
        ci = metrics.bootstrap_ci(per_user, n_boot=n_boot, random_state=random_state)
        rows.append({"model": name, "protocol": protocol, "metric": f"p@{k}", "mean": ci.mean, "low": ci.low,
                     "high": ci.high, "fit seconds": seconds})
    return rows


def warp_search(train, test, users=None, budget: str = "ci", item_features=None, x0=None, validation=None,
                k: int = 5, n_points: int | None = None, num_threads: int = 1, random_state: int = 2016, log_dir=None,
                progress: bool = True, calls: tuple | None = None, cache_dir=None) -> SearchResult:
    """Post 2's search at ``budget`` (:func:`recasketch.study.budgets.warp_search`).

    The search without item features, or with ``item_features`` (and ``x0``, its warm
    start). A ``"forest"`` budget runs post 2's ``forest_minimize`` with ``epochs`` a
    dimension: one call at a time, or ``n_points`` at a time on the Dask cluster
    (:func:`recasketch.tuning.batched.batched_search`); one call at a time, once
    :data:`PROJECTION_CALLS` calls have succeeded, it prints what they project for the whole
    search and goes on (at once, for a search resumed past them). A ``"curve"`` budget searches the space without ``epochs``,
    :data:`BATCH` points at a time on the Dask cluster, each trained along its learning
    curve (:class:`recasketch.tuning.objectives.CurveObjective`); its calls hold the epochs
    read off their curves.

    Without ``validation`` the search chooses on ``test``, as post 2 did: every call holds
    ``"p@k"`` (post 2's protocol) and ``"p@k filtered"`` (train likes removed). With
    ``validation`` it chooses on those likes: ``"p@k"`` is validation's and ``"test p@k"``
    is recorded beside it (:class:`recasketch.tuning.objectives.ValidationObjective`), as
    notebook 04 needs. With ``log_dir`` the search resumes from, or reads back, its log
    there, ``warp_search``, ``warp_tags_search``, or either with ``_validation``, then
    ``-<budget>-<key>.jsonl`` (:func:`recasketch.tuning.search_log.log_file`). ``calls``,
    ``(n_calls, n_initial_points)``, replaces the budget's counts (notebook 04's smaller
    searches, :meth:`recasketch.study.budgets.StudyBudget.search_calls`). With ``cache_dir``, a
    ``"curve"`` search keeps each call's model at its best checkpoint there
    (:class:`recasketch.study.experiment.KeepWarp`), so that
    :func:`recasketch.study.experiment.fit_warp` of a call on ``train`` reads it.
    """
    plan = budgets.warp_search(budget, side_information=item_features is not None).with_calls(calls)
    name = ("warp_tags_search" if item_features is not None else "warp_search") + \
        ("_validation" if validation is not None else "")
    held_out, also = (test, {"p@k filtered": (test, train)}) if validation is None else \
        (validation, {"test p@k": (test, None)})
    options = dict(x0=x0, n_initial_points=plan.n_initial_points, log_path=log_file(log_dir, name, budget),
                   random_state=random_state, progress=progress)
    common = dict(k=k, item_features=item_features, num_threads=num_threads, random_state=random_state)
    if plan.method == "curve":
        keep = None if cache_dir is None else KeepWarp(train, item_features, random_state, num_threads, cache_dir)
        objective = CurveObjective(train, held_out, users, step=plan.step, max_epochs=plan.max_epochs,
                                   patience=plan.patience, also=also, on_best=keep, **common)
        return batched_search(objective, plan.searched, plan.n_calls, n_points=BATCH, **options)
    objective = (LightFMObjective(train, test, users, **common) if validation is None else
                 ValidationObjective(train, validation, test, users, **common))
    if n_points is not None:
        return batched_search(objective, plan.space, plan.n_calls, n_points=n_points, **options)
    if plan.n_calls > PROJECTION_CALLS:
        objective = _Projecting(objective, plan, options["log_path"], random_state)
    return resumable_search(objective, plan.space, plan.n_calls, **options)


class _Projecting:
    """A long forest search's objective that says, once :data:`PROJECTION_CALLS` calls have
    succeeded, what they project for the whole search
    (:func:`recasketch.tuning.search.projected_search_seconds`), and goes on.

    Calls already in the search's log count: a resumed search that has them says it at once.
    Its key is the objective's, so the search's log is the same with or without it.
    """

    def __init__(self, objective, plan: budgets.SearchBudget, log_path, random_state):
        self.objective = objective
        self.plan = plan
        path = keyed_path(log_path, search_key(objective, dimensions(plan.space), "p@k", random_state))
        logged = read_search_log(path, plan.space) if path is not None and path.exists() else None
        self.calls = ([] if logged is None else
                      logged.loc[logged.status == "ok", ["epochs", "seconds"]].to_dict("records"))
        self.said = False
        self._say()

    def log_key(self):
        return objective_key(self.objective)

    def __call__(self, point: Mapping) -> dict:
        start = time.perf_counter()
        scores = self.objective(point)
        self.calls.append({"epochs": point["epochs"], "seconds": time.perf_counter() - start})
        self._say()
        return scores

    def _say(self) -> None:
        if self.said or len(self.calls) < PROJECTION_CALLS:
            return
        calls = pd.DataFrame(self.calls[:PROJECTION_CALLS]).assign(status="ok")
        seconds = projected_search_seconds(calls, self.plan.n_calls, self.plan.space["epochs"])
        print(f"The first {PROJECTION_CALLS} successful calls took {duration(calls['seconds'].sum())}: the "
              f"{self.plan.n_calls} calls of this search project to {duration(seconds)} on this machine. "
              "It goes on.", flush=True)
        self.said = True


def warp_searches(train, test, users=None, item_features=None, budget: str = "ci", k: int = 5,
                  num_threads: int = 1, random_state: int = 2016, log_dir=None,
                  progress: bool = True, cache_dir=None) -> dict:
    """Post 2's two searches at ``budget``, as notebook 02 runs them, in one call (:func:`warp_search`).

    The search without features, then (when ``item_features`` is given) the search with
    them, warm-started from the first one's best (:func:`side_information_start`). With
    ``log_dir``, each reads back or resumes its log, so a later notebook on the same split
    reuses notebook 02's finished searches instead of running them again. With ``cache_dir``,
    a ``"curve"`` search keeps its calls' models there (see :func:`warp_search`).

    Returns
    -------
    dict of str to SearchResult
        ``"without features"`` and, with ``item_features``, ``"identity + tags"``.
    """
    common = dict(budget=budget, k=k, num_threads=num_threads, random_state=random_state, log_dir=log_dir,
                  progress=progress, cache_dir=cache_dir)
    searches = {"without features": warp_search(train, test, users, **common)}
    if item_features is not None:
        side = budgets.warp_search(budget, side_information=True)
        x0 = side_information_start(searches["without features"].best, side.searched)
        searches["identity + tags"] = warp_search(train, test, users, item_features=item_features, x0=x0, **common)
    return searches
