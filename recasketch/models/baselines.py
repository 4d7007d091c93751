"""Baselines every model here should beat.

Each exposes ``user_factors`` and ``item_factors`` like implicit's models, with the
score of user u for item i the dot product ``user_factors[u] @ item_factors[i]``, so
every function of :mod:`recasketch.metrics` scores it unchanged:

* :class:`Popularity`: the most liked items first, the same list for everyone;
* :class:`Random`: one random order of the items, the same for everyone;
* :class:`TagsOnly`: items whose tags and categories resemble those of the user's likes,
  from content alone, so it can rank items nobody has liked yet (cold start);
* :class:`ItemKNN`: implicit's item-item nearest neighbours (cosine, BM25, TF-IDF).

:class:`TagsOnly` and :class:`ItemKNN` have one dimension per feature or per item, so
their factors are sparse matrices; the metrics score them one block of users at a time.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from implicit import nearest_neighbours as nn
from implicit.nearest_neighbours import ItemItemRecommender

from ..utils import check_random_state

__all__ = ["ItemKNN", "Popularity", "Random", "TagsOnly"]


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
        _check_sparse(user_items, "user_items")
        counts = np.asarray((user_items != 0).sum(axis=0), dtype=np.float32).ravel()
        self.user_factors = np.ones((user_items.shape[0], 1), dtype=np.float32)
        self.item_factors = counts[:, None]
        return self


class Random:
    """Rank the items in one random order, the same for every user.

    The floor every model must clear: its expected precision@k (all items ranked) is
    a user's share of liked items, ``n_relevant / n_items``. The item scores are a
    random permutation of ``0, ..., n_items - 1`` (``item_factors``, one column; the
    ``user_factors`` are a column of ones), so no two items tie. One order for all
    users keeps the scores a dot product that every metric takes; with
    ``exclude=train`` each user's list still differs, as their train items drop out.
    Over users it is not the same as drawing an independent order per user: the same
    items lead everyone's list, so a user-level mean varies more from seed to seed.

    Parameters
    ----------
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the order: the same int gives the same order; a Generator is drawn
        from, so each ``fit`` gives a new order.

    Attributes
    ----------
    user_factors : np.float32 array of shape (n_users, 1)
        Ones.
    item_factors : np.float32 array of shape (n_items, 1)
        Each item's place in the random order, the highest first.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> model = Random(random_state=0).fit(sp.csr_matrix((2, 5)))
    >>> sorted(model.item_factors.ravel().tolist())
    [0.0, 1.0, 2.0, 3.0, 4.0]
    >>> model.user_factors.ravel().tolist()
    [1.0, 1.0]
    """

    def __init__(self, random_state=None):
        self.random_state = random_state
        self.user_factors = None
        self.item_factors = None

    def fit(self, user_items, show_progress=False):
        """Draw the order for the items of ``user_items`` (sparse, (n_users, n_items)).

        Only the shape of ``user_items`` is used. ``show_progress`` is accepted for
        the signature implicit's models share, and ignored.
        """
        _check_sparse(user_items, "user_items")
        rng = check_random_state(self.random_state)
        n_users, n_items = user_items.shape
        self.user_factors = np.ones((n_users, 1), dtype=np.float32)
        self.item_factors = rng.permutation(n_items).astype(np.float32)[:, None]
        return self


class TagsOnly:
    """Score items by how much their tags and categories overlap with those of a user's likes.

    A content model with nothing learned: an item's vector is its row of the item
    feature matrix (one-hot tags and categories, see
    :func:`recasketch.preprocess.build_item_features`), by default scaled to unit
    length, and a user's vector is the sum (or mean) of the vectors of the items they
    liked in train. With ``normalize="l2"`` the score of item i for user u is thus
    the sum, over u's train likes j, of the cosine similarity between the features
    of j and i. Items need no like to be scored, so it ranks brand-new items (see
    :func:`recasketch.split.cold_start_split`); an item without features scores 0
    for everyone, and so does every item for a user without train likes (ties go to
    the lower item index).

    Parameters
    ----------
    normalize : {"l2", None}, default="l2"
        ``"l2"`` scales each item's feature row to unit length, so an item with many
        tags does not outscore one with few merely by having more; ``None`` keeps the
        weights as given (scores then count shared features).
    aggregate : {"sum", "mean"}, default="sum"
        How a user's vector combines their liked items' vectors. ``"mean"`` divides
        the sum by the user's number of likes: each user's ranking is the same, only
        the scale of the scores (and so :func:`recasketch.metrics.mse`) changes.

    Attributes
    ----------
    user_factors : scipy.sparse.csr_matrix of shape (n_users, n_features), float32
    item_factors : scipy.sparse.csr_matrix of shape (n_items, n_features), float32

    Notes
    -----
    A user's own train likes match their profile best, so score it with
    ``exclude=train``. Pass the features without the identity block
    (``build_item_features(..., identity=False)``): an item's own indicator column
    would let its likers' profiles single it out, which is memory, not content.

    Examples
    --------
    Item 0 has tags a and b, item 1 tag a, item 2 tag c. The user liked item 0, so
    item 1 scores cos(ab, a) = 0.707 and item 2 scores 0:

    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> tags = sp.csr_matrix([[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> model = TagsOnly().fit(sp.csr_matrix([[1, 0, 0]]), tags)
    >>> np.round((model.user_factors @ model.item_factors.T).toarray(), 3)
    array([[1.   , 0.707, 0.   ]], dtype=float32)
    """

    def __init__(self, normalize="l2", aggregate="sum"):
        self.normalize = normalize
        self.aggregate = aggregate
        self.user_factors = None
        self.item_factors = None

    def fit(self, user_items, item_features, show_progress=False):
        """Build the item and user vectors.

        Parameters
        ----------
        user_items : scipy.sparse matrix of shape (n_users, n_items)
            The train likes; any non-zero entry is a like.
        item_features : scipy.sparse matrix of shape (n_items, n_features)
            Each item's feature weights, e.g. ``build_item_features(...).matrix``.
        show_progress : bool, default=False
            Accepted for the signature implicit's models share, and ignored.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If either matrix is not sparse.
        ValueError
            If ``normalize`` or ``aggregate`` is not one of the options, if the two
            matrices disagree on the number of items, or if a feature weight is NaN
            or inf.
        """
        if self.normalize not in ("l2", None):
            raise ValueError(f"normalize must be 'l2' or None, got {self.normalize!r}.")
        if self.aggregate not in ("sum", "mean"):
            raise ValueError(f"aggregate must be 'sum' or 'mean', got {self.aggregate!r}.")
        _check_sparse(user_items, "user_items")
        _check_sparse(item_features, "item_features")
        if item_features.shape[0] != user_items.shape[1]:
            raise ValueError(
                f"item_features has {item_features.shape[0]} rows but user_items has "
                f"{user_items.shape[1]} items (columns); pass one feature row per item, in the "
                "likes matrix's column order."
            )
        features = _canonical_csr(item_features, np.float64)
        if not np.isfinite(features.data).all():
            raise ValueError("item_features holds NaN or inf weights; fix or drop those entries.")
        if self.normalize == "l2":
            norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
            features = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms),
                                          where=norms > 0)) @ features
        liked = _canonical_csr(user_items)
        liked.data = np.ones(liked.nnz)  # any non-zero entry is one like
        users = liked @ features
        if self.aggregate == "mean":
            counts = np.diff(liked.indptr).astype(np.float64)
            users = sp.diags(np.divide(1.0, counts, out=np.zeros_like(counts),
                                       where=counts > 0)) @ users
        self.item_factors = _canonical_csr(features, np.float32)
        self.user_factors = _canonical_csr(users, np.float32)
        return self


class ItemKNN:
    """Item-based nearest neighbours from implicit, as factors the metrics score.

    implicit's ``CosineRecommender``, ``BM25Recommender`` and ``TFIDFRecommender``
    keep, for each item, its ``K`` most similar items, and score user u's item i as
    ``user_items[u] @ similarity[:, i]``: a sum over the user's liked items of their
    similarity to i. That is a dot product with one dimension per item, so here the
    ``user_factors`` are the train rows and the ``item_factors`` the similarity's
    columns (``similarity.T``), both sparse; the metrics score a block of users at a
    time and never build the users x items matrix. The scores equal implicit's
    ``recommend(..., filter_already_liked_items=False)`` scores, cast to float32.

    Parameters
    ----------
    K : int, default=20
        Neighbours kept per item.
    measure : {"cosine", "bm25", "tfidf"}, default="cosine"
        Which implicit recommender to fit.
    K1, B : float, default=1.2, 0.75
        BM25's parameters (``measure="bm25"`` only).
    num_threads : int, default=0
        Threads implicit uses for the neighbours; 0 uses every core.

    Attributes
    ----------
    model_ : implicit.nearest_neighbours.ItemItemRecommender
        The fitted implicit model (for ``recommend`` and ``similar_items``).
    user_factors : scipy.sparse.csr_matrix of shape (n_users, n_items), float32
        The train likes the model was fitted on, as given (weights kept).
    item_factors : scipy.sparse.csr_matrix of shape (n_items, n_items), float32
        ``similarity.T``: row i is the similarity's column i, the weight a like of each
        item j adds to item i's score (non-zero where i is among j's K neighbours).

    Notes
    -----
    An item's nearest neighbour is usually itself, so a user's train likes score high:
    rank with ``exclude=train``. The wrapper keeps the train matrix, so score it on
    users of that matrix only. Items without likes have no neighbours and score 0.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> likes = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32))
    >>> knn = ItemKNN(K=3, num_threads=1).fit(likes)
    >>> knn.user_factors.shape, knn.item_factors.shape
    ((3, 3), (3, 3))
    """

    _MEASURES = ("cosine", "bm25", "tfidf")

    def __init__(self, K=20, measure="cosine", K1=1.2, B=0.75, num_threads=0):
        self.K = K
        self.measure = measure
        self.K1 = K1
        self.B = B
        self.num_threads = num_threads
        self.model_ = None
        self.user_factors = None
        self.item_factors = None

    def fit(self, user_items, show_progress=False):
        """Fit implicit's item-item model on ``user_items`` and keep its rows as user vectors.

        Parameters
        ----------
        user_items : scipy.sparse matrix of shape (n_users, n_items)
            The train likes (weights are kept: implicit weighs neighbours by them).
        show_progress : bool, default=False
            Show implicit's progress bar.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            If ``user_items`` is not sparse.
        ValueError
            If ``K`` is not an integer >= 1 or ``measure`` is not one of the options.
        """
        if isinstance(self.K, bool) or not isinstance(self.K, (int, np.integer)) or self.K < 1:
            raise ValueError(f"The 'K' must be an integer >= 1, got {self.K!r}.")
        if self.measure not in self._MEASURES:
            raise ValueError(
                f"measure must be one of {', '.join(map(repr, self._MEASURES))}, "
                f"got {self.measure!r}."
            )
        user_items = _check_sparse(user_items, "user_items")
        recommender = {"cosine": nn.CosineRecommender, "bm25": nn.BM25Recommender,
                       "tfidf": nn.TFIDFRecommender}[self.measure]
        bm25 = {"K1": self.K1, "B": self.B} if self.measure == "bm25" else {}
        model = recommender(K=self.K, num_threads=self.num_threads, **bm25)
        with warnings.catch_warnings():
            # implicit converts its own normalised matrix to CSR and warns about it
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model.fit(user_items, show_progress=show_progress)
        return self._wrap(model, user_items)

    @classmethod
    def from_implicit(cls, model, user_items):
        """Wrap an implicit item-item model fitted elsewhere.

        Parameters
        ----------
        model : implicit.nearest_neighbours.ItemItemRecommender
            A fitted ``CosineRecommender``, ``BM25Recommender``, ``TFIDFRecommender``
            or ``ItemItemRecommender``.
        user_items : scipy.sparse matrix of shape (n_users, n_items)
            The user rows to score from, normally the matrix it was fitted on (the
            rows one passes to its ``recommend``).

        Returns
        -------
        ItemKNN
            With ``model_``, ``user_factors`` and ``item_factors`` set; its parameters
            are the defaults, not the model's.

        Raises
        ------
        TypeError
            If ``model`` is not an implicit item-item model or ``user_items`` not sparse.
        ValueError
            If ``model`` is not fitted, or ``user_items`` has another number of items.
        """
        if not isinstance(model, ItemItemRecommender):
            raise TypeError(
                "model must be an implicit.nearest_neighbours.ItemItemRecommender (e.g. "
                f"CosineRecommender), got {type(model).__name__}."
            )
        if model.similarity is None:
            raise ValueError(f"The {type(model).__name__} is not fitted yet; call fit first.")
        return cls()._wrap(model, _check_sparse(user_items, "user_items"))

    def _wrap(self, model, user_items):
        n_items = model.similarity.shape[0]
        if user_items.shape[1] != n_items:
            raise ValueError(
                f"user_items has {user_items.shape[1]} items (columns) but the model's similarity "
                f"covers {n_items}; pass the likes matrix the model was fitted on."
            )
        self.model_ = model
        self.user_factors = _canonical_csr(user_items, np.float32)
        self.item_factors = _canonical_csr(model.similarity.T, np.float32)
        return self


def _check_sparse(matrix, name):
    if not sp.issparse(matrix):
        raise TypeError(f"{name} must be a scipy.sparse matrix, got {type(matrix).__name__}.")
    return sp.csr_matrix(matrix)


def _canonical_csr(matrix, dtype=None) -> sp.csr_matrix:
    """A canonical CSR copy of ``matrix`` (as ``dtype``; duplicates summed) without stored zeros."""
    out = sp.csr_matrix(matrix, dtype=dtype, copy=True)
    out.sum_duplicates()
    out.eliminate_zeros()
    return out
