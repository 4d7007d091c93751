import numpy as np
import pytest
import scipy.sparse as sp
from implicit.evaluation import precision_at_k as implicit_precision_at_k
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

from recasketch.models.baselines import ItemKNN, Popularity, Random, TagsOnly
from recasketch.metrics import auc, map_at_k, mse, ndcg_at_k, precision_at_k, recall_at_k
from recasketch.split import cold_start_split, train_test_split

# implicit's item-item models convert their own normalised matrix and warn about it
pytestmark = pytest.mark.filterwarnings("ignore::implicit.utils.ParameterWarning")

RANKING = {"precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k,
           "map": map_at_k}


def brute_ranking(scores, interactions, k, users, exclude, kind):
    """The metric per user from a dense score matrix: candidates sorted by decreasing
    score, then increasing item index (a stable argsort), cut at k."""
    liked = interactions.toarray() != 0
    scores = scores.astype(np.float64)
    if exclude is not None:
        scores[exclude.toarray() != 0] = -np.inf  # last, never a hit (disjoint)
    top = np.argsort(-scores, axis=1, kind="stable")[users, :k]
    hits = np.take_along_axis(liked[users], top, axis=1).astype(float)
    n_rel = liked[users].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "precision":
            return hits.sum(axis=1) / k
        if kind == "recall":
            return np.where(n_rel > 0, hits.sum(axis=1) / n_rel, 0.0)
        if kind == "map":
            precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
            return np.where(n_rel > 0, (precision_at * hits).sum(axis=1) / np.minimum(k, n_rel),
                            0.0)
        discount = 1 / np.log2(np.arange(2, k + 2))
        ideal = np.array([discount[:min(k, n)].sum() for n in n_rel])
        return np.where(n_rel > 0, hits @ discount / np.where(ideal > 0, ideal, 1), 0.0)


def assert_metrics_equal_brute_force(model, scores, test, train, k=5):
    users = np.flatnonzero(test.getnnz(axis=1))
    for exclude in (None, train):
        for kind, metric in RANKING.items():
            expected = brute_ranking(scores, test, k, users, exclude, kind)
            got = metric(model, test, k=k, exclude=exclude, per_user=True, chunk_size=7)
            np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=kind)


def planted(seed=0, n_users=150, n_items=90, n_topics=3):
    """Users and items each have a topic; users like items of their topic far more
    often, and an item's tags are two of its topic's four tags plus, half the time,
    one of four tags shared by all topics."""
    rng = np.random.default_rng(seed)
    item_topic = rng.integers(0, n_topics, n_items)
    user_topic = rng.integers(0, n_topics, n_users)
    chance = np.where(user_topic[:, None] == item_topic[None, :], 0.3, 0.02)
    likes = sp.csr_matrix((rng.random((n_users, n_items)) < chance).astype(np.float32))
    tags = np.zeros((n_items, 4 * n_topics + 4), dtype=np.float32)
    for item, topic in enumerate(item_topic):
        tags[item, 4 * topic + rng.choice(4, 2, replace=False)] = 1
        if rng.random() < 0.5:
            tags[item, 4 * n_topics + rng.integers(4)] = 1
    return likes, sp.csr_matrix(tags)


@pytest.fixture(scope="module")
def data():
    return planted()


# ----------------------------------------------------------------------------- Popularity


def test_popularity_ranks_by_train_counts(data):
    likes, _ = data
    train, test, _ = train_test_split(likes, 3, 0.5, random_state=0)
    model = Popularity().fit(train)
    np.testing.assert_array_equal(model.item_factors.ravel(), train.getnnz(axis=0))
    scores = np.ones((likes.shape[0], 1)) @ model.item_factors.T.astype(np.float64)
    assert_metrics_equal_brute_force(model, scores, test, train)


# ----------------------------------------------------------------------------- Random


def test_random_is_one_seeded_order_without_ties():
    likes = sp.csr_matrix((4, 50))
    a = Random(random_state=3).fit(likes)
    assert a.user_factors.shape == (4, 1) and (a.user_factors == 1).all()
    assert a.item_factors.shape == (50, 1) and a.item_factors.dtype == np.float32
    np.testing.assert_array_equal(np.sort(a.item_factors.ravel()), np.arange(50))  # no ties
    np.testing.assert_array_equal(a.item_factors, Random(random_state=3).fit(likes).item_factors)
    assert not np.array_equal(a.item_factors, Random(random_state=4).fit(likes).item_factors)
    rng = np.random.default_rng(0)
    model = Random(random_state=rng)
    first = model.fit(likes).item_factors.copy()
    assert not np.array_equal(first, model.fit(likes).item_factors)  # a Generator is drawn from


def test_random_scores_and_expected_precision(data):
    likes, _ = data
    train, test, _ = train_test_split(likes, 3, 0.5, random_state=0)
    model = Random(random_state=0).fit(train)
    scores = np.ones((likes.shape[0], 1)) @ model.item_factors.T.astype(np.float64)
    assert_metrics_equal_brute_force(model, scores, test, train)
    # every user gets the same list when nothing is excluded
    top = np.argsort(-model.item_factors.ravel())[:5]
    assert precision_at_k(model, likes, k=5, per_user=True).tolist() == \
        (likes[:, top].getnnz(axis=1)[likes.getnnz(axis=1) > 0] / 5).tolist()
    # over many orders, p@k over all items is a user's share of liked items
    share = (likes.getnnz(axis=1) / likes.shape[1])[likes.getnnz(axis=1) > 0].mean()
    values = [precision_at_k(Random(random_state=seed).fit(likes), likes, k=10)
              for seed in range(300)]
    assert np.mean(values) == pytest.approx(share, abs=4 * np.std(values) / np.sqrt(300))


# ----------------------------------------------------------------------------- TagsOnly


def test_tags_only_factors_are_the_documented_sums(data):
    likes, tags = data
    train, test, _ = train_test_split(likes, 3, 0.5, random_state=0)
    dense_tags = tags.toarray().astype(np.float64)
    unit = dense_tags / np.linalg.norm(dense_tags, axis=1, keepdims=True)
    liked = (train.toarray() != 0).astype(np.float64)
    for normalize, items in (("l2", unit), (None, dense_tags)):
        model = TagsOnly(normalize=normalize).fit(train, tags)
        assert sp.isspmatrix_csr(model.user_factors) and sp.isspmatrix_csr(model.item_factors)
        assert model.user_factors.dtype == model.item_factors.dtype == np.float32
        np.testing.assert_allclose(model.item_factors.toarray(), items, rtol=1e-6)
        np.testing.assert_allclose(model.user_factors.toarray(), liked @ items, rtol=1e-6)
        scores = (model.user_factors @ model.item_factors.T).toarray()
        np.testing.assert_allclose(scores, liked @ items @ items.T, rtol=1e-5, atol=1e-6)
        assert_metrics_equal_brute_force(model, scores, test, train)
    mean = TagsOnly(aggregate="mean").fit(train, tags)
    counts = liked.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mean.user_factors.toarray(),
                               np.divide(liked @ unit, counts, where=counts > 0,
                                         out=np.zeros_like(liked @ unit)), rtol=1e-6)
    total = TagsOnly().fit(train, tags)
    # the mean changes the scale of a user's scores, not their ranking
    np.testing.assert_array_equal(map_at_k(mean, test, k=5, exclude=train, per_user=True),
                                  map_at_k(total, test, k=5, exclude=train, per_user=True))
    assert mse(mean, test) != pytest.approx(mse(total, test))


def test_tags_only_by_hand_and_empty_rows():
    tags = sp.csr_matrix([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32)
    likes = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 2, 0]], dtype=np.float32)
    model = TagsOnly().fit(likes, tags)
    scores = (model.user_factors @ model.item_factors.T).toarray()
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(scores, [[1, s, 0, 0],  # item 3 has no tags: 0 for everyone
                                        [0, 0, 0, 0],  # no likes: every item 0
                                        [1, s, 1, 0]],  # a like's weight 2 counts as one like
                               rtol=1e-6)
    counted = TagsOnly(normalize=None).fit(likes, tags)
    np.testing.assert_array_equal((counted.user_factors @ counted.item_factors.T).toarray(),
                                  [[2, 1, 0, 0], [0, 0, 0, 0], [2, 1, 1, 0]])


def test_tags_only_ranks_items_nobody_liked(data):
    """Cold start: every like of a fifth of the items is held out. TagsOnly scores those
    items from their tags; Popularity gives them 0 and ranks them last."""
    likes, tags = data
    train, test, items, users = cold_start_split(likes, 0.2, random_state=0)
    assert train[:, items].nnz == 0
    model = TagsOnly().fit(train, tags)
    assert (model.item_factors[items].getnnz(axis=1) > 0).all()
    scores = (model.user_factors[users] @ model.item_factors[items].T).toarray()
    assert (scores > 0).mean() > 0.5
    assert_metrics_equal_brute_force(model, (model.user_factors @ model.item_factors.T)
                                     .toarray(), test, train)
    tags_recall = recall_at_k(model, test, k=10, exclude=train)
    popularity = Popularity().fit(train)
    assert (popularity.item_factors[items] == 0).all()
    assert recall_at_k(popularity, test, k=10, exclude=train) == 0.0
    random_recall = np.mean([recall_at_k(Random(random_state=s).fit(train), test, k=10,
                                         exclude=train) for s in range(20)])
    assert tags_recall > 2 * random_recall
    assert auc(model, test, exclude=train) > 0.7


def test_tags_only_guards(data):
    likes, tags = data
    with pytest.raises(TypeError, match="item_features must be a scipy.sparse matrix"):
        TagsOnly().fit(likes, tags.toarray())
    with pytest.raises(TypeError, match="user_items must be a scipy.sparse matrix"):
        TagsOnly().fit(likes.toarray(), tags)
    with pytest.raises(ValueError, match=r"item_features has 89 rows but user_items has 90 items"):
        TagsOnly().fit(likes, tags[:89])
    with pytest.raises(ValueError, match="normalize must be 'l2' or None"):
        TagsOnly(normalize="l1").fit(likes, tags)
    with pytest.raises(ValueError, match="aggregate must be 'sum' or 'mean'"):
        TagsOnly(aggregate="max").fit(likes, tags)
    broken = tags.copy()
    broken.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf weights"):
        TagsOnly().fit(likes, broken)
    with pytest.raises(ValueError, match="not fitted yet"):
        precision_at_k(TagsOnly(), likes)


# ----------------------------------------------------------------------------- ItemKNN


@pytest.fixture(scope="module")
def knn_split(data):
    likes, _ = data
    return train_test_split(likes, 5, 0.5, random_state=1)


@pytest.mark.parametrize("measure", ["cosine", "bm25", "tfidf"])
def test_item_knn_scores_are_implicits(knn_split, measure):
    train, test, _ = knn_split
    knn = ItemKNN(K=10, measure=measure, num_threads=1).fit(train)
    n_users, n_items = train.shape
    assert knn.user_factors.shape == (n_users, n_items)
    assert knn.item_factors.shape == (n_items, n_items)
    ours = (knn.user_factors @ knn.item_factors.T).toarray()
    np.testing.assert_allclose(ours, (train @ knn.model_.similarity).toarray(), rtol=1e-5,
                               atol=1e-6)
    # implicit's own scores, every item (it returns only the items with a score; others are 0)
    ids, scores = knn.model_.recommend(np.arange(n_users), train, N=n_items,
                                       filter_already_liked_items=False)
    theirs = np.zeros((n_users, n_items))
    found = ids >= 0
    theirs[np.nonzero(found)[0], ids[found]] = scores[found]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert_metrics_equal_brute_force(knn, ours, test, train)


def test_item_knn_precision_equals_implicits_lists(knn_split):
    """Our p@5 with train removed equals hits / 5 in the lists implicit's recommend
    returns, for every user whose 5th and 6th scores are not (nearly) tied; overall it
    equals implicit's evaluation.precision_at_k (every test user has 5 test likes)."""
    train, test, users = knn_split
    knn = ItemKNN(K=10, num_threads=1).fit(train)
    ids, scores = knn.model_.recommend(users, train[users], N=6, filter_already_liked_items=True)
    hits = test[users][np.arange(len(users))[:, None], ids[:, :5]].toarray() != 0
    theirs = hits.sum(axis=1) / 5
    clear = (ids[:, 5] >= 0) & (scores[:, 4] - scores[:, 5] > 1e-4)
    assert clear.mean() > 0.5
    ours = precision_at_k(knn, test, k=5, users=users, exclude=train, per_user=True)
    np.testing.assert_array_equal(ours[clear], theirs[clear])
    assert precision_at_k(knn, test, k=5, exclude=train) == pytest.approx(
        implicit_precision_at_k(knn.model_, train, test, K=5, show_progress=False), abs=1e-12)


def test_item_knn_from_implicit(knn_split):
    train, test, _ = knn_split
    model = BM25Recommender(K=7, num_threads=1)
    model.fit(train, show_progress=False)
    wrapped = ItemKNN.from_implicit(model, train)
    fitted = ItemKNN(K=7, measure="bm25", num_threads=1).fit(train)
    assert wrapped.model_ is model
    assert (wrapped.item_factors != fitted.item_factors).nnz == 0
    assert (wrapped.user_factors != fitted.user_factors).nnz == 0
    assert precision_at_k(wrapped, test, k=5, exclude=train) == \
        precision_at_k(fitted, test, k=5, exclude=train)


def test_item_knn_guards(knn_split):
    train, _, _ = knn_split
    with pytest.raises(TypeError, match="ItemItemRecommender"):
        ItemKNN.from_implicit(Popularity().fit(train), train)
    with pytest.raises(ValueError, match="CosineRecommender is not fitted yet"):
        ItemKNN.from_implicit(CosineRecommender(), train)
    model = CosineRecommender(K=3, num_threads=1)
    model.fit(train, show_progress=False)
    with pytest.raises(ValueError, match="user_items has 89 items .* similarity covers 90"):
        ItemKNN.from_implicit(model, train[:, :89])
    with pytest.raises(TypeError, match="user_items must be a scipy.sparse matrix"):
        ItemKNN(num_threads=1).fit(train.toarray())
    for K in (0, 2.5, True):
        with pytest.raises(ValueError, match="The 'K' must be an integer >= 1"):
            ItemKNN(K=K).fit(train)
    with pytest.raises(ValueError, match="measure must be one of 'cosine', 'bm25', 'tfidf'"):
        ItemKNN(measure="jaccard").fit(train)
    with pytest.raises(ValueError, match="not fitted yet"):
        precision_at_k(ItemKNN(), train)
