"""Cosine neighbours in a model's item space.

Post 1 finds similar models by the cosine similarity of their ALS item factors;
post 2 does the same with LightFM's item representations (the item's feature
rows times the feature embeddings, biases left out). Both come down to one
function, :func:`similar_items`, over the vectors :func:`item_vectors` extracts.
Queries are scored against all items in chunks, so no items x items matrix is
ever built.

A LightFM model trained with item features also embeds every *feature* in the same
space as the items (an item's representation is the weighted sum of its features'
embeddings), so post 2 could ask which models lie nearest a tag
(:func:`items_near_feature`) and which tags lie nearest a model that does not carry
them yet (:func:`suggest_features`).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..utils import check_count

__all__ = ["TopicAgreement", "item_vectors", "items_near_feature", "similar_items", "suggest_features",
           "suggestion_agreement", "topic_agreement"]

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
        vectors = (model.to_cpu() if hasattr(model, "to_cpu") else model).item_factors  # GPU: to host first
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
    want = min(n + 1 if drop_self else n, n_items)
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
    return ids[:, :n], scores[:, :n]  # without the extra one asked for when dropping self


def similar_items(vectors, items, n: int = 10, item_ids=None, names=None, include_self: bool = True,
                  item_features=None) -> pd.DataFrame:
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
    check_count(n, "n")
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
    return _label(out, item_ids, names)


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


# ----------------------------------------------------------------- feature embeddings


def _feature_model(model, item_features):
    if not hasattr(model, "get_item_representations") or getattr(model, "item_embeddings", None) is None:
        raise TypeError(
            f"Feature embeddings need a fitted lightfm.LightFM, got {type(model).__name__}."
        )
    if item_features is None:
        raise ValueError("Pass the item_features the model was trained with.")
    if item_features.shape[1] != model.item_embeddings.shape[0]:
        raise ValueError(
            f"item_features has {item_features.shape[1]} columns but the model embeds "
            f"{model.item_embeddings.shape[0]} features; pass the matrix it was trained with."
        )
    return _unit_rows(item_vectors(model, item_features))


def _feature_column(feature, feature_names, n_features: int) -> int:
    if isinstance(feature, str):
        if feature_names is None:
            raise ValueError("A feature given by name needs feature_names.")
        hits = np.flatnonzero(np.asarray(feature_names, dtype=object) == feature)
        if len(hits) == 0:
            raise KeyError(f"No feature named {feature!r}.")
        return int(hits[0])
    column = int(feature)
    if not 0 <= column < n_features:
        raise IndexError(f"Feature column {column} is outside [0, {n_features}).")
    return column


def items_near_feature(model, item_features, feature, n: int = 20, feature_names=None,
                       item_ids=None, names=None) -> pd.DataFrame:
    """The ``n`` items whose representations lie nearest (cosine) one feature's embedding.

    Post 2's ``tag_tiltbrush`` query: which models does the model place nearest the tag?

    Parameters
    ----------
    model : lightfm.LightFM
        Fitted with ``item_features``.
    item_features : scipy.sparse matrix of shape (n_items, n_features)
        The matrix the model was trained with.
    feature : str or int
        A feature name (with ``feature_names``, e.g. ``"tag_tiltbrush"``) or column.
    n : int, default=20
    feature_names : array-like of shape (n_features,), default=None
        E.g. ``ItemFeatures.feature_names``.
    item_ids, names : array-like or mapping, default=None
        As in :func:`similar_items`.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``item``, ``score`` (cosine), and ``id``/``name`` where given.
    """
    unit = _feature_model(model, item_features)
    column = _feature_column(feature, feature_names, item_features.shape[1])
    if int(n) != n or not 1 <= n <= unit.shape[0]:
        raise ValueError(f"n must be an integer in [1, {unit.shape[0]}], got {n!r}.")
    query = _unit_rows(np.asarray(model.item_embeddings[[column]], dtype=np.float32))[0]
    scores = unit @ query
    top = np.argsort(-scores, kind="stable")[:n]
    out = pd.DataFrame({"rank": np.arange(len(top)), "item": top, "score": scores[top]})
    return _label(out, item_ids, names)


def _label(out: pd.DataFrame, item_ids, names) -> pd.DataFrame:
    if item_ids is not None:
        out["id"] = np.asarray(item_ids, dtype=object)[out["item"]]
    if names is not None:
        if isinstance(names, (dict, pd.Series)):
            if item_ids is None:
                raise ValueError("names given as a mapping from ids needs item_ids too.")
            out["name"] = out["id"].map(names)
        else:
            out["name"] = np.asarray(names, dtype=object)[out["item"]]
    return out


def suggest_features(model, item_features, items, n: int = 5, feature_names=None,
                     prefix: str | None = "tag_") -> pd.DataFrame:
    """For each item, the ``n`` features nearest its representation that it does not carry.

    Post 2's tag suggestions: cosine similarity between the item's representation
    (its features times their embeddings) and every candidate feature's embedding;
    features already on the item are left out.

    Parameters
    ----------
    model : lightfm.LightFM
        Fitted with ``item_features``.
    item_features : scipy.sparse matrix of shape (n_items, n_features)
    items : int or array-like of int
        Items (rows of ``item_features``) to suggest for.
    n : int, default=5
    feature_names : array-like of shape (n_features,), default=None
        Needed to report names and to select candidates by ``prefix``.
    prefix : str or None, default="tag_"
        Only features whose name starts with it are candidates (tags, not categories or
        the identity block); ``None`` makes every feature a candidate.

    Returns
    -------
    pandas.DataFrame
        One row per (query, suggestion): ``query``, ``rank``, ``feature`` (column),
        ``score`` (cosine) and ``name`` where ``feature_names`` is given.
    """
    unit = _feature_model(model, item_features)
    item_features = item_features.tocsr()
    queries = np.atleast_1d(np.asarray(items, dtype=np.int64))
    if queries.size and (queries.min() < 0 or queries.max() >= unit.shape[0]):
        raise IndexError(f"Items must be in [0, {unit.shape[0]}); got {queries.tolist()[:5]}.")
    candidates = np.ones(item_features.shape[1], dtype=bool)
    if prefix is not None:
        if feature_names is None:
            raise ValueError("Selecting candidates by prefix needs feature_names.")
        candidates = pd.Series(np.asarray(feature_names, dtype=str)).str.startswith(prefix).to_numpy()
    columns = np.flatnonzero(candidates)
    if int(n) != n or not 1 <= n <= len(columns):
        raise ValueError(f"n must be an integer in [1, {len(columns)}] (the candidates), got {n!r}.")
    embeddings = _unit_rows(np.asarray(model.item_embeddings[columns], dtype=np.float32))
    scores = unit[queries] @ embeddings.T
    position = np.full(item_features.shape[1], -1)
    position[columns] = np.arange(len(columns))
    rows = []
    for q, (item, row) in enumerate(zip(queries, scores)):
        carried = position[item_features.indices[item_features.indptr[item]:item_features.indptr[item + 1]]]
        row[carried[carried >= 0]] = -np.inf
        top = np.argsort(-row, kind="stable")[:n]
        top = top[np.isfinite(row[top])]
        rows.append(pd.DataFrame({"query": item, "rank": np.arange(len(top)),
                                  "feature": columns[top], "score": row[top]}))
    out = pd.concat(rows, ignore_index=True)
    if feature_names is not None:
        out["name"] = np.asarray(feature_names, dtype=object)[out["feature"]]
    return out


def suggestion_agreement(model, item_features, items, item_topics, feature_topics: Mapping,
                         feature_names, n: int = 5, prefix: str | None = "tag_") -> TopicAgreement:
    """Share of the features :func:`suggest_features` proposes that belong to the item's topic.

    For data with known topics (the synthetic generator's): ``observed`` is the mean
    over ``items`` of the share of their ``n`` suggestions that belong to the item's
    topic; ``chance`` the same share for ``n`` candidates drawn at random, i.e. the
    share of the item's candidates (those not already on it) that belong to its topic.

    Parameters
    ----------
    model, item_features, n, prefix
        As in :func:`suggest_features`.
    items : array-like of int
    item_topics : array-like of shape (n_items,)
        Each item's true topic.
    feature_topics : mapping of str to collection
        The topics each feature name belongs to (a tag may belong to several, or to
        none: then it is left out of the mapping).
    feature_names : array-like of shape (n_features,)
    """
    items = np.atleast_1d(np.asarray(items, dtype=np.int64))
    item_topics = np.asarray(item_topics, dtype=object)
    names = np.asarray(feature_names, dtype=object)
    if names.shape != (item_features.shape[1],):
        raise ValueError(f"feature_names must name every feature ({item_features.shape[1]}).")
    suggestions = suggest_features(model, item_features, items, n, names, prefix)
    empty = frozenset()
    hit = [item_topics[q] in feature_topics.get(f, empty)
           for q, f in zip(suggestions["query"], suggestions["name"])]
    per_item = pd.Series(hit, dtype=float).groupby(suggestions["query"].to_numpy()).mean()
    per_item = per_item.reindex(items).to_numpy()

    item_features = item_features.tocsr()
    candidates = np.ones(len(names), dtype=bool)
    if prefix is not None:
        candidates = pd.Series(names.astype(str)).str.startswith(prefix).to_numpy()
    topics = sorted({t for topic_set in feature_topics.values() for t in topic_set})
    member = {t: np.array([t in feature_topics.get(f, empty) for f in names]) for t in topics}
    chance = []
    for item in items:
        mask = candidates.copy()
        mask[item_features.indices[item_features.indptr[item]:item_features.indptr[item + 1]]] = False
        own = member.get(item_topics[item], np.zeros(len(names), dtype=bool))
        chance.append(float(own[mask].mean()) if mask.any() else 0.0)
    return TopicAgreement(float(np.mean(per_item)), float(np.mean(chance)), per_item)
