import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from lightfm import LightFM

from recasketch import metrics
from recasketch.split import train_test_split
from recasketch.tuning.grid import best_params, grid_search_learning_curve, read_grid_log
from recasketch.tuning.search_log import LogMismatchError
from recasketch.tuning.curves import format_log_row, learning_curve, train_more


def als(**kw):
    return AlternatingLeastSquares(factors=8, regularization=0.1, random_state=0, num_threads=1, **kw)


def test_learning_curve_is_incremental_training(split):
    train, test, users = split
    model = als()
    curve = learning_curve(model, train, test, [2, 5], user_index=users, verbose=False)
    fresh = als(iterations=5)
    fresh.fit(train, show_progress=False)
    np.testing.assert_allclose(model.item_factors, fresh.item_factors, rtol=1e-4, atol=1e-5)
    at5 = curve[(curve.epoch == 5) & (curve.metric == "p@k") & (curve.split == "test")].value.item()
    assert at5 == pytest.approx(metrics.precision_at_k(fresh, test, k=5, users=users), abs=1e-12)
    mse5 = curve[(curve.epoch == 5) & (curve.metric == "mse") & (curve.split == "train")].value.item()
    assert mse5 == pytest.approx(metrics.mse(fresh, train, users=users), rel=1e-5)
    assert set(curve.metric) == {"p@k", "mse", "seconds"}


def test_learning_curve_lightfm_matches_one_long_fit(split):
    train, test, users = split
    model = LightFM(no_components=5, loss="warp", random_state=3)
    learning_curve(model, train, test, [1, 3], user_index=users, verbose=False)
    fresh = LightFM(no_components=5, loss="warp", random_state=3)
    fresh.fit(sp.coo_matrix(train), epochs=3)
    np.testing.assert_allclose(model.item_embeddings, fresh.item_embeddings, rtol=1e-5)


def test_learning_curve_exclude_train_scores_the_filtered_protocol(split):
    train, test, users = split
    model = als()
    curve = learning_curve(model, train, test, [3], user_index=users, exclude_train=True, verbose=False)
    got = curve[(curve.metric == "p@k") & (curve.split == "test")].value.item()
    assert got == pytest.approx(metrics.precision_at_k(model, test, k=5, users=users, exclude=train))


def test_log_table_prints_a_boxed_row_per_checkpoint(split, capsys):
    train, test, users = split
    learning_curve(als(), train, test, [1, 2], user_index=users)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("+-") and lines[2].startswith("+=")
    assert "train p@5" in lines[1]
    assert sum(1 for line in lines if line.startswith("|")) == 3
    assert format_log_row([1, 0.5], spacing=8) == "|   1    | 0.50000 |\n+--------+--------+"


def test_guards(split):
    train, test, _ = split
    with pytest.raises(ValueError, match="increasing list"):
        learning_curve(als(), train, test, [4, 2], verbose=False)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        train_more(als(), train, 0)
    with pytest.raises(TypeError, match="Cannot train dict"):
        train_more({}, train, 1)
    with pytest.raises(ValueError, match="take no item_features"):
        train_more(als(), train, 1, item_features=sp.eye(60))


GRID = {"factors": [4, 8], "regularization": [0.01, 1.0]}


def test_grid_search_tidy_and_parallel_equals_serial(split, tmp_path):
    train, test, users = split
    base = {"random_state": 0, "num_threads": 1}
    serial = grid_search_learning_curve(base, GRID, train, test, [2, 4], user_index=users, n_jobs=1,
                                        progress=False)
    parallel = grid_search_learning_curve(base, GRID, train, test, [2, 4], user_index=users, n_jobs=2,
                                          progress=False)
    assert list(serial.columns) == ["factors", "regularization", "epoch", "metric", "split", "value"]
    quality = lambda df: df[df.metric != "seconds"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(quality(serial), quality(parallel), rtol=1e-4)
    assert len(quality(serial)) == 4 * 2 * 4  # combinations x epochs x (2 metrics x 2 splits)
    best = best_params(serial)
    top = quality(serial).query("metric == 'p@k' and split == 'test'").value.max()
    assert best["value"] == top and {"factors", "regularization", "epoch"} <= set(best.index)
    worst_mse = best_params(serial, metric="mse", split="train")
    assert worst_mse["value"] == quality(serial).query("metric == 'mse' and split == 'train'").value.min()


def test_validation_rows_score_the_same_models_as_the_test_rows(split, tmp_path):
    train, test, users = split
    # A second holdout from train: validation likes never seen by the model.
    train2, validation, _ = train_test_split(train, 2, None, random_state=1)
    model = als()
    curve = learning_curve(model, train2, test, [3], user_index=users, verbose=False, validation=validation)
    got = curve.query("metric == 'p@k' and split == 'validation'").value.item()
    assert got == pytest.approx(metrics.precision_at_k(model, validation, k=5, users=users))
    base = {"random_state": 0, "num_threads": 1}
    log = tmp_path / "grid-{key}.jsonl"
    plain = grid_search_learning_curve(base, GRID, train2, test, [2, 4], user_index=users, n_jobs=1,
                                       progress=False, log_path=log)
    assert "validation" not in set(plain.split)
    both = grid_search_learning_curve(base, GRID, train2, test, [2, 4], user_index=users, n_jobs=1,
                                      progress=False, log_path=log, validation=validation)
    # the grid with validation likes is another key, so it has a log of its own; the test rows agree
    assert len(list(tmp_path.glob("grid-*.jsonl"))) == 2
    rows = lambda df, s: df.query("metric == 'p@k' and split == @s").reset_index(drop=True)  # noqa: E731
    assert len(rows(both, "validation")) == len(rows(both, "test")) == 4 * 2
    pd.testing.assert_frame_equal(rows(both, "test"), rows(plain, "test"))
    assert not rows(both, "validation")["value"].equals(rows(both, "test")["value"])


class CountingALS:
    """Counts constructions (in this process) and can fail on one combination."""

    built = []
    fail_on = None

    def __new__(cls, **params):
        cls.built.append(params)
        if cls.fail_on is not None and params["factors"] == cls.fail_on:
            raise KeyboardInterrupt("simulated interruption")
        return AlternatingLeastSquares(**params)


def test_grid_search_resumes_after_interruption(split, tmp_path):
    train, test, users = split
    log = tmp_path / "grid.jsonl"
    base = {"random_state": 0, "num_threads": 1}
    CountingALS.built, CountingALS.fail_on = [], 8
    with pytest.raises(KeyboardInterrupt):
        grid_search_learning_curve(base, GRID, train, test, [2], user_index=users, estimator=CountingALS,
                                   n_jobs=1, log_path=log, progress=False)
    header, *finished = [json.loads(line) for line in log.read_text().splitlines()]
    assert header["log"] == "grid" and header["key"]["k"] == 5
    assert [r["params"]["factors"] for r in finished] == [4, 4]  # ParameterGrid runs factors=4 first

    with open(log, "a") as fh:  # a torn line, as a crash mid-write would leave
        fh.write('{"params": {"fact')
    CountingALS.built, CountingALS.fail_on = [], None
    results = grid_search_learning_curve(base, GRID, train, test, [2], user_index=users,
                                         estimator=CountingALS, n_jobs=1, log_path=log, progress=False)
    assert [p["factors"] for p in CountingALS.built] == [8, 8]  # only the unfinished ones ran
    assert results.groupby(["factors", "regularization"]).ngroups == 4
    again = read_grid_log(log)
    assert again.groupby(["factors", "regularization"]).ngroups == 4

    CountingALS.built = []
    grid_search_learning_curve(base, GRID, train, test, [2], user_index=users, estimator=CountingALS,
                               n_jobs=1, log_path=log, progress=False)
    assert CountingALS.built == []
    # different checkpoints are a different experiment: rerun
    grid_search_learning_curve(base, {"factors": [4], "regularization": [0.01]}, train, test, [2, 4],
                               user_index=users, estimator=CountingALS, n_jobs=1, log_path=log,
                               progress=False)
    assert len(CountingALS.built) == 1


def test_best_params_guard():
    with pytest.raises(ValueError, match="No rows with metric='p@k'"):
        best_params(pd.DataFrame(columns=["epoch", "metric", "split", "value"]))


def test_parameter_summary_on_a_hand_made_grid():
    from recasketch.tuning.grid import parameter_summary

    rows = [(f, a, e, "p@k", "test", v) for f, a, e, v in
            [(10, 1, 1, 0.10), (10, 1, 2, 0.05), (10, 50, 1, 0.30), (40, 1, 1, 0.12), (40, 50, 1, 0.20)]]
    results = pd.DataFrame(rows, columns=["factors", "alpha", "epoch", "metric", "split", "value"])
    out = parameter_summary(results)
    # per combination, best over epochs: (10,1) .10, (10,50) .30, (40,1) .12, (40,50) .20
    assert out["parameter"].tolist() == ["alpha", "alpha", "factors", "factors"]
    assert out["best"].tolist() == [0.12, 0.30, 0.30, 0.20]
    assert out["mean"].tolist() == pytest.approx([0.11, 0.25, 0.20, 0.16])
    assert out["spread"].tolist() == pytest.approx([0.14, 0.14, 0.04, 0.04])
    assert out["value"].tolist() == [1, 50, 10, 40]
    assert all(type(v) is int for v in out["value"])  # printed as 10, not 1.0000e+01
    mixed = parameter_summary(results.assign(alpha=results["alpha"] / 100))
    assert [type(v) for v in mixed["value"]] == [float, float, int, int]
    with pytest.raises(ValueError, match="No rows"):
        parameter_summary(results, split="train")


# --------------------------------------------------------------------- non-finite models


class DivergingALS(AlternatingLeastSquares):
    """implicit's ALS whose item factors turn NaN once it has trained 4 epochs without
    regularisation, as a diverged fit's would. Counts its constructions (in this process)."""

    built = []

    def __init__(self, **params):
        DivergingALS.built.append(params)
        super().__init__(**params)
        self.trained = 0

    def fit(self, user_items, show_progress=True, callback=None):
        super().fit(user_items, show_progress=show_progress)
        self.trained += self.iterations
        if self.regularization == 0 and self.trained >= 4:
            self.item_factors[:] = np.nan


def test_learning_curve_names_the_checkpoint_where_the_model_went_non_finite(split):
    train, test, users = split
    model = DivergingALS(factors=4, regularization=0.0, random_state=0, num_threads=1)
    with pytest.raises(metrics.NonFiniteModelError,
                       match="At epoch 5: The DivergingALS model's item factors hold 240 NaN") as info:
        learning_curve(model, train, test, [2, 5, 8], user_index=users, verbose=False)
    assert info.value.epoch == 5


def test_learning_curve_turns_lightfms_divergence_into_a_non_finite_model_error(split, monkeypatch):
    train, test, users = split

    def diverge(self, *args, **kwargs):
        raise ValueError("Not all estimated parameters are finite, your model may have diverged.")

    monkeypatch.setattr(LightFM, "fit_partial", diverge)
    with pytest.raises(metrics.NonFiniteModelError,
                       match="At epoch 3: LightFM's fit diverged: Not all estimated parameters") as info:
        learning_curve(LightFM(), train, test, [3], user_index=users, verbose=False)
    assert info.value.epoch == 3

    def broken(self, *args, **kwargs):
        raise ValueError("something else")

    monkeypatch.setattr(LightFM, "fit_partial", broken)
    with pytest.raises(ValueError, match="something else"):
        learning_curve(LightFM(), train, test, [3], user_index=users, verbose=False)


NO_REGULARISATION = {"factors": [4, 8], "regularization": [0.0, 0.1]}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_non_finite_combination_fails_alone_is_logged_and_not_rerun(split, tmp_path, n_jobs):
    from recasketch.tuning.grid import FAILED, parameter_summary

    train, test, users = split
    log = tmp_path / "grid.jsonl"
    base = {"random_state": 0, "num_threads": 1}
    with pytest.warns(RuntimeWarning, match=r"2 of 4 combinations failed.*\"regularization\": 0\.0"):
        results = grid_search_learning_curve(base, NO_REGULARISATION, train, test, [2, 4, 6],
                                             user_index=users, estimator=DivergingALS, n_jobs=n_jobs,
                                             log_path=log, progress=False)
    # one row per failed combination, at the checkpoint where it failed, with the reason
    failed = results[results.metric == FAILED]
    assert failed[["factors", "regularization", "epoch"]].values.tolist() == [[4, 0.0, 4], [8, 0.0, 4]]
    assert failed["split"].str.match("At epoch 4: The DivergingALS model's item factors hold").all()
    assert failed["value"].isna().all()
    # the others are complete, and the failed ones have no score
    scores = results[results.metric != FAILED]
    assert set(scores.regularization) == {0.1}
    assert len(scores[scores.metric != "seconds"]) == 2 * 3 * 4
    assert best_params(results)["regularization"] == 0.1
    assert set(best_params(results, metric="mse", split="train").index) >= {"factors", "epoch"}
    summary = parameter_summary(results)
    assert summary.loc[summary.parameter == "regularization", "value"].tolist() == [0.1]

    records = {(r["params"]["factors"], r["params"]["regularization"]): r
               for r in map(json.loads, log.read_text().splitlines()[1:])}
    assert len(records) == 4
    for (factors, regularization), record in records.items():
        if regularization == 0.0:
            assert record["status"] == "failed"
            assert record["reason"].startswith("At epoch 4: The DivergingALS model's item factors")
        else:
            assert "status" not in record  # a finished combination is logged as before

    # resuming runs nothing again, failed combinations included, and reads the same table
    DivergingALS.built = []
    with pytest.warns(RuntimeWarning, match="2 of 4 combinations failed"):
        again = grid_search_learning_curve(base, NO_REGULARISATION, train, test, [2, 4, 6],
                                           user_index=users, estimator=DivergingALS, n_jobs=1,
                                           log_path=log, progress=False)
    assert DivergingALS.built == []
    pd.testing.assert_frame_equal(again, results)
    logged = read_grid_log(log, ["factors", "regularization"])
    logged = logged.sort_values(["factors", "regularization"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(logged, results)


def test_a_log_written_before_logs_had_keys_is_read_but_not_resumed(split, tmp_path):
    """A log without a header cannot be checked against the grid that opens it: it is read back
    by read_grid_log, but a grid refuses to resume from it and runs nothing."""
    train, test, users = split
    log = tmp_path / "grid.jsonl"
    curve = {"epoch": [2, 2], "metric": ["p@k", "p@k"], "split": ["train", "test"],
             "value": [0.5, 0.25]}
    old = {"params": {"factors": 4, "num_threads": 1, "random_state": 0, "regularization": 0.1},
           "epochs": [2], "curve": curve}
    log.write_text(json.dumps(old) + "\n")
    assert read_grid_log(log, ["factors", "regularization"]).value.tolist() == [0.5, 0.25]
    DivergingALS.built = []
    with pytest.raises(LogMismatchError, match="written before logs carried the key.*1 combination"):
        grid_search_learning_curve({"random_state": 0, "num_threads": 1},
                                   {"factors": [4], "regularization": [0.1]}, train, test, [2],
                                   user_index=users, estimator=DivergingALS, n_jobs=1,
                                   log_path=log, progress=False)
    assert DivergingALS.built == [] and json.loads(log.read_text()) == old  # nothing run, nothing written


