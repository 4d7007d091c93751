"""Sentences generated from result tables.

A notebook's prose that ranks models or says whether something helped must stay
true when the data or the budget changes, so such sentences are written from the
numbers beside them rather than by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from .. import config
from ..utils import duration
from ..tuning import strategies
from . import budgets

__all__ = ["SITTINGS_LOG", "STRATEGY_CALLS", "STRATEGY_TABLE", "budget_note", "search_method_note", "change", "describe_sittings", "full_size_cost", "ranked", "sittings"]

#: The record of ``make results`` runs in each results folder, one JSON line per event
#: (written by :mod:`recasketch.tools.execute`).
SITTINGS_LOG = "sittings.jsonl"

#: What notebook 04 writes of its strategy comparison: every call, and each strategy's table row.
STRATEGY_CALLS = "study_search_strategies.csv"
STRATEGY_TABLE = "study_strategy_table.csv"

#: The search strategy of notebook 04 that each search method of the budgets is.
_STRATEGY_OF_METHOD = {"curve": "learning curve", "forest": "forest"}

#: The share of the comparison's wall time within which the method a budget uses should reach the
#: validation score ``forest_minimize`` ended with.
REACH_FRACTION = 0.2


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def ranked(values: Mapping[str, float], digits: int = 4) -> str:
    """Names in decreasing order of their values, ``=`` where the shown values tie.

    Examples
    --------
    >>> ranked({"popularity": 0.0571, "ALS": 0.125, "WARP": 0.1188})
    'ALS (0.1250) > WARP (0.1188) > popularity (0.0571)'
    >>> ranked({"a": 0.10004, "b": 0.1}, digits=3)
    'a (0.100) = b (0.100)'
    """
    if not values:
        raise ValueError("Nothing to rank.")
    order = sorted(values.items(), key=lambda item: -item[1])
    out = f"{order[0][0]} ({_fmt(order[0][1], digits)})"
    for (_, previous), (name, value) in zip(order, order[1:]):
        sign = "=" if _fmt(previous, digits) == _fmt(value, digits) else ">"
        out += f" {sign} {name} ({_fmt(value, digits)})"
    return out


def change(before: float, after: float, digits: int = 4) -> str:
    """How a value moved: ``'rose from 0.1000 to 0.1200 (+20 %)'``, ``'fell ...'`` or
    ``'stayed at ...'`` when the shown values are equal.

    Examples
    --------
    >>> change(0.1, 0.12)
    'rose from 0.1000 to 0.1200 (+20 %)'
    >>> change(0.0478, 0.0461)
    'fell from 0.0478 to 0.0461 (-3.6 %)'
    >>> change(0.05, 0.05001)
    'stayed at 0.0500'
    """
    if _fmt(before, digits) == _fmt(after, digits):
        return f"stayed at {_fmt(after, digits)}"
    verb = "rose" if after > before else "fell"
    relative = f" ({100 * (after - before) / before:+.2g} %)" if before else ""
    return f"{verb} from {_fmt(before, digits)} to {_fmt(after, digits)}{relative}"


def sittings(folder, notebook: str):
    """The executions of ``notebook`` recorded in a results folder, oldest first.

    ``make results`` (``--out``) writes a line to ``<folder>/sittings.jsonl`` when a
    notebook starts and one when it ends. A long run stopped and run again (it resumes
    from its logs) leaves one row per sitting: ``started`` (UTC), ``seconds``,
    ``status`` ("completed", "interrupted", "failed", or "no end recorded" where the
    process was killed outright, or is the one still running: its ``seconds`` are then
    those of its last heartbeat, written every minute, and NaN before the first).

    ``plan`` is the fingerprint of what the notebook computed in that sitting
    (:func:`recasketch.study.budgets.plan_id`), ``None`` where the sitting did not record it.

    Returns
    -------
    pandas.DataFrame
        Columns ``started``, ``seconds``, ``status`` and ``plan``; empty when nothing was recorded.
    """
    path = Path(folder) / SITTINGS_LOG
    rows = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line
            if entry.get("notebook") != notebook:
                continue
            row = rows.setdefault(entry["run"], {"started": entry["started"], "seconds": float("nan"),
                                                 "status": "no end recorded", "plan": None})
            if entry.get("event") == "start":
                row["plan"] = entry.get("plan")
            if entry.get("event") == "end":
                row.update(seconds=entry["seconds"], status=entry["status"])
            elif entry.get("event") == "alive" and row["status"] == "no end recorded":
                row["seconds"] = entry["seconds"]  # the last heartbeat: how long it ran at least
    table = pd.DataFrame(list(rows.values()), columns=["started", "seconds", "status", "plan"])
    return table.sort_values("started", kind="stable").reset_index(drop=True)


def of_another_plan(table, plan: str | None):
    """Which of :func:`sittings`' rows recorded a plan other than ``plan``: a boolean Series.

    Sittings that recorded no plan are not told apart and count as ``plan``'s, and so does
    every sitting when ``plan`` is ``None``.

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["a", None, "b"]})
    >>> of_another_plan(t, "b").tolist(), of_another_plan(t, None).tolist()
    ([True, False, False], [False, False, False])
    """
    if plan is None:
        return pd.Series(False, index=table.index)
    return table["plan"].notna() & (table["plan"] != plan)


def describe_sittings(table, this_run_seconds: float) -> str:
    """One sentence on how long a results run took over all its sittings.

    ``table`` is :func:`sittings`' for a notebook executing now (its last row is this
    run, not yet ended); ``this_run_seconds`` is how long this run has taken so far. The
    sittings since the last completed one are the ones this run resumed from.

    Examples
    --------
    >>> t = pd.DataFrame({"started": ["a", "b", "c", "d"], "seconds": [60.0, 7200.0, 3600.0, float("nan")],
    ...                   "status": ["completed", "interrupted", "interrupted", "no end recorded"]})
    >>> describe_sittings(t, 1800)
    'Sitting 3 of this results run: it resumed from the logs and caches of 2 earlier sittings (3.0 h), and took 30 min itself; 3.5 h in all.'
    >>> describe_sittings(t, 1800) == describe_sittings(t.iloc[1:], 1800)
    True
    >>> describe_sittings(t.iloc[[0, 3]], 300)
    'One sitting: 5 min.'
    """
    before_this = table.iloc[:-1]
    completed = [i for i, status in enumerate(before_this["status"]) if status == "completed"]
    earlier = before_this.iloc[completed[-1] + 1:] if completed else before_this
    if earlier.empty:
        return f"One sitting: {duration(this_run_seconds)}."
    unknown = int(earlier["seconds"].isna().sum())
    killed = int((earlier["status"] == "no end recorded").sum()) - unknown  # timed by their heartbeats
    before = float(earlier["seconds"].sum())
    detail = ""
    if killed:
        detail = (f"; {killed} of them killed outright, counted to {'their' if killed > 1 else 'its'} "
                  "last heartbeat")
    sentence = (f"Sitting {len(earlier) + 1} of this results run: it resumed from the logs and caches of "
                f"{len(earlier)} earlier sitting{'s' if len(earlier) > 1 else ''} ({duration(before)}{detail}), "
                f"and took {duration(this_run_seconds)} itself; {duration(before + this_run_seconds)} in all")
    if unknown:
        they = "they" if unknown > 1 else "it"
        sentence += (f", not counting {unknown} sitting{'s' if unknown > 1 else ''} killed before "
                     f"{they} recorded how long {they} ran")
    return sentence + "."


def full_size_cost(notebook: str, folder=None, this_run: bool = False) -> str:
    """A sentence on what ``notebook`` cost at ``full`` on the full-size synthetic preset.

    Read from the sittings that ``make results DATA=synthetic-full`` recorded (``folder``,
    by default ``data/results/synthetic-full/``): the longest completed sitting and the
    interrupted ones it resumed from are the run that computed the results; sittings after
    it re-executed the notebook from its logs. Sittings that recorded another plan than the
    notebook's present one at ``full`` (:func:`recasketch.study.budgets.plan_id`) are left
    out. ``this_run``: the notebook is executing into that folder now, so a first run says
    that it is the one computing them.

    Examples
    --------
    >>> full_size_cost("99_none.ipynb", folder="/nonexistent")
    'Not yet run at `full` on the full-size preset (`make results DATA=synthetic-full NOTEBOOKS=notebooks/99_none.ipynb`).'
    """
    folder = Path(folder) if folder is not None else config.RESULTS_DIR / "synthetic-full"
    table = sittings(folder, notebook)
    current = budgets.plan_id(notebook[:2], "full") if notebook[:2] in budgets.NOTEBOOKS else None
    other = of_another_plan(table, current)
    table = table[~other].reset_index(drop=True)
    done = table.index[table["status"] == "completed"]
    if not len(done):
        if this_run:
            return ("This is the full-size run computing its results: `sittings.jsonl` beside it records how "
                    "long it takes, and the rendered page says it.")
        earlier = " with its present plan; earlier runs computed another" if other.any() else ""
        return (f"Not yet run at `full` on the full-size preset{earlier} "
                f"(`make results DATA=synthetic-full NOTEBOOKS=notebooks/{notebook}`).")
    last = table.loc[done, "seconds"].idxmax()
    first = last
    while first > 0 and table.loc[first - 1, "status"] != "completed":
        first -= 1
    run = table.loc[first:last]
    sittings_text = "one sitting" if len(run) == 1 else f"{len(run)} sittings"
    sentence = (f"At `full` on the full-size synthetic preset, this notebook computed its results in "
                f"{duration(run['seconds'].sum())} ({sittings_text}, started {run['started'].iloc[0][:10]})")
    later = table.loc[last + 1:]
    later = later[later["status"] == "completed"]
    if len(later):
        sentence += f"; re-executed from its logs, it took {duration(later['seconds'].iloc[-1])}"
    return sentence + "."


def budget_note(notebook: str, budget: str, results=None) -> str:
    """Markdown for the top of a notebook: what it computes at ``budget``, and the full-size run's cost.

    ``results`` is the folder the notebook writes to (``None`` for a quick run); the full-size
    run's own folder makes a first run say that it is the one computing the results.
    """
    full = config.RESULTS_DIR / "synthetic-full"
    this_run = results is not None and Path(results).resolve() == full.resolve() and budget == "full"
    return (f"**Budget `{budget}`:**\n\n{budgets.describe(notebook[:2], budget)}\n\n"
            f"{full_size_cost(notebook, full, this_run)}")


def search_method_note(calls=None, table=None, folder=None, budget: str = "full",
                       where: str = "on the full-size preset", search_seconds: float | None = None,
                       search_calls: int | None = None) -> str:
    """Why ``budget`` searches WARP as it does: notebook 04's comparison of the search strategies.

    The sentences are written from the comparison's calls and table (``calls``, ``table``;
    by default read from what notebook 04 wrote at ``full`` in ``folder``, itself by
    default ``data/results/synthetic-full/``): which strategy the comparison recommends
    (:func:`recasketch.tuning.strategies.recommend`), when the budget's strategy reached
    the validation score the posts' ``forest_minimize`` ended with, and whether the
    budget's method is the one recommended. ``where`` says what data the comparison ran on;
    ``search_seconds`` and ``search_calls``, a search's cost, go to ``recommend``.
    """
    used = _STRATEGY_OF_METHOD[budgets.warp_search(budget).method]
    intro = f"Budget `{budget}` searches WARP by the **{used}** method."
    if calls is None or table is None:
        folder = Path(folder) if folder is not None else config.RESULTS_DIR / "synthetic-full"
        if not ((folder / STRATEGY_CALLS).exists() and (folder / STRATEGY_TABLE).exists()):
            return (f"{intro} Notebook 04's comparison of the search strategies at equal wall time, which that "
                    "choice rests on, has not been run at `full` on the full-size preset yet.")
        calls = pd.read_csv(folder / STRATEGY_CALLS)
        table = pd.read_csv(folder / STRATEGY_TABLE, index_col="strategy")
    pick = strategies.recommended(table)
    recommendation = strategies.recommend(table, search_seconds=search_seconds, search_calls=search_calls)
    lines = [intro, f"Notebook 04 compared the strategies at equal wall time {where}. {recommendation}"]
    if used != "forest" and {used, "forest"} <= set(calls["strategy"]):
        reach = strategies.reach_sentence(calls, used)
        lines.append(reach[0].upper() + reach[1:])
        lines.append(_within_a_fifth(calls, used, budgets.warp_search(budget).n_initial_points))
    lines.append(f"`{budget}` uses what that comparison recommends." if pick == used else
                 f"That comparison recommends {pick}, not {used}.")
    return " ".join(lines)


def _within_a_fifth(calls: pd.DataFrame, used: str, n_initial_points: int) -> str:
    """Whether ``used`` reached forest's final validation score within :data:`REACH_FRACTION` of the
    comparison's time and, where it did not, which strategy did and what forest's best was."""
    reach = strategies.time_to_reach(calls, used)
    if reach["target"] is None:
        return "With no score of forest's, the test of that fraction cannot be made here."
    if reach["fraction"] is not None and reach["fraction"] <= REACH_FRACTION:
        return f"That is within the {REACH_FRACTION:.0%} of the time the method is held to."
    ok = calls[calls["status"] == "ok"]
    forest = ok[ok["strategy"] == "forest"]
    best_call = int(forest.loc[forest["value"].idxmax(), "call"])
    sooner = [(name, strategies.time_to_reach(calls, name)) for name in sorted(set(ok["strategy"]) - {used, "forest"})]
    sooner = [f"{name} (after {duration(r['seconds'])})" for name, r in sooner
              if r["fraction"] is not None and r["fraction"] <= REACH_FRACTION]
    text = f"That is more than the {REACH_FRACTION:.0%} of the time the method is held to"
    if best_call < n_initial_points:
        return (f"{text}; but forest's best was its call {best_call + 1}, one of its {n_initial_points} random "
                f"starting points, so in this time it never proposed a point of its own, and what reached "
                f"that score sooner ({', '.join(sooner) or 'nothing'}) did so with a random point too: the test "
                "cannot tell the methods apart here.")
    return f"{text}; " + (f"{', '.join(sooner)} reached it within that time." if sooner else
                          "no strategy reached it within that time.")
