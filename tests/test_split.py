import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recasketch.split import (cold_start_split, largest_split_count, train_test_split,
                              train_validation_test_split)


def random_likes(seed, shape=(60, 40), density=0.3):
    m = sp.random(*shape, density=density, format="csr", random_state=seed, dtype=np.float32)
    m.data[:] = 1.0
    return m


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.floats(0.05, 0.3))
def test_split_invariants(seed, split_count, fraction):
    likes = random_likes(seed % 50)
    train, test, users = train_test_split(likes, split_count, fraction, random_state=seed)
    assert train.shape == test.shape == likes.shape
    assert train.multiply(test).nnz == 0
    assert abs(train + test - likes).nnz == 0
    assert not (train.data == 0).any() and not (test.data == 0).any()
    assert len(users) == int(np.floor(fraction * likes.shape[0]))
    assert len(np.unique(users)) == len(users)
    per_user = np.diff(test.indptr)
    np.testing.assert_array_equal(per_user[users], split_count)
    assert per_user.sum() == split_count * len(users)
    assert (np.diff(likes.indptr)[users] >= 2 * split_count).all()


def test_same_seed_same_split_other_seed_other_split():
    likes = random_likes(1, (200, 80))
    a = train_test_split(likes, 5, 0.2, random_state=7)
    b = train_test_split(likes, 5, 0.2, random_state=7)
    c = train_test_split(likes, 5, 0.2, random_state=8)
    np.testing.assert_array_equal(a[2], b[2])
    assert (a[1] != b[1]).nnz == 0
    assert (a[1] != c[1]).nnz > 0


def test_draws_are_uniform_over_a_users_likes():
    likes = sp.csr_matrix(np.ones((1, 10), dtype=np.float32))
    hits = np.zeros(10)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        _, test, _ = train_test_split(likes, 2, 1.0, random_state=rng)
        hits[test.indices] += 1
    # each item is held out with probability 2/10 -> 400 of 2000; 5 sigma is ~90
    assert np.abs(hits - 400).max() < 90


def test_fraction_none_takes_every_eligible_user():
    likes = sp.csr_matrix(np.array([[1] * 10, [1] * 9 + [0], [1] * 10], dtype=np.float32))
    _, test, users = train_test_split(likes, 5, None, random_state=0)
    np.testing.assert_array_equal(users, [0, 2])


def test_explicit_zeros_are_ignored():
    likes = sp.csr_matrix(np.ones((4, 12), dtype=np.float32))
    likes.data[:3] = 0.0  # stored zeros in row 0
    train, test, users = train_test_split(likes, 2, 0.5, random_state=0)
    assert (train.data != 0).all() and (test.data != 0).all()
    assert train.nnz + test.nnz == 45


def test_guards_name_the_numbers():
    likes = random_likes(0, (20, 10), 0.2)
    with pytest.raises(ValueError, match=r"asks for 10 of 20 users, but only \d+ have at least 2 \* split_count = 10"):
        train_test_split(likes, 5, 0.5, random_state=0)
    with pytest.raises(ValueError, match="split_count must be an integer >= 1"):
        train_test_split(likes, 0)
    with pytest.raises(ValueError, match="fraction must be in"):
        train_test_split(likes, 1, 1.5)
    with pytest.raises(ValueError, match="would choose no user"):
        train_test_split(likes, 1, 0.01)
    with pytest.raises(TypeError, match="scipy.sparse"):
        train_test_split(likes.toarray(), 1, 0.2)


# ------------------------------------------------------------------------ train, validation, test


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.floats(0.05, 0.3))
def test_three_way_split_invariants(seed, split_count, fraction):
    likes = random_likes(seed % 50)
    split = train_validation_test_split(likes, split_count, fraction, random_state=seed)
    train, validation, test, users = split
    assert (train, validation, test, users) == tuple(split)
    assert train.shape == validation.shape == test.shape == likes.shape
    for a, b in ((train, validation), (train, test), (validation, test)):
        assert a.multiply(b).nnz == 0
    assert abs(train + validation + test - likes).nnz == 0
    for part in (train, validation, test):
        assert not (part.data == 0).any() and part.has_sorted_indices
    assert len(users) == int(np.floor(fraction * likes.shape[0]))
    assert len(np.unique(users)) == len(users) and (np.diff(users) > 0).all()
    for part in (validation, test):
        per_user = np.diff(part.indptr)
        np.testing.assert_array_equal(per_user[users], split_count)
        assert per_user.sum() == split_count * len(users)
    counts = np.diff(likes.indptr)
    assert (counts[users] >= 3 * split_count).all()
    np.testing.assert_array_equal(np.diff(train.indptr)[users], counts[users] - 2 * split_count)


def test_three_way_same_seed_same_split_other_seed_other_split():
    likes = random_likes(1, (200, 80))
    a = train_validation_test_split(likes, 4, 0.2, random_state=7)
    b = train_validation_test_split(likes, 4, 0.2, random_state=7)
    c = train_validation_test_split(likes, 4, 0.2, random_state=8)
    np.testing.assert_array_equal(a.user_index, b.user_index)
    for part in ("train", "validation", "test"):
        assert (getattr(a, part) != getattr(b, part)).nnz == 0
        assert (getattr(a, part) != getattr(c, part)).nnz > 0


def test_three_way_draws_are_uniform_and_the_two_parts_independent():
    likes = sp.csr_matrix(np.ones((1, 10), dtype=np.float32))
    in_test, in_validation = np.zeros(10), np.zeros(10)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        _, validation, test, _ = train_validation_test_split(likes, 2, 1.0, random_state=rng)
        in_test[test.indices] += 1
        in_validation[validation.indices] += 1
    # each item goes to test, and to validation, with probability 2/10 -> 400 of 2000
    assert np.abs(in_test - 400).max() < 90
    assert np.abs(in_validation - 400).max() < 90


def test_three_way_eligibility_needs_three_times_split_count():
    # rows with 15, 14 and 15 likes: split_count 5 leaves row 1 out
    likes = sp.csr_matrix(np.array([[1] * 15, [1] * 14 + [0], [1] * 15], dtype=np.float32))
    split = train_validation_test_split(likes, 5, None, random_state=0)
    np.testing.assert_array_equal(split.user_index, [0, 2])
    assert split.train.getnnz(axis=1).tolist() == [5, 14, 5]
    # 2 * 5 = 10 likes would make row 1 eligible for the two-way split, not this one
    assert len(train_test_split(likes, 5, None, random_state=0)[2]) == 3
    with pytest.raises(ValueError, match=r"asks for 3 of 3 users, but only 2 have at least "
                                         r"3 \* split_count = 15 likes"):
        train_validation_test_split(likes, 5, 1.0, random_state=0)


def test_three_way_guards():
    likes = random_likes(0, (20, 10), 0.5)
    with pytest.raises(ValueError, match="split_count must be an integer >= 1"):
        train_validation_test_split(likes, 0)
    with pytest.raises(ValueError, match="fraction must be in"):
        train_validation_test_split(likes, 1, 0.0)
    with pytest.raises(ValueError, match="would choose no user"):
        train_validation_test_split(likes, 1, 0.01)
    with pytest.raises(TypeError, match="scipy.sparse"):
        train_validation_test_split(likes.toarray(), 1, 0.2)


# ----------------------------------------------------------------------------- cold start


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.03, 0.5))
def test_cold_start_invariants(seed, item_fraction):
    likes = random_likes(seed % 50, density=0.1)
    train, test, items, users = cold_start_split(likes, item_fraction, random_state=seed)
    assert train.shape == test.shape == likes.shape
    assert train.multiply(test).nnz == 0
    assert abs(train + test - likes).nnz == 0
    assert not (train.data == 0).any() and not (test.data == 0).any()
    assert len(items) == int(np.floor(item_fraction * likes.shape[1]))
    assert (np.diff(items) > 0).all()
    assert train[:, items].nnz == 0  # held-out items have no like in train
    assert abs(test[:, items] - likes[:, items]).nnz == 0  # ... and all of them in test
    others = np.setdiff1d(np.arange(likes.shape[1]), items)
    assert test[:, others].nnz == 0
    assert (likes.getnnz(axis=0)[items] > 0).all()  # drawn among items with a like
    np.testing.assert_array_equal(users, np.flatnonzero(test.getnnz(axis=1)))


def test_cold_start_same_seed_same_split_other_seed_other_split():
    likes = random_likes(3, (100, 80))
    a = cold_start_split(likes, 0.2, random_state=5)
    b = cold_start_split(likes, 0.2, random_state=5)
    c = cold_start_split(likes, 0.2, random_state=6)
    np.testing.assert_array_equal(a.item_index, b.item_index)
    assert (a.test != b.test).nnz == 0
    assert not np.array_equal(a.item_index, c.item_index)


def test_cold_start_skips_items_without_likes_and_guards():
    likes = sp.csr_matrix(np.array([[1, 0, 1, 0, 1, 0, 0, 0, 0, 0],
                                    [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]], dtype=np.float32))
    seen = set()
    for seed in range(30):
        split = cold_start_split(likes, 0.3, random_state=seed)
        seen.update(split.item_index.tolist())
        assert split.test.nnz + split.train.nnz == 4
    assert seen == {0, 2, 4}
    with pytest.raises(ValueError, match="asks for 4 of 10 items, but only 3 have a like"):
        cold_start_split(likes, 0.4)
    with pytest.raises(ValueError, match="would hold out no item"):
        cold_start_split(likes, 0.05)
    with pytest.raises(ValueError, match=r"item_fraction must be in \(0, 1\)"):
        cold_start_split(likes, 1.0)
    with pytest.raises(TypeError, match="item_fraction must be a number"):
        cold_start_split(likes, "0.1")
    with pytest.raises(TypeError, match="scipy.sparse"):
        cold_start_split(likes.toarray(), 0.3)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.1, 0.3, 0.6, None]), st.sampled_from([2, 3]))
def test_largest_split_count_is_the_largest_that_splits(seed, fraction, parts):
    rng = np.random.default_rng(seed)
    likes = sp.random(30, 40, density=0.3, format="csr", random_state=rng)
    split = train_test_split if parts == 2 else train_validation_test_split
    try:
        count = largest_split_count(likes, 8, fraction=fraction, parts=parts)
    except ValueError:
        with pytest.raises(ValueError):
            split(likes, 1, fraction=fraction, random_state=0)
        return
    assert 1 <= count <= 8
    split(likes, count, fraction=fraction, random_state=0)  # draws without error
    if count < 8:
        with pytest.raises(ValueError, match="Lower fraction or split_count|would choose no user"):
            split(likes, count + 1, fraction=fraction, random_state=0)


def test_largest_split_count_keeps_the_posts_holdout_and_guards():
    likes = sp.csr_matrix(np.ones((10, 20)))
    assert largest_split_count(likes, 5, fraction=0.2) == 5
    assert largest_split_count(likes, 5, fraction=0.2, parts=2) == 5
    sparse = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match="No holdout fits"):
        largest_split_count(sparse, 5, fraction=0.5)
    with pytest.raises(ValueError, match="split_count must be"):
        largest_split_count(likes, 0)
    with pytest.raises(ValueError, match="parts must be"):
        largest_split_count(likes, 5, parts=1)
