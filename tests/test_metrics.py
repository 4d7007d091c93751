from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from implicit.cpu.als import AlternatingLeastSquares
from implicit.evaluation import ndcg_at_k as implicit_ndcg_at_k
from implicit.evaluation import precision_at_k as implicit_precision_at_k
from lightfm import LightFM
from lightfm import evaluation as lightfm_evaluation
from sklearn.metrics import mean_squared_error

from recasketch import _reference as ref
from recasketch import metrics
from recasketch.metrics import (
    as_factors,
    auc,
    checkpoint_scores,
    mse,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)
from recasketch.split import train_test_split

# ----------------------------------------------------------------------------- brute force


def dense_scores(factors):
    users, items = as_factors(factors)
    return users.astype(np.float64) @ items.astype(np.float64).T


def brute_ranking(scores, interactions, k, users, exclude, kind):
    """precision / recall / ndcg per user from the dense score matrix."""
    liked = interactions.toarray() != 0
    banned = np.zeros_like(liked) if exclude is None else exclude.toarray() != 0
    out = []
    for u in users:
        candidates = np.flatnonzero(~banned[u])
        top = candidates[np.argsort(-scores[u, candidates], kind="stable")][:k]
        hits = liked[u, top].astype(float)
        n_rel = liked[u].sum()
        if kind == "precision":
            out.append(hits.sum() / k)
        elif kind == "recall":
            out.append(hits.sum() / n_rel if n_rel else 0.0)
        else:
            dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
            idcg = sum(1 / np.log2(r + 2) for r in range(min(k, n_rel)))
            out.append(dcg / idcg if n_rel else 0.0)
    return np.array(out)


def brute_auc(scores, interactions, users, exclude):
    liked = interactions.toarray() != 0
    banned = np.zeros_like(liked) if exclude is None else exclude.toarray() != 0
    out = []
    for u in users:
        pos, neg = scores[u, liked[u]], scores[u, ~liked[u] & ~banned[u]]
        if len(pos) == 0 or len(neg) == 0:
            out.append(np.nan)
            continue
        wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        out.append(wins.mean())
    return np.array(out)


def random_case(seed, n_users, n_items, n_factors=3, density=0.3):
    rng = np.random.default_rng(seed)
    factors = (rng.standard_normal((n_users, n_factors)), rng.standard_normal((n_items, n_factors)))
    cells = rng.random((n_users, n_items))
    interactions = sp.csr_matrix((cells < density).astype(np.float32))
    exclude = sp.csr_matrix(((cells >= density) & (cells < 2 * density)).astype(np.float32))
    return rng, factors, interactions, exclude


RANKING = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k}

# ----------------------------------------------------------------------------- against brute force


# The top-k's shortcuts, forced on at small sizes: ranking the longest item vectors
# first (any prefix_min below n_items) and dropping excluded items from a short
# over-fetched list (overfetch 0 sends every user with an excluded item in its top k
# to implicit's row filter).
SHORTCUTS = st.fixed_dictionaries({
    "_PREFIX_MIN": st.sampled_from([1, 3, 512]),
    "_PREFIX_SHARE": st.sampled_from([2, 6]),
    "_OVERFETCH": st.sampled_from([0, 1, 2, 32]),
    "_PRUNE_PAYS": st.sampled_from([0.7, 100.0]),
})


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 12),
    kind=st.sampled_from(sorted(RANKING)),
    use_exclude=st.booleans(),
    explicit_users=st.booleans(),
    shortcuts=SHORTCUTS,
    data=st.data(),
)
def test_ranking_metrics_equal_brute_force(seed, n_users, n_items, kind, use_exclude,
                                           explicit_users, shortcuts, data):
    rng, factors, interactions, exclude = random_case(seed, n_users, n_items)
    k = data.draw(st.integers(1, n_items), label="k")
    exclude = exclude if use_exclude else None
    if explicit_users:  # any rows, repeats allowed; rows without interactions score 0
        users = rng.integers(0, n_users, size=rng.integers(1, 2 * n_users + 1))
    else:
        users = np.flatnonzero(interactions.getnnz(axis=1))
        if users.size == 0:
            with pytest.raises(ValueError, match="holds no interaction"):
                RANKING[kind](factors, interactions, k=k, exclude=exclude)
            return
    expected = brute_ranking(dense_scores(factors), interactions, k, users, exclude, kind)
    with mock.patch.multiple(metrics, **shortcuts):
        got = RANKING[kind](factors, interactions, k=k, users=users if explicit_users else None,
                            exclude=exclude, per_user=True, num_threads=2, chunk_size=2)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    mean = RANKING[kind](factors, interactions, k=k, users=users if explicit_users else None,
                         exclude=exclude)
    assert mean == pytest.approx(expected.mean(), abs=1e-12)


def test_top_k_pruning_on_skewed_norms_is_exact():
    """A few hundred users and a couple of thousand items with popularity-like norms:
    the default shortcuts engage and every user's list equals the dense ranking."""
    rng = np.random.default_rng(5)
    users = rng.standard_normal((300, 10)) + 0.5
    items = (rng.standard_normal((2000, 10)) + 0.5) * rng.pareto(2.0, (2000, 1))
    likes = sp.random(300, 2000, density=0.02, random_state=np.random.RandomState(5), format="csr")
    likes.data[:] = 1
    train, test, _ = train_test_split(likes, split_count=3, fraction=0.5, random_state=0)
    scores = dense_scores((users, items))
    evaluated = np.arange(300)
    for interactions, exclude in ((train, None), (test, None), (test, train)):
        expected = brute_ranking(scores, interactions, 10, evaluated, exclude, "precision")
        got = precision_at_k((users, items), interactions, k=10, users=evaluated, exclude=exclude,
                             per_user=True)
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 8),
    use_exclude=st.booleans(),
)
def test_auc_equals_brute_force(seed, n_users, n_items, use_exclude):
    rng, factors, interactions, exclude = random_case(seed, n_users, n_items)
    exclude = exclude if use_exclude else None
    users = rng.integers(0, n_users, size=n_users + 2)
    expected = brute_auc(dense_scores(factors), interactions, users, exclude)
    got = auc(factors, interactions, users=users, exclude=exclude, per_user=True, num_threads=2,
              chunk_size=2)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    if np.isnan(expected).all():
        with pytest.raises(ValueError, match="AUC is undefined"):
            auc(factors, interactions, users=users, exclude=exclude)
    else:
        mean = auc(factors, interactions, users=users, exclude=exclude)
        assert mean == pytest.approx(np.nanmean(expected))


def test_auc_counts_ties_as_one_half():
    factors = (np.array([[1.0]]), np.array([[1.0], [1.0], [0.0], [-1.0]]))
    assert auc(factors, sp.csr_matrix([[1, 0, 0, 0]])) == pytest.approx((0.5 + 1 + 1) / 3)
    # two tied positives against one tied negative and a lower one
    assert auc(factors, sp.csr_matrix([[1, 1, 0, 0]])) == pytest.approx(1.0)
    assert auc(factors, sp.csr_matrix([[1, 1, 0, 0]]), exclude=sp.csr_matrix([[0, 0, 0, 1]])) == 1.0
    negative_zero = (np.array([[1.0]]), np.array([[0.0], [-0.0]]))
    assert auc(negative_zero, sp.csr_matrix([[0, 1]])) == 0.5


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_users=st.integers(1, 9), n_items=st.integers(1, 8))
def test_mse_equals_sklearn_on_dense_rows(seed, n_users, n_items):
    rng, factors, interactions, _ = random_case(seed, n_users, n_items)
    interactions.data *= rng.integers(1, 4, size=interactions.nnz)  # not only ones
    predictions = dense_scores(factors)
    dense = interactions.toarray()
    expected = mean_squared_error(dense.ravel(), predictions.ravel())
    assert mse(factors, interactions) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    users = rng.integers(0, n_users, size=rng.integers(1, 2 * n_users + 1))
    expected = mean_squared_error(dense[users].ravel(), predictions[users].ravel())
    assert mse(factors, interactions, users=users) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_mse_sums_duplicates_and_ignores_stored_zeros():
    factors = (np.array([[1.0], [2.0]]), np.array([[1.0], [0.5], [0.0]]))
    rows, cols = np.array([0, 0, 1]), np.array([0, 0, 1])
    coo = sp.coo_matrix((np.array([1.0, 1.0, 0.0]), (rows, cols)), shape=(2, 3))
    dense = coo.toarray()  # duplicates summed: cell (0, 0) holds 2
    expected = mean_squared_error(dense.ravel(), dense_scores(factors).ravel())
    assert mse(factors, coo) == pytest.approx(expected)
    assert mse(factors, coo.tocsr()) == pytest.approx(expected)


def test_top_k_row_filter_and_exhausted_candidates(monkeypatch):
    """Users whose over-fetched list runs out go through implicit's row filter; both paths agree."""
    rng, factors, interactions, exclude = random_case(7, 12, 10, density=0.25)
    exclude = exclude.tolil()
    exclude[0, :] = 0
    exclude[0, 1:] = 1  # user 0: one candidate left for k = 4
    interactions = interactions.tolil()
    interactions[0, :] = 0
    interactions[0, 0] = 1
    interactions, exclude = interactions.tocsr(), exclude.tocsr()
    users = np.arange(12)
    expected = brute_ranking(dense_scores(factors), interactions, 4, users, exclude, "precision")
    light = precision_at_k(factors, interactions, k=4, users=users, exclude=exclude, per_user=True)
    monkeypatch.setattr(metrics, "_OVERFETCH", 1)  # most users need implicit's row filter
    mixed = precision_at_k(factors, interactions, k=4, users=users, exclude=exclude, per_user=True,
                           chunk_size=3, num_threads=2)
    np.testing.assert_allclose(light, expected)
    np.testing.assert_allclose(mixed, expected)
    assert expected[0] == 0.25


# ------------------------------------------------------------------------ the hand-made example

# user 0 scores items 4, 3, 2, 0; user 1 scores them 0, 1, 2, 3
TWO_BY_FOUR = (np.array([[1.0, 0.0], [0.0, 1.0]]),
               np.array([[4.0, 0.0], [3.0, 1.0], [2.0, 2.0], [0.0, 3.0]]))


def test_two_protocols_on_the_2x4_example():
    factors = TWO_BY_FOUR
    train = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 1]])
    test = sp.csr_matrix([[0, 1, 0, 0], [0, 0, 1, 0]])
    assert precision_at_k(factors, test, k=1) == 0.0
    assert precision_at_k(factors, test, k=1, exclude=train) == 1.0
    assert precision_at_k(factors, train, k=1) == 1.0
    np.testing.assert_array_equal(precision_at_k(factors, test, k=2, per_user=True), [0.5, 0.5])
    assert recall_at_k(factors, test, k=2) == 1.0
    assert ndcg_at_k(factors, test, k=2) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k(factors, test, k=2, exclude=train) == 1.0
    # a listed user without test likes scores 0, as in the post; users=None skips them
    only_first = sp.csr_matrix([[0, 1, 0, 0], [0, 0, 0, 0]])
    assert precision_at_k(factors, only_first, k=2, users=[0, 1]) == 0.25
    assert precision_at_k(factors, only_first, k=2) == 0.5
    # user 0: positive item 1 beats items 2, 3 and loses to item 0
    np.testing.assert_allclose(auc(factors, test, per_user=True), [2 / 3, 2 / 3])
    np.testing.assert_allclose(auc(factors, test, exclude=train, per_user=True), [1.0, 1.0])
    assert mse(factors, train, users=[0]) == pytest.approx(((4 - 1) ** 2 + 9 + 4 + 0) / 4)


def test_stored_zeros_are_no_interaction_and_rows_need_not_be_sorted():
    factors = TWO_BY_FOUR
    # row 0 stores item 1 and an explicit zero at item 0 (its best item), unsorted
    data, indices, indptr = np.array([1.0, 0.0, 1.0]), np.array([1, 0, 2]), np.array([0, 2, 3])
    test = sp.csr_matrix((data, indices, indptr), shape=(2, 4))
    assert not test.has_sorted_indices
    np.testing.assert_array_equal(precision_at_k(factors, test, k=1, per_user=True), [0.0, 0.0])
    np.testing.assert_array_equal(recall_at_k(factors, test, k=2, per_user=True), [1.0, 1.0])
    np.testing.assert_allclose(auc(factors, test, per_user=True), [2 / 3, 2 / 3])
    only_zero = sp.csr_matrix((np.array([0.0]), np.array([0]), np.array([0, 1, 1])), shape=(2, 4))
    with pytest.raises(ValueError, match="holds no interaction"):
        precision_at_k(factors, only_zero)


# ---------------------------------------------------------------------- peers: LightFM, implicit


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    dense = np.zeros((60, 40), dtype=np.float32)
    dense[:30, :20] = rng.random((30, 20)) < 0.5
    dense[30:, 20:] = rng.random((30, 20)) < 0.5
    dense[rng.random(dense.shape) < 0.05] = 1
    return train_test_split(sp.csr_matrix(dense), split_count=5, fraction=0.5, random_state=0)


@pytest.fixture(scope="module")
def item_features():
    rng = np.random.default_rng(1)
    tags = sp.csr_matrix((rng.random((40, 6)) < 0.3).astype(np.float32))
    return sp.hstack([sp.identity(40, dtype=np.float32, format="csr"), tags]).tocsr()


@pytest.fixture(scope="module", params=["plain", "item_features"])
def lightfm_model(request, split, item_features):
    train = split[0]
    features = item_features if request.param == "item_features" else None
    model = LightFM(no_components=6, loss="warp", random_state=np.random.RandomState(2016))
    model.fit(sp.coo_matrix(train), item_features=features, epochs=5)
    return model, features


@pytest.mark.parametrize("use_train", [False, True])
def test_precision_and_recall_equal_lightfm(split, lightfm_model, use_train):
    train, test, _ = split
    model, features = lightfm_model
    exclude = train if use_train else None
    theirs = lightfm_evaluation.precision_at_k(model, test, train_interactions=exclude, k=5,
                                               item_features=features)
    ours = precision_at_k(model, test, k=5, exclude=exclude, item_features=features, per_user=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    theirs = lightfm_evaluation.recall_at_k(model, test, train_interactions=exclude, k=5,
                                            item_features=features)
    ours = recall_at_k(model, test, k=5, exclude=exclude, item_features=features)
    assert ours == pytest.approx(theirs.mean())
    # the train score, no filter: LightFM ranks the train likes among all items too
    theirs = lightfm_evaluation.precision_at_k(model, train, k=5, item_features=features)
    assert precision_at_k(model, train, k=5, item_features=features) == pytest.approx(theirs.mean())


def test_auc_equals_lightfm(split, lightfm_model):
    train, test, _ = split
    model, features = lightfm_model
    theirs = lightfm_evaluation.auc_score(model, test, train_interactions=train,
                                          item_features=features)
    ours = auc(model, test, exclude=train, item_features=features)
    assert ours == pytest.approx(theirs.mean(), abs=1e-6)
    theirs = lightfm_evaluation.auc_score(model, test, item_features=features)
    assert auc(model, test, item_features=features) == pytest.approx(theirs.mean(), abs=1e-6)


def test_lightfm_factors_reproduce_predict(lightfm_model):
    model, features = lightfm_model
    users, items = as_factors(model, item_features=features)
    assert users.dtype == items.dtype == np.float32
    assert users.flags.c_contiguous and items.flags.c_contiguous
    u, i = np.meshgrid(np.arange(60), np.arange(40), indexing="ij")
    predicted = model.predict(u.ravel(), i.ravel(), item_features=features).reshape(60, 40)
    np.testing.assert_allclose(users @ items.T, predicted, rtol=1e-5, atol=1e-5)


def test_lightfm_fitted_with_item_features_needs_them(split, item_features):
    train, test, _ = split
    model = LightFM(no_components=4, random_state=np.random.RandomState(0))
    model.fit(sp.coo_matrix(train), item_features=item_features, epochs=1)
    with pytest.raises(ValueError,
                       match="46 item vectors but interactions has 40 items.*same item_features"):
        precision_at_k(model, test)
    with pytest.raises(ValueError, match="60 user vectors but interactions has 59 users"):
        precision_at_k(model, test[:59], item_features=item_features)


@pytest.fixture(scope="module")
def als_model(split):
    model = AlternatingLeastSquares(factors=8, regularization=0.1, iterations=5, random_state=0,
                                    num_threads=1)
    model.fit(split[0], show_progress=False)
    return model


def test_filtered_precision_and_ndcg_equal_implicit(split, als_model):
    train, test, _ = split
    # every test user holds exactly split_count = 5 test likes, so implicit's divisor
    # sum(min(K, n_test)) is 5 per user and its p@5 is our mean of hits / 5
    assert set(test.getnnz(axis=1)) == {0, 5}
    theirs = implicit_precision_at_k(als_model, train, test, K=5, show_progress=False)
    assert precision_at_k(als_model, test, k=5, exclude=train) == pytest.approx(theirs, abs=1e-12)
    theirs = implicit_ndcg_at_k(als_model, train, test, K=3, show_progress=False)
    assert ndcg_at_k(als_model, test, k=3, exclude=train) == pytest.approx(theirs, abs=1e-12)


def test_post_protocol_equals_the_posts_dense_loop(split, als_model):
    train, test, users = split
    predictions = ref.dense_predictions(als_model)
    for matrix in (train, test):
        assert precision_at_k(als_model, matrix, k=5, users=users) == pytest.approx(
            ref.naive_precision_at_k(predictions, matrix, k=5, users=users), abs=1e-12)
        assert mse(als_model, matrix, users=users) == pytest.approx(
            ref.naive_mse(predictions, matrix, users=users), rel=1e-6)
    assert mse(als_model, test) == pytest.approx(ref.naive_mse(predictions, test), rel=1e-6)
    expected = ref.naive_precision_at_k(predictions, test)
    assert precision_at_k(als_model, test) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("exclude_train", [False, True])
def test_checkpoint_scores_equal_the_four_calls(split, als_model, exclude_train):
    train, test, users = split
    got = checkpoint_scores(als_model, train, test, users=users, k=5, exclude_train=exclude_train)
    assert got == {
        ("p@k", "train"): pytest.approx(precision_at_k(als_model, train, k=5, users=users)),
        ("p@k", "test"): pytest.approx(precision_at_k(als_model, test, k=5, users=users,
                                                      exclude=train if exclude_train else None)),
        ("mse", "train"): pytest.approx(mse(als_model, train, users=users)),
        ("mse", "test"): pytest.approx(mse(als_model, test, users=users)),
    }
    default_users = checkpoint_scores(als_model, train, test)
    assert default_users["p@k", "test"] == pytest.approx(precision_at_k(als_model, test))


def test_as_factors_accepts_gpu_like_models_and_tuples(als_model):
    class GpuModel:
        user_factors = item_factors = "on the device"

        def to_cpu(self):
            return als_model

    users, items = as_factors(GpuModel())
    np.testing.assert_array_equal(users, als_model.user_factors)
    np.testing.assert_array_equal(items, als_model.item_factors)
    users, items = as_factors((np.ones((2, 3)), np.asfortranarray(np.ones((4, 3)))))
    assert users.dtype == np.float32 and items.flags.c_contiguous and items.shape == (4, 3)


# ----------------------------------------------------------------------------- guards


def test_guards(split, als_model):
    train, test, users = split
    factors = (np.ones((60, 2)), np.ones((40, 2)))
    with pytest.raises(TypeError, match="scipy.sparse matrix of shape"):
        precision_at_k(factors, test.toarray())
    with pytest.raises(ValueError, match=r"must be 2-D \(n_users, n_items\)"):
        precision_at_k(factors, sp.coo_array(np.ones(40)))
    with pytest.raises(ValueError, match=r"exclude has shape \(60, 39\)"):
        precision_at_k(factors, test, exclude=train[:, :39])
    for metric in (precision_at_k, recall_at_k, ndcg_at_k):
        with pytest.raises(ValueError, match="The 'k' must be >= 1"):
            metric(factors, test, k=0)
    with pytest.raises(ValueError, match=r"The 'k' must be <= the number of items \(40\)"):
        precision_at_k(factors, test, k=41)
    with pytest.raises(ValueError, match="The 'k' must be an integer"):
        precision_at_k(factors, test, k=2.5)
    with pytest.raises(ValueError, match=r"row indices in \[0, 60\)"):
        precision_at_k(factors, test, users=[0, 60])
    with pytest.raises(ValueError, match=r"row indices in \[0, 60\)"):
        mse(factors, test, users=[-1])
    with pytest.raises(ValueError, match="users is empty"):
        auc(factors, test, users=[])
    with pytest.raises(ValueError, match="1-D array of row indices"):
        precision_at_k(factors, test, users=np.ones(60, dtype=bool))
    with pytest.raises(TypeError, match="model must be a fitted implicit model"):
        precision_at_k("model", test)
    with pytest.raises(ValueError, match="2 item vectors but interactions has 40 items"):
        precision_at_k((np.ones((60, 2)), np.ones((2, 2))), test)
    with pytest.raises(ValueError, match="5 user vectors but interactions has 60 users"):
        mse((np.ones((5, 2)), np.ones((40, 2))), test)
    with pytest.raises(ValueError, match="same number of columns"):
        as_factors((np.ones((60, 2)), np.ones((40, 3))))
    with pytest.raises(ValueError, match=r"must be \(user_factors, item_factors\)"):
        as_factors((np.ones((60, 2)),) * 3)
    with pytest.raises(ValueError, match="apply only to a lightfm.LightFM"):
        precision_at_k(als_model, test, item_features=sp.identity(40, format="csr"))
    with pytest.raises(ValueError, match="not fitted yet"):
        precision_at_k(AlternatingLeastSquares(factors=2), test)
    with pytest.raises(ValueError, match="not fitted yet"):
        precision_at_k(LightFM(), test)
    with pytest.raises(ValueError, match=r"share \d+ \(user, item\) pairs.*Check your data split"):
        precision_at_k(factors, test, exclude=test + train)
    with pytest.raises(ValueError, match=r"share \d+ \(user, item\) pairs"):
        auc(factors, train, exclude=train)
    with pytest.raises(ValueError, match="holds no interaction"):
        precision_at_k(factors, sp.csr_matrix((60, 40)))
    with pytest.raises(ValueError, match="num_threads must be an integer >= 0"):
        precision_at_k(factors, test, num_threads=-1)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1"):
        auc(factors, test, chunk_size=0)
    with pytest.raises(ValueError, match="AUC is undefined"):
        auc(factors, sp.csr_matrix(np.ones((60, 40))))
