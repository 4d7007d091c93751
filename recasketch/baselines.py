"""Baselines every model here should beat."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["Popularity"]


class Popularity:
    """Recommend the items with the most likes in train, the same list to everyone.

    It exposes ``user_factors`` (a column of ones) and ``item_factors`` (each item's
    like count) like implicit's models, so every function of
    :mod:`recasketch.metrics` and :mod:`recasketch.tuning` scores it unchanged.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> pop = Popularity().fit(sp.csr_matrix([[1, 1, 0], [0, 1, 0]]))
    >>> pop.item_factors.ravel().tolist()
    [1.0, 2.0, 0.0]
    """

    def __init__(self):
        self.user_factors = None
        self.item_factors = None

    def fit(self, user_items, show_progress=False):
        """Count each item's likes in ``user_items`` (sparse, of shape (n_users, n_items))."""
        if not sp.issparse(user_items):
            raise TypeError(f"user_items must be a scipy.sparse matrix, got {type(user_items).__name__}.")
        counts = np.asarray((user_items != 0).sum(axis=0), dtype=np.float32).ravel()
        self.user_factors = np.ones((user_items.shape[0], 1), dtype=np.float32)
        self.item_factors = counts[:, None]
        return self
