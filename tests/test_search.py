"""The resumable scikit-optimize search of recasketch.tuning."""

import json
import re

import numpy as np
import pytest
import scipy.sparse as sp

from recasketch import metrics
from recasketch.split import train_test_split
from recasketch.tuning.search_log import FitFailed, WORST_VALUE
from recasketch.tuning.objectives import LightFMObjective, post_lightfm_params
from recasketch.tuning.search import read_search_log, resumable_search

SPACE = {"x": (0.0, 1.0), "n": (1, 10)}


class Quadratic:
    """A cheap objective with its best at x = 0.3, n = 3 that records its calls and can
    diverge (x > 0.9) or be interrupted at a given call."""

    def __init__(self, interrupt_at=None):
        self.calls = []
        self.interrupt_at = interrupt_at

    def __call__(self, point):
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        self.calls.append(dict(point))
        if point["x"] > 0.9:
            raise FitFailed("diverged")
        return {"p@k": 1.0 - (point["x"] - 0.3) ** 2 - (point["n"] - 3) ** 2 / 100, "other": 0.5}


def run(objective, log, n_calls=12, **kw):
    kw = {"n_initial_points": 4, "random_state": 0, "progress": False, **kw}
    return resumable_search(objective, SPACE, n_calls, log_path=log, **kw)


def test_search_logs_every_call_and_finds_the_best(tmp_path):
    log = tmp_path / "search.jsonl"
    objective = Quadratic()
    result = run(objective, log, n_calls=15)
    assert len(objective.calls) == 15 == len(result.calls)
    assert result.calls["call"].tolist() == list(range(15))
    assert result.n_resumed == 0
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0]["log"] == "search" and "space" in records[0]["key"] and len(records) == 16
    assert [r["params"] for r in records[1:]] == objective.calls
    best = result.best
    assert best["p@k"] == result.calls["p@k"].max()
    assert best["objective"] == -best["p@k"]
    # skopt saw exactly the logged points and values
    assert [list(map(float, x)) for x in result.optimize_result.x_iters] == \
        [[float(c["x"]), float(c["n"])] for c in objective.calls]
    np.testing.assert_allclose(result.optimize_result.func_vals, result.calls["objective"])
    pd_read = read_search_log(log, SPACE)
    assert pd_read["call"].tolist() == list(range(15))
    np.testing.assert_allclose(pd_read["objective"], result.calls["objective"])


def test_fresh_search_is_plain_forest_minimize(tmp_path):
    from skopt import forest_minimize

    objective = Quadratic()
    ours = run(objective, tmp_path / "a.jsonl", n_calls=10)
    theirs = forest_minimize(lambda p: -Quadratic()({"x": p[0], "n": p[1]})["p@k"],
                             [(0.0, 1.0), (1, 10)], n_calls=10, n_initial_points=4, random_state=0)
    np.testing.assert_allclose(np.array(ours.optimize_result.x_iters, dtype=float),
                               np.array(theirs.x_iters, dtype=float))


@pytest.mark.parametrize("cut", [0, 1, 3, 4, 5, 9, 11])
def test_interrupted_search_resumes_with_no_call_lost_or_repeated(tmp_path, cut):
    log = tmp_path / "search.jsonl"
    first = Quadratic(interrupt_at=cut)
    with pytest.raises(KeyboardInterrupt):
        run(first, log, x0=[0.5, 5])
    assert len(read_search_log(log, SPACE)) == cut
    second = Quadratic()
    result = run(second, log, x0=[0.5, 5])
    assert len(first.calls) + len(second.calls) == 12
    assert result.n_resumed == cut
    assert result.calls["call"].tolist() == list(range(12))
    # the logged calls were not run again, and the ones before the cut are those run first
    assert result.calls.iloc[:cut][["x", "n"]].to_dict("records") == first.calls
    assert result.calls.iloc[cut:][["x", "n"]].to_dict("records") == second.calls
    assert result.calls.loc[0, "origin"] == "x0" and (result.calls["origin"] == "x0").sum() == 1
    assert result.calls.loc[0, "x"] == 0.5
    # a resumed search draws no random points it has already drawn
    points = result.calls[["x", "n"]].apply(tuple, axis=1)
    assert points.iloc[1:5].nunique() == 4


def test_a_torn_last_line_is_ignored(tmp_path):
    log = tmp_path / "search.jsonl"
    run(Quadratic(), log, n_calls=6)
    with open(log, "a") as fh:
        fh.write('{"call": 6, "origin": "sea')  # killed while writing
    objective = Quadratic()
    result = run(objective, log, n_calls=8)
    assert len(objective.calls) == 2
    assert result.calls["call"].tolist() == list(range(8))


def test_resume_hands_the_log_to_skopt_and_lowers_n_initial_points(tmp_path, monkeypatch):
    log = tmp_path / "search.jsonl"
    run(Quadratic(interrupt_at=None), log, n_calls=3, n_initial_points=2, x0=[0.5, 5])
    seen = {}

    def spy(func, dims, **kwargs):
        seen.update(kwargs)
        from skopt import forest_minimize

        return forest_minimize(func, dims, **kwargs)

    result = run(Quadratic(), log, n_calls=8, n_initial_points=4, x0=[0.5, 5], minimizer=spy)
    # 1 x0 point and 2 random points were done: 2 random points remain, 5 calls in all
    assert seen["n_initial_points"] == 2
    assert seen["n_calls"] == 5
    assert len(seen["x0"]) == len(seen["y0"]) == 3
    assert seen["y0"] == result.calls["objective"].iloc[:3].tolist()
    assert seen["random_state"] != 0  # a resumed search does not redraw the first random points


def test_extending_a_finished_search_runs_only_the_new_calls(tmp_path):
    log = tmp_path / "search.jsonl"
    run(Quadratic(), log, n_calls=6)
    objective = Quadratic()
    assert len(run(objective, log, n_calls=6).calls) == 6 and objective.calls == []
    assert len(run(objective, log, n_calls=9).calls) == 9 and len(objective.calls) == 3


def test_warm_start_is_evaluated_first(tmp_path):
    objective = Quadratic()
    result = run(objective, None, n_calls=6, x0=[{"x": 0.3, "n": 3}, [0.7, 8]])
    assert objective.calls[:2] == [{"x": 0.3, "n": 3}, {"x": 0.7, "n": 8}]
    assert result.calls["origin"].tolist()[:3] == ["x0", "x0", "search"]
    assert result.best["x"] == 0.3


def test_a_failed_call_is_logged_scored_worst_and_the_search_goes_on(tmp_path):
    log = tmp_path / "search.jsonl"
    objective = Quadratic()
    result = run(objective, log, n_calls=6, x0=[[0.95, 2]])
    first = result.calls.iloc[0]
    assert first["status"] == "failed" and first["reason"] == "diverged"
    assert first["objective"] == WORST_VALUE and np.isnan(first["p@k"])
    assert result.n_failed == 1 and len(result.calls) == 6
    assert result.optimize_result.func_vals[0] == WORST_VALUE
    assert json.loads(log.read_text().splitlines()[1])["status"] == "failed"


def test_a_non_finite_score_is_a_failed_call_not_a_number(tmp_path):
    result = resumable_search(lambda p: {"p@k": float("nan")}, SPACE, 2, n_initial_points=1,
                              random_state=0, progress=False)
    assert result.n_failed == 2
    assert result.calls["reason"].str.contains("nan").all()
    with pytest.raises(ValueError, match="Every call of the search failed"):
        result.best


def test_other_errors_stop_the_search_and_keep_the_log(tmp_path):
    log = tmp_path / "search.jsonl"
    state = {"n": 0}

    def broken(point):
        state["n"] += 1
        if state["n"] == 3:
            raise RuntimeError("a bug")
        return {"p@k": point["x"]}

    with pytest.raises(RuntimeError, match="a bug"):
        resumable_search(broken, SPACE, 5, log_path=log, n_initial_points=2, random_state=0,
                         progress=False)
    assert len(read_search_log(log, SPACE)) == 2


def test_search_guards(tmp_path):
    log = tmp_path / "search.jsonl"
    run(Quadratic(), log, n_calls=5)
    with pytest.raises(ValueError, match=r"written by another search: space\.x is Real\(low=0\.0, high=2\.0"):
        resumable_search(Quadratic(), {"x": (0.0, 2.0), "n": (1, 10)}, 5, log_path=log,
                         n_initial_points=2, random_state=0, progress=False)
    with pytest.raises(ValueError, match="leaves no room"):
        run(Quadratic(), None, n_calls=3, n_initial_points=4)
    with pytest.raises(ValueError, match="n_calls must be"):
        run(Quadratic(), None, n_calls=0)
    with pytest.raises(ValueError, match="outside"):
        run(Quadratic(), None, x0=[2.0, 3])
    with pytest.raises(ValueError, match="lacks"):
        run(Quadratic(), None, x0={"x": 0.5})
    with pytest.raises(ValueError, match="non-empty mapping"):
        resumable_search(Quadratic(), {}, 5)
    with pytest.raises(KeyError, match="without the target"):
        resumable_search(lambda p: {"other": 1.0}, SPACE, 2, n_initial_points=1, progress=False)


def test_post_lightfm_params():
    assert post_lightfm_params({"epochs": 3, "no_components": 20, "alpha": 0.01}) == \
        {"no_components": 20, "user_alpha": 0.01, "item_alpha": 0.01}
    assert post_lightfm_params({"item_alpha": 0.001, "scaling": 0.5, "learning_rate": 0.1}) == \
        {"item_alpha": 0.001, "user_alpha": 0.0005, "learning_rate": 0.1}
    with pytest.raises(ValueError, match="needs 'item_alpha'"):
        post_lightfm_params({"scaling": 0.5})


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(1)
    dense = np.zeros((60, 40), dtype=np.float32)
    dense[:30, :20] = rng.random((30, 20)) < 0.4
    dense[30:, 20:] = rng.random((30, 20)) < 0.4
    return train_test_split(sp.csr_matrix(dense), 3, 0.3, random_state=0)


def test_lightfm_objective_scores_both_protocols_and_is_repeatable(split):
    from recasketch import metrics

    train, test, users = split
    objective = LightFMObjective(train, test, users, k=3, num_threads=1)
    point = {"epochs": 5, "learning_rate": 0.05, "no_components": 8, "alpha": 1e-4}
    scores = objective(point)
    assert scores == objective(point)  # one thread: exactly repeatable
    model = objective.fit(point)
    assert model.user_alpha == model.item_alpha == 1e-4
    assert scores["p@k"] == metrics.precision_at_k(model, test, 3, users=users)
    assert scores["p@k filtered"] == metrics.precision_at_k(model, test, 3, users=users, exclude=train)
    assert scores["p@k filtered"] > scores["p@k"]


def test_lightfm_objective_turns_an_overflowing_model_into_fit_failed(split):
    train, test, users = split
    # feature weights this large make the item representations overflow float32 products
    huge = sp.identity(train.shape[1], format="csr", dtype=np.float32) * 1e10
    objective = LightFMObjective(train, test, users, k=3, item_features=huge)
    with pytest.raises(FitFailed, match="diverged: its scores can reach"):
        objective({"epochs": 2, "learning_rate": 0.05, "no_components": 8, "alpha": 1e-6})


def test_validation_objective_refuses_an_overflowing_model_as_lightfm_objective_does(split, monkeypatch):
    """Notebook 04's objective refuses the points notebook 02's refuses: a fitted model whose
    scores can exceed float32's range is a failed call for both, for the same reason."""
    from lightfm import LightFM

    from recasketch.tuning.objectives import ValidationObjective

    fit = LightFM.fit

    def fit_then_blow_up(self, *args, **kwargs):
        fit(self, *args, **kwargs)
        self.user_embeddings[:] = 1e20  # finite float32 values whose products are not
        self.item_embeddings[:] = 1e20
        return self

    monkeypatch.setattr(LightFM, "fit", fit_then_blow_up)
    train, test, users = split
    point = {"epochs": 2, "no_components": 8, "alpha": 1e-4}
    reasons = []
    for objective in (LightFMObjective(train, test, users, k=3), ValidationObjective(train, test, test, users, k=3)):
        with pytest.raises(FitFailed, match="the fit diverged: its scores can reach .* beyond float32's range") as refused:
            objective(point)
        reasons.append(str(refused.value))
    assert reasons[0] == reasons[1]


def test_lightfm_objective_turns_lightfms_divergence_error_into_fit_failed(split, monkeypatch):
    from lightfm import LightFM

    def diverge(self, *args, **kwargs):
        raise ValueError("Not all estimated parameters are finite, your model may have diverged.")

    monkeypatch.setattr(LightFM, "fit", diverge)
    train, test, users = split
    with pytest.raises(FitFailed, match="the fit diverged: Not all estimated parameters are finite"):
        LightFMObjective(train, test, users, k=3)({"epochs": 2, "alpha": 1e-4})


def test_lightfm_objective_turns_a_non_finite_model_into_fit_failed(split, monkeypatch):
    """A model the metrics refuse (NaN embeddings that LightFM's own check let through)
    is a failed call, with the metrics' message as the reason."""
    from lightfm import LightFM

    fit = LightFM.fit

    def fit_then_break(self, *args, **kwargs):
        fit(self, *args, **kwargs)
        self.item_embeddings[:2] = np.nan
        return self

    monkeypatch.setattr(LightFM, "fit", fit_then_break)
    train, test, users = split
    with pytest.raises(FitFailed, match=r"^The LightFM model's item embeddings hold 16 NaN and 0 inf "
                                        r"values \(a diverged fit\?\)"):
        LightFMObjective(train, test, users, k=3)({"epochs": 2, "no_components": 8, "alpha": 1e-4})


def test_lightfm_objective_passes_on_other_errors(split, monkeypatch):
    train, test, users = split
    objective = LightFMObjective(train, test, users, k=3)
    with pytest.raises(TypeError):
        objective({"epochs": 2, "no_such_parameter": 1})


def test_clip_to_space_keeps_values_inside_and_moves_the_rest_to_the_bounds():
    from recasketch.tuning.search import clip_to_space

    space = {"epochs": (1, 260), "lr": (1e-3, 1.0, "log-uniform"), "kind": ["a", "b"]}
    assert clip_to_space({"epochs": 7, "lr": 0.5, "kind": "b"}, space) == {"epochs": 7, "lr": 0.5, "kind": "b"}
    clipped = clip_to_space({"epochs": 0, "lr": 1e-4, "kind": "a", "extra": 1}, space)
    assert clipped == {"epochs": 1, "lr": 1e-3, "kind": "a"}
    assert isinstance(clipped["epochs"], int)


def test_side_information_start_carries_the_best_point_into_the_feature_space():
    from recasketch.study import published
    from recasketch.tuning.objectives import side_information_start

    space = published.WARP_SIDE_INFO_SEARCH["space"]
    best = {"epochs": 30, "learning_rate": 5e-4, "no_components": 50, "alpha": 1e-7, "p@k": 0.1}
    start = side_information_start(best, space)
    assert list(start) == list(space)  # in the space's order, so it is a valid x0
    assert start == {"epochs": 30, "learning_rate": 1e-3, "no_components": 50, "item_alpha": 1e-5,
                     "scaling": 1.0}
    inside = side_information_start({**best, "learning_rate": 0.05, "alpha": 2e-4}, space)
    # scaling 1: the same regularisation for users and items as the best point had
    assert post_lightfm_params(inside)["user_alpha"] == post_lightfm_params(inside)["item_alpha"] == 2e-4
    with pytest.raises(ValueError, match=r"lacks \['alpha'\]"):
        side_information_start({"epochs": 3, "learning_rate": 0.1, "no_components": 9}, space)


def test_side_information_start_is_used_as_the_warm_start(tmp_path, split):
    from recasketch.study import published
    from recasketch.tuning.objectives import side_information_start

    train, test, users = split
    space = dict(published.WARP_SIDE_INFO_SEARCH["space"], epochs=(1, 5))
    start = side_information_start({"epochs": 4, "learning_rate": 0.05, "no_components": 8, "alpha": 1e-4},
                                   space)
    features = sp.hstack([sp.identity(train.shape[1]), sp.random(train.shape[1], 5, density=0.3,
                                                                  random_state=0)], format="csr")
    objective = LightFMObjective(train, test, users, k=3, item_features=features)
    result = resumable_search(objective, space, 4, x0=start, n_initial_points=2, random_state=0,
                              progress=False, log_path=tmp_path / "log.jsonl")
    first = result.calls.iloc[0]
    assert first["origin"] == "x0"
    assert {name: first[name] for name in space} == start
    assert result.optimize_result.x_iters[0] == list(start.values())


def test_projected_search_seconds_scales_per_epoch_cost():
    import pandas as pd

    from recasketch.tuning.search import projected_search_seconds

    calls = pd.DataFrame({"epochs": [10, 20, 5], "seconds": [2.0, 4.0, 100.0],
                          "status": ["ok", "ok", "failed"]})
    assert projected_search_seconds(calls, 10) == pytest.approx(0.2 * 15 * 10)
    assert projected_search_seconds(calls, 10, epochs=(1, 259)) == pytest.approx(0.2 * 130 * 10)
    with pytest.raises(ValueError, match="No successful call"):
        projected_search_seconds(calls[calls.status == "failed"], 10)


def test_compare_models_trains_and_scores_each_candidate_in_both_protocols(split):
    from implicit.cpu.als import AlternatingLeastSquares
    from lightfm import LightFM

    from recasketch import metrics
    from recasketch.models.baselines import Popularity
    from recasketch.study.evaluation import PROTOCOLS, Fitted
    from recasketch.study.posts import Candidate, compare_models

    train, test, users = split
    warp = LightFM(loss="warp", no_components=8, random_state=0)
    table = compare_models({
        "popularity": Popularity(),
        "ALS": Candidate(AlternatingLeastSquares(factors=4, iterations=3, random_state=0)),
        "WARP": Candidate(warp, epochs=5),
    }, train, test, users, k=3)
    assert table["model"].tolist() == ["popularity"] * 2 + ["ALS"] * 2 + ["WARP"] * 2
    assert table["protocol"].tolist() == list(PROTOCOLS) * 3
    assert (table["fit seconds"] > 0).all()
    assert warp.item_embeddings is not None  # trained in place
    post, filtered = table.loc[table.model == "WARP", "mean"]
    assert post == pytest.approx(metrics.precision_at_k(warp, test, 3, users=users))
    assert filtered == pytest.approx(metrics.precision_at_k(warp, test, 3, users=users, exclude=train))
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()
    assert (table["low"] < table["high"]).any() and (table["metric"] == "p@3").all()
    with pytest.raises(ValueError, match="give its Candidate the epochs"):
        compare_models({"WARP": LightFM()}, train, test, users, k=3)
    # a model trained already is scored as it is, with its own seconds: the same rows, not trained again
    trained = warp.item_embeddings.copy()
    again = compare_models({"WARP": Fitted(warp, None, 12.5)}, train, test, users, k=3)
    np.testing.assert_array_equal(warp.item_embeddings, trained)
    assert again["mean"].tolist() == table.loc[table.model == "WARP", "mean"].tolist()
    assert (again["fit seconds"] == 12.5).all()


def test_warp_searches_run_both_searches_as_notebook_02_and_read_them_back(tmp_path, split, monkeypatch):
    from recasketch.study import budgets
    from recasketch.study.posts import warp_searches

    train, test, users = split
    small = {False: budgets.SearchBudget({"epochs": (1, 3), "learning_rate": (0.01, 0.1, "log-uniform"),
                                          "no_components": (4, 8), "alpha": (1e-6, 1e-3, "log-uniform")}, 3, 2),
             True: budgets.SearchBudget({"epochs": (1, 3), "learning_rate": (0.01, 0.1, "log-uniform"),
                                         "no_components": (4, 8), "item_alpha": (1e-5, 1e-3, "log-uniform"),
                                         "scaling": (0.001, 1.0, "log-uniform")}, 3, 1)}
    monkeypatch.setattr(budgets, "warp_search", lambda budget, side_information=False: small[side_information])
    features = sp.hstack([sp.identity(train.shape[1]), sp.random(train.shape[1], 5, density=0.3,
                                                                  random_state=0)], format="csr")
    first = warp_searches(train, test, users, item_features=features, k=3, log_dir=tmp_path, progress=False)
    assert list(first) == ["without features", "identity + tags"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [name.rsplit("-", 1)[0] for name in names] == ["warp_search-ci", "warp_tags_search-ci"]
    tagged = first["identity + tags"].calls
    best = first["without features"].best
    assert tagged.iloc[0]["origin"] == "x0"
    assert tagged.iloc[0]["item_alpha"] == pytest.approx(min(max(best["alpha"], 1e-5), 1e-3))
    again = warp_searches(train, test, users, item_features=features, k=3, log_dir=tmp_path, progress=False)
    assert [r.n_resumed for r in again.values()] == [3, 3]  # read back, nothing run again
    assert again["identity + tags"].calls["p@k"].tolist() == tagged["p@k"].tolist()
    assert list(warp_searches(train, test, users, k=3, progress=False)) == ["without features"]


# ---------------------------------------------------------------- the learning-curve objective

CURVE_SPACE = {"learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6),
               "alpha": (1e-6, 1e-3, "log-uniform")}


def test_a_curve_call_scores_its_best_checkpoint_as_one_fit_of_those_epochs_would(split):
    from recasketch.tuning.objectives import CurveObjective

    train, test, users = split
    curve = CurveObjective(train, test, users, k=3, step=2, max_epochs=7, patience=2, random_state=0,
                           also={"p@k filtered": (test, train)})
    assert curve.epochs == [2, 4, 6, 7]
    point = {"learning_rate": 0.05, "no_components": 4, "alpha": 1e-4}
    scores = curve(point)
    assert scores["epochs"] in curve.epochs and scores["epochs"] <= scores["epochs trained"]
    one_fit = LightFMObjective(train, test, users, k=3, random_state=0)({**point, "epochs": scores["epochs"]})
    assert scores["p@k"] == pytest.approx(one_fit["p@k"])
    assert scores["p@k filtered"] == pytest.approx(one_fit["p@k filtered"])
    # every checkpoint up to where it stopped, brute force: the first best is kept
    by_epoch = [LightFMObjective(train, test, users, k=3, random_state=0)({**point, "epochs": e})["p@k"]
                for e in curve.epochs if e <= scores["epochs trained"]]
    assert scores["p@k"] == pytest.approx(max(by_epoch))
    assert scores["epochs"] == curve.epochs[int(np.argmax(by_epoch))]


def test_a_curve_search_logs_complete_points_and_resumes(split, tmp_path):
    from recasketch.tuning.objectives import CurveObjective

    train, test, users = split
    log = tmp_path / "curve-{key}.jsonl"
    objective = CurveObjective(train, test, users, k=3, step=2, max_epochs=6, patience=1, random_state=0)
    first = resumable_search(objective, CURVE_SPACE, 3, log_path=log, n_initial_points=2, random_state=0,
                             progress=False)
    assert {"epochs", "epochs trained"} <= set(first.calls.columns)
    assert first.calls["epochs"].isin([2, 4, 6]).all()
    again = resumable_search(objective, CURVE_SPACE, 4, log_path=log, n_initial_points=2, random_state=0,
                             progress=False)
    assert again.n_resumed == 3 and len(again.calls) == 4
    # other checkpoints are another key: another log, nothing of the first reused
    other = CurveObjective(train, test, users, k=3, step=3, max_epochs=6, patience=1, random_state=0)
    assert other.log_key() != objective.log_key()
    assert resumable_search(other, CURVE_SPACE, 2, log_path=log, n_initial_points=2, random_state=0,
                            progress=False).n_resumed == 0
    assert len(list(tmp_path.iterdir())) == 2


def test_a_curve_diverging_before_its_first_checkpoint_fails_and_after_it_keeps_its_best(split, monkeypatch):
    from lightfm import LightFM

    from recasketch.tuning.objectives import CurveObjective

    train, test, users = split
    original = LightFM.fit_partial
    seen = {"epochs": 0}

    def fit_partial(self, *args, **kwargs):
        seen["epochs"] += kwargs["epochs"]
        if seen["epochs"] > seen.get("limit", 10**9):
            raise ValueError("Not all estimated parameters are finite, your model may have diverged.")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LightFM, "fit_partial", fit_partial)
    curve = CurveObjective(train, test, users, k=3, step=2, max_epochs=6, patience=5, random_state=0)
    point = {"learning_rate": 0.05, "no_components": 4, "alpha": 1e-4}
    seen.update(epochs=0, limit=1)
    with pytest.raises(FitFailed, match="at epoch 2: Not all estimated"):
        curve(point)
    seen.update(epochs=0, limit=4)
    scores = curve(point)
    assert scores["epochs trained"] == 6 and scores["diverged at epoch"] == 6 and scores["epochs"] in (2, 4)


def test_curve_objective_guards(split):
    from recasketch.tuning.objectives import CurveObjective

    train, test, users = split
    with pytest.raises(ValueError, match="step must be an integer >= 1"):
        CurveObjective(train, test, users, step=0)
    with pytest.raises(ValueError, match="'epochs' is a score the objective records itself"):
        CurveObjective(train, test, users, also={"epochs": (test, None)})


def test_warp_search_at_a_curve_budget_reads_its_epochs_off_each_curve(tmp_path, split, monkeypatch):
    from recasketch.study import budgets, posts

    train, test, users = split
    space = {"epochs": (1, 4), "learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6),
             "alpha": (1e-6, 1e-3, "log-uniform")}
    plan = budgets.SearchBudget(space, 4, 2, "curve", 2, 1)
    monkeypatch.setattr(budgets, "warp_search", lambda budget, side_information=False: plan)
    result = posts.warp_search(train, test, users, budget="full", k=3, log_dir=tmp_path, progress=False)
    assert len(result.calls) == 4 and result.calls["epochs"].isin([2, 4]).all()
    assert {"p@k", "p@k filtered", "epochs trained"} <= set(result.calls.columns)
    assert "epochs" not in result.calls.columns[:result.calls.columns.get_loc("p@k")]  # a score, not searched
    [log] = tmp_path.iterdir()
    assert log.name.startswith("warp_search-full-")
    again = posts.warp_search(train, test, users, budget="full", k=3, log_dir=tmp_path, progress=False)
    assert again.n_resumed == 4


def test_a_curve_search_keeps_each_calls_model_where_fit_warp_reads_it(tmp_path, split, monkeypatch):
    from recasketch.parallel import cache
    from recasketch.study import budgets, experiment, posts

    train, test, users = split
    space = {"epochs": (1, 6), "learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6),
             "alpha": (1e-6, 1e-3, "log-uniform")}
    monkeypatch.setattr(budgets, "warp_search",
                        lambda budget, side_information=False: budgets.SearchBudget(space, 4, 2, "curve", 2, 1))
    result = posts.warp_search(train, test, users, budget="full", k=3, random_state=7, log_dir=tmp_path / "logs",
                               progress=False, cache_dir=tmp_path / "cache")
    calls = result.calls[result.calls.status == "ok"]
    points = calls[[name for name in space if name != "epochs"]].drop_duplicates()
    assert len(calls) >= 2 and len(list((tmp_path / "cache").iterdir())) == len(points)
    for _, call in calls.iterrows():
        _, path, key = experiment._warp_job(train, call, None, 7, 1, tmp_path / "cache")
        assert cache.is_stored(path, key)  # read back, not trained again
        kept = experiment.fit_warp(train, call, random_state=7, cache_dir=tmp_path / "cache")
        fresh = experiment.fit_warp(train, call, random_state=7)  # one fit of the call's best epochs
        assert np.array_equal(kept.model.item_embeddings, fresh.model.item_embeddings)
        assert np.array_equal(kept.model.user_biases, fresh.model.user_biases)
        assert kept.seconds > 0
        assert metrics.precision_at_k(kept.model, test, 3, users=users) == pytest.approx(call["p@k"])
    # another seed is another model: nothing of these is read for it
    _, path, key = experiment._warp_job(train, calls.iloc[0], None, 8, 1, tmp_path / "cache")
    assert not cache.is_stored(path, key)


def test_a_long_forest_search_prints_what_its_first_calls_project(tmp_path, split, monkeypatch, capsys):
    from recasketch.study import budgets, posts

    train, test, users = split
    space = {"epochs": (1, 4), "learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6),
             "alpha": (1e-6, 1e-3, "log-uniform")}
    plans = {"posts": budgets.SearchBudget(space, 5, 2), "short": budgets.SearchBudget(space, 3, 2)}
    monkeypatch.setattr(budgets, "warp_search", lambda budget, side_information=False: plans[budget])
    monkeypatch.setattr(posts, "PROJECTION_CALLS", 3)
    said = re.compile(r"The first 3 successful calls took \d+ s: the 5 calls of this search project to \d+ s on "
                      r"this machine\. It goes on\.")
    first = posts.warp_search(train, test, users, budget="posts", k=3, log_dir=tmp_path, progress=False)
    lines = [line for line in capsys.readouterr().out.splitlines() if "project" in line]
    assert len(lines) == 1 and said.fullmatch(lines[0])
    # resumed past its first calls, it says so at once, from the logged seconds, and runs nothing again
    again = posts.warp_search(train, test, users, budget="posts", k=3, log_dir=tmp_path, progress=False)
    assert again.n_resumed == 5 and [said.fullmatch(line) is not None
                                     for line in capsys.readouterr().out.splitlines() if "project" in line] == [True]
    # its log is the one the same search keeps without the projection
    [log] = tmp_path.iterdir()
    plans["posts"] = plans["short"]
    short = posts.warp_search(train, test, users, budget="posts", k=3, log_dir=tmp_path, progress=False)
    assert short.n_resumed == 5 and short.calls["p@k"].tolist() == first.calls["p@k"].tolist()
    assert list(tmp_path.iterdir()) == [log]


@pytest.mark.parametrize("method", ["curve", "forest"])
def test_warp_search_on_validation_records_test_beside_it(tmp_path, validation_split, monkeypatch, method):
    from recasketch.study import budgets, posts
    from recasketch.tuning.objectives import ValidationObjective

    train, validation, test, users = validation_split
    space = {"epochs": (1, 4), "learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6),
             "alpha": (1e-6, 1e-3, "log-uniform")}
    plan = budgets.SearchBudget(space, 4, 2, method, 2, 1)
    monkeypatch.setattr(budgets, "warp_search", lambda budget, side_information=False: plan)
    result = posts.warp_search(train, test, users, budget="ci", validation=validation, k=3, n_points=2,
                               log_dir=tmp_path, progress=False)
    [log] = tmp_path.iterdir()
    assert log.name.startswith("warp_search_validation-ci-")
    assert {"p@k", "test p@k"} <= set(result.calls.columns) and "p@k filtered" not in result.calls.columns
    best = result.best
    point = {name: best[name] for name in space}
    scores = ValidationObjective(train, validation, test, users, k=3)(point)  # one fit of the best point's epochs
    assert best["p@k"] == pytest.approx(scores["p@k"]) and best["test p@k"] == pytest.approx(scores["test p@k"])
