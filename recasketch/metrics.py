"""Ranking and rating metrics for fitted recommenders, without a dense users x items matrix.

Every metric takes a fitted model and a sparse interactions matrix. :func:`as_factors`
turns the model (an implicit ALS/BPR model, a ``lightfm.LightFM``, a baseline of
:mod:`recasketch.models.baselines` or a plain ``(user_factors, item_factors)`` tuple) into two
factor arrays whose product is the model's score matrix, so each metric is written once:

* top-k metrics (:func:`precision_at_k`, :func:`recall_at_k`, :func:`ndcg_at_k`,
  :func:`map_at_k`) take each user's k best items with implicit's C++ partial sort
  (``implicit.cpu.topk``), a block of users at a time on every core, and count hits by
  looking the (user, item) pairs up in the sparse matrix. The items with the longest
  vectors are ranked first and a Cauchy-Schwarz bound says which users need more; the
  result is exact;
* :func:`auc` scores a block of users at a time and ranks the positives with one sort
  per row;
* :func:`mse` gets the sum over *all* cells of the chosen rows from the item Gram matrix,
  so it never materialises a prediction.

Sparse factors. Where the factors are scipy.sparse matrices (an item-kNN model, whose
user vectors are the train rows and item vectors the columns of its item-item
similarity; a content model over thousands of tags) they stay sparse, and every metric
computes one block of users' dense scores at a time (``chunk_size`` x n_items) and
ranks it exactly; memory is bounded by the block, never users x items.

Uncertainty. :func:`bootstrap_ci` and :func:`paired_bootstrap_diff` turn the per-user
values of any metric (``per_user=True``) into a mean with a percentile bootstrap
confidence interval over users, or the difference of two models on the same users.

Two protocols for the top-k metrics:

``exclude=None``
    Post 1's protocol: rank every item, including the ones the user liked in train.
``exclude=train``
    The standard protocol: remove each user's train items before ranking, as
    ``lightfm.evaluation.precision_at_k(..., train_interactions=train)`` and implicit's
    ``evaluation.precision_at_k`` do.

Ties. Scores are float32 dot products, and equal scores are ties. The top-k metrics
rank tied items by item index (the lower index first), so a user's list is the first k
of a stable sort by decreasing score: the same whatever other users are evaluated or
however they are split into blocks. :func:`auc` counts a tied (positive, negative) pair
as one half. LightFM's and implicit's evaluations treat ties differently; see each
metric's Notes. They matter where many items share one representation, e.g. a LightFM
model whose items are described by a few tags only.

A model whose factors hold NaN or inf (a diverged fit) is refused with
:class:`NonFiniteModelError` rather than scored.

The adapter lives in :mod:`recasketch.factors`, the top-k in :mod:`recasketch.ranking` and the
bootstrap in :mod:`recasketch.bootstrap`; their public names are importable from here.
"""

from __future__ import annotations

import numpy as np

from .bootstrap import BootstrapCI, bootstrap_ci, paired_bootstrap_diff
from .factors import NonFiniteModelError, as_factors
from .ranking import (BLOCK_BYTES, canonical, check_k, check_sparse, chunk_rows, dense_scores,
                      hit_matrix, prepare, run_parallel, top_k)

__all__ = [
    "FILTERED_TEST",
    "BootstrapCI",
    "NonFiniteModelError",
    "as_factors",
    "auc",
    "bootstrap_ci",
    "checkpoint_scores",
    "map_at_k",
    "mse",
    "ndcg_at_k",
    "paired_bootstrap_diff",
    "precision_at_k",
    "recall_at_k",
]

#: The ``split`` label :func:`checkpoint_scores` gives the test precision with each user's
#: train likes removed before ranking, beside post 1's ``"test"`` (all items ranked).
FILTERED_TEST = "test, train removed"


# ----------------------------------------------------------------------------- top-k metrics


def precision_at_k(model, interactions, k=5, users=None, exclude=None, item_features=None, user_features=None,
                   per_user=False, num_threads=0, chunk_size=None):
    """Share of each user's top-k items that are in ``interactions``, averaged over users.

    Parameters
    ----------
    model : implicit model, lightfm.LightFM or tuple of two arrays
        The fitted model; see :func:`as_factors`.
    interactions : scipy.sparse matrix of shape (n_users, n_items)
        Non-zero entries are the positives (the held-out likes for a test score, the
        train likes for a train score).
    k : int, default=5
        Length of each user's list; ``1 <= k <= n_items``.
    users : array-like of int of shape (n_eval_users,), default=None
        Rows to evaluate. ``None`` evaluates every user with at least one interaction;
        with an explicit list (e.g. the split's ``user_index``) a user with no
        interaction scores 0, as in post 1.
    exclude : scipy.sparse matrix of shape (n_users, n_items), default=None
        Items removed from each user's ranking before the top k are taken, normally
        the train matrix. ``None`` ranks every item (post 1's protocol). Must share no
        entry with ``interactions``.
    item_features : csr_matrix of shape (n_items, n_item_features), default=None
        LightFM only: the item features the model was fitted with.
    user_features : csr_matrix of shape (n_users, n_user_features), default=None
        LightFM only: the user features the model was fitted with.
    per_user : bool, default=False
        Return one value per evaluated user instead of the mean.
    num_threads : int, default=0
        Threads scoring blocks of users; 0 uses every core.
    chunk_size : int, default=None
        Users scored per block; ``None`` picks blocks of at most 256 users and 64 MB.

    Returns
    -------
    float or np.ndarray of shape (n_eval_users,)
        hits / k, averaged over the evaluated users (or per user, in the order of
        ``users``; for ``users=None`` that order is the sorted rows with an
        interaction).

    Raises
    ------
    TypeError
        If ``interactions`` or ``exclude`` is not sparse, or ``model`` is not a model.
    NonFiniteModelError
        If the model's vectors hold NaN or inf (a diverged fit); see :func:`as_factors`.
    ValueError
        If ``k`` is out of range, shapes disagree, ``users`` are out of range, or
        ``exclude`` overlaps ``interactions``.

    See Also
    --------
    recall_at_k, ndcg_at_k, auc

    Notes
    -----
    Ties: each user's list is the first k items of a stable sort by decreasing score,
    so where several items share the k-th score, the ones with the lowest item indices
    enter the list (and within the list, tied items are ordered by index). Excluded
    items are removed before that sort.

    Without ties at the k-th place this equals ``lightfm.evaluation.precision_at_k(model,
    test, train_interactions=exclude, k=k).mean()`` (with ``exclude=None`` or
    ``exclude=train``). LightFM breaks no tie: it counts a positive as a hit when fewer
    than k other candidate items score at least as high, so a group of tied items
    straddling the k-th place gives it no hit at all, and its precision is at most
    ours. implicit's ``evaluation.precision_at_k`` divides the summed hits by the
    summed ``min(k, n_test_items)``; the two agree when every evaluated user has at
    least k test items and the k-th place is not tied. implicit's top-k (a heap over
    the items in index order) keeps, of the items tied at the k-th place, a subset that
    depends on where the higher-scoring items lie: of items scoring 1, 1, 2 its top 2
    is items 2 and 1, where ours is items 2 and 0.

    Examples
    --------
    Two users, four items. User 0 scores the items 4, 3, 2, 0 and user 1 scores them
    0, 1, 2, 3; each liked their best item in train and their second best in test.

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...            np.array([[4.0, 0.0], [3.0, 1.0], [2.0, 2.0], [0.0, 3.0]]))
    >>> train = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 1]])
    >>> test = sp.csr_matrix([[0, 1, 0, 0], [0, 0, 1, 0]])

    Post 1's protocol ranks all items, so each user's top item is a train like and
    the test precision@1 is 0; at k=2 the test like comes second:

    >>> precision_at_k(factors, test, k=1)
    0.0
    >>> precision_at_k(factors, test, k=2, per_user=True)
    array([0.5, 0.5])

    Removing the train likes first puts the test like on top:

    >>> precision_at_k(factors, test, k=1, exclude=train)
    1.0

    The train score never excludes anything: each top item is a train like.

    >>> precision_at_k(factors, train, k=1)
    1.0

    Ties go to the lower item index. Here items 0, 1 and 2 all score 1, and the test
    like (item 2) is the third of them, outside the top 2:

    >>> tied = (np.array([[1.0]]), np.array([[1.0], [1.0], [1.0], [0.0]]))
    >>> precision_at_k(tied, sp.csr_matrix([[0, 0, 1, 0]]), k=2)
    0.0
    >>> precision_at_k(tied, sp.csr_matrix([[0, 0, 1, 0]]), k=3)
    0.3333333333333333
    """
    hits, _ = _top_k_hits(model, interactions, k, users, exclude, item_features, user_features,
                          num_threads, chunk_size)
    return _finish(hits.sum(axis=1) / k, per_user)


def recall_at_k(model, interactions, k=5, users=None, exclude=None, item_features=None, user_features=None,
                per_user=False, num_threads=0, chunk_size=None):
    """Share of each user's interactions found in their top-k items, averaged over users.

    Recall here is hits / n_relevant, where n_relevant is the user's number of
    interactions (not ``min(k, n_relevant)``), as in
    ``lightfm.evaluation.recall_at_k``: a user with more than k interactions cannot
    reach 1. A listed user with no interaction scores 0.

    Parameters
    ----------
    model, interactions, k, users, exclude, item_features, user_features
        As in :func:`precision_at_k`.
    per_user, num_threads, chunk_size
        As in :func:`precision_at_k`.

    Returns
    -------
    float or np.ndarray of shape (n_eval_users,)

    Raises
    ------
    TypeError, NonFiniteModelError, ValueError
        As in :func:`precision_at_k`.

    Notes
    -----
    Ties are broken as in :func:`precision_at_k`: of the items tied at the k-th
    place, the lowest indices enter the list. ``lightfm.evaluation.recall_at_k``
    breaks none: a positive counts only when fewer than k other candidate items score
    at least as high, so the two agree when the k-th place is not tied.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0, 0.0]]), np.array([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))
    >>> recall_at_k(factors, sp.csr_matrix([[1, 0, 1]]), k=2)
    0.5
    """
    hits, n_relevant = _top_k_hits(model, interactions, k, users, exclude, item_features,
                                   user_features, num_threads, chunk_size)
    values = np.divide(hits.sum(axis=1), n_relevant, out=np.zeros(len(n_relevant)),
                       where=n_relevant > 0)
    return _finish(values, per_user)


def ndcg_at_k(model, interactions, k=5, users=None, exclude=None, item_features=None, user_features=None,
              per_user=False, num_threads=0, chunk_size=None):
    """Normalised discounted cumulative gain of each user's top-k items, averaged over users.

    Binary relevance: DCG = sum over ranks r = 1..k of hit_r / log2(r + 1), divided
    by the ideal DCG of a list with ``min(k, n_relevant)`` hits on top. A listed user
    with no interaction scores 0.

    Parameters
    ----------
    model, interactions, k, users, exclude, item_features, user_features
        As in :func:`precision_at_k`.
    per_user, num_threads, chunk_size
        As in :func:`precision_at_k`.

    Returns
    -------
    float or np.ndarray of shape (n_eval_users,)

    Raises
    ------
    TypeError, NonFiniteModelError, ValueError
        As in :func:`precision_at_k`.

    Notes
    -----
    Ties are broken as in :func:`precision_at_k`, and they move items within the
    list too: tied items take their places in order of item index, so a relevant item
    tied with an irrelevant one of lower index is discounted as the later of the two.
    implicit's ``evaluation.ndcg_at_k`` orders tied items within its list by
    decreasing index, and picks which tied items enter it as its precision does, so the
    two agree when no two of a user's top k + 1 scores are equal.

    Examples
    --------
    One relevant item, ranked second of three: 1 / log2(3).

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0, 0.0]]), np.array([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))
    >>> round(ndcg_at_k(factors, sp.csr_matrix([[0, 1, 0]]), k=3), 4)
    0.6309
    """
    hits, n_relevant = _top_k_hits(model, interactions, k, users, exclude, item_features,
                                   user_features, num_threads, chunk_size)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(n_relevant, k)]
    dcg = hits @ discount
    values = np.divide(dcg, ideal, out=np.zeros(len(ideal)), where=ideal > 0)
    return _finish(values, per_user)


def map_at_k(model, interactions, k=5, users=None, exclude=None, item_features=None, user_features=None,
             per_user=False, num_threads=0, chunk_size=None):
    """Mean average precision of each user's top-k items (MAP@k).

    A user's average precision at k is

        AP@k = sum over ranks r = 1..k of P@r * hit_r / min(k, n_relevant),

    with hit_r = 1 where the item at rank r is one of the user's interactions, P@r the
    share of hits among the first r items, and n_relevant the user's number of
    interactions. The denominator ``min(k, n_relevant)`` (the most hits k places can
    hold) makes a list with every possible hit on top score 1. A listed user with no
    interaction scores 0. MAP@k is the mean of AP@k over the evaluated users.

    Parameters
    ----------
    model, interactions, k, users, exclude, item_features, user_features
        As in :func:`precision_at_k`.
    per_user, num_threads, chunk_size
        As in :func:`precision_at_k`.

    Returns
    -------
    float or np.ndarray of shape (n_eval_users,)
        AP@k averaged over the evaluated users, or per user in the order of ``users``.

    Raises
    ------
    TypeError, NonFiniteModelError, ValueError
        As in :func:`precision_at_k`.

    See Also
    --------
    precision_at_k, ndcg_at_k

    Notes
    -----
    Ties are broken as in :func:`precision_at_k` and :func:`ndcg_at_k`: the list is
    the first k items of a stable sort by decreasing score, so tied items take their
    places in order of item index. Other libraries divide by other numbers: some by
    n_relevant (then a user with more than k interactions cannot reach 1), some by the
    number of hits in the list (then one hit on top scores 1 whatever was missed).

    Examples
    --------
    One user ranks items 0, 1, 2 in that order and liked items 0 and 2:
    P@1 = 1 and P@3 = 2/3, so AP@3 = (1 + 2/3) / 2. At k = 1 only item 0 fits, and
    min(1, 2) = 1 makes that list perfect.

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0]]), np.array([[3.0], [2.0], [1.0]]))
    >>> liked = sp.csr_matrix([[1, 0, 1]])
    >>> round(map_at_k(factors, liked, k=3), 4), map_at_k(factors, liked, k=1)
    (0.8333, 1.0)
    """
    hits, n_relevant = _top_k_hits(model, interactions, k, users, exclude, item_features,
                                   user_features, num_threads, chunk_size)
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    denominator = np.minimum(n_relevant, k)
    values = np.divide((precision_at_rank * hits).sum(axis=1), denominator,
                       out=np.zeros(len(denominator)), where=denominator > 0)
    return _finish(values, per_user)


# ----------------------------------------------------------------------------- AUC


def auc(model, interactions, users=None, exclude=None, item_features=None, user_features=None, per_user=False,
        num_threads=0, chunk_size=None):
    """Probability that a random positive outranks a random negative, averaged over users.

    For each user the positives are their items in ``interactions`` and the negatives
    every other item not in ``exclude``; a positive and a negative with equal scores
    count one half (the Mann-Whitney U statistic, as ``sklearn.metrics.roc_auc_score``
    counts them). The mean is over users with at least one positive and one negative.

    Parameters
    ----------
    model, interactions, users, exclude, item_features, user_features
        As in :func:`precision_at_k`.
    per_user : bool, default=False
        Return one value per evaluated user (NaN where the user has no positive or no
        negative) instead of the mean.
    num_threads : int, default=0
        Threads scoring blocks of users; 0 uses every core.
    chunk_size : int, default=None
        Users scored per block; ``None`` keeps a block's working memory under 64 MB.

    Returns
    -------
    float or np.ndarray of shape (n_eval_users,)

    Raises
    ------
    TypeError, NonFiniteModelError
        As in :func:`precision_at_k`.
    ValueError
        As in :func:`precision_at_k`, and when no evaluated user has both a positive
        and a negative.

    Notes
    -----
    Without ties this equals ``lightfm.evaluation.auc_score(model, test,
    train_interactions=exclude).mean()`` (up to LightFM's float32 sums). LightFM counts
    ties against the positive: it ranks each positive below every other item with an
    equal score, so a tied (positive, negative) pair counts 0, not one half, and each
    pair of positives with equal scores costs one more pair (its correction for the
    other positives assumes they are all distinct). Per user, LightFM's AUC is thus
    (pairs won outright - pairs of tied positives) / (n_positives * n_negatives), at
    most ours. implicit's ``evaluation.AUC_at_k`` is another metric: an AUC computed
    from the top K list only.

    Examples
    --------
    The positive (item 1) beats one of the two negatives:

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0, 0.0]]), np.array([[3.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))
    >>> auc(factors, sp.csr_matrix([[0, 1, 0]]))
    0.5

    A tie with the other negative counts one half (LightFM would count it 0):

    >>> tied = (np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [2.0, 0.0], [1.0, 0.0]]))
    >>> auc(tied, sp.csr_matrix([[0, 1, 0]]))
    0.75
    """
    task = prepare(model, interactions, users, exclude, item_features, user_features,
                   all_rows=False)
    n_eval, n_items = len(task.users), task.item_vectors.shape[0]
    # a block holds float32 scores, their int64 sort keys and temporaries: ~20 bytes per cell
    chunk = chunk_rows(chunk_size, max(1, BLOCK_BYTES // (20 * n_items)))
    values = np.full(n_eval, np.nan)

    def score_block(start):
        stop = min(start + chunk, n_eval)
        values[start:stop] = _auc_block(task, start, stop)

    run_parallel(score_block, range(0, n_eval, chunk), num_threads)
    if per_user:
        return values
    if np.isnan(values).all():
        raise ValueError(
            "No evaluated user has both a positive and a negative item, so AUC is undefined; "
            "check users, interactions and exclude."
        )
    return float(np.nanmean(values))


def _auc_block(task, start, stop):
    """AUC of the evaluated users ``start:stop`` (NaN where undefined)."""
    n_items = task.item_vectors.shape[0]
    n = stop - start
    scores = dense_scores(task, slice(start, stop))
    scores += np.float32(0.0)  # -0.0 -> +0.0, so equal scores get equal sort keys
    positives = task.relevant[start:stop]
    n_pos = np.diff(positives.indptr)
    n_excluded = np.zeros(n, dtype=np.int64)
    if task.excluded is not None:
        excluded = task.excluded[start:stop]
        n_excluded = np.diff(excluded.indptr)
        # excluded items go above every real score, out of the way of the ranks below
        scores[np.repeat(np.arange(n), n_excluded), excluded.indices] = np.inf
    pos_rows = np.repeat(np.arange(n), n_pos)
    pos_keys = _sort_keys(scores[pos_rows, positives.indices], pos_rows)
    scores.sort(axis=1)
    row_keys = _sort_keys(scores, np.arange(n)[:, None]).ravel()
    del scores
    offset = pos_rows.astype(np.int64) * n_items
    below = np.searchsorted(row_keys, pos_keys, side="left") - offset
    at_or_below = np.searchsorted(row_keys, pos_keys, side="right") - offset
    # 1-based mid-rank of each positive among the user's positives and negatives
    rank_sum = np.bincount(pos_rows, weights=(below + at_or_below + 1) / 2.0, minlength=n)
    n_neg = n_items - n_pos - n_excluded
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    values[(n_pos == 0) | (n_neg == 0)] = np.nan
    return values


def _sort_keys(values, rows):
    """int64 keys ordered like (row, float32 value): row in the high 32 bits."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.int32)
    ordered = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # float order -> signed int order
    keys = ordered.astype(np.int64)
    keys += np.int64(2**31)
    keys += np.asarray(rows, dtype=np.int64) << 32
    return keys


# ----------------------------------------------------------------------------- MSE


def mse(model, interactions, users=None, item_features=None, user_features=None):
    """Mean squared error between ``interactions`` and the scores over all cells of ``users``' rows.

    This is post 1's ``mean_squared_error(interactions[users].toarray().ravel(),
    predictions[users].ravel())``, computed without the dense rows: the sum of squares
    splits into sum r^2 - 2 sum over stored cells of r * p + sum over users of
    u G u^T, with G the item vectors' Gram matrix, accumulated in float64.

    Parameters
    ----------
    model : implicit model, lightfm.LightFM or tuple of two arrays
        The fitted model; see :func:`as_factors`.
    interactions : scipy.sparse matrix of shape (n_users, n_items)
        The target values; unstored cells are 0.
    users : array-like of int of shape (n_eval_users,), default=None
        Rows to include (repeats count twice); ``None`` includes every row.
    item_features : csr_matrix of shape (n_items, n_item_features), default=None
        LightFM only: the item features the model was fitted with.
    user_features : csr_matrix of shape (n_users, n_user_features), default=None
        LightFM only: the user features the model was fitted with.

    Returns
    -------
    float

    Raises
    ------
    NonFiniteModelError
        If the model's vectors hold NaN or inf (a diverged fit); see :func:`as_factors`.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> factors = (np.array([[1.0], [0.5]]), np.array([[1.0], [0.0]]))
    >>> mse(factors, sp.csr_matrix([[1, 0], [1, 1]]))  # errors 0, 0, 0.5, 1
    0.3125
    """
    task = prepare(model, interactions, users, None, item_features, user_features, all_rows=True,
                   binary=False)
    n_items = task.item_vectors.shape[0]
    if task.item_columns is not None:  # sparse factors: no small Gram matrix, one block at a time
        item_columns = task.item_columns.astype(np.float64)
        chunk = max(1, BLOCK_BYTES // (24 * n_items))
        total = 0.0
        for start in range(0, len(task.users), chunk):
            rows = slice(start, start + chunk)
            error = task.relevant[rows].toarray().astype(np.float64)
            error -= (task.user_vectors[rows].astype(np.float64) @ item_columns).toarray()
            total += float(np.einsum("ij,ij->", error, error))
        return total / (len(task.users) * n_items)
    user_vectors = task.user_vectors.astype(np.float64)
    item_vectors = task.item_vectors.astype(np.float64)
    values = task.relevant
    data = values.data.astype(np.float64)
    sum_r2 = float(np.dot(data, data))
    sum_rp = float(np.einsum("ij,ij->", user_vectors, values @ item_vectors))
    gram = item_vectors.T @ item_vectors
    sum_p2 = float(np.einsum("ij,ij->", user_vectors @ gram, user_vectors))
    total = max(sum_r2 - 2.0 * sum_rp + sum_p2, 0.0)
    return total / (len(task.users) * n_items)


# ----------------------------------------------------------------------------- post 1's checkpoint


def checkpoint_scores(model, train, test, users=None, k=5, exclude_train=False, item_features=None,
                      user_features=None, num_threads=0, mse_scores=True):
    """Train and test precision@k and MSE of one model, as post 1 logs them at each epoch.

    The train and test top-k lists are the same ranking in post 1's protocol, so it
    is computed once.

    Parameters
    ----------
    model : implicit model, lightfm.LightFM or tuple of two arrays
        The fitted model; see :func:`as_factors`.
    train, test : scipy.sparse matrix of shape (n_users, n_items)
        The split from :func:`recasketch.split.train_test_split`.
    users : array-like of int of shape (n_eval_users,), default=None
        Rows to score (the split's ``user_index``); ``None`` uses the rows with a
        test interaction.
    k : int, default=5
        Cut-off of precision@k.
    exclude_train : bool or "both", default=False
        ``True`` removes each user's train items before ranking for the *test*
        precision (the train precision always ranks every item). ``"both"`` reports
        the test precision in both protocols: post 1's under ``("p@k", "test")`` and
        the train-filtered one under ``("p@k", FILTERED_TEST)``.
    item_features : csr_matrix of shape (n_items, n_item_features), default=None
        LightFM only.
    user_features : csr_matrix of shape (n_users, n_user_features), default=None
        LightFM only.
    num_threads : int, default=0
        Threads for the top-k; 0 uses every core.
    mse_scores : bool, default=True
        Also report the train and test MSE (post 1 does; a ranking loss such as WARP
        does not predict 0/1 preferences, so post 2 does not).

    Returns
    -------
    dict
        ``{("p@k", "train"): float, ("p@k", "test"): float, ("mse", "train"): float,
        ("mse", "test"): float}``, plus ``("p@k", FILTERED_TEST)`` for
        ``exclude_train="both"``, without the MSE keys for ``mse_scores=False``.

    Raises
    ------
    NonFiniteModelError
        If the model's vectors hold NaN or inf (a diverged fit); see :func:`as_factors`.
    """
    if exclude_train not in (False, True, "both"):
        raise ValueError(f"exclude_train must be False, True or 'both', got {exclude_train!r}.")
    if users is None:
        users = np.flatnonzero(np.diff(canonical(check_sparse(test, "test"), True).indptr))
    factors = as_factors(model, item_features=item_features, user_features=user_features)
    scores = {}
    if exclude_train is True:
        scores["p@k", "train"] = precision_at_k(factors, train, k, users=users,
                                                num_threads=num_threads)
        scores["p@k", "test"] = precision_at_k(factors, test, k, users=users, exclude=train,
                                               num_threads=num_threads)
    else:
        train_task = prepare(factors, train, users, None, None, None, all_rows=False)
        check_k(k, train_task.item_vectors.shape[0])
        top = top_k(train_task, int(k), num_threads, None)
        test_task = prepare(factors, test, train_task.users, None, None, None, all_rows=False)
        for split, task in (("train", train_task), ("test", test_task)):
            scores["p@k", split] = float(np.mean(hit_matrix(top, task.relevant).sum(axis=1) / k))
        if exclude_train == "both":
            scores["p@k", FILTERED_TEST] = precision_at_k(factors, test, k, users=users,
                                                          exclude=train, num_threads=num_threads)
    if mse_scores:
        scores["mse", "train"] = mse(factors, train, users=users)
        scores["mse", "test"] = mse(factors, test, users=users)
    return scores


def _top_k_hits(model, interactions, k, users, exclude, item_features, user_features, num_threads,
                chunk_size):
    task = prepare(model, interactions, users, exclude, item_features, user_features,
                   all_rows=False)
    check_k(k, task.item_vectors.shape[0])
    top = top_k(task, int(k), num_threads, chunk_size)
    return hit_matrix(top, task.relevant), np.diff(task.relevant.indptr)


def _finish(values: np.ndarray, per_user: bool):
    return values if per_user else float(np.mean(values))
