"""Post 2's comparisons as notebook 02 runs them: its two WARP searches and its models side by side."""

from __future__ import annotations

import time
from typing import Mapping, NamedTuple

import pandas as pd
import scipy.sparse as sp

from .. import metrics
from ..tuning.curves import train_more
from ..tuning.objectives import LightFMObjective, side_information_start
from ..tuning.search import resumable_search
from ..tuning.search_log import log_file
from . import budgets
from .evaluation import PROTOCOLS

__all__ = ["Candidate", "compare_models", "warp_searches"]


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
                   num_threads: int = 1) -> pd.DataFrame:
    """Train each candidate on ``train`` and score test precision@k in both protocols.

    Parameters
    ----------
    candidates : mapping of str to Candidate
        Display name -> model to train (in order; a bare model is taken as
        ``Candidate(model)``).
    train, test : scipy.sparse matrix of shape (n_users, n_items)
    users : array-like of int, default=None
        Users to score (the split's ``user_index``).
    k : int, default=5
    num_threads : int, default=1
        LightFM's training threads (1 is exactly repeatable).

    Returns
    -------
    pandas.DataFrame
        Two rows per model: ``model``, ``protocol`` (``PROTOCOLS``), ``value`` (test
        p@k) and ``fit seconds``.
    """
    rows = []
    for name, candidate in candidates.items():
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
        for exclude, protocol in zip((False, True), PROTOCOLS):
            value = metrics.precision_at_k(model, test, k, users=users, item_features=candidate.item_features,
                                           exclude=train if exclude else None)
            rows.append({"model": name, "protocol": protocol, "value": value, "fit seconds": seconds})
    return pd.DataFrame(rows, columns=["model", "protocol", "value", "fit seconds"])


def warp_searches(train, test, users=None, item_features=None, budget: str = "ci", k: int = 5,
                  num_threads: int = 1, random_state: int = 2016, log_dir=None,
                  progress: bool = True) -> dict:
    """Post 2's two searches at ``budget``, as notebook 02 runs them, in one call.

    The search without features, then (when ``item_features`` is given) the search with
    them, warm-started from the first one's best (:func:`side_information_start`). With
    ``log_dir``, each search resumes from (or reads back) its log there,
    ``warp_search-<budget>-<key>.jsonl`` and ``warp_tags_search-<budget>-<key>.jsonl``
    (:func:`recasketch.tuning.search_log.log_file`): the names notebook 02 uses, so a later
    notebook on the same split reuses its finished searches instead of running them again.

    Returns
    -------
    dict of str to SearchResult
        ``"without features"`` and, with ``item_features``, ``"identity + tags"``.
    """
    plain_budget = budgets.warp_search(budget)
    searches = {"without features": resumable_search(
        LightFMObjective(train, test, users, k=k, num_threads=num_threads, random_state=random_state),
        plain_budget.space, plain_budget.n_calls, n_initial_points=plain_budget.n_initial_points,
        log_path=log_file(log_dir, "warp_search", budget), random_state=random_state, progress=progress)}
    if item_features is not None:
        side = budgets.warp_search(budget, side_information=True)
        searches["identity + tags"] = resumable_search(
            LightFMObjective(train, test, users, k=k, item_features=item_features, num_threads=num_threads,
                             random_state=random_state),
            side.space, side.n_calls, x0=side_information_start(searches["without features"].best, side.space),
            n_initial_points=side.n_initial_points, log_path=log_file(log_dir, "warp_tags_search", budget),
            random_state=random_state, progress=progress)
    return searches
