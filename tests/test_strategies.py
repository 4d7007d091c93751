"""The three tuning strategies of recasketch.tuning.strategies, on a tiny likes matrix."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from lightfm import LightFM

from recasketch import metrics
from recasketch.tuning.search_log import WORST_VALUE
from recasketch.tuning.strategies import (CALL_COLUMNS, STRATEGIES, best_so_far_curve, compare_strategies,
                                          forest_search, learning_curve_search, random_search)
from recasketch.split import train_test_split

SPACE = {
    "epochs": (1, 6),
    "learning_rate": (0.01, 0.3, "log-uniform"),
    "no_components": (2, 6),
    "alpha": (1e-6, 1e-2, "log-uniform"),
}
PARAMS = ["learning_rate", "no_components", "alpha"]
SEED = 0
DIVERGED = "Not all estimated parameters are finite, your model may have diverged."


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    # two blocks of users and items so there is something to learn
    dense = np.zeros((60, 40), dtype=np.float32)
    dense[:30, :20] = rng.random((30, 20)) < 0.4
    dense[30:, 20:] = rng.random((30, 20)) < 0.4
    dense[rng.random(dense.shape) < 0.03] = 1
    return train_test_split(sp.csr_matrix(dense), 3, 0.3, random_state=0)


def compare(split, **kw):
    train, validation, users = split
    options = dict(max_calls=4, n_initial_points=2, step=2, patience=1, progress=False,
                   random_state=SEED)
    options.update(kw)
    return compare_strategies(train, validation, users, SPACE, **options)


@pytest.fixture(scope="module")
def calls(split):
    return compare(split)


def lightfm(row):
    """The unfitted model of a call's point."""
    return LightFM(loss="warp", random_state=SEED, learning_rate=row.learning_rate,
                   no_components=int(row.no_components), user_alpha=row.alpha, item_alpha=row.alpha)


def p_at_5(split, model):
    _, validation, users = split
    return metrics.precision_at_k(model, validation, 5, users=users)


def refit(split, row, epochs):
    """The model a call scored, trained again in one go."""
    return lightfm(row).fit(sp.coo_matrix(split[0]), epochs=int(epochs), num_threads=1)


def test_every_strategy_gives_one_row_per_call_with_the_documented_columns(calls):
    assert list(calls.columns) == ["strategy", "call", *PARAMS, *CALL_COLUMNS[2:]]
    assert calls["strategy"].unique().tolist() == list(STRATEGIES)
    for _, group in calls.groupby("strategy"):
        assert group["call"].tolist() == [0, 1, 2, 3]
        assert (group["status"] == "ok").all() and group["reason"].isna().all()
        assert (group["seconds"] > 0).all() and group["elapsed"].is_monotonic_increasing
        assert (group["elapsed"] >= group["seconds"].cumsum() - 1e-9).all()
    assert calls["learning_rate"].between(0.01, 0.3).all()
    assert calls["no_components"].between(2, 6).all()


def test_best_so_far_is_the_running_maximum_of_the_values(calls):
    for _, group in calls.groupby("strategy"):
        np.testing.assert_allclose(group["best_so_far"], group["value"].cummax())


def test_full_fit_strategies_score_the_points_epochs_as_one_fit_would(split, calls):
    rows = calls[calls["strategy"] != "learning curve"]
    assert (rows["epochs_used"] == rows["epochs_trained"]).all()
    assert rows["epochs_used"].between(1, 6).all()
    for row in rows.itertuples():
        assert row.value == pytest.approx(p_at_5(split, refit(split, row, row.epochs_used)))


def test_learning_curve_keeps_the_first_best_checkpoint_and_stops_after_patience(split, calls):
    rows = calls[calls["strategy"] == "learning curve"]
    checkpoints = [2, 4, 6]
    for row in rows.itertuples():
        # brute force: score a fresh model at every checkpoint up to where the call stopped
        model = lightfm(row)
        scores, done = [], 0
        for epoch in checkpoints:
            model.fit_partial(sp.coo_matrix(split[0]), epochs=epoch - done, num_threads=1)
            done = epoch
            scores.append(p_at_5(split, model))
            if epoch == row.epochs_trained:
                break
        assert row.epochs_used == checkpoints[int(np.argmax(scores))]
        assert row.value == pytest.approx(max(scores))
        # patience=1: it stopped at the first checkpoint without a rise, or at the last one
        rises = [b > max(scores[:i + 1]) for i, b in enumerate(scores[1:])]
        assert all(rises[:-1]) and (not rises or not rises[-1] or row.epochs_trained == 6)
        # the best checkpoint is the model one fit of that many epochs gives
        assert row.value == pytest.approx(p_at_5(split, refit(split, row, row.epochs_used)))


def scripted(monkeypatch, values):
    """Make every validation score come from ``values``, in order."""
    script = iter(values)
    monkeypatch.setattr(metrics, "precision_at_k", lambda *args, **kwargs: next(script))


def test_learning_curve_early_stopping_on_scripted_scores(split, monkeypatch):
    train, validation, users = split
    # a tie is no rise: after the best at epoch 2, epochs 3 and 4 exhaust patience=2
    scripted(monkeypatch, [0.1, 0.3, 0.2, 0.3, 0.9, 0.9])
    row = learning_curve_search(train, validation, users, SPACE, max_calls=1, step=1, patience=2,
                                progress=False, random_state=SEED).iloc[0]
    assert (row["epochs_used"], row["epochs_trained"], row["value"]) == (2, 4, 0.3)

    # scores that only fall stop after one checkpoint past the first with patience=1
    scripted(monkeypatch, [0.3, 0.2, 0.1, 0.0, 0.0, 0.0])
    row = learning_curve_search(train, validation, users, SPACE, max_calls=1, step=1, patience=1,
                                progress=False, random_state=SEED).iloc[0]
    assert (row["epochs_used"], row["epochs_trained"], row["value"]) == (1, 2, 0.3)

    # max_epochs is always the last checkpoint, even off the step
    scripted(monkeypatch, [0.1, 0.2, 0.3])
    row = learning_curve_search(train, validation, users, SPACE, max_calls=1, step=2, max_epochs=5,
                                patience=5, progress=False, random_state=SEED).iloc[0]
    assert (row["epochs_used"], row["epochs_trained"]) == (5, 5)


def diverge_above(monkeypatch, learning_rate):
    """LightFM raises its divergence error for learning rates above ``learning_rate``."""
    original = LightFM.fit_partial

    def fit_partial(self, *args, **kwargs):
        if self.learning_rate > learning_rate:
            raise ValueError(DIVERGED)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LightFM, "fit_partial", fit_partial)


def test_diverged_calls_are_failed_with_the_worst_value_and_the_search_goes_on(split, monkeypatch):
    diverge_above(monkeypatch, 0.05)
    calls = compare(split, max_calls=5)
    failed = calls[calls["status"] == "failed"]
    ok = calls[calls["status"] == "ok"]
    assert len(failed) and len(ok) and calls.groupby("strategy").size().eq(5).all()
    assert (failed["learning_rate"] > 0.05).all() and (ok["learning_rate"] <= 0.05).all()
    assert (failed["value"] == -WORST_VALUE).all() and failed["epochs_used"].isna().all()
    assert failed["reason"].str.contains("Not all estimated parameters are finite").all()
    lc = failed[failed["strategy"] == "learning curve"]
    assert (lc["epochs_trained"] == 2).all()  # it diverged at the first checkpoint
    for _, group in calls.groupby("strategy"):
        best = group["value"].where(group["status"] == "ok").cummax().ffill()
        np.testing.assert_allclose(group["best_so_far"], best)  # NaN until the first ok call

    # a search where every call fails still returns its calls
    diverge_above(monkeypatch, 0.0)
    train, validation, users = split
    every = random_search(train, validation, users, SPACE, max_calls=3, progress=False,
                          random_state=SEED)
    assert (every["status"] == "failed").all() and every["best_so_far"].isna().all()
    assert best_so_far_curve(every).empty


def test_learning_curve_diverging_after_a_checkpoint_keeps_its_best(split, monkeypatch):
    original = LightFM.fit_partial

    def fit_partial(self, *args, **kwargs):
        self.n_partial = getattr(self, "n_partial", 0) + 1
        if self.n_partial == 3:
            raise ValueError(DIVERGED)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LightFM, "fit_partial", fit_partial)
    train, validation, users = split
    row = learning_curve_search(train, validation, users, SPACE, max_calls=1, step=1, patience=5,
                                progress=False, random_state=SEED).iloc[0]
    assert row["status"] == "ok" and row["epochs_trained"] == 3 and row["epochs_used"] in (1, 2)
    assert "diverged at epoch 3" in row["reason"] and row["value"] == row["best_so_far"]


def test_factors_whose_scores_would_overflow_fail(split, monkeypatch):
    original = LightFM.fit_partial

    def fit_partial(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.item_embeddings *= np.float32(1e30)
        self.user_embeddings *= np.float32(1e30)
        return self

    monkeypatch.setattr(LightFM, "fit_partial", fit_partial)
    train, validation, users = split
    row = forest_search(train, validation, users, SPACE, max_calls=1, progress=False).iloc[0]
    assert row["status"] == "failed" and "beyond float32's range" in row["reason"]


def test_same_seed_same_calls_other_seed_other_points(split, calls):
    again = compare(split)
    timing = ["seconds", "elapsed"]
    pd.testing.assert_frame_equal(calls.drop(columns=timing), again.drop(columns=timing))
    other = compare(split, random_state=SEED + 1, strategies=["random"])
    mine = calls[calls["strategy"] == "random"]
    assert not np.allclose(other["learning_rate"], mine["learning_rate"])


def test_the_time_budget_stops_launching_calls(split):
    train, validation, users = split
    budget = 0.3
    for name, strategy in STRATEGIES.items():
        calls = strategy(train, validation, users, SPACE, time_budget_s=budget, progress=False,
                         random_state=SEED)
        # every call but the last began before the budget was spent, and it did stop
        assert (calls["elapsed"].iloc[:-1] < budget).all(), name
        # a budget spent by the first call leaves that call alone
        one = strategy(train, validation, users, SPACE, time_budget_s=1e-9, progress=False,
                       random_state=SEED)
        assert len(one) == 1, name
    # max_calls caps a search whose budget is not spent
    capped = random_search(train, validation, users, SPACE, time_budget_s=60, max_calls=2,
                           progress=False)
    assert len(capped) == 2


def test_item_features_train_and_score(split):
    train, validation, users = split
    features = sp.hstack([sp.identity(40), sp.random(40, 5, density=0.3, random_state=0)]).tocsr()
    for strategy in STRATEGIES.values():
        calls = strategy(train, validation, users, SPACE, max_calls=1, item_features=features,
                         progress=False)
        assert calls["status"].tolist() == ["ok"]


def test_best_so_far_curve_steps_to_the_end_of_each_strategy(calls):
    curve = best_so_far_curve(calls, until=100.0)
    assert curve["strategy"].unique().tolist() == list(STRATEGIES)
    for name, steps in curve.groupby("strategy"):
        group = calls[calls["strategy"] == name]
        assert steps["best_so_far"].is_monotonic_increasing
        assert steps["elapsed"].is_monotonic_increasing
        assert steps["best_so_far"].iloc[-1] == group["best_so_far"].iloc[-1]
        assert steps["elapsed"].iloc[-1] == 100.0
        assert steps["elapsed"].iloc[0] == group.loc[group["status"] == "ok", "elapsed"].iloc[0]
    assert best_so_far_curve(calls)["elapsed"].max() == calls["elapsed"].max()


def test_a_comparison_with_a_cache_dir_reruns_only_what_is_missing_or_changed(split, calls, tmp_path, monkeypatch):
    from recasketch.tuning import strategies as search_strategies

    first = compare(split, cache_dir=tmp_path)
    kept = sorted(p.name.rsplit("-", 1)[0] for p in tmp_path.iterdir())  # each named by its key too
    assert kept == ["strategy-forest", "strategy-learning-curve", "strategy-random"]
    pd.testing.assert_frame_equal(first.drop(columns=["seconds", "elapsed"]),
                                  calls.drop(columns=["seconds", "elapsed"]))
    ran = []

    def counted(name):
        original = search_strategies.STRATEGIES[name]
        return lambda *args, **kw: ran.append(name) or original(*args, **kw)

    for name in list(search_strategies.STRATEGIES):
        monkeypatch.setitem(search_strategies.STRATEGIES, name, counted(name))
    pd.testing.assert_frame_equal(compare(split, cache_dir=tmp_path), first)  # all three read back, clocks too
    assert ran == []
    next(tmp_path.glob("strategy-learning-curve-*.pkl")).unlink()  # as if interrupted during the second strategy
    again = compare(split, cache_dir=tmp_path)
    assert ran == ["learning curve"]
    pd.testing.assert_frame_equal(again.drop(columns=["seconds", "elapsed"]),
                                  first.drop(columns=["seconds", "elapsed"]))
    compare(split, cache_dir=tmp_path, max_calls=3)  # another budget: every strategy runs again
    assert ran == ["learning curve", "forest", "learning curve", "random"]
    assert len(list(tmp_path.iterdir())) == 6  # kept beside the first budget's, not over them
    compare(split, cache_dir=tmp_path)
    assert len(ran) == 4  # the first budget's are all still there
    train, validation, users = split
    other = validation.copy()
    other.data[0] = 0.0  # other validation likes: run again
    compare_strategies(train, other, users, SPACE, max_calls=3, n_initial_points=2, step=2, patience=1,
                       progress=False, random_state=SEED, cache_dir=tmp_path, strategies=["random"])
    assert ran[-1] == "random" and len(ran) == 5

def test_guards(split):
    train, validation, users = split
    args = (train, validation, users)
    with pytest.raises(ValueError, match="Give time_budget_s"):
        forest_search(*args, SPACE, progress=False)
    with pytest.raises(ValueError, match="time_budget_s must be a number of seconds > 0"):
        random_search(*args, SPACE, time_budget_s=0, progress=False)
    with pytest.raises(ValueError, match="max_calls must be an integer >= 1"):
        random_search(*args, SPACE, max_calls=0, progress=False)
    no_epochs = {k: v for k, v in SPACE.items() if k != "epochs"}
    with pytest.raises(ValueError, match="needs an 'epochs' dimension"):
        forest_search(*args, no_epochs, max_calls=1, progress=False)
    with pytest.raises(ValueError, match="must be an integer range"):
        random_search(*args, {**SPACE, "epochs": (1.0, 6.0)}, max_calls=1, progress=False)
    with pytest.raises(ValueError, match="needs an 'epochs' dimension"):
        learning_curve_search(*args, no_epochs, max_calls=1, progress=False)
    with pytest.raises(ValueError, match="step must be an integer >= 1"):
        learning_curve_search(*args, SPACE, max_calls=1, step=0, progress=False)
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        learning_curve_search(*args, SPACE, max_calls=1, patience=0, progress=False)
    with pytest.raises(ValueError, match="nothing left to search"):
        learning_curve_search(*args, {"epochs": (1, 6)}, max_calls=1, progress=False)
    with pytest.raises(ValueError, match="Unknown or no strategies"):
        compare_strategies(*args, SPACE, max_calls=1, strategies=["grid"], progress=False)
    with pytest.raises(ValueError, match="calls lacks the columns"):
        best_so_far_curve(pd.DataFrame({"elapsed": [1.0]}))


def test_without_epochs_in_space_the_learning_curve_takes_max_epochs(split):
    train, validation, users = split
    no_epochs = {k: v for k, v in SPACE.items() if k != "epochs"}
    calls = learning_curve_search(train, validation, users, no_epochs, max_calls=1, step=3,
                                  max_epochs=3, progress=False, random_state=SEED)
    assert calls["epochs_trained"].tolist() == [3]


def test_time_to_best_is_when_the_final_best_was_found():
    import pandas as pd

    from recasketch.tuning.strategies import time_to_best

    calls = pd.DataFrame({
        "strategy": ["forest"] * 4 + ["random"] * 3 + ["learning curve"],
        "call": [0, 1, 2, 3, 0, 1, 2, 0],
        "elapsed": [5.0, 9.0, 14.0, 20.0, 2.0, 4.0, 6.0, 3.0],
        "value": [0.1, 0.3, 0.3, 0.2, 0.05, 0.04, 0.06, 0.0],
        "status": ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "failed"],
    })
    table = time_to_best(calls)
    assert list(table.index) == ["forest", "random"]  # no successful call, no row
    assert table.loc["forest", "seconds"] == 9.0 and table.loc["forest", "call"] == 1  # a tie keeps the first
    assert table.loc["random", "best"] == 0.06 and table.loc["random", "seconds"] == 6.0
    assert table.loc["forest", "calls"] == 4 and table.loc["forest", "total seconds"] == 20.0


def test_recommend_picks_the_soonest_strategy_without_a_clear_difference_from_the_top():
    from recasketch.tuning.strategies import recommend

    table = pd.DataFrame({"seconds": [1500.0, 400.0, 90.0], "call": [20, 6, 2],
                          "test p@5 mean": [0.050, 0.049, 0.030], "test p@5 low": [0.046, 0.045, 0.026],
                          "test p@5 high": [0.054, 0.053, 0.034]},
                         index=pd.Index(["forest", "learning curve", "random"], name="strategy"))
    # random is the soonest of all but clearly below: the soonest of the two that tie wins
    assert recommend(table).startswith("Use learning curve: its test p@5 (0.0490")
    assert "no clear difference from the highest, forest (0.0500)" in recommend(table)
    # when the top one is also the soonest of those tied, it says so
    sooner = table.assign(seconds=[300.0, 400.0, 90.0])
    assert recommend(sooner).startswith("Use forest: its test p@5 (0.0500, 95 % CI 0.0460–0.0540) is the highest, "
                                        "with no clear difference from learning curve")
    alone = table.assign(**{"test p@5 low": [0.0495, 0.045, 0.026], "test p@5 high": [0.054, 0.049, 0.034]})
    assert "is clearly the highest" in recommend(alone)
    assert recommend(table, search_seconds=3 * 3600, search_calls=250).endswith(
        "the full search above spent 3.0 h fitting and scoring its 250 calls.")
    assert "after 90 s (call 3)" in recommend(table.assign(**{"test p@5 mean": [0.02, 0.02, 0.03]}))
    with pytest.raises(ValueError, match="lacks the columns"):
        recommend(table.drop(columns="test p@5 low"))


def test_strategies_side_by_side_make_the_same_calls_and_keep_them(split, calls, tmp_path):
    # one spawned process per strategy; with a fixed number of calls they draw and score the same points
    together = compare(split, side_by_side=True, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(together.drop(columns=["seconds", "elapsed"]),
                                  calls.drop(columns=["seconds", "elapsed"]))
    assert len(list(tmp_path.glob("strategy-*.pkl"))) == 3
    pd.testing.assert_frame_equal(compare(split, side_by_side=True, cache_dir=tmp_path), together)  # read back
    next(tmp_path.glob("strategy-forest-*.pkl")).unlink()
    again = compare(split, side_by_side=True, cache_dir=tmp_path)   # only forest runs, here
    pd.testing.assert_frame_equal(again[again.strategy != "forest"], together[together.strategy != "forest"])
    pd.testing.assert_frame_equal(again.drop(columns=["seconds", "elapsed"]),
                                  together.drop(columns=["seconds", "elapsed"]))


def test_each_strategys_best_call_keeps_its_model_where_fit_warp_reads_it(split, calls, tmp_path):
    from recasketch.study.experiment import KeepWarp, fit_warp

    train = split[0]
    keep = KeepWarp(train, random_state=SEED, cache_dir=tmp_path)
    kept = compare(split, side_by_side=True, on_best=keep)   # in the strategies' own processes
    pd.testing.assert_frame_equal(kept.drop(columns=["seconds", "elapsed"]), calls.drop(columns=["seconds", "elapsed"]))
    ok = kept[kept.status == "ok"]
    reached = ok[ok["value"] == ok["best_so_far"]]   # ties too: the last of equal calls is the one chosen below
    n_models = len(reached.drop_duplicates([*PARAMS, "epochs_used"]))   # forest and random share their random start
    assert len(list(tmp_path.glob("warp-*.pkl"))) == n_models   # one model per point that reached a best
    for _, row in ok.sort_values("value").groupby("strategy").tail(1).iterrows():
        point = {name: row[name] for name in PARAMS} | {"epochs": int(row["epochs_used"])}
        fitted = fit_warp(train, point, random_state=SEED, cache_dir=tmp_path)
        direct = refit(split, row, row["epochs_used"])
        np.testing.assert_array_equal(fitted.model.item_embeddings, direct.item_embeddings)
        np.testing.assert_array_equal(fitted.model.user_biases, direct.user_biases)
        assert p_at_5(split, fitted.model) == pytest.approx(row["value"])
    assert len(list(tmp_path.glob("warp-*.pkl"))) == n_models   # read back, none trained again
