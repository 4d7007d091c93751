"""The model adapter the metrics share: a fitted model's user and item vectors, checked finite."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

__all__ = ["NonFiniteModelError", "as_factors"]


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
    if isinstance(model, LightFM):
        return _lightfm_vectors(model, item_features, user_features)
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


def _lightfm_vectors(model, item_features, user_features):
    """:func:`as_factors` of a ``lightfm.LightFM``: the biases folded into the embeddings."""
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
        counted = [(name, *count_non_finite(array)) for name, array in sources[side]]
        counted = [(name, n_nan, n_inf) for name, n_nan, n_inf in counted if n_nan or n_inf]
        if counted:
            faults += [f"{name} hold {n_nan} NaN and {n_inf} inf values"
                       for name, n_nan, n_inf in counted]
        else:
            n_nan, n_inf = count_non_finite(vectors[side])
            notes.append(derived.format(side=side, nan=n_nan, inf=n_inf))
    if faults:
        raise NonFiniteModelError(
            f"{owner}'s {', '.join(faults)} (a diverged fit?): retrain it with a lower learning "
            "rate or stronger regularisation; scores of such a model mean nothing."
        )
    raise NonFiniteModelError(f"{owner}'s {' '.join(notes)}")


def count_non_finite(array) -> tuple[int, int]:
    """Numbers of NaN and of infinite values in ``array`` (a sparse matrix's stored values)."""
    array = array.data if sp.issparse(array) else np.asarray(array)
    if not np.issubdtype(array.dtype, np.inexact):
        return 0, 0
    return int(np.isnan(array).sum()), int(np.isinf(array).sum())


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

