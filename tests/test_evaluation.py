"""Tests of the evaluation-study helpers: intervals, choosing on validation, sentences."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from lightfm import LightFM

from recasketch import metrics
from recasketch.study import evaluation as study
from recasketch.models.baselines import Popularity, TagsOnly
from recasketch.study.evaluation import Fitted, fit_timed


@pytest.fixture(scope="module")
def split(validation_split):
    return validation_split


def test_score_with_ci_matches_the_metrics_and_brackets_the_mean(split):
    train, validation, test, users = split
    model = Popularity().fit(train)
    table = study.score_with_ci(model, test, users, exclude=train, n_boot=200, random_state=1)
    assert set(table.protocol) == set(study.PROTOCOLS)
    assert set(table.metric) == set(study.METRICS)
    row = table[(table.protocol == study.PROTOCOLS[1]) & (table.metric == "nDCG@10")].iloc[0]
    assert row["mean"] == pytest.approx(metrics.ndcg_at_k(model, test, 10, users=users, exclude=train))
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()
    again = study.score_with_ci(model, test, users, exclude=train, n_boot=200, random_state=1)
    pd.testing.assert_frame_equal(table, again)
    with pytest.raises(ValueError, match="Unknown metrics"):
        study.score_with_ci(model, test, users, metric_names=["hit rate"])


def test_evaluate_tables_models_and_refuses_bare_models(split):
    train, validation, test, users = split
    als = fit_timed(lambda: AlternatingLeastSquares(factors=4, iterations=3, random_state=0, num_threads=1),
                    lambda m: m.fit(train, show_progress=False))
    table = study.evaluate({"pop": fit_timed(Popularity, lambda m: m.fit(train)), "als": als}, test, users,
                           metric_names=["p@5"], n_boot=50)
    assert table["model"].tolist() == ["pop", "als"]
    assert (table["fit s"] >= 0).all()
    with pytest.raises(TypeError, match="Fitted"):
        study.evaluate({"pop": Popularity().fit(train)}, test, users)
    with pytest.raises(ValueError, match="empty"):
        study.evaluate({}, test, users)


def test_select_on_validation_picks_each_way_and_measures_optimism():
    grid = pd.DataFrame({"a": [1, 2, 3, 4], "validation": [0.3, 0.5, 0.4, np.nan],
                         "test": [0.35, 0.45, 0.5, 0.9]})
    picked = study.select_on_validation(grid, ["a"])
    assert picked["a"].tolist() == [2, 3]  # the NaN row is never chosen
    assert picked.attrs["optimism"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="lacks columns"):
        study.select_on_validation(grid, ["b"])


def test_ranking_sentence_says_no_clear_difference_where_intervals_overlap():
    table = pd.DataFrame({"model": ["x", "y", "z"], "metric": "AUC", "protocol": "p",
                          "mean": [0.70, 0.80, 0.60], "low": [0.65, 0.74, 0.55], "high": [0.75, 0.86, 0.64]})
    sentence = study.ranking_sentence(table, "AUC", "p")
    assert sentence.startswith("By AUC, y scores highest")
    assert "no clear difference from x" in sentence and "clearly above z" in sentence
    table.loc[0, "high"] = 0.73  # x's interval no longer reaches y's
    assert "clearly above x (0.7000), z" in study.ranking_sentence(table, "AUC")
    with pytest.raises(ValueError, match="No rows"):
        study.ranking_sentence(table, "p@5")


@pytest.mark.parametrize("learning_rate", [0.05, 0.5])
def test_epochs_on_validation_keeps_the_model_of_the_best_checkpoint(split, learning_rate):
    train, validation, test, users = split
    make = lambda: LightFM(no_components=4, loss="warp", learning_rate=learning_rate, random_state=3)  # noqa: E731
    epochs = [1, 3, 6, 12, 24]
    best, fitted, curve = study.epochs_on_validation(make, train, validation, users, epochs, k=5)
    assert list(curve.epoch) == epochs
    assert best == int(curve.loc[curve.validation.idxmax(), "epoch"])
    got = metrics.precision_at_k(fitted.model, validation, 5, users=users)
    assert got == pytest.approx(curve.validation.max())
    # the kept copy is the model a fresh fit to the best epoch gives (one thread), not the last one
    fresh = make()
    fresh.fit_partial(sp.coo_matrix(train), epochs=best, num_threads=1)
    np.testing.assert_array_equal(fitted.model.item_embeddings, fresh.item_embeddings)
    assert fitted.seconds > 0


def test_epochs_on_validation_can_choose_an_early_checkpoint(split):
    train, validation, test, users = split
    make = lambda: LightFM(no_components=4, loss="warp", learning_rate=0.5, random_state=3)  # noqa: E731
    best, fitted, curve = study.epochs_on_validation(make, train, validation, users, [1, 3, 6, 12, 24], k=5)
    assert best < 24   # this setting peaks early, so keeping the last model would be wrong
    last = make()
    last.fit_partial(sp.coo_matrix(train), epochs=24, num_threads=1)
    assert not np.array_equal(fitted.model.item_embeddings, last.item_embeddings)


def test_restrict_items_ranks_only_those_items(split):
    train, validation, test, users = split
    items = np.array([3, 7, 20, 40])
    model = TagsOnly().fit(train, sp.random(50, 12, density=0.3, random_state=0, format="csr"))
    restricted = study.restrict_items(Fitted(model), items)
    sub = test[:, items]
    ok = users[np.diff(sub[users].indptr) > 0]
    got = metrics.precision_at_k(restricted.model, sub, 2, users=ok, per_user=True)
    user_vectors, item_vectors = metrics.as_factors(model)
    scores = (user_vectors @ item_vectors.T).toarray()[np.ix_(ok, items)]
    top = np.argsort(-scores, axis=1, kind="stable")[:, :2]
    expected = np.take_along_axis(sub[ok].toarray(), top, axis=1).sum(axis=1) / 2
    np.testing.assert_allclose(got, expected)


def test_small_grid_scores_every_combination(split):
    train, validation, test, users = split

    def build(params):
        return fit_timed(lambda: AlternatingLeastSquares(factors=params["factors"], iterations=2, random_state=0,
                                                         num_threads=1), lambda m: m.fit(train, show_progress=False))

    table = study.small_grid(build, {"factors": [2, 6]}, validation, test, users)
    assert table["factors"].tolist() == [2, 6]
    fitted = build({"factors": 6})
    assert table["validation"].iloc[1] == pytest.approx(metrics.precision_at_k(fitted.model, validation, 5, users=users))


def test_tag_truth_counts_topic_tags():
    features = pd.DataFrame({"mid": ["a", "a", "b", "c"], "type": ["tag", "tag", "tag", "category"],
                             "value": ["car", "blender", "dragon", "Vehicles"]})
    topics = pd.DataFrame({"mid": ["a", "b", "c"], "topic": ["cars", "cars", "cars"]})
    truth = study.tag_truth(features, topics)
    assert truth["models with tags"] == pytest.approx(2 / 3)
    assert truth["tags naming a topic"] == pytest.approx(2 / 3)  # car, dragon; blender names none
    assert truth["of those, the model's own topic"] == pytest.approx(1 / 2)  # dragon is not a car tag


def test_optimism_sentence_follows_the_interval():
    from types import SimpleNamespace

    from recasketch.study.evaluation import optimism_sentence

    clear = optimism_sentence("WARP search", 0.06, 0.05, {"mean": 0.01, "low": 0.002, "high": 0.02})
    assert clear.endswith("clearly optimistic.") and "+0.0100 p@5 points" in clear
    unclear = optimism_sentence("WARP search", 0.06, 0.05, SimpleNamespace(mean=0.01, low=-0.001, high=0.02))
    assert "not clearly optimistic" in unclear
    better = optimism_sentence("ALS grid", 0.05, 0.06, {"mean": -0.01, "low": -0.02, "high": -0.001})
    assert "clearly pessimistic" in better and "0.0500" in better and "0.0600" in better
    same = optimism_sentence("WARP search", 0.05, 0.05, {"mean": 0.0, "low": 0.0, "high": 0.0})
    assert "the two choices score the same for every user" in same
