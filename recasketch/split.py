"""Holdouts: move a few likes of some users, or every like of some items, from train to test."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .utils import check_count, check_random_state

__all__ = ["ColdStartSplit", "TrainValidationTestSplit", "cold_start_split", "largest_split_count",
           "train_test_split", "train_validation_test_split"]


class TrainValidationTestSplit(NamedTuple):
    """The result of :func:`train_validation_test_split`; unpacks as a 4-tuple.

    Attributes
    ----------
    train : scipy.sparse.csr_matrix of shape (n_users, n_items)
    validation : scipy.sparse.csr_matrix of shape (n_users, n_items)
    test : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Pairwise disjoint, with ``train + validation + test == likes``.
    user_index : numpy.ndarray of shape (n_chosen,)
        The chosen users' rows, sorted: the same users hold the validation and the
        test likes.
    """

    train: sp.csr_matrix
    validation: sp.csr_matrix
    test: sp.csr_matrix
    user_index: np.ndarray


class ColdStartSplit(NamedTuple):
    """The result of :func:`cold_start_split`; unpacks as a 4-tuple.

    Attributes
    ----------
    train : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Every like of the items not held out; the held-out items' columns are empty.
    test : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Every like of the held-out items; ``train + test == likes``.
    item_index : numpy.ndarray of shape (n_held_out,)
        The held-out items' columns, sorted.
    user_index : numpy.ndarray of shape (n_test_users,)
        The rows with at least one test like, sorted.
    """

    train: sp.csr_matrix
    test: sp.csr_matrix
    item_index: np.ndarray
    user_index: np.ndarray


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

    See Also
    --------
    train_validation_test_split : the same holdout with a validation part as well.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> likes = sp.csr_matrix(np.ones((10, 12)))
    >>> train, test, users = train_test_split(likes, split_count=3, fraction=0.5, random_state=0)
    >>> len(users), test.nnz, train.nnz + test.nnz == likes.nnz
    (5, 15, True)
    """
    likes, rng = _check_holdout(likes, split_count, fraction, random_state)
    user_index, rank = _holdout_ranks(likes, split_count, fraction, 2, rng)
    to_test = (rank >= 0) & (rank < split_count)
    return _subset(likes, ~to_test), _subset(likes, to_test), user_index


def train_validation_test_split(
    likes, split_count: int = 5, fraction: float | None = 0.2, random_state=None
) -> TrainValidationTestSplit:
    """Hold out ``split_count`` random likes of a random share of users for test, and as
    many more of the same users' likes for validation.

    The holdout of :func:`train_test_split` applied twice to the same users: first the
    test likes, then the validation likes from what remains. Users with at least
    ``3 * split_count`` likes are eligible (each keeps at least ``split_count`` in
    train); ``floor(fraction * n_users)`` of them are drawn without replacement, and
    each gives ``split_count`` likes, drawn uniformly, to test and ``split_count`` other
    likes, drawn uniformly from the rest, to validation. Tune on (train, validation),
    then refit on ``train + validation`` and score once on test.

    Parameters
    ----------
    likes : scipy.sparse matrix of shape (n_users, n_items)
        The interactions; explicit zeros are ignored.
    split_count : int, default=5
        Likes moved to test, and again to validation, per chosen user.
    fraction : float in (0, 1] or None, default=0.2
        Share of all users to choose. ``None`` chooses every eligible user.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the draws; the same seed gives the same split.

    Returns
    -------
    TrainValidationTestSplit
        ``(train, validation, test, user_index)``: three pairwise disjoint csr_matrix of
        shape (n_users, n_items) without explicit zeros that sum to ``likes``, and the
        chosen users' rows, sorted. Each chosen user holds exactly ``split_count``
        validation and ``split_count`` test likes; other users hold none.

    Raises
    ------
    ValueError
        If ``split_count`` or ``fraction`` is out of range, or if fewer users are
        eligible than ``fraction`` asks for (the message gives both numbers).
    TypeError
        If ``likes`` is not a scipy.sparse matrix.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> likes = sp.csr_matrix(np.ones((10, 12)))
    >>> split = train_validation_test_split(likes, split_count=3, fraction=0.5, random_state=0)
    >>> len(split.user_index), split.validation.nnz, split.test.nnz, split.train.nnz
    (5, 15, 15, 90)
    >>> split.validation.multiply(split.test).nnz
    0
    """
    likes, rng = _check_holdout(likes, split_count, fraction, random_state)
    user_index, rank = _holdout_ranks(likes, split_count, fraction, 3, rng)
    to_test = (rank >= 0) & (rank < split_count)
    to_validation = (rank >= split_count) & (rank < 2 * split_count)
    return TrainValidationTestSplit(_subset(likes, ~(to_test | to_validation)), _subset(likes, to_validation),
                                    _subset(likes, to_test), user_index)


def cold_start_split(likes, item_fraction: float = 0.1, random_state=None) -> ColdStartSplit:
    """Hold out every like of a random share of items: the items are new to the model.

    ``floor(item_fraction * n_items)`` items (a share of *all* items) are drawn without
    replacement from those with at least one like, and all their likes go to test.
    A model fitted on train has never seen them, so only one that scores items from
    their content (tags, categories; see :class:`recasketch.models.baselines.TagsOnly`) can
    rank them on purpose. Score it on the test users, usually ranking every item
    except each user's train likes (``exclude=train``). A user whose likes are all on
    held-out items has an empty train row.

    Parameters
    ----------
    likes : scipy.sparse matrix of shape (n_users, n_items)
        The interactions; explicit zeros are ignored.
    item_fraction : float in (0, 1), default=0.1
        Share of all items to hold out.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the draw; the same seed gives the same split.

    Returns
    -------
    ColdStartSplit
        ``(train, test, item_index, user_index)``: two disjoint csr_matrix of shape
        (n_users, n_items) without explicit zeros that sum to ``likes``, the held-out
        items' columns (sorted), and the rows with a test like (sorted).

    Raises
    ------
    ValueError
        If ``item_fraction`` is out of range, if it holds out no item, or if fewer
        items have a like than it asks for (the message gives both numbers).
    TypeError
        If ``likes`` is not a scipy.sparse matrix.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> likes = sp.csr_matrix(np.ones((4, 10)))
    >>> train, test, items, users = cold_start_split(likes, item_fraction=0.2, random_state=0)
    >>> len(items), test.nnz, train[:, items].nnz, users.tolist()
    (2, 8, 0, [0, 1, 2, 3])
    """
    likes = _canonical_likes(likes)
    if isinstance(item_fraction, bool) or not isinstance(item_fraction, (int, float, np.number)):
        raise TypeError(f"item_fraction must be a number in (0, 1), got {item_fraction!r}.")
    if not 0 < item_fraction < 1:
        raise ValueError(f"item_fraction must be in (0, 1), got {item_fraction!r}.")
    rng = check_random_state(random_state)
    n_items = likes.shape[1]
    eligible = np.flatnonzero(np.bincount(likes.indices, minlength=n_items) > 0)
    n_held = int(np.floor(item_fraction * n_items))
    if n_held == 0:
        raise ValueError(
            f"The split would hold out no item (item_fraction={item_fraction}, {n_items} items); "
            "raise item_fraction."
        )
    if n_held > len(eligible):
        raise ValueError(
            f"item_fraction={item_fraction} asks for {n_held} of {n_items} items, but only "
            f"{len(eligible)} have a like. Lower item_fraction."
        )
    item_index = np.sort(rng.choice(eligible, size=n_held, replace=False))
    held = np.zeros(n_items, dtype=bool)
    held[item_index] = True
    to_test = held[likes.indices]
    test = _subset(likes, to_test)
    user_index = np.flatnonzero(np.diff(test.indptr))
    return ColdStartSplit(_subset(likes, ~to_test), test, item_index, user_index)


def largest_split_count(likes, split_count: int = 5, fraction: float | None = 0.2, parts: int = 3) -> int:
    """The largest holdout size, at most ``split_count``, that a split can draw from ``likes``.

    A split needs ``floor(fraction * n_users)`` users with at least ``parts *
    split_count`` likes (``parts=2`` for :func:`train_test_split`, 3 for
    :func:`train_validation_test_split`). On the posts' data ``split_count`` itself is
    returned; on a small dataset of one's own, where few users have 15 likes, the
    holdout shrinks rather than fail.

    Parameters
    ----------
    likes : scipy.sparse matrix of shape (n_users, n_items)
    split_count : int, default=5
        The holdout wanted.
    fraction : float in (0, 1] or None, default=0.2
        As in the splits; ``None`` needs one eligible user.
    parts : int, default=3
        Multiple of the holdout a user must have.

    Returns
    -------
    int
        In ``[1, split_count]``.

    Raises
    ------
    ValueError
        If not even a holdout of 1 can be drawn.

    Examples
    --------
    >>> likes = sp.csr_matrix(np.ones((10, 12)))
    >>> largest_split_count(likes, 5, fraction=0.5, parts=3)
    4
    """
    likes = _canonical_likes(likes)
    check_count(split_count, "split_count")
    check_count(parts, "parts", low=2)
    counts = np.diff(likes.indptr)
    needed = 1 if fraction is None else max(1, int(np.floor(fraction * likes.shape[0])))
    # The needed-th largest like count bounds the holdout.
    top = np.sort(counts)[::-1]
    best = int(top[needed - 1]) // parts if needed <= len(top) else 0
    if best < 1:
        raise ValueError(
            f"No holdout fits: {needed} users need at least {parts} likes each, and only "
            f"{int((counts >= parts).sum())} have them. Lower fraction or use more data."
        )
    return int(min(split_count, best))


def _canonical_likes(likes) -> sp.csr_matrix:
    """A CSR copy of ``likes`` without explicit zeros or duplicates, rows sorted."""
    if not sp.issparse(likes):
        raise TypeError(f"likes must be a scipy.sparse matrix, got {type(likes).__name__}.")
    likes = sp.csr_matrix(likes, copy=True)
    likes.eliminate_zeros()
    likes.sum_duplicates()
    likes.sort_indices()
    return likes


def _check_holdout(likes, split_count, fraction, random_state):
    if not sp.issparse(likes):
        raise TypeError(f"likes must be a scipy.sparse matrix, got {type(likes).__name__}.")
    check_count(split_count, "split_count")
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1] or None, got {fraction!r}.")
    rng = check_random_state(random_state)
    return _canonical_likes(likes), rng


def _holdout_ranks(likes, split_count, fraction, parts, rng):
    """Choose users and rank each chosen user's likes in a random order.

    Users with at least ``parts * split_count`` likes are eligible, and
    ``floor(fraction * n_users)`` of them are drawn. Returns the chosen rows (sorted)
    and, for each stored like, its 0-based place in its user's random order (-1 for
    users not chosen): the likes of places ``[0, split_count)`` are a uniform draw of
    ``split_count`` likes, those of ``[split_count, 2 * split_count)`` a uniform draw
    from the rest, and so on.
    """
    n_users = likes.shape[0]
    counts = np.diff(likes.indptr)
    eligible = np.flatnonzero(counts >= parts * split_count)
    n_chosen = len(eligible) if fraction is None else int(np.floor(fraction * n_users))
    if n_chosen > len(eligible):
        raise ValueError(
            f"fraction={fraction} asks for {n_chosen} of {n_users} users, but only "
            f"{len(eligible)} have at least {parts} * split_count = {parts * split_count} likes. "
            "Lower fraction or split_count."
        )
    if n_chosen == 0:
        raise ValueError(
            f"The split would choose no user (fraction={fraction}, {n_users} users, "
            f"{len(eligible)} with >= {parts * split_count} likes)."
        )
    user_index = np.sort(rng.choice(eligible, size=n_chosen, replace=False))

    # Sort each chosen user's likes by a random key; a like's place in that order is its rank.
    row_of = np.repeat(np.arange(n_users), counts)
    chosen_rows = np.zeros(n_users, dtype=bool)
    chosen_rows[user_index] = True
    pos = np.flatnonzero(chosen_rows[row_of])
    keys = rng.random(len(pos))
    order = pos[np.lexsort((keys, row_of[pos]))]
    chosen_counts = counts[user_index]
    rank = np.full(likes.nnz, -1, dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(np.cumsum(chosen_counts) - chosen_counts,
                                                    chosen_counts)
    return user_index, rank


def _subset(matrix: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
    """The stored entries of ``matrix`` where ``mask`` (over ``matrix.data``) is True."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[mask]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=matrix.shape[0]))])
    out = sp.csr_matrix(
        (matrix.data[mask], matrix.indices[mask], indptr), shape=matrix.shape, dtype=matrix.dtype
    )
    out.has_sorted_indices = True
    return out
