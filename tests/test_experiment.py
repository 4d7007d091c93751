"""Tests of the notebooks' recurring steps: prepare, the fits kept in a cache, the baselines' grids."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from recasketch import build_interactions, load_dataset, metrics, threshold_interactions, train_test_split
from recasketch.preprocess import build_item_features, drop_repeated_features
from recasketch.split import train_validation_test_split
from recasketch.study import experiment


def test_prepare_is_the_long_form_of_notebook_01(capsys):
    prepared = experiment.prepare("sample", random_state=2016, verbose=False)
    dataset = load_dataset("sample")
    core = threshold_interactions(dataset.likes.drop_duplicates(), verbose=False)
    inter = build_interactions(core)
    train, test, users = train_test_split(inter.matrix, split_count=5, fraction=0.2, random_state=2016)
    assert capsys.readouterr().out.strip() == dataset.description
    assert (prepared.train != train).nnz == 0 and (prepared.test != test).nnz == 0
    np.testing.assert_array_equal(prepared.users, users)
    np.testing.assert_array_equal(prepared.interactions.item_ids, inter.item_ids)
    assert len(prepared.core) == len(core) and prepared.validation is None


def test_split_likes_with_validation_holds_out_three_disjoint_parts():
    likes = load_dataset("sample").likes
    core, inter, train, test, users, validation = experiment.split_likes(likes, random_state=3, validation=True,
                                                                         verbose=False)
    expected = train_validation_test_split(inter.matrix, split_count=5, fraction=0.2, random_state=3)
    for ours, theirs in zip((train, validation, test), expected[:3]):
        assert (ours != theirs).nnz == 0
    assert (train + validation + test != inter.matrix).nnz == 0
    assert train.multiply(test).nnz == validation.multiply(test).nnz == 0


def test_split_likes_says_when_too_few_users_have_fifteen_likes(capsys):
    rng = np.random.default_rng(0)
    likes = pd.DataFrame({"uid": [f"u{u}" for u in range(40) for _ in range(8)],
                          "mid": [f"m{m}" for _ in range(40) for m in rng.choice(12, 8, replace=False)]})
    *_, validation = experiment.split_likes(likes, random_state=0, validation=True, verbose=False)
    assert "Too few users with 15 likes" in capsys.readouterr().out
    assert validation is not None and validation.nnz > 0


def test_in_folder_keeps_nothing_without_a_folder(tmp_path):
    assert experiment.in_folder(None, "log.jsonl") is None
    assert experiment.in_folder(tmp_path, "log.jsonl") == tmp_path / "log.jsonl"


def test_fit_warp_reads_a_search_row_and_keeps_the_fit(validation_split, tmp_path):
    train, validation, test, users = validation_split
    row = pd.Series({"epochs": 5.0, "learning_rate": 0.05, "no_components": 8.0, "alpha": 1e-4,
                     "validation": 0.3, "test": 0.2, "seconds": 1.0})
    first = experiment.fit_warp(train, row, random_state=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("warp-*.pkl"))) == 1
    again = experiment.fit_warp(train, row, random_state=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.model.item_embeddings, again.model.item_embeddings)
    assert again.seconds == first.seconds  # read back, not refitted
    other = experiment.fit_warp(train, row, random_state=2, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("warp-*.pkl"))) == 2
    assert not np.array_equal(first.model.item_embeddings, other.model.item_embeddings)
    fresh = experiment.fit_warp(train, row, random_state=1)
    np.testing.assert_array_equal(first.model.item_embeddings, fresh.model.item_embeddings)
    assert first.model.no_components == 8


def test_fit_als_fits_the_grid_row(validation_split):
    train, validation, test, users = validation_split
    fitted = experiment.fit_als(train, {"factors": 4.0, "regularization": 0.1, "alpha": 10, "epoch": 3},
                                random_state=0)
    assert fitted.model.factors == 4 and fitted.model.iterations == 3
    direct = AlternatingLeastSquares(factors=4, regularization=0.1, alpha=10.0, iterations=3, random_state=0,
                                     num_threads=1)
    direct.fit(train, show_progress=False)
    np.testing.assert_array_equal(fitted.model.item_factors, direct.item_factors)


def test_choose_baselines_chooses_on_validation_and_keeps_each_grid(validation_split, tmp_path):
    train, validation, test, users = validation_split
    grids = {"item-kNN": {"K": [5, 20], "measure": ["cosine"]}, "BPR": {"factors": [8], "iterations": [20]}}
    chosen = experiment.choose_baselines(grids, train, validation, test, users, k=5, random_state=0,
                                         cache_dir=tmp_path)
    assert list(chosen) == ["item-kNN", "BPR"] and len(list(tmp_path.glob("grid-*.pkl"))) == 2
    knn = chosen["item-kNN"]
    assert knn.params["K"] in (5, 20) and isinstance(knn.params["K"], int)
    # item-kNN is chosen with train likes removed, BPR in the posts' protocol (BASELINE_PROTOCOLS)
    assert knn.validation == pytest.approx(metrics.precision_at_k(knn.fitted.model, validation, 5, users=users,
                                                                  exclude=train))
    assert knn.validation != pytest.approx(metrics.precision_at_k(knn.fitted.model, validation, 5, users=users))
    bpr = chosen["BPR"]
    assert bpr.validation == pytest.approx(metrics.precision_at_k(bpr.fitted.model, validation, 5, users=users))
    again = experiment.choose_baselines(grids, train, validation, test, users, k=5, random_state=0,
                                        cache_dir=tmp_path)
    assert {n: c.params for n, c in again.items()} == {n: c.params for n, c in chosen.items()}


def test_tag_idea_curves_choose_each_variants_epochs(tmp_path):
    dataset = load_dataset("sample")
    core, inter, train, test, users, validation = experiment.split_likes(dataset.likes, random_state=0,
                                                                         validation=True, verbose=False)
    tags = build_item_features(drop_repeated_features(dataset.features), inter.item_ids, identity=True).matrix
    point = {"epochs": 4, "learning_rate": 0.05, "no_components": 8.0, "item_alpha": 1e-5, "scaling": 1.0}
    curves = experiment.tag_idea_curves({"identity + tags": tags}, point, 3, train, validation, users,
                                        random_state=0, cache_dir=tmp_path)   # one variant: no cluster needed
    epochs, fitted, curve = curves["identity + tags"]
    assert list(curve["epoch"]) == [3, 4] and epochs in (3, 4)
    assert curve.loc[curve["epoch"] == epochs, "validation"].iloc[0] == curve["validation"].max()
    assert fitted.item_features is tags and fitted.model.no_components == 8
    assert len(list(tmp_path.glob("tag-idea-*.pkl"))) == 1


def test_fit_warps_fits_side_by_side_what_fit_warp_fits_and_shares_its_files(validation_split, tmp_path):
    train, validation, test, users = validation_split
    row = pd.Series({"epochs": 4.0, "learning_rate": 0.05, "no_components": 8.0, "alpha": 1e-4, "test": 0.2})
    features = sp.identity(train.shape[1], format="csr", dtype=np.float32)
    fitted = experiment.fit_warps({"plain": (train, row), "features": (train, row.to_dict() | {"epochs": 3},
                                                                      features)},
                                  random_state=1, cache_dir=tmp_path)
    assert list(fitted) == ["plain", "features"]
    assert len(list(tmp_path.glob("warp-*.pkl"))) == 2
    alone = experiment.fit_warp(train, row, random_state=1)
    np.testing.assert_array_equal(fitted["plain"].model.item_embeddings, alone.model.item_embeddings)
    assert (fitted["features"].item_features != features).nnz == 0
    read = experiment.fit_warp(train, row.to_dict() | {"epochs": 3}, features, random_state=1, cache_dir=tmp_path)
    assert read.seconds == fitted["features"].seconds   # fit_warp reads the file fit_warps wrote
    np.testing.assert_array_equal(read.model.item_embeddings, fitted["features"].model.item_embeddings)
