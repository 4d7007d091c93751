"""How much each notebook computes, by budget.

``ci``
    Seconds on the committed sample: a small ALS grid, a handful of search calls with
    few epochs. CI re-executes the notebooks at this budget.
``full``
    The posts' own grids and call counts (post 1's 180 ALS combinations; post 2's 250
    and 50 ``forest_minimize`` calls over its spaces). Hours at full size: ``make
    results`` runs them with logs, so an interrupted run resumes.
"""

from __future__ import annotations

from typing import NamedTuple

from . import published

__all__ = ["BUDGETS", "SearchBudget", "StudyBudget", "als_grid", "check_budget", "study", "warp_search"]

BUDGETS = ("ci", "full")

#: The ALS grid of notebook 01 (and of notebook 02's ALS baseline) at each budget.
_ALS_GRIDS = {
    "ci": {"factors": [10, 40, 80], "regularization": [1e-3, 0.1, 10.0, 100.0], "alpha": [1, 10, 50]},
    "full": published.ALS_GRID,
}


class SearchBudget(NamedTuple):
    """One scikit-optimize search: its space, calls and random starting points."""

    space: dict
    n_calls: int
    n_initial_points: int


def check_budget(budget: str) -> str:
    """Return ``budget`` if it is one of :data:`BUDGETS`, else raise ``ValueError``."""
    if budget not in BUDGETS:
        raise ValueError(f"Unknown budget {budget!r}; choose one of {list(BUDGETS)}.")
    return budget


def als_grid(budget: str) -> dict:
    """The ALS parameter grid searched at ``budget``."""
    return dict(_ALS_GRIDS[check_budget(budget)])


def warp_search(budget: str, side_information: bool = False) -> SearchBudget:
    """Post 2's search at ``budget``: without item features, or with them.

    ``full`` is the post's: 250 calls over epochs, learning rate, components and one
    regularisation ``alpha``; then 50 calls with item features, where ``item_alpha``
    and ``scaling`` (``user_alpha = item_alpha * scaling``) replace ``alpha``; skopt's
    default 10 random starting points. ``ci`` keeps the spaces but caps the epochs at
    30 and runs 8 and 6 calls.

    Examples
    --------
    >>> warp_search("full").n_calls, warp_search("full", side_information=True).n_calls
    (250, 50)
    >>> warp_search("ci").space["epochs"]
    (1, 30)
    """
    spec = published.WARP_SIDE_INFO_SEARCH if side_information else published.WARP_SEARCH
    space = dict(spec["space"])
    if check_budget(budget) == "full":
        return SearchBudget(space, spec["calls"], 10)
    space["epochs"] = (1, 30)
    return SearchBudget(space, 6 if side_information else 8, 3 if side_information else 5)


class StudyBudget(NamedTuple):
    """What notebook 04 computes besides the ALS grid and the WARP searches."""

    n_boot: int  # bootstrap resamples of each interval
    knn_grid: dict  # item-kNN: neighbours and similarity
    bpr_grid: dict  # implicit's BPR
    tags_only_grid: dict  # the content model
    min_models: tuple  # tags used on fewer models are dropped (the post's idea)
    min_likes: tuple  # identity features only for models with this many train likes
    strategy_seconds: float  # wall time of each search strategy
    curve_step: int  # epochs between checkpoints when choosing epochs on validation
    cold_fraction: float  # share of models whose likes are all held out


_STUDY = {
    "ci": StudyBudget(
        n_boot=300,
        knn_grid={"K": [20, 100], "measure": ["cosine", "bm25"]},
        bpr_grid={"factors": [32], "learning_rate": [0.01, 0.05], "regularization": [0.01],
                  "iterations": [100]},
        tags_only_grid={"normalize": ["l2", "none"]},
        min_models=(2, 5),
        min_likes=(10,),
        strategy_seconds=12.0,
        curve_step=5,
        cold_fraction=0.1,
    ),
    "full": StudyBudget(
        n_boot=1000,
        knn_grid={"K": [10, 20, 50, 100, 200, 500], "measure": ["cosine", "bm25", "tfidf"]},
        bpr_grid={"factors": [32, 64, 128], "learning_rate": [0.005, 0.01, 0.05],
                  "regularization": [0.001, 0.01, 0.1], "iterations": [100, 300]},
        tags_only_grid={"normalize": ["l2", "none"]},
        min_models=(2, 5, 10, 20, 50),
        min_likes=(10, 20, 50),
        strategy_seconds=1800.0,
        curve_step=10,
        cold_fraction=0.1,
    ),
}


def study(budget: str) -> StudyBudget:
    """Notebook 04's budget: bootstrap resamples, baseline grids, tag ideas, search time.

    Examples
    --------
    >>> study("ci").n_boot, study("full").n_boot
    (300, 1000)
    """
    return _STUDY[check_budget(budget)]
