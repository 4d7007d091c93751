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

from recasketch.tools import reference as ref
from recasketch import bootstrap, metrics, ranking
from recasketch.metrics import (BootstrapCI, NonFiniteModelError, as_factors, auc, bootstrap_ci,
                                checkpoint_scores, map_at_k, mse, ndcg_at_k, paired_bootstrap_diff,
                                precision_at_k, recall_at_k)
from recasketch.split import train_test_split

# ----------------------------------------------------------------------------- brute force


def dense_scores(factors):
    users, items = as_factors(factors)
    if sp.issparse(users):  # the float32 scores the metrics rank
        return (users @ items.T).toarray().astype(np.float64)
    return users.astype(np.float64) @ items.astype(np.float64).T


def brute_ranking(scores, interactions, k, users, exclude, kind):
    """precision / recall / ndcg / map per user from the dense score matrix.

    The documented tie rule: a user's list is the candidates sorted by decreasing score,
    then increasing item index, cut at k.
    """
    liked = interactions.toarray() != 0
    banned = np.zeros_like(liked) if exclude is None else exclude.toarray() != 0
    out = []
    for u in users:
        candidates = np.flatnonzero(~banned[u])
        top = np.array(sorted(candidates, key=lambda j: (-scores[u, j], j))[:k], dtype=int)
        hits = liked[u, top].astype(float)
        n_rel = liked[u].sum()
        if kind == "precision":
            out.append(hits.sum() / k)
        elif kind == "recall":
            out.append(hits.sum() / n_rel if n_rel else 0.0)
        elif kind == "map":
            precision_at = [hits[:r + 1].sum() / (r + 1) for r in range(len(hits))]
            out.append(sum(p * h for p, h in zip(precision_at, hits)) / min(k, n_rel)
                       if n_rel else 0.0)
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


RANKING = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k,
           "map": map_at_k}


def numpy_average_precision(scores, interactions, k, users, exclude=None):
    """AP@k written out with numpy alone: a stable argsort of the negated scores (ties
    to the lower item index), hits, precision at each rank, / min(k, n_relevant)."""
    liked = interactions.toarray() != 0
    scores = scores.copy()
    if exclude is not None:
        scores[exclude.toarray() != 0] = -np.inf  # ranked last; never a hit (disjoint)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(liked, top, axis=1)[users].astype(float)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    n_rel = liked.sum(axis=1)[users]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_rel > 0, (precision_at * hits).sum(axis=1) / np.minimum(k, n_rel), 0.0)

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
    with mock.patch.multiple(ranking, **shortcuts):
        got = RANKING[kind](factors, interactions, k=k, users=users if explicit_users else None,
                            exclude=exclude, per_user=True, num_threads=2, chunk_size=2)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    mean = RANKING[kind](factors, interactions, k=k, users=users if explicit_users else None,
                         exclude=exclude)
    assert mean == pytest.approx(expected.mean(), abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 12),
    tied=st.booleans(),
    use_exclude=st.booleans(),
    chunk_size=st.sampled_from([None, 1, 3]),
    data=st.data(),
)
def test_map_equals_a_numpy_argsort_implementation(seed, n_users, n_items, tied, use_exclude,
                                                    chunk_size, data):
    """Random small cases, half of them full of ties, any rows (repeats and rows with no
    relevant item included), with and without excluded items."""
    rng, factors, interactions, exclude = (tied_case if tied else random_case)(seed, n_users,
                                                                               n_items)
    k = data.draw(st.integers(1, n_items), label="k")
    exclude = exclude if use_exclude else None
    users = rng.integers(0, n_users, size=rng.integers(1, 2 * n_users + 1))
    expected = numpy_average_precision(dense_scores(factors), interactions, k, users, exclude)
    got = map_at_k(factors, interactions, k=k, users=users, exclude=exclude, per_user=True,
                   num_threads=2, chunk_size=chunk_size)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert map_at_k(factors, interactions, k=k, users=users, exclude=exclude) == \
        pytest.approx(expected.mean(), abs=1e-12)


def test_map_by_hand():
    # one user ranks the items 0, 1, 2, 3, 4 (scores 5 .. 1)
    factors = (np.array([[1.0]]), np.array([[5.0], [4.0], [3.0], [2.0], [1.0]]))
    liked = sp.csr_matrix([[0, 1, 0, 1, 1]])
    # hits at ranks 2 and 4: (1/2 + 2/4) / min(4, 3)
    assert map_at_k(factors, liked, k=4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    # k = 2: one hit at rank 2, divided by min(2, 3) = 2
    assert map_at_k(factors, liked, k=2) == pytest.approx((1 / 2) / 2)
    # removing items 0 and 2 puts the three likes on top: perfect
    assert map_at_k(factors, liked, k=3, exclude=sp.csr_matrix([[1, 0, 1, 0, 0]])) == 1.0
    # a listed user without likes scores 0; users=None skips them
    two = sp.csr_matrix([[0, 1, 0, 1, 1], [0, 0, 0, 0, 0]])
    twice = (np.ones((2, 1)), factors[1])
    np.testing.assert_allclose(map_at_k(twice, two, k=4, users=[0, 1], per_user=True),
                               [(1 / 2 + 2 / 4) / 3, 0.0])
    assert map_at_k(twice, two, k=4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    # ties go to the lower index: all items tie, so the list is 0, 1, 2
    flat = (np.array([[1.0]]), np.ones((5, 1)))
    assert map_at_k(flat, sp.csr_matrix([[0, 0, 1, 0, 1]]), k=3) == pytest.approx((1 / 3) / 2)


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
    monkeypatch.setattr(ranking, "_OVERFETCH", 1)  # most users need implicit's row filter
    mixed = precision_at_k(factors, interactions, k=4, users=users, exclude=exclude, per_user=True,
                           chunk_size=3, num_threads=2)
    np.testing.assert_allclose(light, expected)
    np.testing.assert_allclose(mixed, expected)
    assert expected[0] == 0.25


# ----------------------------------------------------------------------------- ties


def lightfm_rule_ranking(scores, interactions, k, users, exclude, kind):
    """LightFM's precision / recall: a positive is a hit when fewer than k *other*
    candidate items (not excluded) score at least as high; no tie is broken."""
    liked = interactions.toarray() != 0
    banned = np.zeros_like(liked) if exclude is None else exclude.toarray() != 0
    out = []
    for u in users:
        candidates = np.flatnonzero(~banned[u])
        hits = sum(1 for i in np.flatnonzero(liked[u])
                   if sum(1 for j in candidates if j != i and scores[u, j] >= scores[u, i]) < k)
        out.append(hits / k if kind == "precision" else hits / liked[u].sum())
    return np.array(out)


def lightfm_rule_auc(scores, interactions, users, exclude):
    """LightFM's AUC: (pairs the positive wins outright - pairs of tied positives) /
    (n_positives * n_negatives); a tied (positive, negative) pair counts 0."""
    liked = interactions.toarray() != 0
    banned = np.zeros_like(liked) if exclude is None else exclude.toarray() != 0
    out = []
    for u in users:
        pos, neg = scores[u, liked[u]], scores[u, ~liked[u] & ~banned[u]]
        won = sum(1 for p in pos for n in neg if p > n)
        tied_positives = sum(1 for a in range(len(pos)) for b in range(a + 1, len(pos))
                             if pos[a] == pos[b])
        out.append((won - tied_positives) / (len(pos) * len(neg)))
    return np.array(out)


def tied_case(seed, n_users, n_items, density=0.3):
    """Small-integer factors: scores are exact in float32 and full of ties."""
    rng = np.random.default_rng(seed)
    factors = (rng.integers(-1, 3, (n_users, 2)).astype(float),
               rng.integers(-1, 3, (n_items, 2)).astype(float))
    cells = rng.random((n_users, n_items))
    interactions = sp.csr_matrix((cells < density).astype(np.float32))
    exclude = sp.csr_matrix(((cells >= density) & (cells < 2 * density)).astype(np.float32))
    return rng, factors, interactions, exclude


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 12),
    kind=st.sampled_from(sorted(RANKING)),
    use_exclude=st.booleans(),
    chunk_size=st.sampled_from([None, 1, 2]),
    shortcuts=SHORTCUTS,
    data=st.data(),
)
def test_ranking_metrics_with_tied_scores_follow_the_tie_rule(seed, n_users, n_items, kind,
                                                              use_exclude, chunk_size, shortcuts,
                                                              data):
    rng, factors, interactions, exclude = tied_case(seed, n_users, n_items)
    k = data.draw(st.integers(1, n_items), label="k")
    exclude = exclude if use_exclude else None
    users = rng.integers(0, n_users, size=rng.integers(1, 2 * n_users + 1))
    expected = brute_ranking(dense_scores(factors), interactions, k, users, exclude, kind)
    with mock.patch.multiple(ranking, **shortcuts):
        got = RANKING[kind](factors, interactions, k=k, users=users, exclude=exclude,
                            per_user=True, num_threads=2, chunk_size=chunk_size)
        # a user's value does not depend on who else is evaluated
        alone = [RANKING[kind](factors, interactions, k=k, users=[u], exclude=exclude,
                               per_user=True)[0] for u in users]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(alone, expected, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 8),
    use_exclude=st.booleans(),
)
def test_auc_with_tied_scores_counts_ties_one_half(seed, n_users, n_items, use_exclude):
    rng, factors, interactions, exclude = tied_case(seed, n_users, n_items)
    exclude = exclude if use_exclude else None
    users = rng.integers(0, n_users, size=n_users + 2)
    expected = brute_auc(dense_scores(factors), interactions, users, exclude)
    got = auc(factors, interactions, users=users, exclude=exclude, per_user=True, num_threads=2,
              chunk_size=2)
    np.testing.assert_allclose(got, expected, atol=1e-12)


# One user: item 0 scores 3, items 1-4 score 2, item 5 scores 1. A second user scores
# every item 0 (a zero vector), so all six items tie.
TIED = (np.array([[1.0], [0.0]]), np.array([[3.0], [2.0], [2.0], [2.0], [2.0], [1.0]]))


@pytest.mark.parametrize("exclude", [None, sp.csr_matrix([[0, 1, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0]])],
                         ids=["all items", "train removed"])
def test_hand_made_ties_straddling_the_cut(exclude):
    test = sp.csr_matrix([[0, 0, 1, 0, 1, 0], [0, 0, 1, 0, 0, 1]])
    ranking = {kind: brute_ranking(dense_scores(TIED), test, 3, [0, 1], exclude, kind)
               for kind in RANKING}
    for kind, metric in RANKING.items():
        np.testing.assert_allclose(metric(TIED, test, k=3, exclude=exclude, per_user=True),
                                   ranking[kind], atol=1e-12)
    np.testing.assert_allclose(auc(TIED, test, exclude=exclude, per_user=True),
                               brute_auc(dense_scores(TIED), test, [0, 1], exclude), atol=1e-12)
    # the same numbers worked out on paper
    if exclude is None:
        # user 0's list is items 0, 1, 2: item 2 is a hit at place 3, item 4 is left out;
        # user 1's list is items 0, 1, 2: item 2 is a hit at place 3
        np.testing.assert_allclose(precision_at_k(TIED, test, k=3, per_user=True), [1 / 3, 1 / 3])
        np.testing.assert_allclose(recall_at_k(TIED, test, k=3, per_user=True), [0.5, 0.5])
        ideal = 1 + 1 / np.log2(3)
        np.testing.assert_allclose(ndcg_at_k(TIED, test, k=3, per_user=True),
                                   [0.5 / ideal, 0.5 / ideal])
        # user 0's positives each beat item 5, tie items 1 and 3, lose to item 0: 2 / 4;
        # user 1's tie everything
        np.testing.assert_allclose(auc(TIED, test, per_user=True), [0.5, 0.5])
    else:
        # user 0 without items 1, 3: items 0, 2, 4, both positives in; user 1 without
        # item 0: items 1, 2, 3, with item 2 at place 2
        np.testing.assert_allclose(precision_at_k(TIED, test, k=3, exclude=exclude, per_user=True),
                                   [2 / 3, 1 / 3])
        ideal = 1 + 1 / np.log2(3)
        np.testing.assert_allclose(ndcg_at_k(TIED, test, k=3, exclude=exclude, per_user=True),
                                   [(1 / np.log2(3) + 0.5) / ideal, (1 / np.log2(3)) / ideal])
        np.testing.assert_allclose(auc(TIED, test, exclude=exclude, per_user=True), [0.5, 0.5])


def test_tied_items_inside_the_list_are_ordered_by_index():
    # items 0 and 1 tie on top; the relevant item 1 takes place 2
    factors = (np.array([[1.0]]), np.array([[2.0], [2.0], [1.0]]))
    assert ndcg_at_k(factors, sp.csr_matrix([[0, 1, 0]]), k=2) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k(factors, sp.csr_matrix([[1, 0, 0]]), k=2) == 1.0
    # -0.0 and 0.0 are one score: the lower index goes first
    signed_zero = (np.array([[1.0]]), np.array([[-0.0], [0.0], [-1.0]]))
    assert precision_at_k(signed_zero, sp.csr_matrix([[1, 0, 0]]), k=1) == 1.0


def test_ties_at_the_cut_among_many_items_with_pruning():
    """Thousands of items in a few tied groups of equal vectors: the norm-sorted
    prefix, the over-fetch and the exact re-ranking of tied users all engage."""
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 3, size=(12, 4)).astype(float) * rng.integers(1, 4, size=(12, 1))
    items = groups[rng.integers(0, 12, size=3000)]
    users = rng.integers(0, 3, size=(200, 4)).astype(float)
    likes = sp.random(200, 3000, density=0.01, random_state=np.random.RandomState(3), format="csr")
    likes.data[:] = 1
    train, test, _ = train_test_split(likes, split_count=3, fraction=0.5, random_state=0)
    scores = dense_scores((users, items))
    evaluated = np.arange(200)
    for interactions, exclude in ((train, None), (test, None), (test, train)):
        for kind, metric in RANKING.items():
            expected = brute_ranking(scores, interactions, 7, evaluated, exclude, kind)
            got = metric((users, items), interactions, k=7, users=evaluated, exclude=exclude,
                         per_user=True)
            np.testing.assert_allclose(got, expected, atol=1e-12)


def test_checkpoint_scores_break_ties_as_the_metrics_do():
    _, factors, train, test = tied_case(11, 9, 10, density=0.25)
    train = train - train.multiply(test)  # disjoint
    got = checkpoint_scores(factors, train, test, users=np.arange(9), k=3, exclude_train="both")
    assert got["p@k", "train"] == precision_at_k(factors, train, k=3, users=np.arange(9))
    assert got["p@k", "test"] == precision_at_k(factors, test, k=3, users=np.arange(9))
    assert got["p@k", metrics.FILTERED_TEST] == precision_at_k(factors, test, k=3,
                                                               users=np.arange(9), exclude=train)


def exact_lightfm(user_embeddings, item_embeddings, user_biases, item_biases):
    """A LightFM whose parameters are set by hand (small integers: exact in float32)."""
    model = LightFM(no_components=user_embeddings.shape[1], random_state=0)
    model.fit(sp.coo_matrix(np.eye(len(user_embeddings), len(item_embeddings))), epochs=1)
    model.user_embeddings = np.asarray(user_embeddings, dtype=np.float32)
    model.item_embeddings = np.asarray(item_embeddings, dtype=np.float32)
    model.user_biases = np.asarray(user_biases, dtype=np.float32)
    model.item_biases = np.asarray(item_biases, dtype=np.float32)
    return model


@pytest.mark.parametrize("use_exclude", [False, True])
def test_lightfm_breaks_no_tie_and_counts_ties_against_the_positive(use_exclude):
    """The tie rules the docstrings give for LightFM, checked on LightFM itself: with
    tied scores its numbers follow its rule and differ from ours."""
    _, (users, items), test, exclude = tied_case(2, 12, 10, density=0.3)
    rng = np.random.default_rng(2)
    model = exact_lightfm(users, items, rng.integers(-1, 2, 12), rng.integers(-1, 2, 10))
    exclude = exclude if use_exclude else None
    scores = model.predict(*(a.ravel().astype(np.int32) for a in
                             np.meshgrid(np.arange(12), np.arange(10), indexing="ij"))).reshape(12, 10)
    np.testing.assert_array_equal(dense_scores(as_factors(model)), scores)  # exact
    evaluated = np.flatnonzero(test.getnnz(axis=1))
    differs = False
    for kind, theirs_metric in (("precision", lightfm_evaluation.precision_at_k),
                                ("recall", lightfm_evaluation.recall_at_k)):
        theirs = theirs_metric(model, test, train_interactions=exclude, k=3)
        np.testing.assert_allclose(
            theirs, lightfm_rule_ranking(scores, test, 3, evaluated, exclude, kind), atol=1e-6)
        ours = RANKING[kind](model, test, k=3, exclude=exclude, per_user=True)
        np.testing.assert_allclose(
            ours, brute_ranking(scores, test, 3, evaluated, exclude, kind), atol=1e-12)
        assert (ours >= theirs - 1e-6).all()  # LightFM's rule never gives more hits
        differs |= not np.allclose(ours, theirs)
    negatives = 10 - test.getnnz(axis=1) - (0 if exclude is None else exclude.getnnz(axis=1))
    defined = evaluated[negatives[evaluated] > 0]
    theirs = lightfm_evaluation.auc_score(model, test, train_interactions=exclude,
                                          preserve_rows=True)[defined]
    np.testing.assert_allclose(theirs, lightfm_rule_auc(scores, test, defined, exclude), atol=1e-6)
    ours = auc(model, test, users=defined, exclude=exclude, per_user=True)
    np.testing.assert_allclose(ours, brute_auc(scores, test, defined, exclude), atol=1e-12)
    assert (ours >= theirs - 1e-6).all() and not np.allclose(ours, theirs)
    assert differs


def test_implicits_top_k_keeps_an_order_dependent_subset_of_ties():
    """The example the docstring gives: of items scoring 1, 1, 2, implicit's top 2 is
    items 2 and 1; ours is items 2 and 0."""
    from implicit.cpu.topk import topk

    items, user = np.array([[1.0], [1.0], [2.0]], dtype=np.float32), np.array([[1.0]], np.float32)
    ids, _ = topk(items, user, 2, num_threads=1)
    assert ids.tolist() == [[2, 1]]
    assert precision_at_k((user, items), sp.csr_matrix([[1, 0, 0]]), k=2) == 0.5
    assert precision_at_k((user, items), sp.csr_matrix([[0, 1, 0]]), k=2) == 0.0


def test_implicit_orders_tied_items_by_decreasing_index(als_model):
    """implicit's evaluation.ndcg_at_k puts item 1 before item 0 when they tie; we put
    item 0 first, so a hit on item 0 counts as first place here and second there."""
    import copy

    model = copy.deepcopy(als_model)
    model.user_factors = np.ones((2, 1), dtype=np.float32)
    model.item_factors = np.array([[2.0], [2.0], [1.0], [0.0]], dtype=np.float32)
    train, test = sp.csr_matrix((2, 4)), sp.csr_matrix([[1, 0, 0, 0], [1, 0, 0, 0]])
    assert implicit_ndcg_at_k(model, train, test, K=2, show_progress=False) == \
        pytest.approx(1 / np.log2(3))
    assert ndcg_at_k(model, test, k=2, exclude=train) == 1.0


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


def test_implicit_bpr_with_its_bias_column_is_scored(split):
    """BPR keeps a column of ones in user_factors and the item biases in item_factors,
    so the dot product is its score and the metrics need nothing special."""
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    train, test, users = split
    model = BayesianPersonalizedRanking(factors=7, iterations=30, random_state=0, num_threads=1)
    model.fit(train, show_progress=False)
    assert model.user_factors.shape[1] == model.item_factors.shape[1] == 8
    np.testing.assert_array_equal(model.user_factors[:, -1], 1.0)
    assert np.ptp(model.item_factors[:, -1]) > 0  # the biases vary
    scores = dense_scores(model)
    np.testing.assert_allclose(scores, model.user_factors.astype(np.float64)
                               @ model.item_factors.astype(np.float64).T)
    for kind, metric in RANKING.items():
        expected = brute_ranking(scores, test, 5, users, train, kind)
        np.testing.assert_allclose(metric(model, test, k=5, users=users, exclude=train,
                                          per_user=True), expected, atol=1e-12)
    theirs = implicit_precision_at_k(model, train, test, K=5, show_progress=False)
    assert precision_at_k(model, test, k=5, exclude=train) == pytest.approx(theirs, abs=1e-12)
    np.testing.assert_allclose(auc(model, test, users=users, exclude=train, per_user=True),
                               brute_auc(scores, test, users, train), atol=1e-12)


# ----------------------------------------------------------------------------- sparse factors


def sparse_factors(factors, rng):
    """The same factors as CSR matrices, with some stored zeros, one duplicated entry
    and unsorted rows: as_factors must canonicalise them."""
    users, items = (sp.coo_matrix(np.asarray(a, dtype=np.float32)) for a in factors)
    if users.nnz:
        users = sp.coo_matrix((np.r_[users.data, 0.0], (np.r_[users.row, users.row[0]],
                                                        np.r_[users.col, users.col[0]])),
                              shape=users.shape)  # a duplicate adding 0
    order = rng.permutation(items.nnz)
    items = sp.coo_matrix((items.data[order], (items.row[order], items.col[order])),
                          shape=items.shape)
    return users.tocsr(), items.tocsr()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 9),
    n_items=st.integers(1, 12),
    use_exclude=st.booleans(),
    chunk_size=st.sampled_from([None, 1, 2]),
    data=st.data(),
)
def test_sparse_factors_give_the_dense_factors_numbers(seed, n_users, n_items, use_exclude,
                                                       chunk_size, data):
    """Small-integer factors (exact in float32, full of ties): every metric gives the
    same numbers for the factors as arrays and as sparse matrices, and those equal the
    brute force."""
    rng, factors, interactions, exclude = tied_case(seed, n_users, n_items)
    k = data.draw(st.integers(1, n_items), label="k")
    exclude = exclude if use_exclude else None
    sparse = sparse_factors(factors, rng)
    users = rng.integers(0, n_users, size=rng.integers(1, 2 * n_users + 1))
    scores = dense_scores(factors)
    np.testing.assert_array_equal(dense_scores(sparse), scores)
    for kind, metric in RANKING.items():
        expected = brute_ranking(scores, interactions, k, users, exclude, kind)
        got = metric(sparse, interactions, k=k, users=users, exclude=exclude, per_user=True,
                     num_threads=2, chunk_size=chunk_size)
        np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(
        auc(sparse, interactions, users=users, exclude=exclude, per_user=True, chunk_size=2),
        brute_auc(scores, interactions, users, exclude), atol=1e-12)
    assert mse(sparse, interactions, users=users) == pytest.approx(
        mse(factors, interactions, users=users), rel=1e-9, abs=1e-12)


def test_sparse_factors_on_random_floats_and_mixed_kinds():
    rng, factors, interactions, exclude = random_case(4, 30, 25)
    sparse = sparse_factors(factors, rng)
    mixed = (np.asarray(factors[0]), sparse[1])  # dense users, sparse items: both made sparse
    users, items = as_factors(mixed)
    assert sp.isspmatrix_csr(users) and sp.isspmatrix_csr(items)
    assert users.dtype == items.dtype == np.float32 and items.has_canonical_format
    scores = dense_scores(sparse)
    evaluated = np.arange(30)
    for model in (sparse, mixed):
        for kind, metric in RANKING.items():
            for exc in (None, exclude):
                expected = brute_ranking(scores, interactions, 6, evaluated, exc, kind)
                got = metric(model, interactions, k=6, users=evaluated, exclude=exc,
                             per_user=True)
                np.testing.assert_allclose(got, expected, atol=1e-12)
    expected = mean_squared_error(interactions.toarray().ravel(), scores.ravel())
    assert mse(sparse, interactions) == pytest.approx(expected, rel=1e-5)
    got = checkpoint_scores(sparse, exclude, interactions, k=3, exclude_train="both")
    assert got["p@k", "test"] == precision_at_k(sparse, interactions, k=3)
    assert got["p@k", metrics.FILTERED_TEST] == precision_at_k(sparse, interactions, k=3,
                                                               exclude=exclude)


def test_sparse_factors_are_scored_one_block_at_a_time(monkeypatch):
    """No score matrix larger than chunk_size users x n_items is ever built."""
    rng, factors, interactions, exclude = random_case(1, 40, 30)
    sparse = sparse_factors(factors, rng)
    shapes = []
    real = ranking.dense_scores

    def recording(task, rows):
        out = real(task, rows)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(ranking, "dense_scores", recording)
    monkeypatch.setattr(metrics, "dense_scores", recording)  # auc scores its own blocks
    expected = precision_at_k(factors, interactions, k=4, exclude=exclude, per_user=True)
    assert shapes == []  # dense factors take the pruned top-k, not blocks of scores
    got = precision_at_k(sparse, interactions, k=4, exclude=exclude, per_user=True, chunk_size=7)
    np.testing.assert_allclose(got, expected)
    assert shapes and max(rows for rows, _ in shapes) <= 7 and {c for _, c in shapes} == {30}
    assert sum(rows for rows, _ in shapes) == len(got)
    shapes.clear()
    auc(sparse, interactions, chunk_size=5)
    assert shapes and max(rows for rows, _ in shapes) <= 5


def test_sparse_factors_with_nan_are_refused():
    users = sp.csr_matrix(np.ones((3, 2), dtype=np.float32))
    items = sp.csr_matrix(np.array([[1.0, np.nan], [1.0, 1.0], [np.inf, 0.0]]))
    with pytest.raises(NonFiniteModelError,
                       match="The factor tuple's item factors hold 1 NaN and 1 inf values"):
        precision_at_k((users, items), sp.csr_matrix(np.eye(3)), k=1)
    with pytest.raises(NonFiniteModelError, match="beyond float32's range"):
        precision_at_k((users, sp.csr_matrix(np.full((3, 2), 1e39))), sp.csr_matrix(np.eye(3)))


@pytest.mark.filterwarnings("ignore::implicit.utils.ParameterWarning")
def test_implicit_item_item_model_asks_for_the_wrapper():
    from implicit.nearest_neighbours import CosineRecommender

    likes = sp.csr_matrix(np.eye(4, 5, dtype=np.float32) + np.eye(4, 5, 1, dtype=np.float32))
    model = CosineRecommender(K=2, num_threads=1)
    model.fit(likes, show_progress=False)
    with pytest.raises(TypeError, match=r"ItemKNN\.from_implicit\(model, train\)"):
        precision_at_k(model, likes, k=1)


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_contains_the_mean_and_shrinks_with_more_users():
    rng = np.random.default_rng(0)
    small = (rng.random(100) < 0.3).astype(float)
    large = (rng.random(10_000) < 0.3).astype(float)
    ci_small = bootstrap_ci(small, n_boot=500, random_state=1)
    ci_large = bootstrap_ci(large, n_boot=500, random_state=1)
    assert isinstance(ci_small, BootstrapCI)
    for ci, values in ((ci_small, small), (ci_large, large)):
        assert ci.mean == values.mean()
        assert ci.low < ci.mean < ci.high
    # width ~ 1 / sqrt(n): 100 times the users, about a tenth of the width
    ratio = (ci_large.high - ci_large.low) / (ci_small.high - ci_small.low)
    assert 0.06 < ratio < 0.15


def test_bootstrap_ci_matches_the_normal_interval_of_a_mean():
    values = np.random.default_rng(2).standard_normal(4000)
    mean, low, high = bootstrap_ci(values, n_boot=2000, random_state=3)
    half = 1.959964 * values.std(ddof=1) / np.sqrt(len(values))
    assert low == pytest.approx(mean - half, abs=0.1 * half)
    assert high == pytest.approx(mean + half, abs=0.1 * half)
    # a narrower level gives a narrower interval inside it
    _, low50, high50 = bootstrap_ci(values, n_boot=2000, level=0.5, random_state=3)
    assert low < low50 < mean < high50 < high


def test_bootstrap_ci_is_seeded_and_blocks_bound_memory(monkeypatch):
    values = np.random.default_rng(4).random(300)
    a = bootstrap_ci(values, random_state=5)
    assert a == bootstrap_ci(values, random_state=5)
    assert a != bootstrap_ci(values, random_state=6)
    drawn = []

    class Recording:
        def __init__(self, rng):
            self.rng = rng

        def integers(self, *args, size, **kwargs):
            drawn.append(size)
            return self.rng.integers(*args, size=size, **kwargs)

    monkeypatch.setattr(bootstrap, "check_random_state", lambda seed: Recording(
        np.random.default_rng(seed)))
    monkeypatch.setattr(bootstrap, "_BOOT_CELLS", 1000)
    blocked = bootstrap_ci(values, n_boot=10, random_state=5)
    assert drawn == [(3, 300), (3, 300), (3, 300), (1, 300)]  # 1000 // 300 resamples a block
    assert blocked.low <= blocked.mean <= blocked.high


def test_bootstrap_known_cases():
    # constant values: every resample has the same mean
    mean, low, high = bootstrap_ci(np.full(37, 0.3), random_state=0)
    assert mean == pytest.approx(0.3) and low == pytest.approx(0.3) and high == pytest.approx(0.3)
    assert high - low == pytest.approx(0.0, abs=1e-12)
    # two users, values 0 and 1: resampled means are 0, 1/2, 1 with chances 1/4, 1/2, 1/4
    ci = bootstrap_ci([0.0, 1.0], n_boot=4000, level=0.9, random_state=0)
    assert (ci.mean, ci.low, ci.high) == (0.5, 0.0, 1.0)
    ci = bootstrap_ci([0.0, 1.0], n_boot=4000, level=0.4, random_state=0)
    assert (ci.low, ci.high) == (0.5, 0.5)
    # one user: no spread at all
    assert bootstrap_ci([0.7], random_state=0) == (0.7, 0.7, 0.7)


def test_paired_bootstrap_diff():
    rng = np.random.default_rng(7)
    base = rng.random(500)  # users differ a lot; the models differ little
    a = base + 0.02 + 0.05 * rng.standard_normal(500)
    paired = paired_bootstrap_diff(a, base, random_state=1)
    assert paired.mean == pytest.approx((a - base).mean())
    assert paired.low < paired.mean < paired.high
    assert paired.low > 0  # the small but consistent gain is detected
    # it is the bootstrap of the differences, resampling the users of both together
    assert paired == bootstrap_ci(a - base, random_state=1)
    # comparing two separate intervals would not see the gain
    ci_a, ci_b = bootstrap_ci(a, random_state=1), bootstrap_ci(base, random_state=2)
    assert ci_a.low < ci_b.high
    assert paired.high - paired.low < 0.5 * (ci_a.high - ci_a.low)
    shifted = paired_bootstrap_diff(base + 0.25, base, random_state=0)
    assert shifted.low == pytest.approx(0.25) and shifted.high == pytest.approx(0.25)
    assert paired_bootstrap_diff(base, base, random_state=0) == (0.0, 0.0, 0.0)


def test_bootstrap_guards():
    with pytest.raises(ValueError, match="per_user_values is empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="a is empty"):
        paired_bootstrap_diff([], [])
    with pytest.raises(ValueError, match=r"1-D array of per-user values, got shape \(2, 2\)"):
        bootstrap_ci(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"holds 1 NaN and 0 inf values; drop those users"):
        bootstrap_ci([0.5, np.nan])
    with pytest.raises(ValueError, match=r"b holds 0 NaN and 1 inf"):
        paired_bootstrap_diff([0.5, 0.1], [np.inf, 0.2])
    with pytest.raises(ValueError, match="same users, got 3 and 2 values"):
        paired_bootstrap_diff([1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="1-D array of numbers"):
        bootstrap_ci(["a", "b"])
    with pytest.raises(TypeError, match="got a sparse matrix"):
        bootstrap_ci(sp.csr_matrix(np.ones((1, 3))))
    for n_boot in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_boot must be an integer >= 1"):
            bootstrap_ci([1.0, 2.0], n_boot=n_boot)
    for level in (0, 1, 95, "0.95"):
        with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\)"):
            bootstrap_ci([1.0, 2.0], level=level)
    with pytest.raises(ValueError, match="random_state must be"):
        bootstrap_ci([1.0, 2.0], random_state="seed")


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
    for metric in (precision_at_k, recall_at_k, ndcg_at_k, map_at_k):
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


# ----------------------------------------------------------------------------- non-finite models


def every_metric(model, interactions, **kwargs):
    """Call each metric on ``model``; each must raise."""
    calls = [
        lambda: precision_at_k(model, interactions, k=2, **kwargs),
        lambda: recall_at_k(model, interactions, k=2, **kwargs),
        lambda: ndcg_at_k(model, interactions, k=2, **kwargs),
        lambda: map_at_k(model, interactions, k=2, **kwargs),
        lambda: auc(model, interactions, **kwargs),
        lambda: mse(model, interactions, **kwargs),
        lambda: checkpoint_scores(model, interactions, interactions, k=2, **kwargs),
        lambda: as_factors(model, **kwargs),
    ]
    return calls


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_metrics_refuse_factors_with_nan_or_inf(bad):
    likes = sp.csr_matrix(np.eye(3, 4))
    items = np.ones((4, 2))
    items[[1, 3], 0] = bad
    n_nan, n_inf = (2, 0) if np.isnan(bad) else (0, 2)
    for call in every_metric((np.ones((3, 2)), items), likes):
        with pytest.raises(NonFiniteModelError,
                           match=rf"The factor tuple's item factors hold {n_nan} NaN and {n_inf} "
                                 r"inf values \(a diverged fit\?\): retrain it with a lower "
                                 "learning rate or stronger regularisation"):
            call()
    users = np.ones((3, 2))
    users[0, 1] = bad
    with pytest.raises(NonFiniteModelError, match="user factors hold"):
        precision_at_k((users, np.ones((4, 2))), likes, k=1)
    assert issubclass(NonFiniteModelError, ValueError)
    assert "NonFiniteModelError" in metrics.__all__


def test_factors_beyond_float32s_range_are_refused():
    likes = sp.csr_matrix(np.eye(2))
    with pytest.raises(NonFiniteModelError,
                       match="user factors are finite, but 1 of them lie beyond float32's range"):
        precision_at_k((np.array([[1e39], [1.0]]), np.ones((2, 1))), likes, k=1)


def test_a_diverged_als_model_is_refused(split, als_model):
    import copy

    train, test, _ = split
    model = copy.deepcopy(als_model)
    model.item_factors[:3, :4] = np.nan
    for call in every_metric(model, test):
        with pytest.raises(NonFiniteModelError,
                           match="The AlternatingLeastSquares model's item factors hold 12 NaN "
                                 "and 0 inf values"):
            call()


def test_a_diverged_lightfm_model_is_refused(split, item_features):
    train, test, _ = split
    model = LightFM(no_components=4, random_state=np.random.RandomState(0))
    model.fit(sp.coo_matrix(train), item_features=item_features, epochs=1)
    good = model.item_biases.copy()
    model.item_biases[5] = np.inf
    for call in every_metric(model, test, item_features=item_features):
        with pytest.raises(NonFiniteModelError,
                           match="The LightFM model's item biases hold 0 NaN and 1 inf values"):
            call()
    model.item_biases[:] = good
    model.user_embeddings[0, :2] = np.nan
    with pytest.raises(NonFiniteModelError,
                       match="The LightFM model's user embeddings hold 2 NaN and 0 inf values"):
        auc(model, test, item_features=item_features)


def test_lightfm_features_that_overflow_are_refused(split, item_features):
    train, test, _ = split
    model = LightFM(no_components=4, random_state=np.random.RandomState(0))
    model.fit(sp.coo_matrix(train), item_features=item_features, epochs=1)
    features = item_features.copy()
    features[3, 41] = np.nan  # a broken feature weight: finite parameters, NaN representation
    with pytest.raises(NonFiniteModelError,
                       match="The LightFM model's parameters are finite, but its item "
                             "representations .* hold \\d+ NaN .*check item_features"):
        precision_at_k(model, test, item_features=features)
    assert precision_at_k(model, test, item_features=item_features) >= 0  # the model itself is fine
