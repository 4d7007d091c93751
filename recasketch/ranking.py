"""The machinery under :mod:`recasketch.metrics`: the evaluated rows and their exact top k."""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from implicit.cpu.topk import topk

from .factors import as_factors

# Most bytes of working memory one block of users may take (per thread).
BLOCK_BYTES = 64 * 2**20
# Users scored per top-k block when ``chunk_size`` is None.
_TOPK_CHUNK = 256
# With exclude, each user's top (k + min(n_excluded, _OVERFETCH)) items are fetched
# unfiltered and the excluded ones dropped; if fewer than k remain, the user is
# ranked again with implicit's row-by-row filter.
_OVERFETCH = 32
# The top-k first ranks the longest max(_PREFIX_MIN, n_items // _PREFIX_SHARE) item vectors.
_PREFIX_MIN = 512
_PREFIX_SHARE = 6
# ... unless a probe of _PROBE_USERS users says it would score more than
# _PRUNE_PAYS * n_items items per user on average.
_PROBE_USERS = 256
_PRUNE_PAYS = 0.7


class Task(NamedTuple):
    """The evaluated users' rows of the inputs, and the model's vectors."""

    users: np.ndarray  # evaluated rows, int64
    user_vectors: np.ndarray | sp.csr_matrix  # (n_eval, n_dims) float32, rows of `users`
    item_vectors: np.ndarray | sp.csr_matrix  # (n_items, n_dims) float32
    relevant: sp.csr_matrix  # rows of `users` in interactions, canonical
    excluded: sp.csr_matrix | None  # rows of `users` in exclude, canonical
    item_columns: sp.csr_matrix | None = None  # sparse factors only: item_vectors.T as CSR


def dense_scores(task: Task, rows) -> np.ndarray:
    """Dense float32 scores (len(rows), n_items) of the evaluated users ``rows`` (a slice or
    an index array into ``task.users``)."""
    if task.item_columns is None:
        return task.user_vectors[rows] @ task.item_vectors.T
    return (task.user_vectors[rows] @ task.item_columns).toarray()


def check_sparse(matrix, name, shape=None) -> sp.csr_matrix:
    if not sp.issparse(matrix):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix of shape (n_users, n_items), got "
            f"{type(matrix).__name__}; wrap it with scipy.sparse.csr_matrix."
        )
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_users, n_items), got shape {matrix.shape}.")
    if shape is not None and matrix.shape != shape:
        raise ValueError(
            f"{name} has shape {matrix.shape} but interactions has shape {shape}; both must be "
            "(n_users, n_items) over the same users and items."
        )
    return sp.csr_matrix(matrix)


def canonical(matrix: sp.csr_matrix, binary: bool) -> sp.csr_matrix:
    """Sorted, duplicate-free rows; for ``binary``, also without stored zeros."""
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    if binary and matrix.nnz and not matrix.data.all():
        matrix = matrix.copy()
        matrix.eliminate_zeros()
    return matrix


def _check_users(users, n_users) -> np.ndarray:
    array = np.asarray(users)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(
            "users must be a 1-D array of row indices (integers); for a boolean mask pass "
            "np.flatnonzero(mask)."
        )
    if array.size == 0:
        raise ValueError("users is empty; pass at least one row index, or users=None.")
    if array.min() < 0 or array.max() >= n_users:
        raise ValueError(
            f"users must be row indices in [0, {n_users}), got values from {array.min()} "
            f"to {array.max()}."
        )
    return array.astype(np.int64, copy=False)


def check_k(k, n_items):
    if not is_int(k):
        raise ValueError(f"The 'k' must be an integer, got {k!r}.")
    if k < 1:
        raise ValueError(f"The 'k' must be >= 1, got {k}.")
    if k > n_items:
        raise ValueError(f"The 'k' must be <= the number of items ({n_items}), got {k}.")


def _check_counts(user_vectors, item_vectors, shape):
    n_users, n_items = shape
    if item_vectors.shape[0] != n_items:
        raise ValueError(
            f"The model gives {item_vectors.shape[0]} item vectors but interactions has {n_items} "
            "items (columns). A LightFM model fitted with item_features needs the same "
            "item_features here; otherwise check that model and interactions share an item index."
        )
    if user_vectors.shape[0] != n_users:
        raise ValueError(
            f"The model gives {user_vectors.shape[0]} user vectors but interactions has {n_users} "
            "users (rows). A LightFM model fitted with user_features needs the same "
            "user_features here; otherwise check that model and interactions share a user index."
        )


def prepare(model, interactions, users, exclude, item_features, user_features, all_rows,
            binary=True):
    """Validate the inputs and cut out the evaluated users' rows."""
    interactions = check_sparse(interactions, "interactions")
    if exclude is not None:
        exclude = check_sparse(exclude, "exclude", interactions.shape)
    user_vectors, item_vectors = as_factors(model, item_features=item_features,
                                            user_features=user_features)
    _check_counts(user_vectors, item_vectors, interactions.shape)
    interactions = canonical(interactions, binary)
    if users is None:
        if all_rows:
            users = np.arange(interactions.shape[0])
        else:
            users = np.flatnonzero(np.diff(interactions.indptr) > 0)
            if users.size == 0:
                raise ValueError(
                    "interactions holds no interaction, so there is no user to evaluate."
                )
    users = _check_users(users, interactions.shape[0])
    relevant = interactions[users]
    excluded = None
    if exclude is not None:
        excluded = canonical(exclude, True)[users]
        shared = int(_isin(_pair_keys(relevant, item_vectors.shape[0]),
                           _pair_keys(excluded, item_vectors.shape[0])).sum())
        if shared:
            raise ValueError(
                f"interactions and exclude share {shared} (user, item) pairs among the evaluated "
                "users; an excluded item can never be a hit. Check your data split."
            )
    if sp.issparse(item_vectors):
        return Task(users, user_vectors[users], item_vectors, relevant, excluded,
                    item_vectors.T.tocsr())
    return Task(users, np.ascontiguousarray(user_vectors[users]), item_vectors, relevant, excluded)


def _pair_keys(matrix: sp.csr_matrix, n_items: int) -> np.ndarray:
    """Sorted int64 keys row * n_items + column of the stored entries of a canonical CSR."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * n_items + matrix.indices


def _isin(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Boolean array: which of ``keys`` are in ``sorted_keys`` (ascending)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, keys)
    np.minimum(pos, sorted_keys.size - 1, out=pos)
    return sorted_keys[pos] == keys


def _n_threads(num_threads) -> int:
    if not is_int(num_threads) or num_threads < 0:
        raise ValueError(
            f"num_threads must be an integer >= 0 (0 = every core), got {num_threads!r}."
        )
    if num_threads == 0:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
    return int(num_threads)


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def chunk_rows(chunk_size, default) -> int:
    if chunk_size is None:
        return int(default)
    if not is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1 or None, got {chunk_size!r}.")
    return int(chunk_size)


def run_parallel(work, tasks, num_threads):
    """Call ``work`` on every task, on up to ``num_threads`` threads.

    numpy's matrix products and sorts and implicit's selection release the GIL.
    """
    tasks = list(tasks)
    threads = min(_n_threads(num_threads), len(tasks))
    if threads <= 1:
        for task in tasks:
            work(task)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, tasks):
            pass


def hit_matrix(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """float array (n_eval, k): 1 where the ranked item is one of the user's interactions."""
    n_items = relevant.shape[1]
    keys = np.arange(len(top), dtype=np.int64)[:, None] * n_items + top
    return (_isin(keys, _pair_keys(relevant, n_items)) & (top >= 0)).astype(np.float64)


def top_k(task: Task, k: int, num_threads, chunk_size) -> np.ndarray:
    """Each evaluated user's k best items, best first, as int32 (n_eval, k); -1 where none is left.

    Exact, and usually much cheaper than scoring every item:

    * Items are sorted by vector norm and every user's top k is first taken among the
      ``prefix`` longest item vectors. A score is at most |user| * |item|
      (Cauchy-Schwarz), so only users whose k-th score a shorter item vector could
      beat are ranked again, over the longer prefix they need. Trained factors give
      popular items long vectors, so these are few; a probe of a few users falls
      back to ranking every item when they are not.
    * Excluded items are dropped from an over-fetched list: a user's top
      (k + 1 + min(n_excluded, _OVERFETCH)) is taken unfiltered and the excluded items
      removed. If that leaves fewer than k + 1 while more items are excluded, the user
      is ranked again with implicit's row-by-row filter over every item.

    Ties go to the lower item index, whatever the item order, the blocks or the
    over-fetch. implicit's selection keeps an order-dependent subset of tied items,
    so each list is taken one place longer: a user whose (k + 1)-th score equals the
    k-th has a tie at the cut, and is ranked again over every item with the rule
    applied exactly. Lists holding equal scores are then sorted by (decreasing score,
    item index).
    """
    if task.item_columns is not None:
        return _top_k_by_blocks(task, k, num_threads, chunk_size)
    search = _search(task, k)
    n_eval, n_items = len(task.users), search.items.shape[0]
    chunk = chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, BLOCK_BYTES // (4 * n_items))))
    lists = _Lists(np.full((n_eval, search.depth), -1, dtype=np.int32),
                   np.full((n_eval, search.depth), -np.inf, dtype=np.float32),
                   np.full(n_eval, -np.inf), np.zeros(n_eval, dtype=bool))
    prefix = max(_PREFIX_MIN, n_items // _PREFIX_SHARE, 4 * k)
    if prefix < n_items:
        search = _by_norm(search, prefix)
    if search.order is None:
        prefix = n_items
    # users sorted by over-fetch so that a block fetches little more than it needs
    by_extra = np.argsort(search.extra, kind="stable")
    run_parallel(lambda rows: _best_in_prefix(search, lists, rows, prefix),
                 _blocks(by_extra, chunk), num_threads)
    if search.order is not None:  # the users whose k-th score a shorter item vector could beat
        needed = _needed_prefix(search, np.arange(n_eval), lists.kth)
        again = np.flatnonzero((needed > prefix) & ~lists.unresolved)
        again = again[np.argsort(needed[again], kind="stable")]
        run_parallel(lambda rows: _best_in_prefix(search, lists, rows, int(needed[rows].max())),
                     _blocks(again, chunk), num_threads)
    run_parallel(partial(_best_filtered, search, lists),
                 _blocks(np.flatnonzero(lists.unresolved), chunk), num_threads)
    tied = np.zeros(0, dtype=np.int64)
    if search.depth > k:
        tied = np.flatnonzero((lists.ids[:, k] >= 0)
                              & (lists.scores[:, k] == lists.scores[:, k - 1]))
        # a block holds float32 scores and a few boolean and int32 temporaries
        exact = chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, BLOCK_BYTES // (16 * n_items))))
        run_parallel(partial(_tied_at_the_cut, search, lists), _blocks(tied, exact), num_threads)
    return _sorted_lists(lists, k, tied)


class _Search(NamedTuple):
    """What every block of the dense :func:`top_k` reads."""

    queries: np.ndarray  # (n_eval, n_dims) float32 user vectors
    items: np.ndarray  # (n_items, n_dims) float32 item vectors, in index order
    k: int
    depth: int  # places ranked: k + 1 (one past the cut, to see a tie there), at most n_items
    excluded: sp.csr_matrix | None  # the evaluated users' rows of exclude
    excluded_keys: np.ndarray | None  # their _pair_keys
    n_excluded: np.ndarray  # excluded items per user
    extra: np.ndarray  # places over-fetched per user: min(n_excluded, _OVERFETCH)
    # where the longest item vectors are ranked first (see _by_norm), else None:
    order: np.ndarray | None = None  # item indices, longest vector first
    by_norm: np.ndarray | None = None  # the item vectors in that order
    norms: np.ndarray | None = None  # their float64 norms, decreasing
    user_norms: np.ndarray | None = None  # the evaluated users' float64 norms
    slack: float = 1.0  # float32 rounding of a score


class _Lists(NamedTuple):
    """Each user's best ``depth`` items so far, written block by block."""

    ids: np.ndarray  # int32 (n_eval, depth); -1 where none
    scores: np.ndarray  # float32 (n_eval, depth); -inf where none
    kth: np.ndarray  # k-th best score in the ranked prefix; -inf if none
    unresolved: np.ndarray  # over-fetch too short: filter row by row


def _search(task: Task, k: int) -> _Search:
    """The dense top-k's inputs; the vectors without the dimensions no item varies in."""
    items, queries, excluded = task.item_vectors, task.user_vectors, task.excluded
    n_eval, n_items = len(task.users), items.shape[0]
    # A dimension constant over the items (LightFM's user bias meets a column of ones)
    # adds the same amount to all of a user's scores: dropping it leaves the ranking
    # as it is and makes the norm bound much tighter.
    varies = (items != items[:1]).any(axis=0)
    if varies.any() and not varies.all():
        items = np.ascontiguousarray(items[:, varies])
        queries = np.ascontiguousarray(queries[:, varies])
    if excluded is None:
        n_excluded, excluded_keys = np.zeros(n_eval, dtype=np.int64), None
    else:
        n_excluded, excluded_keys = np.diff(excluded.indptr), _pair_keys(excluded, n_items)
    return _Search(queries, items, k, min(k + 1, n_items), excluded, excluded_keys, n_excluded,
                   np.minimum(n_excluded, _OVERFETCH))


def _by_norm(search: _Search, prefix: int) -> _Search:
    """``search`` with the items sorted by norm, unless a probe says a prefix would not pay.

    Without norm structure (random factors, some LightFM models) nearly everyone needs
    every item, and ranking all items directly is cheaper.
    """
    items, queries, k, extra = search.items, search.queries, search.k, search.extra
    item_norms = np.linalg.norm(items.astype(np.float64), axis=1)
    order = np.argsort(-item_norms, kind="stable")
    pruned = search._replace(order=order, by_norm=np.ascontiguousarray(items[order]),
                             norms=item_norms[order],
                             user_norms=np.linalg.norm(queries.astype(np.float64), axis=1),
                             slack=1.0 + 8 * queries.shape[1] * np.finfo(np.float32).eps)
    n_eval = len(queries)
    probe = np.unique(np.linspace(0, n_eval - 1, min(n_eval, _PROBE_USERS)).astype(np.int64))
    fetch = int(min(prefix, k + extra[probe].max()))
    _, scores = topk(pruned.by_norm[:prefix], queries[probe], fetch, num_threads=1)
    lowest = scores[np.arange(len(probe)), np.minimum(k + extra[probe], fetch) - 1]
    need = _needed_prefix(pruned, probe, lowest)
    if prefix + np.where(need > prefix, need, 0).mean() > _PRUNE_PAYS * items.shape[0]:
        return search
    return pruned


def _needed_prefix(search: _Search, rows, scores) -> np.ndarray:
    """How many of the longest item vectors could reach each score."""
    shortest = np.full(len(rows), -np.inf)
    positive = scores > 0
    shortest[positive] = scores[positive] / (search.user_norms[rows][positive] * search.slack)
    return np.searchsorted(-search.norms, -shortest, side="right")


def _blocks(rows: np.ndarray, size: int) -> list[np.ndarray]:
    return [rows[s:s + size] for s in range(0, len(rows), size)]


def _best_in_prefix(search: _Search, lists: _Lists, rows, size):
    """Rank users ``rows`` over the ``size`` longest item vectors (the first ``size`` items
    where they are not sorted by norm), dropping excluded items from an over-fetched list."""
    k, depth = search.k, search.depth
    fetch = int(min(size, depth + search.extra[rows].max()))
    ranked = search.items if search.order is None else search.by_norm
    ids, scores = topk(ranked[:size], search.queries[rows], fetch, num_threads=1)
    if search.order is not None:
        ids = search.order[ids].astype(np.int32)
    if search.excluded_keys is None:
        lists.ids[rows], lists.scores[rows], lists.kth[rows] = ids, scores, scores[:, k - 1]
        return
    n_items = search.items.shape[0]
    keep = ~_isin(rows[:, None].astype(np.int64) * n_items + ids, search.excluded_keys)
    first = np.argsort(~keep, axis=1, kind="stable")[:, :depth]
    chosen = np.take_along_axis(ids, first, axis=1)
    chosen_scores = np.take_along_axis(scores, first, axis=1)
    found = np.take_along_axis(keep, first, axis=1)
    chosen[~found], chosen_scores[~found] = -1, -np.inf
    lists.ids[rows], lists.scores[rows] = chosen, chosen_scores
    lists.kth[rows] = np.where(found[:, k - 1], chosen_scores[:, k - 1], -np.inf)
    lists.unresolved[rows] = ~found[:, -1] & (search.n_excluded[rows] > fetch - depth)


def _best_filtered(search: _Search, lists: _Lists, rows):
    """Rank users ``rows`` over every item with implicit's row-by-row filter of excluded items."""
    ids, scores = topk(search.items, search.queries[rows], search.depth,
                       filter_query_items=search.excluded[rows], num_threads=1)
    filler = scores == -np.finfo(scores.dtype).max  # implicit's once every item is excluded
    ids[filler], scores[filler] = -1, -np.inf
    lists.ids[rows], lists.scores[rows] = ids, scores


def _tied_at_the_cut(search: _Search, lists: _Lists, rows):
    """The exact rule over every item for users ``rows``: all items above the k-th score,
    then the lowest-indexed of those equal to it."""
    k = search.k
    scores = search.queries[rows] @ search.items.T
    if search.excluded is not None:
        _ban(scores, search.excluded[rows])
    ids = _exact_top_k(scores, k)  # every tied user has more than k candidates: no -1
    lists.ids[rows, :k], lists.scores[rows, :k] = ids, np.take_along_axis(scores, ids, axis=1)


def _sorted_lists(lists: _Lists, k: int, tied: np.ndarray) -> np.ndarray:
    """The first k places of each list, by (decreasing score, item index).

    implicit's lists are by decreasing score already; only lists with equal scores in
    them, and those ranked again (in index order), need sorting.
    """
    top, top_scores = np.ascontiguousarray(lists.ids[:, :k]), lists.scores[:, :k]
    unsorted = (top_scores[:, 1:] == top_scores[:, :-1]).any(axis=1)
    unsorted[tied] = True
    rows = np.flatnonzero(unsorted)
    if rows.size:
        ranked = np.lexsort((top[rows], -top_scores[rows]), axis=1)
        top[rows] = np.take_along_axis(top[rows], ranked, axis=1)
    return top


def _ban(scores: np.ndarray, banned: sp.csr_matrix):
    """Set the cells of ``scores`` stored in ``banned`` (one row per row of scores) to -inf."""
    scores[np.repeat(np.arange(len(scores)), np.diff(banned.indptr)), banned.indices] = -np.inf


def _exact_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The k best items of each row of ``scores`` (excluded items at -inf), as int32 ids
    (n_rows, k) sorted by (decreasing score, increasing index); -1 where only excluded
    items are left.

    All items above the k-th score enter the list, then the lowest-indexed of those
    equal to it.
    """
    n_items = scores.shape[1]
    cut = np.partition(scores, n_items - k, axis=1)[:, n_items - k, None]
    above = scores > cut
    at = scores == cut
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (at & (np.cumsum(at, axis=1, dtype=np.int32) <= room))
    ids = np.nonzero(chosen)[1].reshape(len(scores), k).astype(np.int32)
    chosen_scores = np.take_along_axis(scores, ids, axis=1)
    ranked = np.lexsort((ids, -chosen_scores), axis=1)
    ids = np.take_along_axis(ids, ranked, axis=1)
    ids[np.take_along_axis(chosen_scores, ranked, axis=1) == -np.inf] = -1
    return ids


def _top_k_by_blocks(task: Task, k: int, num_threads, chunk_size) -> np.ndarray:
    """:func:`top_k` for sparse factors: each block of users' dense scores, ranked exactly."""
    n_eval, n_items = len(task.users), task.item_vectors.shape[0]
    # a block holds float32 scores and a few boolean and int32 temporaries
    chunk = chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, BLOCK_BYTES // (16 * n_items))))
    top = np.empty((n_eval, k), dtype=np.int32)

    def rank_block(start):
        rows = slice(start, min(start + chunk, n_eval))
        scores = dense_scores(task, rows)
        if task.excluded is not None:
            _ban(scores, task.excluded[rows])
        top[rows] = _exact_top_k(scores, k)

    run_parallel(rank_block, range(0, n_eval, chunk), num_threads)
    return top
