"""The posts' straightforward metrics, kept plain for cross-checking and benchmarks.

They build the dense users x items score matrix and loop over users, exactly the way
post 1 computes precision@k and MSE. :mod:`recasketch.metrics` must agree with them;
use them only on small data (the dense matrix of the thresholded crawl is ~3 GB).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import mean_squared_error

from ..metrics import as_factors

__all__ = ["dense_predictions", "naive_mse", "naive_precision_at_k"]


def dense_predictions(model, item_features=None, user_features=None) -> np.ndarray:
    """Every user's score for every item.

    Parameters
    ----------
    model : implicit model, lightfm.LightFM or tuple of two arrays
        See :func:`recasketch.metrics.as_factors`.
    item_features : csr_matrix of shape (n_items, n_item_features), default=None
        LightFM only.
    user_features : csr_matrix of shape (n_users, n_user_features), default=None
        LightFM only.

    Returns
    -------
    np.float64 array of shape (n_users, n_items)
    """
    user_vectors, item_vectors = as_factors(model, item_features=item_features,
                                            user_features=user_features)
    return user_vectors.astype(np.float64) @ item_vectors.astype(np.float64).T


def naive_precision_at_k(predictions, interactions, k=5, users=None) -> float:
    """Post 1's precision@k: top k of all items per user, hits / k, mean over users.

    Parameters
    ----------
    predictions : array of shape (n_users, n_items)
    interactions : scipy.sparse matrix of shape (n_users, n_items)
    k : int, default=5
    users : array-like of int, default=None
        Rows to average over; ``None`` means the rows with at least one interaction.

    Returns
    -------
    float
    """
    interactions = sp.csr_matrix(interactions)
    interactions.eliminate_zeros()
    if users is None:
        users = np.flatnonzero(interactions.getnnz(axis=1))
    precisions = []
    for user in users:
        top = np.argsort(-predictions[user])[:k]
        liked = interactions[user].indices
        precisions.append(len(set(top) & set(liked)) / k)
    return float(np.mean(precisions))


def naive_mse(predictions, interactions, users=None) -> float:
    """Post 1's MSE: ``mean_squared_error`` over the dense rows of ``users`` (None: all rows)."""
    interactions = sp.csr_matrix(interactions)
    if users is None:
        users = np.arange(interactions.shape[0])
    dense_rows = interactions[users].toarray()
    return float(mean_squared_error(dense_rows.ravel(), predictions[users].ravel()))
