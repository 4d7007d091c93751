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
"""

from __future__ import annotations

import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .utils import check_random_state

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

# Most bytes of working memory one block of users may take (per thread).
_BLOCK_BYTES = 64 * 2**20
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
# Most user indices one block of bootstrap resamples may hold (int64: 16 MB).
_BOOT_CELLS = 2**21


# ----------------------------------------------------------------------------- model adapter


class NonFiniteModelError(ValueError):
    """Raised when a model's factors, embeddings or biases hold NaN or inf values.

    Such a model comes from a diverged fit (too high a learning rate, too little
    regularisation); its scores mean nothing, so no metric is computed from it. The
    message names the arrays at fault and how many NaN and inf values each holds.
    """


def as_factors(model, item_features=None, user_features=None):
    """User and item vectors whose dot products are ``model``'s scores.

    Parameters
    ----------
    model : implicit model, lightfm.LightFM, baseline or tuple of two arrays
        A fitted implicit matrix-factorisation model (ALS, BPR: anything with
        ``user_factors`` and ``item_factors``, such as the models of
        :mod:`recasketch.models.baselines`; GPU models are copied to the CPU with
        ``to_cpu()``), a fitted ``lightfm.LightFM``, or a tuple
        ``(user_factors, item_factors)`` of arrays of shape (n_users, n_factors) and
        (n_items, n_factors). Either factor may be a scipy.sparse matrix (an item-kNN
        model: the train rows and the item-item similarity's columns, see
        :class:`recasketch.models.baselines.ItemKNN`).
    item_features : csr_matrix of shape (n_items, n_item_features), default=None
        LightFM only: each row holds that item's weights over features. Pass the
        matrix the model was fitted with.
    user_features : csr_matrix of shape (n_users, n_user_features), default=None
        LightFM only: each row holds that user's weights over features.

    Returns
    -------
    user_vectors : np.float32 array of shape (n_users, n_dims)
    item_vectors : np.float32 array of shape (n_items, n_dims)
        C-contiguous, with ``user_vectors @ item_vectors.T`` equal to the model's
        scores. For LightFM the biases are folded in (``[embedding, bias, 1]`` for
        users, ``[embedding, 1, bias]`` for items), so the product equals
        ``model.predict``. Where either factor is sparse, both are returned as
        float32 ``scipy.sparse.csr_matrix`` in canonical format instead.

    Raises
    ------
    TypeError
        If ``model`` is none of the accepted kinds.
    NonFiniteModelError
        If the vectors hold NaN or inf: the model diverged (its factors, embeddings or
        biases are not finite), LightFM's features times its embeddings overflow, or
        factors exceed float32's range.
    ValueError
        If the model is not fitted, if the two factor arrays do not fit together, or
        if features are passed for a model that takes none.
    """
    lightfm_class = _lightfm_class()
    if lightfm_class is not None and isinstance(model, lightfm_class):
        if model.item_embeddings is None or model.user_embeddings is None:
            raise ValueError("The LightFM model is not fitted yet; call fit or fit_partial first.")
        user_biases, user_embeddings = model.get_user_representations(user_features)
        item_biases, item_embeddings = model.get_item_representations(item_features)
        user_biases = np.asarray(user_biases, dtype=np.float32).reshape(-1, 1)
        item_biases = np.asarray(item_biases, dtype=np.float32).reshape(-1, 1)
        users = _contiguous(np.hstack([user_embeddings, user_biases, np.ones_like(user_biases)]))
        items = _contiguous(np.hstack([item_embeddings, np.ones_like(item_biases), item_biases]))
        derived = ("parameters are finite, but its {side} representations ({side}_features "
                   "times its {side} embeddings and biases) hold {nan} NaN and {inf} inf values: "
                   "check {side}_features for NaN, inf or very large weights; scores of such a "
                   "model mean nothing.")
        sources = {side: [(f"{side} embeddings", getattr(model, f"{side}_embeddings")),
                          (f"{side} biases", getattr(model, f"{side}_biases"))]
                   for side in ("user", "item")}
        _check_finite("The LightFM model", {"user": users, "item": items}, sources, derived)
        return users, items

    if item_features is not None or user_features is not None:
        raise ValueError(
            "item_features and user_features apply only to a lightfm.LightFM model; "
            f"drop them for a {type(model).__name__}."
        )
    if isinstance(model, tuple):
        if len(model) != 2:
            raise ValueError(
                f"A factor tuple must be (user_factors, item_factors), got {len(model)} items."
            )
        users, items = (_as_array(a) for a in model)
        owner = "The factor tuple"
    elif hasattr(model, "user_factors") and hasattr(model, "item_factors"):
        if hasattr(model, "to_cpu"):
            model = model.to_cpu()
        if model.user_factors is None or model.item_factors is None:
            raise ValueError(f"The {type(model).__name__} model is not fitted yet; call fit first.")
        users, items = _as_array(model.user_factors), _as_array(model.item_factors)
        owner = f"The {type(model).__name__} model"
    elif hasattr(model, "similarity"):
        raise TypeError(
            f"A {type(model).__name__} (an implicit item-item model) scores a user from their "
            "rows of the train matrix, which it does not keep: wrap it with "
            "recasketch.models.baselines.ItemKNN.from_implicit(model, train)."
        )
    else:
        raise TypeError(
            "model must be a fitted implicit model (with user_factors and item_factors), "
            "a fitted lightfm.LightFM, or a tuple (user_factors, item_factors); "
            f"got {type(model).__name__}."
        )
    if users.ndim != 2 or items.ndim != 2 or users.shape[1] != items.shape[1]:
        raise ValueError(
            "user and item factors must be 2-D arrays with the same number of columns; got shapes "
            f"{users.shape} and {items.shape}."
        )
    if sp.issparse(users) or sp.issparse(items):
        user_vectors, item_vectors = _sparse_vectors(users), _sparse_vectors(items)
    else:
        user_vectors, item_vectors = _contiguous(users), _contiguous(items)
    _check_finite(owner, {"user": user_vectors, "item": item_vectors},
                  {"user": [("user factors", users)], "item": [("item factors", items)]},
                  "{side} factors are finite, but {inf} of them lie beyond float32's range (about "
                  "3.4e38) and become inf: rescale them; scores of such a model mean nothing.")
    return user_vectors, item_vectors


def _check_finite(owner, vectors, sources, derived):
    """Refuse vectors that hold NaN or inf, naming the model's arrays at fault.

    ``vectors`` maps "user" and "item" to the float32 vectors, ``sources`` maps each to
    the (name, array) pairs they were built from, and ``derived`` (a format string with
    ``side``, ``nan`` and ``inf``) says what is wrong when the sources are finite but the
    vectors are not. The check is one float64 sum per array: finite float32 values
    cannot overflow it, and a NaN or inf makes it non-finite.
    """
    bad = [side for side, array in vectors.items()
           if not np.isfinite(array.sum(dtype=np.float64))]
    if not bad:
        return
    faults, notes = [], []
    for side in bad:
        counted = [(name, *_count_non_finite(array)) for name, array in sources[side]]
        counted = [(name, n_nan, n_inf) for name, n_nan, n_inf in counted if n_nan or n_inf]
        if counted:
            faults += [f"{name} hold {n_nan} NaN and {n_inf} inf values"
                       for name, n_nan, n_inf in counted]
        else:
            n_nan, n_inf = _count_non_finite(vectors[side])
            notes.append(derived.format(side=side, nan=n_nan, inf=n_inf))
    if faults:
        raise NonFiniteModelError(
            f"{owner}'s {', '.join(faults)} (a diverged fit?): retrain it with a lower learning "
            "rate or stronger regularisation; scores of such a model mean nothing."
        )
    raise NonFiniteModelError(f"{owner}'s {' '.join(notes)}")


def _count_non_finite(array) -> tuple[int, int]:
    """Numbers of NaN and of infinite values in ``array`` (a sparse matrix's stored values)."""
    array = array.data if sp.issparse(array) else np.asarray(array)
    if not np.issubdtype(array.dtype, np.inexact):
        return 0, 0
    return int(np.isnan(array).sum()), int(np.isinf(array).sum())


def _lightfm_class():
    try:
        from lightfm import LightFM
    except ImportError:  # lightfm missing: no model can be a LightFM
        return None
    return LightFM


def _contiguous(array) -> np.ndarray:
    with np.errstate(over="ignore"):  # values beyond float32's range are refused later, by name
        return np.ascontiguousarray(array, dtype=np.float32)


def _as_array(factors):
    """Sparse factors as they are; anything else as a numpy array."""
    return factors if sp.issparse(factors) else np.asarray(factors)


def _sparse_vectors(factors) -> sp.csr_matrix:
    """float32 CSR in canonical format (sorted, duplicates summed) of dense or sparse factors."""
    with np.errstate(over="ignore"):
        matrix = sp.csr_matrix(factors, dtype=np.float32, copy=True)
    matrix.sum_duplicates()
    return matrix


# ----------------------------------------------------------------------------- top-k metrics


def precision_at_k(
    model,
    interactions,
    k=5,
    users=None,
    exclude=None,
    item_features=None,
    user_features=None,
    per_user=False,
    num_threads=0,
    chunk_size=None,
):
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


def recall_at_k(
    model,
    interactions,
    k=5,
    users=None,
    exclude=None,
    item_features=None,
    user_features=None,
    per_user=False,
    num_threads=0,
    chunk_size=None,
):
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


def ndcg_at_k(
    model,
    interactions,
    k=5,
    users=None,
    exclude=None,
    item_features=None,
    user_features=None,
    per_user=False,
    num_threads=0,
    chunk_size=None,
):
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


def map_at_k(
    model,
    interactions,
    k=5,
    users=None,
    exclude=None,
    item_features=None,
    user_features=None,
    per_user=False,
    num_threads=0,
    chunk_size=None,
):
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


def auc(
    model,
    interactions,
    users=None,
    exclude=None,
    item_features=None,
    user_features=None,
    per_user=False,
    num_threads=0,
    chunk_size=None,
):
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
    task = _prepare(model, interactions, users, exclude, item_features, user_features,
                    all_rows=False)
    n_eval, n_items = len(task.users), task.item_vectors.shape[0]
    # a block holds float32 scores, their int64 sort keys and temporaries: ~20 bytes per cell
    chunk = _chunk_rows(chunk_size, max(1, _BLOCK_BYTES // (20 * n_items)))
    values = np.full(n_eval, np.nan)

    def score_block(start):
        stop = min(start + chunk, n_eval)
        values[start:stop] = _auc_block(task, start, stop)

    _run(score_block, range(0, n_eval, chunk), num_threads)
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
    scores = _scores(task, slice(start, stop))
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
    task = _prepare(model, interactions, users, None, item_features, user_features, all_rows=True,
                    binary=False)
    n_items = task.item_vectors.shape[0]
    if task.item_columns is not None:  # sparse factors: no small Gram matrix, one block at a time
        item_columns = task.item_columns.astype(np.float64)
        chunk = max(1, _BLOCK_BYTES // (24 * n_items))
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


def checkpoint_scores(
    model,
    train,
    test,
    users=None,
    k=5,
    exclude_train=False,
    item_features=None,
    user_features=None,
    num_threads=0,
    mse_scores=True,
):
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
        users = np.flatnonzero(np.diff(_canonical(_check_sparse(test, "test"), True).indptr))
    factors = as_factors(model, item_features=item_features, user_features=user_features)
    scores = {}
    if exclude_train is True:
        scores["p@k", "train"] = precision_at_k(factors, train, k, users=users,
                                                num_threads=num_threads)
        scores["p@k", "test"] = precision_at_k(factors, test, k, users=users, exclude=train,
                                               num_threads=num_threads)
    else:
        train_task = _prepare(factors, train, users, None, None, None, all_rows=False)
        _check_k(k, train_task.item_vectors.shape[0])
        top = _top_k(train_task, int(k), num_threads, None)
        test_task = _prepare(factors, test, train_task.users, None, None, None, all_rows=False)
        for split, task in (("train", train_task), ("test", test_task)):
            scores["p@k", split] = float(np.mean(_hits(top, task.relevant).sum(axis=1) / k))
        if exclude_train == "both":
            scores["p@k", FILTERED_TEST] = precision_at_k(factors, test, k, users=users,
                                                          exclude=train, num_threads=num_threads)
    if mse_scores:
        scores["mse", "train"] = mse(factors, train, users=users)
        scores["mse", "test"] = mse(factors, test, users=users)
    return scores


# ----------------------------------------------------------------------------- uncertainty


class BootstrapCI(NamedTuple):
    """A mean over users with a percentile bootstrap confidence interval.

    Attributes
    ----------
    mean : float
        The mean of the values (for :func:`paired_bootstrap_diff`, of the differences).
    low, high : float
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled means.
    """

    mean: float
    low: float
    high: float


def bootstrap_ci(per_user_values, n_boot=1000, level=0.95, random_state=None) -> BootstrapCI:
    """Mean of per-user metric values with a percentile bootstrap confidence interval.

    The users are the sampling unit: each of ``n_boot`` resamples draws n users with
    replacement from the n values and takes their mean; the interval is the central
    ``level`` share of those means (the percentile bootstrap). Resamples are drawn in
    blocks of at most about two million indices, so memory stays bounded whatever
    ``n_boot``.

    Parameters
    ----------
    per_user_values : array-like of float of shape (n_users,)
        One value per evaluated user, e.g. ``precision_at_k(..., per_user=True)``.
    n_boot : int, default=1000
        Number of resamples.
    level : float in (0, 1), default=0.95
        Coverage of the interval.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)`` as floats.

    Raises
    ------
    ValueError
        If the values are empty, not 1-D, or hold NaN or inf (per-user AUC is NaN for
        users without a positive or a negative: drop them first), or if ``n_boot`` or
        ``level`` is out of range.
    TypeError
        If the values are not numbers.

    See Also
    --------
    paired_bootstrap_diff : the difference of two models scored on the same users.

    Examples
    --------
    >>> bootstrap_ci([0.2, 0.2, 0.2, 0.2], random_state=0)
    BootstrapCI(mean=0.2, low=0.2, high=0.2)
    >>> mean, low, high = bootstrap_ci(np.arange(100) / 100, random_state=0)
    >>> round(mean, 3), low < mean < high
    (0.495, True)
    """
    values = _check_values(per_user_values, "per_user_values")
    return _percentile_bootstrap(values, n_boot, level, random_state)


def paired_bootstrap_diff(a, b, n_boot=1000, level=0.95, random_state=None) -> BootstrapCI:
    """Mean difference ``a - b`` of two models' per-user values, with a bootstrap interval.

    ``a`` and ``b`` hold the same metric of two models for the *same* users in the same
    order (e.g. both from ``map_at_k(..., users=split.user_index, per_user=True)``).
    Each resample draws users with replacement and takes both models' values of the
    drawn users, so the interval reflects how much the difference varies over users,
    which is far narrower than comparing two separate intervals when the models agree
    on which users are easy. An interval that excludes 0 says that the difference is
    not a matter of which users happened to be in the test set.

    Parameters
    ----------
    a, b : array-like of float of shape (n_users,)
        Per-user values of the two models on the same users.
    n_boot : int, default=1000
        Number of resamples.
    level : float in (0, 1), default=0.95
        Coverage of the interval.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)`` of the differences ``a - b``.

    Raises
    ------
    ValueError
        As in :func:`bootstrap_ci`, and if ``a`` and ``b`` differ in length.
    TypeError
        If the values are not numbers.

    Examples
    --------
    Model a beats model b by 0.1 on every user, so every resample agrees:

    >>> b = np.linspace(0.0, 0.5, 50)
    >>> mean, low, high = paired_bootstrap_diff(b + 0.1, b, random_state=0)
    >>> round(mean, 6), round(low, 6), round(high, 6)
    (0.1, 0.1, 0.1)
    """
    a = _check_values(a, "a")
    b = _check_values(b, "b")
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must hold one value per user for the same users, got {a.size} and "
            f"{b.size} values."
        )
    return _percentile_bootstrap(a - b, n_boot, level, random_state)


def _check_values(values, name) -> np.ndarray:
    if sp.issparse(values):
        raise TypeError(f"{name} must be a 1-D array of per-user values, got a sparse matrix.")
    array = np.asarray(values)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise TypeError(
            f"{name} must be a 1-D array of numbers (per-user metric values), got dtype "
            f"{array.dtype}."
        )
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of per-user values, got shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; a bootstrap needs at least one user's value.")
    array = array.astype(np.float64)
    n_nan, n_inf = _count_non_finite(array)
    if n_nan or n_inf:
        raise ValueError(
            f"{name} holds {n_nan} NaN and {n_inf} inf values; drop those users first (per-user "
            "AUC is NaN for a user without a positive or a negative), e.g. "
            "values[np.isfinite(values)], and for two models drop the same users from both."
        )
    return array


def _percentile_bootstrap(values, n_boot, level, random_state) -> BootstrapCI:
    if not _is_int(n_boot) or n_boot < 1:
        raise ValueError(f"n_boot must be an integer >= 1, got {n_boot!r}.")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), e.g. 0.95, got {level!r}.")
    rng = check_random_state(random_state)
    n = len(values)
    means = np.empty(int(n_boot))
    block = max(1, _BOOT_CELLS // n)
    for start in range(0, int(n_boot), block):
        size = min(block, int(n_boot) - start)
        means[start:start + size] = values[rng.integers(0, n, size=(size, n))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapCI(float(values.mean()), float(low), float(high))


# ----------------------------------------------------------------------------- shared machinery


class _Task(NamedTuple):
    users: np.ndarray  # evaluated rows, int64
    user_vectors: np.ndarray | sp.csr_matrix  # (n_eval, n_dims) float32, rows of `users`
    item_vectors: np.ndarray | sp.csr_matrix  # (n_items, n_dims) float32
    relevant: sp.csr_matrix  # rows of `users` in interactions, canonical
    excluded: sp.csr_matrix | None  # rows of `users` in exclude, canonical
    item_columns: sp.csr_matrix | None = None  # sparse factors only: item_vectors.T as CSR


def _scores(task: _Task, rows) -> np.ndarray:
    """Dense float32 scores (len(rows), n_items) of the evaluated users ``rows`` (a slice or
    an index array into ``task.users``)."""
    if task.item_columns is None:
        return task.user_vectors[rows] @ task.item_vectors.T
    return (task.user_vectors[rows] @ task.item_columns).toarray()


def _check_sparse(matrix, name, shape=None) -> sp.csr_matrix:
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


def _canonical(matrix: sp.csr_matrix, binary: bool) -> sp.csr_matrix:
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


def _check_k(k, n_items):
    if not _is_int(k):
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


def _prepare(model, interactions, users, exclude, item_features, user_features, all_rows,
             binary=True):
    """Validate the inputs and cut out the evaluated users' rows."""
    interactions = _check_sparse(interactions, "interactions")
    if exclude is not None:
        exclude = _check_sparse(exclude, "exclude", interactions.shape)
    user_vectors, item_vectors = as_factors(model, item_features=item_features,
                                            user_features=user_features)
    _check_counts(user_vectors, item_vectors, interactions.shape)
    interactions = _canonical(interactions, binary)
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
        excluded = _canonical(exclude, True)[users]
        shared = int(_isin(_pair_keys(relevant, item_vectors.shape[0]),
                           _pair_keys(excluded, item_vectors.shape[0])).sum())
        if shared:
            raise ValueError(
                f"interactions and exclude share {shared} (user, item) pairs among the evaluated "
                "users; an excluded item can never be a hit. Check your data split."
            )
    if sp.issparse(item_vectors):
        return _Task(users, user_vectors[users], item_vectors, relevant, excluded,
                     item_vectors.T.tocsr())
    return _Task(users, np.ascontiguousarray(user_vectors[users]), item_vectors, relevant, excluded)


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
    if not _is_int(num_threads) or num_threads < 0:
        raise ValueError(
            f"num_threads must be an integer >= 0 (0 = every core), got {num_threads!r}."
        )
    if num_threads == 0:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1
    return int(num_threads)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _chunk_rows(chunk_size, default) -> int:
    if chunk_size is None:
        return int(default)
    if not _is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1 or None, got {chunk_size!r}.")
    return int(chunk_size)


def _run(work, tasks, num_threads):
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


def _top_k_hits(model, interactions, k, users, exclude, item_features, user_features, num_threads,
                chunk_size):
    task = _prepare(model, interactions, users, exclude, item_features, user_features,
                    all_rows=False)
    _check_k(k, task.item_vectors.shape[0])
    top = _top_k(task, int(k), num_threads, chunk_size)
    return _hits(top, task.relevant), np.diff(task.relevant.indptr)


def _hits(top: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """float array (n_eval, k): 1 where the ranked item is one of the user's interactions."""
    n_items = relevant.shape[1]
    keys = np.arange(len(top), dtype=np.int64)[:, None] * n_items + top
    return (_isin(keys, _pair_keys(relevant, n_items)) & (top >= 0)).astype(np.float64)


def _top_k(task: _Task, k: int, num_threads, chunk_size) -> np.ndarray:
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
    from implicit.cpu.topk import topk

    items, queries, excluded = task.item_vectors, task.user_vectors, task.excluded
    n_eval, n_items = len(task.users), items.shape[0]
    # A dimension constant over the items (LightFM's user bias meets a column of ones)
    # adds the same amount to all of a user's scores: dropping it leaves the ranking
    # as it is and makes the norm bound below much tighter.
    varies = (items != items[:1]).any(axis=0)
    if varies.any() and not varies.all():
        items = np.ascontiguousarray(items[:, varies])
        queries = np.ascontiguousarray(queries[:, varies])
    chunk = _chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, _BLOCK_BYTES // (4 * n_items))))
    depth = min(k + 1, n_items)  # one place past the cut, to see a tie there
    top = np.full((n_eval, depth), -1, dtype=np.int32)
    top_scores = np.full((n_eval, depth), -np.inf, dtype=np.float32)
    kth = np.full(n_eval, -np.inf)  # k-th best score in the ranked prefix; -inf if none
    unresolved = np.zeros(n_eval, dtype=bool)  # over-fetch too short: filter row by row

    if excluded is None:
        n_excluded, excluded_keys = np.zeros(n_eval, dtype=np.int64), None
    else:
        n_excluded, excluded_keys = np.diff(excluded.indptr), _pair_keys(excluded, n_items)
    extra = np.minimum(n_excluded, _OVERFETCH)

    prefix = max(_PREFIX_MIN, n_items // _PREFIX_SHARE, 4 * k)
    order, sorted_items = None, items
    if prefix < n_items:
        item_norms = np.linalg.norm(items.astype(np.float64), axis=1)
        order = np.argsort(-item_norms, kind="stable")
        sorted_items, sorted_norms = np.ascontiguousarray(items[order]), item_norms[order]
        user_norms = np.linalg.norm(queries.astype(np.float64), axis=1)
        slack = 1.0 + 8 * queries.shape[1] * np.finfo(np.float32).eps  # float32 rounding of a score

        def needed_prefix(rows, scores):
            """How many of the longest item vectors could reach each score."""
            shortest = np.full(len(rows), -np.inf)
            positive = scores > 0
            shortest[positive] = scores[positive] / (user_norms[rows][positive] * slack)
            return np.searchsorted(-sorted_norms, -shortest, side="right")

        # Probe a sample of users: without norm structure (random factors, some LightFM
        # models) nearly everyone needs every item, and ranking all items directly is cheaper.
        probe = np.unique(np.linspace(0, n_eval - 1, min(n_eval, _PROBE_USERS)).astype(np.int64))
        fetch = int(min(prefix, k + extra[probe].max()))
        _, scores = topk(sorted_items[:prefix], queries[probe], fetch, num_threads=1)
        lowest = scores[np.arange(len(probe)), np.minimum(k + extra[probe], fetch) - 1]
        need = needed_prefix(probe, lowest)
        if prefix + np.where(need > prefix, need, 0).mean() > _PRUNE_PAYS * n_items:
            order, sorted_items = None, items
    if order is None:
        prefix = n_items

    def best_in_prefix(rows, size):
        fetch = int(min(size, depth + extra[rows].max()))
        ids, scores = topk(sorted_items[:size], queries[rows], fetch, num_threads=1)
        if order is not None:
            ids = order[ids].astype(np.int32)
        if excluded_keys is None:
            top[rows], top_scores[rows], kth[rows] = ids, scores, scores[:, k - 1]
            return
        keep = ~_isin(rows[:, None].astype(np.int64) * n_items + ids, excluded_keys)
        first = np.argsort(~keep, axis=1, kind="stable")[:, :depth]
        chosen = np.take_along_axis(ids, first, axis=1)
        chosen_scores = np.take_along_axis(scores, first, axis=1)
        found = np.take_along_axis(keep, first, axis=1)
        chosen[~found], chosen_scores[~found] = -1, -np.inf
        top[rows], top_scores[rows] = chosen, chosen_scores
        kth[rows] = np.where(found[:, k - 1], chosen_scores[:, k - 1], -np.inf)
        unresolved[rows] = ~found[:, -1] & (n_excluded[rows] > fetch - depth)

    def blocks(rows, size=chunk):
        return [rows[s:s + size] for s in range(0, len(rows), size)]

    # users sorted by over-fetch so that a block fetches little more than it needs
    by_extra = np.argsort(extra, kind="stable")
    _run(lambda rows: best_in_prefix(rows, prefix), blocks(by_extra), num_threads)

    if prefix < n_items:
        needed = needed_prefix(np.arange(n_eval), kth)
        again = np.flatnonzero((needed > prefix) & ~unresolved)
        again = again[np.argsort(needed[again], kind="stable")]
        _run(lambda rows: best_in_prefix(rows, int(needed[rows].max())), blocks(again), num_threads)

    def filtered(rows):
        ids, scores = topk(items, queries[rows], depth, filter_query_items=excluded[rows],
                           num_threads=1)
        filler = scores == -np.finfo(scores.dtype).max  # implicit's once every item is excluded
        ids[filler], scores[filler] = -1, -np.inf
        top[rows], top_scores[rows] = ids, scores

    _run(filtered, blocks(np.flatnonzero(unresolved)), num_threads)

    def tied_at_the_cut(rows):
        """The exact rule over every item: all items above the k-th score, then the
        lowest-indexed of those equal to it."""
        scores = queries[rows] @ items.T
        if excluded is not None:
            banned = excluded[rows]
            banned_rows = np.repeat(np.arange(len(rows)), np.diff(banned.indptr))
            scores[banned_rows, banned.indices] = -np.inf
        ids = _exact_top_k(scores, k)  # every tied user has more than k candidates: no -1
        top[rows, :k], top_scores[rows, :k] = ids, np.take_along_axis(scores, ids, axis=1)

    tied = np.zeros(0, dtype=np.int64)
    if depth > k:
        tied = np.flatnonzero((top[:, k] >= 0) & (top_scores[:, k] == top_scores[:, k - 1]))
        # a block holds float32 scores and a few boolean and int32 temporaries
        exact = _chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, _BLOCK_BYTES // (16 * n_items))))
        _run(tied_at_the_cut, blocks(tied, exact), num_threads)

    # implicit's lists are by decreasing score already; only lists with equal scores in
    # them, and those ranked again (in index order), need sorting
    top, top_scores = np.ascontiguousarray(top[:, :k]), top_scores[:, :k]
    unsorted = (top_scores[:, 1:] == top_scores[:, :-1]).any(axis=1)
    unsorted[tied] = True
    rows = np.flatnonzero(unsorted)
    if rows.size:
        ranked = np.lexsort((top[rows], -top_scores[rows]), axis=1)
        top[rows] = np.take_along_axis(top[rows], ranked, axis=1)
    return top


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


def _top_k_by_blocks(task: _Task, k: int, num_threads, chunk_size) -> np.ndarray:
    """:func:`_top_k` for sparse factors: each block of users' dense scores, ranked exactly."""
    n_eval, n_items = len(task.users), task.item_vectors.shape[0]
    # a block holds float32 scores and a few boolean and int32 temporaries
    chunk = _chunk_rows(chunk_size, max(1, min(_TOPK_CHUNK, _BLOCK_BYTES // (16 * n_items))))
    top = np.empty((n_eval, k), dtype=np.int32)

    def rank_block(start):
        rows = slice(start, min(start + chunk, n_eval))
        scores = _scores(task, rows)
        if task.excluded is not None:
            banned = task.excluded[rows]
            scores[np.repeat(np.arange(len(scores)), np.diff(banned.indptr)),
                   banned.indices] = -np.inf
        top[rows] = _exact_top_k(scores, k)

    _run(rank_block, range(0, n_eval, chunk), num_threads)
    return top


def _finish(values: np.ndarray, per_user: bool):
    return values if per_user else float(np.mean(values))
