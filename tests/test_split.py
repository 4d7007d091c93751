import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recasketch.split import train_test_split


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
