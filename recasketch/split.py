"""Per-user holdout: move a few likes of some users from train to test."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._utils import check_random_state

__all__ = ["train_test_split"]


def train_test_split(likes, split_count: int = 5, fraction: float | None = 0.2, random_state=None):
    """Hold out ``split_count`` random likes of a random share of users.

    The posts' protocol: users with at least ``2 * split_count`` likes are eligible;
    ``floor(fraction * n_users)`` of them (a share of *all* users, not of the eligible
    ones) are drawn without replacement, and each gives ``split_count`` of its likes,
    drawn uniformly, to the test matrix. Everything else stays in train.

    Parameters
    ----------
    likes : scipy.sparse matrix of shape (n_users, n_items)
        The interactions; explicit zeros are ignored.
    split_count : int, default=5
        Likes moved to test per chosen user.
    fraction : float in (0, 1] or None, default=0.2
        Share of all users to choose. ``None`` chooses every eligible user.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the draws; the same seed gives the same split.

    Returns
    -------
    train : scipy.sparse.csr_matrix of shape (n_users, n_items)
    test : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Disjoint, with ``train + test == likes`` and no explicit zeros.
    user_index : numpy.ndarray of shape (n_chosen,)
        The chosen users' rows, sorted.

    Raises
    ------
    ValueError
        If ``split_count`` or ``fraction`` is out of range, or if fewer users are
        eligible than ``fraction`` asks for (the message gives both numbers).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> likes = sp.csr_matrix(np.ones((10, 12)))
    >>> train, test, users = train_test_split(likes, split_count=3, fraction=0.5, random_state=0)
    >>> len(users), test.nnz, train.nnz + test.nnz == likes.nnz
    (5, 15, True)
    """
    if not sp.issparse(likes):
        raise TypeError(f"likes must be a scipy.sparse matrix, got {type(likes).__name__}.")
    if int(split_count) != split_count or split_count < 1:
        raise ValueError(f"split_count must be an integer >= 1, got {split_count!r}.")
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1] or None, got {fraction!r}.")
    rng = check_random_state(random_state)

    likes = sp.csr_matrix(likes, copy=True)
    likes.eliminate_zeros()
    likes.sum_duplicates()
    likes.sort_indices()
    n_users = likes.shape[0]
    counts = np.diff(likes.indptr)
    eligible = np.flatnonzero(counts >= 2 * split_count)
    n_chosen = len(eligible) if fraction is None else int(np.floor(fraction * n_users))
    if n_chosen > len(eligible):
        raise ValueError(
            f"fraction={fraction} asks for {n_chosen} of {n_users} users, but only "
            f"{len(eligible)} have at least 2 * split_count = {2 * split_count} likes. "
            "Lower fraction or split_count."
        )
    if n_chosen == 0:
        raise ValueError(
            f"The split would choose no user (fraction={fraction}, {n_users} users, "
            f"{len(eligible)} with >= {2 * split_count} likes)."
        )
    user_index = np.sort(rng.choice(eligible, size=n_chosen, replace=False))

    # Rank each chosen user's likes by a random key; the split_count lowest go to test.
    row_of = np.repeat(np.arange(n_users), counts)
    chosen_rows = np.zeros(n_users, dtype=bool)
    chosen_rows[user_index] = True
    pos = np.flatnonzero(chosen_rows[row_of])
    keys = rng.random(len(pos))
    order = pos[np.lexsort((keys, row_of[pos]))]
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts[user_index]) - counts[user_index],
                                             counts[user_index])
    to_test = np.zeros(likes.nnz, dtype=bool)
    to_test[order[rank < split_count]] = True

    test = _subset(likes, to_test)
    train = _subset(likes, ~to_test)
    return train, test, user_index


def _subset(matrix: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
    """The stored entries of ``matrix`` where ``mask`` (over ``matrix.data``) is True."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[mask]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=matrix.shape[0]))])
    out = sp.csr_matrix(
        (matrix.data[mask], matrix.indices[mask], indptr), shape=matrix.shape, dtype=matrix.dtype
    )
    out.has_sorted_indices = True
    return out
