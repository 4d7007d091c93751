"""Cosine neighbours in a model's item space.

Post 1 finds similar models by the cosine similarity of their ALS item factors;
post 2 does the same with LightFM's item representations (the item's feature
rows times the feature embeddings, biases left out). Both come down to one
function, :func:`similar_items`, over the vectors :func:`item_vectors` extracts.
Queries are scored against all items in chunks, so no items x items matrix is
ever built.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = ["TopicAgreement", "item_vectors", "similar_items", "topic_agreement"]

_CHUNK_CELLS = 8_000_000  # scores held at once: 8M float32 = 32 MB


def item_vectors(model, item_features=None) -> np.ndarray:
    """The item vectors of a fitted model, one row per item (float32).

    Parameters
    ----------
    model : implicit model, lightfm.LightFM or numpy.ndarray
        For implicit, ``item_factors``; for LightFM, ``item_features @
        item_embeddings`` (the item representations, without biases); an array is
        returned as float32.
    item_features : scipy.sparse matrix of shape (n_items, n_features), default=None
        LightFM's item features, when it was trained with them.
    """
    if isinstance(model, np.ndarray):
        vectors = model
    elif hasattr(model, "get_item_representations"):
        vectors = model.get_item_representations(item_features)[1]
    elif hasattr(model, "item_factors"):
        if hasattr(model, "to_cpu"):
            model = model.to_cpu()
        vectors = model.item_factors
    else:
        raise TypeError(
            f"Cannot take item vectors from {type(model).__name__}: expected an implicit model, "
            "a lightfm.LightFM or an array of shape (n_items, n_factors)."
        )
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"Item vectors must be 2-D (n_items, n_factors), got shape {vectors.shape}.")
    return vectors


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _top_n(unit: np.ndarray, queries: np.ndarray, n: int, drop_self: bool):
    """Indices and cosines of the ``n`` nearest items of each query row, best first."""
    n_items = unit.shape[0]
    want = n + 1 if drop_self else n
    want = min(want, n_items)
    chunk = max(1, _CHUNK_CELLS // max(n_items, 1))
    ids = np.empty((len(queries), want), dtype=np.int64)
    scores = np.empty((len(queries), want), dtype=np.float32)
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        sims = unit[q] @ unit.T
        if drop_self:
            sims[np.arange(len(q)), q] = -np.inf
        part = np.argpartition(-sims, want - 1, axis=1)[:, :want]
        part_scores = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        ids[start:start + chunk] = np.take_along_axis(part, order, axis=1)
        scores[start:start + chunk] = np.take_along_axis(part_scores, order, axis=1)
    if drop_self:
        ids, scores = ids[:, :n], scores[:, :n]
    return ids, scores


def similar_items(
    vectors,
    items,
    n: int = 10,
    item_ids=None,
    names=None,
    include_self: bool = True,
    item_features=None,
) -> pd.DataFrame:
    """The ``n`` items whose vectors have the highest cosine similarity to each query.

    Parameters
    ----------
    vectors : numpy.ndarray of shape (n_items, n_factors), or a fitted model
        Item vectors, or a model :func:`item_vectors` understands.
    items : int or array-like of int
        Query items, as column indices of the likes matrix.
    n : int, default=10
        Neighbours per query.
    item_ids : array-like of shape (n_items,), default=None
        Ids to report beside the indices (e.g. ``Interactions.item_ids``).
    names : mapping or array-like of shape (n_items,), default=None
        Readable names to report: an array aligned with the items, or a mapping
        from item id to name (then ``item_ids`` is needed).
    include_self : bool, default=True
        As in post 1, an item is its own first neighbour (cosine 1); ``False``
        leaves it out and returns ``n`` other items.
    item_features : scipy.sparse matrix, default=None
        For a LightFM model trained with item features.

    Returns
    -------
    pandas.DataFrame
        One row per (query, neighbour): ``query``, ``rank`` (0 = most similar),
        ``item``, ``score`` (cosine), and ``id``/``name`` where given.
    """
    vectors = item_vectors(vectors, item_features)
    n_items = vectors.shape[0]
    queries = np.atleast_1d(np.asarray(items, dtype=np.int64))
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}.")
    limit = n_items if include_self else n_items - 1
    if n > limit:
        raise ValueError(f"n={n} asks for more neighbours than the {limit} items available.")
    if queries.size and (queries.min() < 0 or queries.max() >= n_items):
        raise IndexError(f"Query items must be in [0, {n_items}); got {queries.tolist()[:5]}.")

    ids, scores = _top_n(_unit_rows(vectors), queries, n, drop_self=not include_self)
    out = pd.DataFrame(
        {
            "query": np.repeat(queries, ids.shape[1]),
            "rank": np.tile(np.arange(ids.shape[1]), len(queries)),
            "item": ids.ravel(),
            "score": scores.ravel(),
        }
    )
    if item_ids is not None:
        item_ids = np.asarray(item_ids, dtype=object)
        out["id"] = item_ids[out["item"]]
    if names is not None:
        if isinstance(names, (dict, pd.Series)):
            if item_ids is None:
                raise ValueError("names given as a mapping from ids needs item_ids too.")
            out["name"] = out["id"].map(names)
        else:
            out["name"] = np.asarray(names, dtype=object)[out["item"]]
    return out


class TopicAgreement(NamedTuple):
    """How often an item's nearest neighbours share its known topic.

    Attributes
    ----------
    observed : float
        Mean over items of the share of their ``n`` nearest neighbours (itself
        excluded) that have the same topic.
    chance : float
        The same share for ``n`` neighbours drawn at random: mean over items of
        (items in its topic - 1) / (n_items - 1).
    per_item : numpy.ndarray of shape (n_items,)
        Each item's share.
    """

    observed: float
    chance: float
    per_item: np.ndarray

    @property
    def lift(self) -> float:
        """``observed / chance``."""
        return self.observed / self.chance if self.chance else float("nan")


def topic_agreement(vectors, topics, n: int = 10, item_features=None) -> TopicAgreement:
    """Share of each item's ``n`` cosine neighbours that share its true topic, vs chance.

    Parameters
    ----------
    vectors : numpy.ndarray of shape (n_items, n_factors), or a fitted model
    topics : array-like of shape (n_items,)
        The known topic of each item (e.g. the synthetic data's ground truth,
        aligned with the likes matrix's columns).
    n : int, default=10
    item_features : scipy.sparse matrix, default=None
        For a LightFM model trained with item features.
    """
    vectors = item_vectors(vectors, item_features)
    topics = np.asarray(topics)
    n_items = vectors.shape[0]
    if topics.shape != (n_items,):
        raise ValueError(f"topics must have one entry per item ({n_items}), got shape {topics.shape}.")
    if n_items < 2 or n > n_items - 1:
        raise ValueError(f"n={n} needs at least n + 1 items; there are {n_items}.")
    codes, _ = pd.factorize(topics)
    ids, _ = _top_n(_unit_rows(vectors), np.arange(n_items), n, drop_self=True)
    per_item = (codes[ids] == codes[:, None]).mean(axis=1)
    sizes = np.bincount(codes)[codes]
    chance = float(np.mean((sizes - 1) / (n_items - 1)))
    return TopicAgreement(float(per_item.mean()), chance, per_item)
