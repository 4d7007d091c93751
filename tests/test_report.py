import pytest

from recasketch.study.report import change, ranked


def test_ranked_orders_by_value_and_marks_shown_ties():
    assert ranked({"b": 0.2, "a": 0.3, "c": 0.1}) == "a (0.3000) > b (0.2000) > c (0.1000)"
    assert ranked({"x": 0.12341, "y": 0.12344, "z": 0.2}) == "z (0.2000) > y (0.1234) = x (0.1234)"
    assert ranked({"only": 1.0}, digits=1) == "only (1.0)"
    with pytest.raises(ValueError, match="Nothing to rank"):
        ranked({})


def test_change_names_the_direction_and_the_relative_size():
    assert change(0.2, 0.1) == "fell from 0.2000 to 0.1000 (-50 %)"
    assert change(0.1, 0.1001, digits=3) == "stayed at 0.100"
    assert change(0.0, 0.1) == "rose from 0.0000 to 0.1000"


def _sitting(run, started, notebook="02_x.ipynb", **end):
    lines = [{"run": run, "notebook": notebook, "started": started, "event": "start"}]
    if end:
        lines.append({"run": run, "notebook": notebook, "started": started, "event": "end", **end})
    return lines


def test_full_size_cost_counts_the_sittings_that_computed_the_results(tmp_path):
    import json

    from recasketch.study.report import budget_note, full_size_cost

    entries = (_sitting("a", "2026-12-01T10:00:00", status="completed", seconds=30.0)   # an early, quick try
               + _sitting("b", "2026-12-02T10:00:00", status="interrupted", seconds=3000.0)
               + _sitting("c", "2026-12-02T11:00:00", status="completed", seconds=1800.0)
               + _sitting("d", "2026-12-03T09:00:00", status="completed", seconds=90.0)   # re-executed from logs
               + _sitting("e", "2026-12-03T09:00:00", notebook="01_other.ipynb", status="completed", seconds=5.0))
    (tmp_path / "sittings.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    sentence = full_size_cost("02_x.ipynb", folder=tmp_path)
    assert "computed its results in 80 min (2 sittings, started 2026-12-02)" in sentence
    assert sentence.endswith("re-executed from its logs, it took 90 s.")
    assert full_size_cost("03_y.ipynb", folder=tmp_path).startswith("Not yet run at `full`")
    assert full_size_cost("03_y.ipynb", folder=tmp_path, this_run=True).startswith("This is the full-size run")
    # a sitting of another plan is not this plan's cost, however long it took
    from recasketch.study.budgets import plan_id
    table = json.loads(json.dumps(entries))
    for entry in table:
        if entry["run"] in "bc" and entry["event"] == "start":
            entry["plan"] = "0123456789ab"  # ran before the plan changed
        if entry["run"] == "d" and entry["event"] == "start":
            entry["plan"] = plan_id("02", "full")
    (tmp_path / "sittings.jsonl").write_text("\n".join(json.dumps(e) for e in table) + "\n")
    assert full_size_cost("02_x.ipynb", folder=tmp_path).startswith(
        "At `full` on the full-size synthetic preset, this notebook computed its results in 90 s (one sitting, "
        "started 2026-12-03)")
    for entry in table:
        if entry["event"] == "start" and entry["notebook"] == "02_x.ipynb":
            entry["plan"] = "0123456789ab"
    (tmp_path / "sittings.jsonl").write_text("\n".join(json.dumps(e) for e in table) + "\n")
    assert full_size_cost("02_x.ipynb", folder=tmp_path).startswith(
        "Not yet run at `full` on the full-size preset with its present plan; earlier runs computed another")
    note = budget_note("02_x.ipynb", "full")
    assert note.startswith("**Budget `full`:**") and "12 calls (4 random)" in note
    from recasketch import config
    # a notebook with no sitting yet, executing into the full-size run's own folder, is that run
    assert "This is the full-size run" in budget_note("02_x.ipynb", "full", results=config.RESULTS_DIR / "synthetic-full")
    assert "This is the full-size run" not in budget_note("02_x.ipynb", "full", results=tmp_path)


def test_search_method_note_is_written_from_notebook_04s_tables(tmp_path):
    import pandas as pd

    from recasketch.study.report import STRATEGY_CALLS, STRATEGY_TABLE, search_method_note

    assert "has not been run at `full`" in search_method_note(folder=tmp_path)
    calls = pd.DataFrame({"strategy": ["forest"] * 2 + ["learning curve"] * 2 + ["random"],
                          "call": [0, 1, 0, 1, 0], "elapsed": [300.0, 900.0, 120.0, 700.0, 400.0],
                          "value": [0.02, 0.03, 0.031, 0.032, 0.01], "status": "ok"})
    calls.to_csv(tmp_path / STRATEGY_CALLS, index=False)
    table = pd.DataFrame({"strategy": ["forest", "learning curve", "random"], "seconds": [900.0, 700.0, 400.0],
                          "call": [1, 1, 0], "test p@5 mean": [0.030, 0.031, 0.010],
                          "test p@5 low": [0.027, 0.028, 0.008], "test p@5 high": [0.033, 0.034, 0.012]})
    table.to_csv(tmp_path / STRATEGY_TABLE, index=False)
    note = search_method_note(folder=tmp_path)
    assert "Use learning curve" in note
    assert "Learning curve reached the validation p@k that forest ended its 15 min with (0.0300) after 2 min" in note
    assert note.endswith("`full` uses what that comparison recommends.")
    assert "after 2 min, 13% of that time. That is within the 20% of the time the method is held to." in note
    # forest's best one of its random starting points (full starts with 4), reached late by the curve
    late = calls.assign(elapsed=[30.0, 900.0, 400.0, 700.0, 20.0], value=[0.03, 0.02, 0.031, 0.032, 0.03])
    assert ("after 7 min, 44% of that time. That is more than the 20% of the time the method is held to; but forest's "
            "best was its call 1, one of its 4 random starting points, so in this time it never proposed a point "
            "of its own, and what reached that score sooner (random (after 20 s)) did so with a random point too: "
            "the test cannot tell the methods apart here.") in search_method_note(late, table.set_index("strategy"))
    # forest's best proposed by its surrogate, and reached sooner by another strategy only
    surrogate = pd.concat([late, calls.iloc[[0]].assign(call=4, elapsed=800.0, value=0.0305)], ignore_index=True)
    assert ("That is more than the 20% of the time the method is held to; random (after 20 s) reached it within "
            "that time.") not in search_method_note(surrogate, table.set_index("strategy"))  # random is at 0.03
    assert "no strategy reached it within that time." in search_method_note(surrogate, table.set_index("strategy"))
    assert search_method_note(calls, table.set_index("strategy"), where="here") == note.replace(
        "on the full-size preset", "here")
    costed = search_method_note(calls, table.set_index("strategy"), where="here", search_seconds=3600.0,
                                search_calls=6)
    assert costed.count("Use learning curve") == 1
    assert "; the full search above spent 60 min fitting and scoring its 6 calls." in costed
    # every call of forest diverged (a short budget on a small dataset): no score to reach, and no crash
    diverged = calls.assign(status=["failed", "failed", "ok", "ok", "ok"], value=[0.0, 0.0, 0.031, 0.032, 0.01])
    note = search_method_note(diverged, table.set_index("strategy").drop("forest"))
    assert ("Forest ended its 15 min without a successful call (every one diverged), so it set no validation p@k "
            "for learning curve to reach. With no score of forest's, the test of that fraction cannot be made "
            "here.") in note
    table.loc[0, ["test p@5 mean", "test p@5 low", "test p@5 high"]] = [0.05, 0.045, 0.055]   # forest clearly best
    table.to_csv(tmp_path / STRATEGY_TABLE, index=False)
    assert search_method_note(folder=tmp_path).endswith(
        "That comparison recommends forest, not learning curve.")


def _prose_of(name: str) -> dict:
    """The markdown of notebook ``name``, as one line of text, in the source and in the committed full-size run."""
    import json

    from recasketch.config import PROJ_ROOT

    texts = {}
    for path in (PROJ_ROOT / "notebooks" / name, PROJ_ROOT / "data" / "results" / "synthetic-full" / name):
        cells = json.loads(path.read_text())["cells"]
        texts[path] = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").replace("\n", " ")
    return texts


def test_notebook_04s_parameters_prose_states_the_full_budgets_counts():
    """The Parameters cell is written by hand: it must name the counts ``budgets.study("full")`` sets."""
    from recasketch.study import budgets

    plan = budgets.study("full")
    expected = [f"{len(budgets.ParameterGrid(plan.als_grid))}-setting slice of post 1's ALS grid",
                f"with {plan.search_calls()[0]} and {plan.search_calls(side_information=True)[0]} calls",
                f"{plan.strategy_seconds / 60:.0f} minutes of wall time for each search strategy"]
    for path, prose in _prose_of("04_evaluation_study.ipynb").items():
        for phrase in expected:
            assert phrase in prose, f"{path}: {phrase!r}"


def test_notebook_05s_prose_states_the_full_budgets_search_calls():
    from recasketch.study import budgets

    phrase = f"searches of {budgets.scale_out('full').search_calls} short calls over two seeds"
    for path, prose in _prose_of("05_scale_out.ipynb").items():
        assert phrase in prose, f"{path}: {phrase!r}"
