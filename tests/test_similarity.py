import numpy as np
import pandas as pd
import pytest

from recasketch.similarity import item_vectors, similar_items, topic_agreement


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
