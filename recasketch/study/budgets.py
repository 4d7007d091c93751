"""How much each notebook computes, by budget: one place for every notebook's counts.

``ci``
    Seconds on the committed sample: a small ALS grid, a handful of search calls with
    few epochs. CI re-executes the notebooks at this budget.
``full``
    Every figure and table at the posts' scale, in hours: post 1's whole ALS grid (180
    combinations), and post 2's two spaces searched by the learning-curve method
    (:class:`recasketch.tuning.objectives.CurveObjective`: scikit-optimize over learning
    rate, components and regularisation, each call's epochs read off its curve) with a
    fixed number of calls, so that the same seed gives the same numbers on any machine.
``posts``
    The posts' exact protocol: post 2's 250 and 50 ``forest_minimize`` calls with
    ``epochs`` a dimension. Tens of hours at full size; resumable from its logs, and it
    prints what its first calls project for the whole search before going on.

``make results`` runs the long budgets with logs, so an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from sklearn.model_selection import ParameterGrid

from ..config import BUDGETS, check_budget
from ..utils import duration
from . import published

__all__ = ["BUDGETS", "FULL_MAX_EPOCHS", "NOTEBOOKS", "SEARCH_METHODS", "ScaleOutPlan", "SearchBudget",
           "StudyBudget", "als_grid", "check_budget", "describe", "plan", "plan_id", "scale_out", "study",
           "warp_search"]

#: The notebooks whose work the budgets set, by number (see :func:`describe` and :func:`plan`).
NOTEBOOKS = ("01", "02", "03", "04", "05")

#: The ALS grid of notebook 01 (and of notebook 02's ALS baseline) at each budget.
_ALS_GRIDS = {
    "ci": {"factors": [10, 40, 80], "regularization": [1e-3, 0.1, 10.0, 100.0], "alpha": [1, 10, 50]},
    "full": published.ALS_GRID,
    "posts": published.ALS_GRID,
}

#: How a WARP search finds its epochs: as a dimension (post 2's ``forest_minimize``), or
#: read off each call's learning curve (:class:`recasketch.tuning.objectives.CurveObjective`).
SEARCH_METHODS = ("forest", "curve")


class SearchBudget(NamedTuple):
    """One scikit-optimize search: its space, calls and random starting points, and its method.

    ``space`` is post 2's, ``epochs`` included. With ``method="forest"`` every dimension is
    searched and each call trains from scratch; with ``method="curve"`` the minimiser
    searches :attr:`searched` (the space without ``epochs``) and each call is trained along
    its learning curve, scored every ``step`` epochs up to :attr:`max_epochs` and stopped
    after ``patience`` checkpoints without a rise.
    """

    space: dict
    n_calls: int
    n_initial_points: int
    method: str = "forest"
    step: int = 10
    patience: int = 3

    @property
    def searched(self) -> dict:
        """The dimensions the minimiser searches: all of ``space``, or all but ``epochs`` for a curve."""
        return {n: d for n, d in self.space.items() if self.method == "forest" or n != "epochs"}

    def with_calls(self, calls: tuple | None) -> "SearchBudget":
        """This search with ``calls``, ``(n_calls, n_initial_points)``, in place of its counts (``None``: as is)."""
        return self if calls is None else self._replace(n_calls=int(calls[0]), n_initial_points=int(calls[1]))

    @property
    def max_epochs(self) -> int:
        """The upper bound of ``space["epochs"]``: a curve's last checkpoint."""
        return int(self.space["epochs"][1])


#: The searches of the ``full`` budget: calls, random starting points, checkpoint step and patience.
#: Sized from the costs measured on the full-size synthetic preset (notebook 02's split, 2 cores,
#: 1 LightFM thread per fit, two fits at once): one WARP epoch takes 1.5-3 s, about 2.5x that with
#: identity + tags, and a curve trains 40-150 epochs. Notebook 02's run from nothing took 33 min for
#: the 12 calls and 19 min for the 6 with tags.
_FULL_SEARCHES = {False: (12, 4, 10, 3), True: (6, 2, 10, 3)}

#: The last checkpoint of a ``full`` learning curve (post 2's space goes to 260 epochs). A curve
#: still rising there is at a learning rate too low to pay for itself at this scale.
FULL_MAX_EPOCHS = 150


def als_grid(budget: str) -> dict:
    """The ALS parameter grid searched at ``budget``."""
    return dict(_ALS_GRIDS[check_budget(budget)])


def warp_search(budget: str, side_information: bool = False) -> SearchBudget:
    """Post 2's search at ``budget``: without item features, or with them.

    ``posts`` is the post's: 250 calls of ``forest_minimize`` over epochs, learning rate,
    components and one regularisation ``alpha``; then 50 calls with item features, where
    ``item_alpha`` and ``scaling`` (``user_alpha = item_alpha * scaling``) replace
    ``alpha``; skopt's default 10 random starting points. ``full`` searches the same spaces
    by the learning-curve method, with 12 and 6 calls, each curve stopped at
    :data:`FULL_MAX_EPOCHS` at the latest. ``ci`` keeps the spaces but caps the
    epochs at 30 and runs 8 and 6 calls of ``forest_minimize``.

    Examples
    --------
    >>> warp_search("posts").n_calls, warp_search("posts", side_information=True).n_calls
    (250, 50)
    >>> warp_search("full").method, list(warp_search("full").searched), warp_search("full").max_epochs
    ('curve', ['learning_rate', 'no_components', 'alpha'], 150)
    >>> warp_search("ci").space["epochs"]
    (1, 30)
    """
    spec = published.WARP_SIDE_INFO_SEARCH if side_information else published.WARP_SEARCH
    space = dict(spec["space"])
    budget = check_budget(budget)
    if budget == "posts":
        return SearchBudget(space, spec["calls"], 10)
    if budget == "full":
        n_calls, n_initial_points, step, patience = _FULL_SEARCHES[side_information]
        space["epochs"] = (space["epochs"][0], FULL_MAX_EPOCHS)
        return SearchBudget(space, n_calls, n_initial_points, "curve", step, patience)
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
    als_grid: dict | None = None  # the ALS grid chosen on validation; None: notebook 01's (als_grid)
    warp_calls: tuple | None = None  # (calls, random starts) of the WARP searches without and with tags
    tag_weights: tuple = ("per_tag", "l1")  # tag weightings tried (tag_features.weight_tags schemes)
    strategies_side_by_side: bool = False  # the strategies run at once, one process each

    def search_calls(self, side_information: bool = False) -> tuple | None:
        """``(calls, random starts)`` of notebook 04's WARP search without or with tags; ``None``:
        notebook 02's (:func:`warp_search`)."""
        return None if self.warp_calls is None else tuple(self.warp_calls[bool(side_information)])


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
    # Sized for about 90 minutes on the full-size preset on 2 cores: WARP epochs (1.5-3 s, 2.5x
    # with tags) are what costs, so the searches get fewer calls than notebook 02's, one tag idea
    # (the post's first: drop rare tags) is tried beside its controls, and the three strategies
    # share the machine for 15 minutes. Its first run took 93 min; the ALS slice then had 27
    # settings (7.5 min) and chose a corner (120 factors, regularisation 100, alpha 10), which the
    # 12 around it keep. Its WARP + tags search then had 4 calls, two batches of two: 26 of those
    # 93 min, 20 of them one 150-epoch curve at 148 components while the other worker sat idle.
    # With 3 (a random start, the start from the WARP search's winner, one proposal) the second
    # batch is a single call: the search took 10 min, chose the same point, and the notebook 58 min.
    "full": StudyBudget(
        n_boot=1000,
        knn_grid={"K": [20, 50, 100, 200], "measure": ["cosine", "bm25"]},
        bpr_grid={"factors": [64, 128], "learning_rate": [0.01, 0.05], "regularization": [0.01],
                  "iterations": [100]},
        tags_only_grid={"normalize": ["l2", "none"]},
        min_models=(5,),
        min_likes=(),
        strategy_seconds=900.0,
        curve_step=10,
        cold_fraction=0.1,
        als_grid={"factors": [80, 120], "regularization": [10.0, 100.0], "alpha": [1, 10, 50]},
        warp_calls=((6, 2), (3, 1)),
        tag_weights=(),
        strategies_side_by_side=True,
    ),
}


def study(budget: str) -> StudyBudget:
    """Notebook 04's budget: bootstrap resamples, baseline grids, tag ideas, search time (``"posts"``
    runs ``"full"``'s).

    Examples
    --------
    >>> study("ci").n_boot, study("full").n_boot
    (300, 1000)
    >>> study("full").search_calls(side_information=True), study("posts").search_calls(), study("ci").search_calls()
    ((3, 1), None, None)
    >>> study("full").search_calls()
    (6, 2)
    >>> study("ci").als_grid == als_grid("ci"), len(study("posts").als_grid["factors"])
    (True, 5)
    """
    budget = check_budget(budget)
    plan = _STUDY["full" if budget == "posts" else budget]
    if budget == "posts":  # the posts' own grid and searches
        plan = plan._replace(als_grid=None, warp_calls=None)
    return plan._replace(als_grid=plan.als_grid or als_grid(budget))


class ScaleOutPlan(NamedTuple):
    """What notebook 05 computes at one budget."""

    grid: dict  # ALS grid run on the process pool and on Dask
    grid_epochs: list  # its checkpoints
    search_calls: int  # calls of each search at equal calls
    search_seeds: tuple  # seeds of the searches, for their spread
    n_points: int  # points per batch of the batched search
    iterations: int  # ALS iterations of the Spark / implicit comparison
    cost_iterations: tuple  # the two iteration counts whose difference times one iteration
    spark_lambda_factors: tuple  # Spark regParam = factor * implicit's lambda / mean likes per user
    growth_base: str  # synthetic preset scaled in the growth table
    growth_fraction: float  # its users and models multiplied by this first
    growth_scales: tuple  # then by these
    search_epochs: tuple | None = None  # the searches' epochs range; None: notebook 02's space's

    def search_space(self, budget: str) -> dict:
        """The space of the searches compared at ``budget``: notebook 02's, with :attr:`search_epochs`."""
        space = dict(warp_search(budget).space)
        if self.search_epochs is not None:
            space["epochs"] = tuple(self.search_epochs)
        return space


_PLANS = {
    "ci": ScaleOutPlan(
        grid={"factors": [10, 40], "regularization": [0.1, 10.0], "alpha": [10, 50]},
        grid_epochs=[2, 4, 6, 8, 10],
        search_calls=6,
        search_seeds=(0, 1),
        n_points=2,
        iterations=8,
        cost_iterations=(2, 5),
        spark_lambda_factors=(0.25, 1.0, 4.0),
        growth_base="sample",
        growth_fraction=0.0625,
        growth_scales=(1, 4, 16),
    ),
    # The grid and the searches compare schedulers, not settings. Measured at full size on 2 cores,
    # a 24-combination grid took 3-4 min per scheduler and 8-call searches of up to 20 epochs about
    # 9 min per seed (the notebook 47 min); 12 combinations and 6 calls of up to 15 epochs halve
    # those, and three Spark regularisations bracket implicit's. The notebook then took 25 min, the
    # grid 4.4 of them on three schedulers; its curves stop at 20 epochs, which is enough to compare
    # schedulers on (the scores are the same on each; only the wall time differs): 2.1 min, and the
    # notebook 23 min.
    "full": ScaleOutPlan(
        grid={"factors": [10, 40, 80], "regularization": [0.1, 10.0], "alpha": [10, 50]},
        grid_epochs=list(range(2, 21, 2)),
        search_calls=6,
        search_seeds=(0, 1),
        n_points=2,
        iterations=15,
        cost_iterations=(3, 8),
        spark_lambda_factors=(0.25, 1.0, 4.0),
        growth_base="full",
        growth_fraction=1.0,
        growth_scales=(1, 4, 16),
        search_epochs=(1, 15),
    ),
}


def scale_out(budget: str) -> ScaleOutPlan:
    """Notebook 05's plan at ``budget`` (``"posts"`` runs ``"full"``'s).

    Examples
    --------
    >>> scale_out("full").growth_scales, scale_out("ci").growth_base
    ((1, 4, 16), 'sample')
    >>> scale_out("full").search_space("full")["epochs"], scale_out("ci").search_space("ci") == warp_search("ci").space
    ((1, 15), True)
    """
    budget = check_budget(budget)
    return _PLANS["full" if budget == "posts" else budget]


def _search_line(plan: SearchBudget) -> str:
    """A search's counts in words."""
    if plan.method == "curve":
        return (f"{plan.n_calls} calls ({plan.n_initial_points} random), each trained along its learning curve, "
                f"scored every {plan.step} epochs up to {plan.max_epochs} and stopped after {plan.patience} "
                "checkpoints without a rise")
    return (f"{plan.n_calls} calls of `forest_minimize` ({plan.n_initial_points} random), epochs "
            f"{plan.space['epochs'][0]}-{plan.space['epochs'][1]} a dimension")


def describe(notebook: str, budget: str) -> str:
    """What ``notebook`` (``"01"`` ... ``"05"``) computes at ``budget``, as Markdown bullets.

    Examples
    --------
    >>> print(describe("01", "full"))
    * ALS grid: 180 combinations (post 1's whole grid), each scored at 19 checkpoints (epochs 2-38)
    >>> describe("02", "posts").splitlines()[0]
    '* WARP search: 250 calls of `forest_minimize` (10 random), epochs 1-260 a dimension'
    """
    budget = check_budget(budget)
    if notebook == "01":
        grid = als_grid(budget)
        whole = " (post 1's whole grid)" if grid == published.ALS_GRID else ""
        epochs = published.ALS_EPOCHS
        return (f"* ALS grid: {len(ParameterGrid(grid))} combinations{whole}, each scored at {len(epochs)} checkpoints "
                f"(epochs {epochs[0]}-{epochs[-1]})")
    if notebook == "02":
        return "\n".join([f"* WARP search: {_search_line(warp_search(budget))}",
                          f"* WARP + tags search: {_search_line(warp_search(budget, side_information=True))}",
                          "* ALS: notebook 01's grid, read back from its log"])
    if notebook == "03":
        return "* Nothing searched here: notebook 01's grid and notebook 02's searches are read back from their logs"
    if notebook == "04":
        plan = study(budget)
        lines = [f"* ALS grid chosen on validation: {len(ParameterGrid(plan.als_grid))} combinations"]
        for side, name in ((False, "WARP search"), (True, "WARP + tags search")):
            search = warp_search(budget, side_information=side).with_calls(plan.search_calls(side))
            lines.append(f"* {name} chosen on validation: {_search_line(search)}")
        knn, bpr, tags = (len(ParameterGrid(g)) for g in (plan.knn_grid, plan.bpr_grid, plan.tags_only_grid))
        lines += [f"* Baselines: item-kNN {knn}, BPR {bpr} and tags only {tags} settings",
                  f"* Tag ideas: {3 + len(plan.tag_weights) + len(plan.min_models) + len(plan.min_likes)} "
                  "feature variants (identity alone, the post's, a permuted control and the ideas), each along "
                  "its own learning curve",
                  f"* Search strategies: {duration(plan.strategy_seconds)} of wall time each, "
                  + ("side by side" if plan.strategies_side_by_side else "one after the other"),
                  f"* Intervals: {plan.n_boot:,} bootstrap resamples"]
        return "\n".join(lines)
    if notebook == "05":
        plan = scale_out(budget)
        epochs = plan.search_space(budget)["epochs"]
        return "\n".join([
            f"* ALS grid on each scheduler: {len(ParameterGrid(plan.grid))} combinations x {len(plan.grid_epochs)} "
            "checkpoints",
            f"* Searches: {plan.search_calls} calls (epochs {epochs[0]}-{epochs[1]}) for each of "
            f"{len(plan.search_seeds)} seeds, serial and {plan.n_points} at a time",
            f"* Spark ALS: {len(plan.spark_lambda_factors)} regularisations, {plan.iterations} iterations",
            f"* Growth: the {plan.growth_base} preset at {', '.join(f'{s}x' for s in plan.growth_scales)}"])
    raise ValueError(f"Unknown notebook {notebook!r}: give '01' to '05'.")


def plan(notebook: str, budget: str) -> tuple:
    """Everything that decides what ``notebook`` (``"01"`` ... ``"05"``) computes at ``budget``: its
    grids, searches and study plans, as the budget's objects themselves (plain values and named tuples).

    Notebook 02 reads notebook 01's grid, and notebook 03 reads both; their plans include what
    they read. Two budgets with the same plan compute the same thing; a change of count anywhere
    changes the plan (see :func:`plan_id`).
    """
    budget = check_budget(budget)
    if notebook == "01":
        return (als_grid(budget), tuple(published.ALS_EPOCHS))
    if notebook == "02":
        return (warp_search(budget), warp_search(budget, side_information=True), plan("01", budget))
    if notebook == "03":
        return plan("02", budget)
    if notebook == "04":
        study_plan = study(budget)
        return (study_plan, *(warp_search(budget, side_information=side).with_calls(study_plan.search_calls(side))
                              for side in (False, True)))
    if notebook == "05":
        scale = scale_out(budget)
        return (scale, scale.search_space(budget))
    raise ValueError(f"Unknown notebook {notebook!r}: give '01' to '05'.")


def plan_id(notebook: str, budget: str) -> str:
    """A short fingerprint of :func:`plan`: 12 hex digits that change whenever the plan does.

    ``make results`` records it with each sitting (``sittings.jsonl``), so that the cost a
    notebook reports is that of a run of the plan it has now, not of an earlier one.

    Examples
    --------
    >>> plan_id("02", "full") == plan_id("02", "full"), plan_id("02", "full") == plan_id("02", "ci")
    (True, False)
    >>> len(plan_id("05", "posts"))
    12
    """
    return hashlib.sha256(repr(plan(notebook, budget)).encode()).hexdigest()[:12]
