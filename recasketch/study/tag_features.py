"""Variants of post 2's item-feature matrix, one per idea the post left untested.

Post 2 gave LightFM ``item_features = [identity | tag/category one-hots]``
(:func:`recasketch.preprocess.build_item_features` with ``identity=True``) and found
that the tags did not help. It listed ideas it did not try; each function here builds
the matrix for one of them from that same matrix, so an evaluation can train the same
model on every variant:

* normalise tag weights by the number of tags: :func:`weight_tags` (``"per_tag"``, or
  LightFM's own row normalisation ``"l1"``);
* drop tags used on fewer than X models: :func:`drop_rare_features`;
* use the identity feature only for models with enough interactions, so that the
  others are described by their tags alone: :func:`identity_for_popular`;
* regularise tags separately: not possible in LightFM (see
  :data:`SEPARATE_TAG_REGULARISATION_NOTE`); :func:`scale_features` rescales the tag
  columns instead, which is a different knob;

and two controls: :func:`permuted_tags` (the same tags, dealt to the wrong models) and
:func:`tags_only` (no identity block: a content-only model, and the cold-start one).

Throughout, a matrix is ``identity ⊕ features``: its first ``n_identity`` columns are the
identity block (one column per model, ``item_<id>``) and the rest are feature columns
(``tag_...``, ``category_...``); ``n_identity`` is ``n_items`` for
``build_item_features(..., identity=True)`` and 0 without it.
:func:`n_identity_columns` reads it back from the feature names.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from ..preprocess import ItemFeatures
from ..utils import check_random_state

__all__ = ["SEPARATE_TAG_REGULARISATION_NOTE", "TAG_WEIGHT_SCHEMES", "drop_rare_features",
           "identity_for_popular", "n_identity_columns", "permuted_tags", "scale_features", "tags_only",
           "weight_tags"]

#: Whether LightFM can regularise tags separately from the identity features (checked
#: against lightfm 1.19: ``LightFM.__init__`` and the lazy L2 step of ``_lightfm_fast``).
SEPARATE_TAG_REGULARISATION_NOTE = (
    "LightFM cannot regularise tags separately from the identity features: "
    "LightFM.__init__ takes a single item_alpha, and its lazy L2 step shrinks every "
    "item-feature embedding and bias, identity and tag columns alike, through one common "
    "scale; scale_features only rescales the tag columns' weights, which is not a "
    "separate penalty."
)

#: The row weightings :func:`weight_tags` knows.
TAG_WEIGHT_SCHEMES = ("none", "per_tag", "l1")

_IDENTITY_PREFIX = "item_"


# --------------------------------------------------------------------------- checks


def _check_int(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _as_csr(matrix, name: str = "matrix") -> sp.csr_matrix:
    """A float32 csr copy of ``matrix`` in canonical form, without stored zeros."""
    if isinstance(matrix, ItemFeatures):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix, got an ItemFeatures; pass its .matrix "
            "(the feature names do not change)."
        )
    if not sp.issparse(matrix):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix, got {type(matrix).__name__}; "
            "wrap a dense array in scipy.sparse.csr_matrix."
        )
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_features), got shape {matrix.shape}.")
    out = sp.csr_matrix(matrix, dtype=np.float32, copy=True)
    out.sum_duplicates()  # also sorts the indices
    out.eliminate_zeros()
    if not np.all(np.isfinite(out.data)):
        raise ValueError(f"{name} holds NaN or infinite weights; fix them before weighting.")
    return out


def _check_n_identity(n_identity, shape: tuple[int, int]) -> int:
    n_identity = _check_int(n_identity, "n_identity")
    if n_identity > shape[1]:
        raise ValueError(
            f"n_identity={n_identity} is larger than the matrix's {shape[1]} columns. It is "
            "the number of leading identity columns: n_items for "
            "build_item_features(..., identity=True), 0 without the identity block."
        )
    return n_identity


def _check_item_features(
    item_features, name: str = "item_features"
) -> tuple[sp.csr_matrix, np.ndarray]:
    if not isinstance(item_features, ItemFeatures):
        raise TypeError(
            f"{name} must be an ItemFeatures (matrix, feature_names), as "
            "recasketch.preprocess.build_item_features returns, got "
            f"{type(item_features).__name__}; "
            "wrap a bare matrix as ItemFeatures(matrix, feature_names)."
        )
    matrix = _as_csr(item_features.matrix, f"{name}.matrix")
    names = np.asarray(item_features.feature_names, dtype=object)
    if names.ndim != 1 or len(names) != matrix.shape[1]:
        raise ValueError(
            f"{name} has {len(names)} feature names for a matrix of {matrix.shape[1]} "
            "columns; they must be aligned."
        )
    return matrix, names


def _row_of_entries(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _with_columns(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    out = matrix[:, np.flatnonzero(keep)].tocsr().astype(np.float32)
    out.sort_indices()
    return out


# --------------------------------------------------------------------------- public


def n_identity_columns(item_features: ItemFeatures) -> int:
    """The number of leading identity columns of an :class:`ItemFeatures`.

    Counts the leading feature names that start with ``item_``, the names
    :func:`recasketch.preprocess.build_item_features` gives the identity block (features
    are named ``tag_...`` and ``category_...``). Use it after
    :func:`identity_for_popular`, whose identity block is narrower than ``n_items``.

    Parameters
    ----------
    item_features : ItemFeatures
        Matrix and feature names.

    Returns
    -------
    int
        The ``n_identity`` to pass to the other functions of this module.

    Examples
    --------
    >>> names = np.array(["item_a", "item_b", "tag_red"], dtype=object)
    >>> n_identity_columns(ItemFeatures(sp.csr_matrix((2, 3), dtype=np.float32), names))
    2
    """
    _, names = _check_item_features(item_features)
    is_identity = np.array([str(n).startswith(_IDENTITY_PREFIX) for n in names], dtype=bool)
    not_identity = np.flatnonzero(~is_identity)
    return int(not_identity[0]) if len(not_identity) else len(names)


def weight_tags(matrix, n_identity: int, scheme: str = "none") -> sp.csr_matrix:
    """Weight the rows of an ``identity ⊕ features`` matrix.

    Parameters
    ----------
    matrix : scipy.sparse matrix of shape (n_items, n_identity + n_features)
        Item features whose first ``n_identity`` columns are the identity block, e.g.
        ``build_item_features(..., identity=True).matrix``. Stored zeros are dropped
        first; the input is not modified.
    n_identity : int
        Number of leading identity columns (0 for a features-only matrix).
    scheme : {"none", "per_tag", "l1"}, default="none"
        * ``"none"``: the weights as given — all ones for ``build_item_features``'s
          matrix, as in post 2.
        * ``"per_tag"``: each feature weight of a model is divided by the model's
          number of (non-identity) features, so a model's features sum to 1 on a one-hot
          matrix whatever its tag count; identity weights are kept.
        * ``"l1"``: LightFM's own normalisation, ``lightfm.data.Dataset.build_item_features(
          ..., normalize=True)``: each row divided by its l1 norm (the sum of its absolute
          weights) with ``sklearn.preprocessing.normalize(norm="l1")``, the identity weight
          included, so a one-hot row with k features becomes 1/(k + 1) everywhere.
          Values are equal to LightFM's. One difference: LightFM raises on a matrix with
          an empty row, while here an empty row (a model with neither identity nor
          features, see :func:`identity_for_popular`) stays empty.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_items, n_identity + n_features)
        float32, sorted indices, the same sparsity pattern as the input.

    Raises
    ------
    TypeError
        If ``matrix`` is not a scipy.sparse matrix or ``n_identity`` not an integer.
    ValueError
        If ``n_identity`` exceeds the number of columns, ``scheme`` is unknown, or a
        weight is NaN or infinite.

    Examples
    --------
    Two models with one identity column each; model 0 has two tags, model 1 one.

    >>> m = sp.csr_matrix(np.array([[1, 0, 1, 1], [0, 1, 1, 0]], dtype=np.float32))
    >>> weight_tags(m, 2, "per_tag").toarray()
    array([[1. , 0. , 0.5, 0.5],
           [0. , 1. , 1. , 0. ]], dtype=float32)
    >>> weight_tags(m, 2, "l1").toarray()[1]
    array([0. , 0.5, 0.5, 0. ], dtype=float32)
    """
    out = _as_csr(matrix)
    n_identity = _check_n_identity(n_identity, out.shape)
    if scheme not in TAG_WEIGHT_SCHEMES:
        raise ValueError(f"Unknown scheme {scheme!r}; choose one of {list(TAG_WEIGHT_SCHEMES)}.")
    if scheme == "per_tag":
        rows = _row_of_entries(out)
        is_feature = out.indices >= n_identity
        n_features = np.bincount(rows[is_feature], minlength=out.shape[0])
        out.data[is_feature] = out.data[is_feature] / n_features[rows[is_feature]]
    elif scheme == "l1":
        out = normalize(out, norm="l1", copy=False)
    return out


def scale_features(matrix, n_identity: int, factor: float) -> sp.csr_matrix:
    """Multiply the feature (non-identity) columns by ``factor``; identity kept.

    This is the nearest LightFM offers to regularising tags apart from the identity
    features, and it is not the same thing. What it does: an item's representation
    is the weighted sum of its features' embeddings, so a tag column scaled by ``c``
    acts as a tag embedding (and bias) ``c`` times as large. That changes the tags'
    share of the representation at initialisation (LightFM draws every embedding from
    the same range) and their step size: adagrad divides each step by the root of the
    column's accumulated squared gradients, which grow with ``c``, so the step on the
    stored embedding depends little on ``c`` once training is under way, and the step
    on its effect, ``c`` times that embedding, grows about ``c``-fold. What it does not
    do: give the tags their own ``item_alpha``. LightFM's L2 step is a lazy
    multiplicative shrink through one scale shared by all item embeddings and biases,
    which shrinks ``c`` times an embedding in the same proportion as the embedding; ``c``
    changes it only indirectly, through the local learning rates it also changes. Under
    plain SGD with an L2 gradient, scaling by ``c`` would equal a ``c**2`` larger learning
    rate and a ``c**2`` smaller penalty for the tags together; in LightFM the link is
    looser, so treat ``c`` as a hyper-parameter to search, not as a penalty.

    Parameters
    ----------
    matrix : scipy.sparse matrix of shape (n_items, n_identity + n_features)
        Item features; the input is not modified.
    n_identity : int
        Number of leading identity columns.
    factor : float
        Positive, finite multiplier of the feature columns.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_items, n_identity + n_features)
        float32.

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 1]], dtype=np.float32))
    >>> scale_features(m, 2, 0.5).toarray()
    array([[1. , 0. , 0.5],
           [0. , 1. , 0.5]], dtype=float32)
    """
    out = _as_csr(matrix)
    n_identity = _check_n_identity(n_identity, out.shape)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
        raise TypeError(f"factor must be a real number, got {type(factor).__name__} {factor!r}.")
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(
            f"factor must be positive and finite, got {factor!r}; to remove the features "
            "use only the identity block, to remove the identity use tags_only."
        )
    is_feature = out.indices >= n_identity
    out.data[is_feature] = out.data[is_feature] * np.float32(factor)
    return out


def drop_rare_features(
    item_features: ItemFeatures, n_identity: int, min_models: int
) -> ItemFeatures:
    """Drop the feature columns used on fewer than ``min_models`` models.

    Counts are taken on the matrix, not on the crawl's features frame: a column's count
    is its number of stored entries, i.e. the models *of the matrix* (those left after
    thresholding) that carry the tag, each once however often the frame repeats it.
    Tags are content known for every model, so counting over all rows, test models
    included, uses no interaction data. The identity block is kept whole; a model whose
    tags all go keeps its identity column (and an empty row if it had none).

    Parameters
    ----------
    item_features : ItemFeatures
        ``(matrix, feature_names)`` whose first ``n_identity`` columns are the identity.
    n_identity : int
        Number of leading identity columns (never dropped).
    min_models : int
        Keep a feature used on at least this many models; 0 and 1 keep every used
        feature (1 drops columns nobody uses).

    Returns
    -------
    ItemFeatures
        A new ``(matrix, feature_names)``: float32 csr_matrix of shape
        (n_items, n_identity + n_kept) and the names of its columns, aligned.

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[1, 0, 1, 1], [0, 1, 0, 1]], dtype=np.float32))
    >>> names = np.array(["item_a", "item_b", "tag_rare", "tag_common"], dtype=object)
    >>> drop_rare_features(ItemFeatures(m, names), 2, min_models=2).feature_names.tolist()
    ['item_a', 'item_b', 'tag_common']
    """
    matrix, names = _check_item_features(item_features)
    n_identity = _check_n_identity(n_identity, matrix.shape)
    min_models = _check_int(min_models, "min_models")
    used_on = matrix.getnnz(axis=0)
    keep = used_on >= min_models
    keep[:n_identity] = True
    return ItemFeatures(_with_columns(matrix, keep), names[keep])


def identity_for_popular(item_features: ItemFeatures, item_likes, min_likes: int) -> ItemFeatures:
    """Keep the identity feature only for models with at least ``min_likes`` likes.

    The others are described by their tags and categories alone, as the post proposed
    for models with few interactions; their identity columns are dropped. The
    identity block must be the first ``n_items`` columns, one entry per row on the
    diagonal (``build_item_features(..., identity=True)``); apply :func:`weight_tags`
    afterwards, with ``n_identity=n_identity_columns(result)``.

    A model with fewer than ``min_likes`` likes and no features gets an empty row. In
    LightFM (1.19) an item's representation and bias are its row's weighted sums of
    feature embeddings and biases, so an empty row gives a zero embedding and a zero bias:
    its score for user u is u's bias alone, the same for every such model (they tie),
    and training never updates anything through it.

    Parameters
    ----------
    item_features : ItemFeatures
        ``(matrix, feature_names)`` of shape (n_items, n_items + n_features).
    item_likes : array-like of shape (n_items,) or scipy.sparse matrix of shape (n_users, n_items)
        Each model's number of likes in train, or the train likes matrix itself (then a
        model's count is its column's number of stored nonzero entries). Use train only:
        counting test likes would leak them into the features.
    min_likes : int
        Models with at least this many likes keep their identity column; 0 keeps all.

    Returns
    -------
    ItemFeatures
        float32 csr_matrix of shape (n_items, n_popular + n_features) with the kept
        ``item_<id>`` names first, then the unchanged feature names.

    Examples
    --------
    Model ``b`` has one like: it loses its identity and keeps its tag; ``c`` has one like
    and no tag, so its row is empty.

    >>> m = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=np.float32))
    >>> names = np.array(["item_a", "item_b", "item_c", "tag_red"], dtype=object)
    >>> out = identity_for_popular(ItemFeatures(m, names), [4, 1, 1], min_likes=2)
    >>> out.feature_names.tolist()
    ['item_a', 'tag_red']
    >>> out.matrix.toarray()
    array([[1., 1.],
           [0., 1.],
           [0., 0.]], dtype=float32)
    """
    matrix, names = _check_item_features(item_features)
    n_items = matrix.shape[0]
    if matrix.shape[1] < n_items:
        raise ValueError(
            f"The matrix has {matrix.shape[1]} columns for {n_items} models, too few for an "
            "identity block; build it with build_item_features(..., identity=True)."
        )
    block = matrix[:, :n_items].tocsr()
    block.sort_indices()
    if not (np.array_equal(np.diff(block.indptr), np.ones(n_items, dtype=block.indptr.dtype))
            and np.array_equal(block.indices, np.arange(n_items))):
        raise ValueError(
            "The first n_items columns are not an identity block (one entry per row, on the "
            "diagonal); build the matrix with build_item_features(..., identity=True) and "
            "apply identity_for_popular before any function that narrows the identity."
        )
    min_likes = _check_int(min_likes, "min_likes")
    likes = _like_counts(item_likes, n_items)
    keep = np.ones(matrix.shape[1], dtype=bool)
    keep[:n_items] = likes >= min_likes
    return ItemFeatures(_with_columns(matrix, keep), names[keep])


def _like_counts(item_likes, n_items: int) -> np.ndarray:
    if isinstance(item_likes, ItemFeatures):
        raise TypeError(
            "item_likes must be like counts or the train likes matrix, not ItemFeatures."
        )
    if sp.issparse(item_likes):
        if item_likes.ndim != 2 or item_likes.shape[1] != n_items:
            raise ValueError(
                f"The likes matrix has shape {item_likes.shape}; it needs {n_items} columns, "
                "one per model (n_users, n_items)."
            )
        likes = sp.csc_matrix(item_likes, copy=True)
        likes.eliminate_zeros()
        return np.diff(likes.indptr)
    try:
        likes = np.asarray(item_likes, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            "item_likes must be numeric counts of shape (n_items,) or a scipy.sparse likes "
            f"matrix, got {type(item_likes).__name__}."
        ) from err
    if likes.shape != (n_items,):
        raise ValueError(
            f"item_likes has shape {likes.shape}; it needs one count per model, shape ({n_items},)."
        )
    if not np.all(np.isfinite(likes)) or np.any(likes < 0):
        raise ValueError("item_likes must hold finite, non-negative counts.")
    return likes


def permuted_tags(item_features: ItemFeatures, n_identity: int, random_state=None) -> ItemFeatures:
    """The permuted-tags control: the models' feature rows dealt to other models.

    The feature part of row ``i`` becomes the feature part of row ``perm[i]``, with
    ``perm = check_random_state(random_state).permutation(n_items)``; the identity block
    is unchanged. Each tag is used on as many models as before and each model count of
    tags reappears once, so the tag frequencies and the distribution of tags per model
    are exactly those of the input, but the tags no longer belong to their models. If
    tags carry information, a model trained on this matrix should do no better than
    with no tags at all. (A random permutation leaves about one model in place.)

    Parameters
    ----------
    item_features : ItemFeatures
        ``(matrix, feature_names)`` whose first ``n_identity`` columns are the identity.
    n_identity : int
        Number of leading identity columns (left in place).
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the permutation.

    Returns
    -------
    ItemFeatures
        float32 csr_matrix of the input's shape; the same feature names.

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=np.float32))
    >>> names = np.array(["item_a", "item_b", "tag_x", "tag_y"], dtype=object)
    >>> out = permuted_tags(ItemFeatures(m, names), 2, random_state=0)
    >>> perm = np.random.default_rng(0).permutation(2)
    >>> bool((out.matrix[:, 2:] != m[perm, 2:]).nnz == 0)
    True
    """
    matrix, names = _check_item_features(item_features)
    n_identity = _check_n_identity(n_identity, matrix.shape)
    rng = check_random_state(random_state)
    perm = rng.permutation(matrix.shape[0])
    identity = matrix[:, :n_identity]
    features = matrix[:, n_identity:][perm]
    out = sp.hstack([identity, features], format="csr", dtype=np.float32)
    out.sort_indices()
    return ItemFeatures(out, names.copy())


def tags_only(item_features: ItemFeatures, n_identity: int) -> ItemFeatures:
    """The feature columns without the identity block.

    For a content-only LightFM model, and for cold start: a model nobody liked in
    train has no trained identity embedding, but its tags are known. Models without
    features get an empty row (zero embedding and bias in LightFM; see
    :func:`identity_for_popular`).

    Parameters
    ----------
    item_features : ItemFeatures
        ``(matrix, feature_names)`` whose first ``n_identity`` columns are the identity.
    n_identity : int
        Number of leading identity columns to drop.

    Returns
    -------
    ItemFeatures
        float32 csr_matrix of shape (n_items, n_features) and its names.

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32))
    >>> names = np.array(["item_a", "item_b", "tag_x"], dtype=object)
    >>> out = tags_only(ItemFeatures(m, names), 2)
    >>> out.feature_names.tolist(), out.matrix.toarray().ravel().tolist()
    (['tag_x'], [1.0, 0.0])
    """
    matrix, names = _check_item_features(item_features)
    n_identity = _check_n_identity(n_identity, matrix.shape)
    keep = np.arange(matrix.shape[1]) >= n_identity
    return ItemFeatures(_with_columns(matrix, keep), names[keep])
