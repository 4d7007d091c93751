import numpy as np
import pandas as pd
import pytest

from recasketch.models.similarity import (item_vectors, items_near_feature, similar_items, suggest_features,
                                          suggestion_agreement, topic_agreement)


def brute_cosine(vectors):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def test_similar_items_equals_dense_cosine():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 6)).astype(np.float32)
    out = similar_items(vectors, [3, 7], n=5, item_ids=np.arange(50) + 1000)
    sims = brute_cosine(vectors)
    for q in (3, 7):
        got = out[out["query"] == q]
        expected = np.argsort(-sims[q])[:5]
        np.testing.assert_array_equal(got["item"], expected)
        np.testing.assert_allclose(got["score"], sims[q, expected], rtol=1e-5)
        assert got["item"].iloc[0] == q and got["score"].iloc[0] == pytest.approx(1.0)
        np.testing.assert_array_equal(got["id"], expected + 1000)
    assert list(out["rank"][:5]) == [0, 1, 2, 3, 4]


def test_similar_items_without_self_and_names():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    ids = np.array(["a", "b", "c", "d"], dtype=object)
    out = similar_items(vectors, 0, n=2, item_ids=ids, names={"a": "A", "b": "B", "c": "C", "d": "D"},
                        include_self=False)
    assert out["name"].tolist() == ["B", "D"]
    out = similar_items(vectors, 2, n=1, names=["A", "B", "C", "D"])
    assert out["name"].tolist() == ["C"]


def test_similar_items_guards():
    vectors = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="more neighbours than the 2 items"):
        similar_items(vectors, 0, n=3, include_self=False)
    with pytest.raises(IndexError, match=r"in \[0, 3\)"):
        similar_items(vectors, 5, n=1)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        similar_items(vectors, 0, n=0)
    with pytest.raises(TypeError, match="Cannot take item vectors from dict"):
        item_vectors({})
    with pytest.raises(ValueError, match="needs item_ids"):
        similar_items(vectors, 0, n=1, names={"a": "A"})


def test_topic_agreement_on_planted_clusters():
    rng = np.random.default_rng(1)
    topics = np.repeat(["x", "y", "z"], [20, 20, 10])
    centres = np.eye(3, dtype=np.float32)[pd.factorize(topics)[0]]
    vectors = centres + 0.05 * rng.normal(size=centres.shape).astype(np.float32)
    result = topic_agreement(vectors, topics, n=5)
    assert result.observed == 1.0
    # chance = mean over items of (topic size - 1) / (n_items - 1), on paper:
    assert result.chance == pytest.approx((40 * 19 / 49 + 10 * 9 / 49) / 50)
    assert result.lift == pytest.approx(1 / result.chance)
    shuffled = topic_agreement(rng.normal(size=(50, 3)), topics, n=5)
    assert shuffled.observed < 0.7
    with pytest.raises(ValueError, match="one entry per item"):
        topic_agreement(vectors, topics[:-1])


# ------------------------------------------------------------------ feature embeddings


@pytest.fixture
def tagged():
    """Four items; features = identity (4) + tag_a, tag_b, category_x, embedded in 2-D so
    that item 0 is tag_a, item 1 tag_a + tag_b, item 2 tag_b and item 3 category_x."""
    import scipy.sparse as sp
    from lightfm import LightFM

    names = np.array(["item_0", "item_1", "item_2", "item_3", "tag_a", "tag_b", "category_x"],
                     dtype=object)
    tags = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32))
    features = sp.hstack([sp.identity(4, dtype=np.float32), tags], format="csr")
    model = LightFM(no_components=2)
    model._initialize(2, features.shape[1], 3)
    model.item_embeddings = np.array([[0, 0], [0, 0], [0, 0], [0, 0], [1, 0], [0, 1], [1, 1]],
                                     dtype=np.float32)
    return model, features, names


def test_items_near_feature_ranks_items_by_cosine_to_the_tag(tagged):
    model, features, names = tagged
    near = items_near_feature(model, features, "tag_a", n=4, feature_names=names,
                              names=["zero", "one", "two", "three"])
    assert near["item"].tolist() == [0, 1, 3, 2]
    np.testing.assert_allclose(near["score"], [1, np.sqrt(0.5), np.sqrt(0.5), 0], atol=1e-6)
    assert near["name"].tolist() == ["zero", "one", "three", "two"]
    by_column = items_near_feature(model, features, 4, n=2)
    assert by_column["item"].tolist() == [0, 1]
    with pytest.raises(KeyError, match="No feature named 'tag_c'"):
        items_near_feature(model, features, "tag_c", feature_names=names)
    with pytest.raises(ValueError, match="needs feature_names"):
        items_near_feature(model, features, "tag_a")
    with pytest.raises(ValueError, match="trained with"):
        items_near_feature(model, features[:, :5], "tag_a", feature_names=names[:5])
    with pytest.raises(TypeError, match="lightfm.LightFM"):
        items_near_feature(np.ones((4, 2)), features, 4)


def test_suggest_features_leaves_out_tags_the_item_carries(tagged):
    model, features, names = tagged
    out = suggest_features(model, features, [0, 2, 3], n=2, feature_names=names)
    got = {q: rows["name"].tolist() for q, rows in out.groupby("query")}
    # item 0 carries tag_a: only tag_b is left; item 3 ([1, 1]) is equally near both tags
    assert got == {0: ["tag_b"], 2: ["tag_a"], 3: ["tag_a", "tag_b"]}
    np.testing.assert_allclose(out[out["query"] == 3]["score"], [np.sqrt(0.5)] * 2, atol=1e-6)
    everything = suggest_features(model, features, 0, n=7, feature_names=names, prefix=None)
    assert "tag_a" not in everything["name"].tolist() and "item_0" not in everything["name"].tolist()
    assert everything["name"].iloc[0] == "category_x"
    with pytest.raises(ValueError, match="candidates"):
        suggest_features(model, features, 0, n=3, feature_names=names)
    with pytest.raises(ValueError, match="needs feature_names"):
        suggest_features(model, features, 0)
    with pytest.raises(IndexError, match="Items must be in"):
        suggest_features(model, features, 9, feature_names=names)


def test_suggestion_agreement_against_topics_worked_by_hand(tagged):
    model, features, names = tagged
    topics_of = {"tag_a": {"A"}, "tag_b": {"B", "C"}}
    item_topics = ["A", "A", "B", "A"]
    agreement = suggestion_agreement(model, features, [0, 2, 3], item_topics, topics_of, names, n=1)
    # item 0 (A) is offered tag_b (B, C): miss; item 2 (B) tag_a: miss; item 3 (A) tag_a: hit
    np.testing.assert_array_equal(agreement.per_item, [0, 0, 1])
    assert agreement.observed == pytest.approx(1 / 3)
    # candidates not on the item: item 0 {tag_b} -> 0 of 1 is A; item 2 {tag_a} -> 0 of 1 is B;
    # item 3 {tag_a, tag_b} -> 1 of 2 is A
    assert agreement.chance == pytest.approx((0 + 0 + 0.5) / 3)
