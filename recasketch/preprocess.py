"""From a frame of likes to the matrices the models train on.

The three steps of both posts: k-core thresholding (:func:`threshold_interactions`),
the CSR likes matrix with its id maps (:func:`build_interactions`), and the item
feature matrix of tags and categories (:func:`build_item_features`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import DataError

__all__ = ["Interactions", "ItemFeatures", "build_interactions", "build_item_features",
           "drop_repeated_features", "feature_keys", "interaction_stats", "threshold_interactions"]


def _check_columns(df: pd.DataFrame, columns, what: str = "frame") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"The {what} has no column(s) {missing}; it has {list(df.columns)}. "
            "Pass user_col=/item_col= to name the id columns."
        )


def interaction_stats(df: pd.DataFrame, user_col: str = "uid", item_col: str = "mid") -> dict:
    """Count users, items and rows of a likes frame, and its density.

    Returns
    -------
    dict
        ``users``, ``items``, ``likes`` (rows) and ``sparsity`` (percent of the
        users x items cells that hold a like, as the posts report it).
    """
    _check_columns(df, [user_col, item_col])
    n_users = int(df[user_col].nunique())
    n_items = int(df[item_col].nunique())
    n_rows = int(len(df))
    cells = n_users * n_items
    return {
        "users": n_users,
        "items": n_items,
        "likes": n_rows,
        "sparsity": 100.0 * n_rows / cells if cells else 0.0,
    }


def _format_stats(stats: dict) -> str:
    return (
        f"{stats['users']:,} users, {stats['items']:,} items, {stats['likes']:,} likes, "
        f"sparsity {stats['sparsity']:.3f} %"
    )


def threshold_interactions(df: pd.DataFrame, user_col: str = "uid", item_col: str = "mid", user_min: int = 5,
                           item_min: int = 5, verbose: bool = True) -> pd.DataFrame:
    """Keep the k-core of a likes frame: users with >= ``user_min`` likes on items
    with >= ``item_min`` likes.

    Users below ``user_min`` are dropped, then items below ``item_min``, and the two
    steps alternate until a pass drops nothing, exactly as the post's loop does
    (dropping one side can push the other below its minimum). The result has the
    same rows, in the same order, as that loop; it runs on integer codes with
    ``np.bincount``, so a pass costs milliseconds instead of a ``groupby``.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per like, with a user id column and an item id column.
    user_col, item_col : str, default="uid", "mid"
        Names of the id columns.
    user_min, item_min : int, default=5
        Minimum number of rows a user (item) needs to be kept.
    verbose : bool, default=True
        Print the number of users, items, likes and the sparsity before and after.

    Returns
    -------
    pandas.DataFrame
        The rows of ``df`` that survive, index preserved.

    Raises
    ------
    DataError
        If a column is missing or no row survives.

    Examples
    --------
    User ``d`` has one like, so it goes; item ``z`` is then left with one like and goes
    too, which leaves user ``c`` with one like, so ``c`` goes in the second pass.

    >>> df = pd.DataFrame({"uid": list("aabbccd"), "mid": list("xyxyxzz")})
    >>> threshold_interactions(df, user_min=2, item_min=2, verbose=False)
      uid mid
    0   a   x
    1   a   y
    2   b   x
    3   b   y
    """
    _check_columns(df, [user_col, item_col])
    for name, value in (("user_min", user_min), ("item_min", item_min)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if df[[user_col, item_col]].isna().any().any():
        raise DataError(
            f"The {user_col!r}/{item_col!r} columns hold missing ids; drop or fix those rows first."
        )

    users, _ = pd.factorize(df[user_col], sort=False)
    items, _ = pd.factorize(df[item_col], sort=False)
    keep = np.ones(len(df), dtype=bool)
    while True:
        before = int(keep.sum())
        user_counts = np.bincount(users[keep], minlength=users.max(initial=-1) + 1)
        keep &= user_counts[users] >= user_min
        item_counts = np.bincount(items[keep], minlength=items.max(initial=-1) + 1)
        keep &= item_counts[items] >= item_min
        if keep.sum() == before:
            break

    out = df[keep]
    if verbose:
        print("Before thresholding:", _format_stats(interaction_stats(df, user_col, item_col)))
        print(
            f"After {user_min}/{item_min} thresholding:",
            _format_stats(interaction_stats(out, user_col, item_col)) if len(out) else "nothing left",
        )
    if len(out) == 0:
        raise DataError(
            f"No likes survive thresholding at user_min={user_min}, item_min={item_min} "
            f"({len(df):,} rows in); lower the minimums."
        )
    return out


class Interactions(NamedTuple):
    """The likes matrix and the ids of its rows and columns.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix of shape (n_users, n_items)
        1.0 where the user liked the item (float32).
    user_ids : numpy.ndarray of shape (n_users,)
        ``user_ids[row]`` is the id of matrix row ``row``.
    item_ids : numpy.ndarray of shape (n_items,)
        ``item_ids[col]`` is the id of matrix column ``col``.

    The post's dictionaries are one line each: ``dict(enumerate(inter.item_ids))``
    is ``idx_to_mid`` and ``inter.item_to_idx`` is ``mid_to_idx``.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def user_to_idx(self) -> dict:
        """Dictionary from user id to row index."""
        return {u: i for i, u in enumerate(self.user_ids)}

    @property
    def item_to_idx(self) -> dict:
        """Dictionary from item id to column index."""
        return {m: i for i, m in enumerate(self.item_ids)}

    def user_index(self, ids) -> np.ndarray:
        """Row indices of the user ids ``ids``; raises ``KeyError`` naming unknown ids."""
        return _lookup(self.user_ids, ids, "user")

    def item_index(self, ids) -> np.ndarray:
        """Column indices of the item ids ``ids``; raises ``KeyError`` naming unknown ids."""
        return _lookup(self.item_ids, ids, "item")


def _lookup(index_ids: np.ndarray, ids, what: str) -> np.ndarray:
    scalar = np.isscalar(ids)
    wanted = np.atleast_1d(np.asarray(ids, dtype=object))
    pos = pd.Index(index_ids).get_indexer(wanted)
    if (pos < 0).any():
        unknown = wanted[pos < 0][:5].tolist()
        raise KeyError(f"Unknown {what} id(s): {unknown} ({int((pos < 0).sum())} in all).")
    return pos[0] if scalar else pos


def build_interactions(df: pd.DataFrame, user_col: str = "uid", item_col: str = "mid") -> Interactions:
    """Build the CSR likes matrix and its id maps from a likes frame.

    Rows and columns are numbered in order of first appearance, as the post's
    ``enumerate(df.mid.unique())`` does. A user-item pair that appears more than once
    is stored once: likes are binary.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per like.
    user_col, item_col : str, default="uid", "mid"
        Names of the id columns.

    Returns
    -------
    Interactions
        ``(matrix, user_ids, item_ids)``; ``matrix`` is a float32
        csr_matrix of shape (n_users, n_items) with sorted indices.
    """
    _check_columns(df, [user_col, item_col])
    if len(df) == 0:
        raise DataError("The likes frame is empty; there is nothing to build a matrix from.")
    if df[[user_col, item_col]].isna().any().any():
        raise DataError(f"The {user_col!r}/{item_col!r} columns hold missing ids.")
    rows, user_ids = pd.factorize(df[user_col], sort=False)
    cols, item_ids = pd.factorize(df[item_col], sort=False)
    shape = (len(user_ids), len(item_ids))
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape, dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return Interactions(matrix, np.asarray(user_ids, dtype=object), np.asarray(item_ids, dtype=object))


def feature_keys(features: pd.DataFrame) -> pd.Series:
    """The post's feature key for each row of a features frame: ``'{type}_{value}'``
    with the value lower-cased, e.g. ``tag_tiltbrush`` or ``category_characters``."""
    _check_columns(features, ["type", "value"], "features frame")
    return features["type"].astype(str) + "_" + features["value"].astype(str).str.lower()


def drop_repeated_features(features: pd.DataFrame, item_col: str = "mid") -> pd.DataFrame:
    """Keep the first row of each (item, feature key) pair.

    The crawl's feature file can list a pair twice — the same row again, or the same
    tag in another case (``Blender`` and ``blender`` are both ``tag_blender``). A
    feature is either on an item or not, so the matrix holds one 1 per pair;
    :func:`build_item_features` would collapse repeats too, but dropping them first
    lets a notebook count them.

    Examples
    --------
    >>> frame = pd.DataFrame({"mid": ["a", "a", "a", "b"], "type": ["tag"] * 4,
    ...                       "value": ["Blender", "blender", "vr", "vr"]})
    >>> drop_repeated_features(frame)["value"].tolist()
    ['Blender', 'vr', 'vr']
    """
    _check_columns(features, [item_col, "type", "value"], "features frame")
    repeated = pd.DataFrame({"item": features[item_col].to_numpy(),
                             "key": feature_keys(features).to_numpy()}).duplicated()
    return features[~repeated.to_numpy()].reset_index(drop=True)


class ItemFeatures(NamedTuple):
    """An item feature matrix and the names of its columns.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix of shape (n_items, n_features)
        Row ``i`` describes matrix column ``i`` of the likes matrix (float32).
    feature_names : numpy.ndarray of shape (n_features,)
        Column names: ``item_<id>`` for the identity block, then the sorted
        ``type_value`` keys.
    """

    matrix: sp.csr_matrix
    feature_names: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def feature_index(self, name: str) -> int:
        """Column of feature ``name`` (e.g. ``'tag_tiltbrush'``); ``KeyError`` if absent."""
        hits = np.flatnonzero(self.feature_names == name)
        if len(hits) == 0:
            raise KeyError(f"No feature named {name!r}.")
        return int(hits[0])


def build_item_features(features: pd.DataFrame, item_ids, identity: bool = False,
                        item_col: str = "mid") -> ItemFeatures:
    """One-hot tag and category features aligned with the likes matrix's columns.

    Equal to the post's ``DictVectorizer`` over ``{'type_value': 1}`` dictionaries
    (feature columns sorted by name, one stored 1 per item and key however often the
    row repeats), built directly as a sparse matrix. Rows for items without features
    are empty; feature rows of items not in ``item_ids`` are ignored, and so are keys
    used only by them.

    Parameters
    ----------
    features : pandas.DataFrame
        Columns ``mid``, ``type`` and ``value`` (the ``model_feats.psv`` schema).
    item_ids : array-like of shape (n_items,)
        The likes matrix's column ids, e.g. ``Interactions.item_ids``.
    identity : bool, default=False
        Prepend an ``n_items x n_items`` identity block, so that LightFM learns one
        embedding per item plus one per feature (post 2's ``[eye | features]``).
    item_col : str, default="mid"
        Name of the item id column in ``features``.

    Returns
    -------
    ItemFeatures
        ``(matrix, feature_names)`` with a float32 csr_matrix of shape
        (n_items, [n_items +] n_features).
    """
    _check_columns(features, [item_col, "type", "value"], "features frame")
    item_ids = np.asarray(item_ids, dtype=object)
    n_items = len(item_ids)
    rows = pd.Index(item_ids).get_indexer(features[item_col])
    known = rows >= 0
    keys = feature_keys(features)[known].to_numpy(dtype=object)
    rows = rows[known]
    names, cols = np.unique(keys.astype(str), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols.ravel())),
                           shape=(n_items, len(names)), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    names = names.astype(object)
    if identity:
        eye = sp.identity(n_items, dtype=np.float32, format="csr")
        matrix = sp.hstack([eye, matrix], format="csr", dtype=np.float32)
        names = np.concatenate([np.array([f"item_{m}" for m in item_ids], dtype=object), names])
    matrix.sort_indices()
    return ItemFeatures(matrix, names)
