"""Search objectives: LightFM trained at a point of post 2's spaces and scored.

:func:`post_lightfm_params` translates a point of post 2's spaces into LightFM's
arguments, :class:`LightFMObjective` trains and scores one point for a search (its
``epochs`` a dimension, as in post 2), :class:`CurveObjective` trains a point once along
a learning curve and scores its best checkpoint (:func:`best_checkpoint`), and
:func:`side_information_start` carries the best point of the search without features
over to the search with them, as post 2 meant to.
"""

from __future__ import annotations

import copy
import time
from typing import Mapping, NamedTuple

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from .. import metrics
from ..utils import check_count, plain
from .curves import lightfm_diverged, train_more
from .search import clip_to_space
from .search_log import FitFailed, data_key, describe_callable

__all__ = ["CurveObjective", "CurvePoint", "LightFMObjective", "ValidationObjective", "best_checkpoint", "checkpoints",
           "post_lightfm_params", "side_information_start"]


def post_lightfm_params(point: Mapping) -> dict:
    """LightFM's keyword arguments for a point of post 2's search spaces.

    Post 2 searched ``alpha`` as one value for both ``user_alpha`` and ``item_alpha``,
    and, with item features, ``item_alpha`` and a ``scaling`` with ``user_alpha =
    item_alpha * scaling``. ``epochs`` is not a model parameter and is left out; every
    other name is passed through.

    Examples
    --------
    >>> post_lightfm_params({"epochs": 5, "learning_rate": 0.05, "alpha": 1e-4})
    {'learning_rate': 0.05, 'user_alpha': 0.0001, 'item_alpha': 0.0001}
    >>> post_lightfm_params({"item_alpha": 1e-4, "scaling": 0.5})
    {'item_alpha': 0.0001, 'user_alpha': 5e-05}
    """
    params = {k: v for k, v in point.items() if k != "epochs"}
    if "alpha" in params:
        alpha = params.pop("alpha")
        params.update(user_alpha=alpha, item_alpha=alpha)
    if "scaling" in params:
        if "item_alpha" not in params:
            raise ValueError("A point with 'scaling' needs 'item_alpha' (user_alpha = item_alpha * scaling).")
        params["user_alpha"] = params["item_alpha"] * params.pop("scaling")
    return params


class LightFMObjective:
    """Train LightFM at one point of a search space and score it on the test likes.

    Each call builds ``LightFM(loss=loss, random_state=random_state, **params)`` from
    the point (through ``to_params``, by default :func:`post_lightfm_params`), trains
    it for ``point["epochs"]`` epochs and returns the test precision@k in both
    protocols: ``{"p@k": post 2's (all items ranked), "p@k filtered": train likes
    removed}``. A fit that diverges — LightFM raises ``ValueError("Not all estimated
    parameters are finite")`` at high learning rates — a model whose scores could
    overflow float32, one the metrics refuse as non-finite
    (:class:`recasketch.metrics.NonFiniteModelError`) or scores that are not finite
    raise :class:`FitFailed`.

    Parameters
    ----------
    train, test : scipy.sparse matrix of shape (n_users, n_items)
        The split.
    users : array-like of int, default=None
        Users to score (the split's ``user_index``); ``None``: every user with a test like.
    k : int, default=5
    item_features : scipy.sparse matrix of shape (n_items, n_features), default=None
        Side information, passed to ``fit`` and to the metrics.
    loss : str, default="warp"
    num_threads : int, default=1
        LightFM's training threads. With 1 a call is exactly repeatable; with more,
        LightFM's lock-free updates make it differ slightly from run to run.
    random_state : int, default=2016
        LightFM's seed, the same for every call (as in post 2).
    to_params : callable, default=None
        Maps a point (dict) to LightFM's keyword arguments; default
        :func:`post_lightfm_params`.
    """

    def __init__(self, train, test, users=None, k=5, item_features=None, loss="warp",
                 num_threads=1, random_state=2016, to_params=None):
        self.train = sp.coo_matrix(train)
        self.test = sp.csr_matrix(test)
        self.users = users
        self.k = k
        self.item_features = item_features
        self.loss = loss
        self.num_threads = num_threads
        self.random_state = random_state
        self.to_params = to_params or post_lightfm_params

    def log_key(self) -> dict:
        """What decides this objective's scores, for a search log's key: the model and its fixed
        parameters, ``k``, the protocols and fingerprints of the data.

        ``num_threads`` is left out: it changes a fit only by the order of LightFM's lock-free
        updates, and a search resumed on a machine with other cores goes on with its log.
        """
        return {"model": f"lightfm.LightFM(loss={self.loss!r})", "random_state": self.random_state,
                "to_params": describe_callable(self.to_params), "k": self.k,
                "scores": {"p@k": "test, every item ranked", "p@k filtered": "test, train likes removed"},
                **data_key(train=self.train, test=self.test,
                           users=None if self.users is None else np.asarray(self.users),
                           item_features=self.item_features)}

    def model(self, point: Mapping):
        """The unfitted LightFM for ``point``."""
        return LightFM(loss=self.loss, random_state=self.random_state, **self.to_params(point))

    def fit(self, point: Mapping):
        """A LightFM trained at ``point``; raises :class:`FitFailed` if it diverges."""
        model = self.model(point)
        try:
            model.fit(self.train, epochs=int(point["epochs"]), item_features=self.item_features,
                      num_threads=self.num_threads)
        except ValueError as err:
            if not lightfm_diverged(err):
                raise
            raise FitFailed(f"the fit diverged: {err}") from None
        return model

    def __call__(self, point: Mapping) -> dict:
        return self.score(self.fit(point), {"p@k": (self.test, None),
                                            "p@k filtered": (self.test, self.train.tocsr())})

    def score(self, model, protocols: Mapping, num_threads: int = 0) -> dict:
        """The precision@k of a fitted ``model`` in each protocol, or :class:`FitFailed`.

        Parameters
        ----------
        model : lightfm.LightFM
            Fitted with this objective's ``item_features``.
        protocols : mapping of str to (sparse matrix, sparse matrix or None)
            Name -> ``(likes, exclude)``: the held-out likes to score, and the likes
            removed before ranking (``None`` ranks every item).
        num_threads : int, default=0
            Threads of the scoring; 0 uses every core.

        Raises
        ------
        FitFailed
            If the model's scores can exceed float32's range (they would overflow and rank
            nothing), the metrics refuse it as non-finite or a precision is not finite.
        """
        try:
            user_vectors, item_vectors = metrics.as_factors(model, item_features=self.item_features)
            bound = (float(np.linalg.norm(user_vectors.astype(np.float64), axis=1).max())
                     * float(np.linalg.norm(item_vectors.astype(np.float64), axis=1).max()))
            if not bound < float(np.finfo(np.float32).max):
                raise FitFailed(
                    f"the fit diverged: its scores can reach {bound:.3g}, beyond float32's range, "
                    "so they would overflow and rank nothing"
                )
            scores = {name: metrics.precision_at_k(model, likes, self.k, users=self.users, exclude=exclude,
                                                   item_features=self.item_features, num_threads=num_threads)
                      for name, (likes, exclude) in protocols.items()}
        except metrics.NonFiniteModelError as err:
            raise FitFailed(str(err)) from None
        bad = {name: value for name, value in scores.items() if not np.isfinite(value)}
        if bad:
            raise FitFailed(f"non-finite scores {bad}")
        return scores


class ValidationObjective:
    """A search objective that scores on validation and records the test score beside it.

    Wraps :class:`LightFMObjective` built on ``(train, validation)``:
    the search maximises ``"p@k"`` (validation, posts' protocol) while each logged call
    also holds ``"test p@k"``, so the choice made on validation can be reported on test
    and set beside the choice the posts made on test, from the same calls. It refuses
    the models :class:`LightFMObjective` refuses (:meth:`LightFMObjective.score`).
    """

    def __init__(self, train, validation, test, users, k: int = 5, item_features=None,
                 num_threads: int = 1, random_state: int = 2016, to_params=None):
        self.inner = LightFMObjective(train, validation, users, k=k, item_features=item_features,
                                      num_threads=num_threads, random_state=random_state,
                                      to_params=to_params)
        self.test = sp.csr_matrix(test)

    def log_key(self) -> dict:
        """As :meth:`LightFMObjective.log_key`, with the validation and the test likes."""
        key = self.inner.log_key()
        key.update(scores={"p@k": "validation, every item ranked", "test p@k": "test, every item ranked"},
                   validation=key.pop("test"), **data_key(test=self.test))
        return key

    def __call__(self, point) -> dict:
        inner = self.inner
        return inner.score(inner.fit(point), {"p@k": (inner.test, None), "test p@k": (self.test, None)})


def checkpoints(step: int, max_epochs: int) -> list[int]:
    """The epochs at which a learning curve is scored: every ``step``, and ``max_epochs`` last.

    >>> checkpoints(10, 35), checkpoints(10, 30)
    ([10, 20, 30, 35], [10, 20, 30])
    """
    step, max_epochs = check_count(step, "step"), check_count(max_epochs, "max_epochs")
    points = list(range(step, max_epochs + 1, step))
    return points if points and points[-1] == max_epochs else [*points, max_epochs]


class CurvePoint(NamedTuple):
    """What :func:`best_checkpoint` finds along one point's learning curve.

    Attributes
    ----------
    scores : dict
        Every protocol's score at the best checkpoint.
    epochs : int
        The best checkpoint (the earliest where several tie).
    epochs_trained : int
        The last checkpoint trained: where the curve stopped, or where it diverged.
    reason : str or None
        Where a fit that diverged after its best checkpoint diverged; ``None`` otherwise.
    model : lightfm.LightFM or None
        With ``keep_model``, a copy of the model at the best checkpoint.
    fit_seconds : float
        The seconds spent training up to the best checkpoint.
    """

    scores: dict
    epochs: int
    epochs_trained: int
    reason: str | None = None
    model: object = None
    fit_seconds: float = float("nan")


def best_checkpoint(objective: "LightFMObjective", point: Mapping, epochs: list[int], patience: int,
                    protocols: Mapping, keep_model: bool = False) -> CurvePoint:
    """Train ``point`` once, up to each of ``epochs`` in turn, and keep its best checkpoint.

    The model is :meth:`LightFMObjective.model` of ``point``, trained with ``fit_partial``
    (the same model as one fit of as many epochs) and scored at each checkpoint in every
    protocol (:meth:`LightFMObjective.score`); the best checkpoint is the one with the
    highest ``"p@k"``. The curve stops once ``patience`` checkpoints in a row have not
    raised it (a tie is no rise), or at the last one. With ``keep_model``, a copy of the
    model is kept at each new best checkpoint and returned with it.

    Raises
    ------
    FitFailed
        If the fit diverges (or the scores mean nothing) before the first checkpoint was
        scored; its ``epochs_trained`` attribute says where. A fit that diverges later keeps
        its best checkpoint, and the :class:`CurvePoint` says where it diverged.
    """
    model = objective.model(point)
    best, done, since_best, fit_seconds = None, 0, 0, 0.0
    for epoch in epochs:
        try:
            start = time.perf_counter()
            train_more(model, objective.train, epoch - done, item_features=objective.item_features,
                       num_threads=objective.num_threads)
            fit_seconds += time.perf_counter() - start
            scores = objective.score(model, protocols, objective.num_threads)
        except (ValueError, FitFailed) as err:
            if isinstance(err, ValueError) and not lightfm_diverged(err):
                raise
            reason = f"at epoch {epoch}: {err}"
            if best is None:
                failed = FitFailed(reason)
                failed.epochs_trained = epoch
                raise failed from None
            return best._replace(epochs_trained=epoch,
                                 reason=f"diverged {reason}; the best checkpoint before it is kept")
        done = epoch
        if best is None or scores["p@k"] > best.scores["p@k"]:
            best, since_best = CurvePoint(scores, epoch, epoch, None, copy.deepcopy(model) if keep_model else None,
                                          fit_seconds), 0
        else:
            since_best += 1
            if since_best >= patience:
                break
    return best._replace(epochs_trained=done)


class CurveObjective:
    """A search objective that trains each point once along a learning curve: its epochs are read
    off the curve instead of searched.

    Post 2 searched ``epochs`` as a dimension, so every call trained from scratch, and a
    point at 200 epochs cost as much as twenty at 10. Here a search runs over the space
    *without* ``epochs``: each point is trained ``step`` epochs at a time up to
    ``max_epochs``, scored on ``held_out`` at every checkpoint, and stopped after
    ``patience`` checkpoints without a rise (:func:`best_checkpoint`). A call returns the
    scores at its best checkpoint — ``"p@k"`` on ``held_out`` (the target), each of
    ``also`` — with ``"epochs"`` (that checkpoint) and ``"epochs trained"``, so a call's
    row holds a complete point of post 2's space. Notebook 04 compares this search with
    post 2's at equal wall time.

    Parameters
    ----------
    train, held_out : scipy.sparse matrix of shape (n_users, n_items)
        Likes to train on, and the likes whose p@k chooses the checkpoint and is the
        search's target (test likes for post 2's protocol, validation likes for an
        honest choice).
    users : array-like of int, default=None
        Users to score; ``None``: every user with a held-out like.
    k : int, default=5
    item_features : scipy.sparse matrix, default=None
    step : int, default=10
        Epochs between checkpoints.
    max_epochs : int, default=260
        The last checkpoint (post 2's upper bound on epochs).
    patience : int, default=3
        Checkpoints without a rise before a curve stops.
    also : mapping of str to (sparse matrix, sparse matrix or None), default=None
        Other scores recorded at the best checkpoint: name -> ``(likes, exclude)``, e.g.
        ``{"test p@k": (test, None)}`` beside validation, or ``{"p@k filtered": (test,
        train)}`` for the protocol with train likes removed.
    exclude_train : bool, default=False
        Remove each user's train likes before ranking the target's ``held_out`` likes.
    loss, num_threads, random_state, to_params
        As for :class:`LightFMObjective`.
    on_best : callable, default=None
        Called once a call's curve has stopped, where the call ran, as ``on_best(point,
        model, fit_seconds)``: ``point`` with its best checkpoint as ``"epochs"``, ``model`` a
        copy of the model at that checkpoint, ``fit_seconds`` the training it took. It
        keeps the model, so that what uses the search's best point reads it instead of
        training it again (:class:`recasketch.study.experiment.KeepWarp`); it must pickle,
        and it leaves the scores and the log key alone.
    """

    def __init__(self, train, held_out, users=None, k=5, item_features=None, step: int = 10,
                 max_epochs: int = 260, patience: int = 3, also=None, exclude_train: bool = False,
                 loss="warp", num_threads=1, random_state=2016, to_params=None, on_best=None):
        self.inner = LightFMObjective(train, held_out, users, k=k, item_features=item_features, loss=loss,
                                      num_threads=num_threads, random_state=random_state, to_params=to_params)
        self.epochs = checkpoints(step, max_epochs)
        self.patience = check_count(patience, "patience")
        self.on_best = on_best
        self.protocols = {"p@k": (self.inner.test, self.inner.train.tocsr() if exclude_train else None)}
        for name, (likes, exclude) in dict(also or {}).items():
            if name in self.protocols or name in ("epochs", "epochs trained"):
                raise ValueError(f"{name!r} is a score the objective records itself; give it another name.")
            self.protocols[name] = (sp.csr_matrix(likes), None if exclude is None else sp.csr_matrix(exclude))

    def log_key(self) -> dict:
        """As :meth:`LightFMObjective.log_key`, with the checkpoints and what each score measures."""
        key = self.inner.log_key()
        key.update(curve={"epochs": self.epochs, "patience": self.patience},
                   scores={name: data_key(likes=likes, exclude=exclude)
                           for name, (likes, exclude) in self.protocols.items()})
        return key

    def __call__(self, point: Mapping) -> dict:
        best = best_checkpoint(self.inner, point, self.epochs, self.patience, self.protocols,
                               keep_model=self.on_best is not None)
        if self.on_best is not None:
            self.on_best({**point, "epochs": best.epochs}, best.model, best.fit_seconds)
        scores = {**best.scores, "epochs": best.epochs, "epochs trained": best.epochs_trained}
        if best.reason is not None:
            scores["diverged at epoch"] = best.epochs_trained
        return scores


def side_information_start(best: Mapping, space: Mapping, scaling: float = 1.0) -> dict:
    """Post 2's warm start for its search with item features: the best point without them.

    The best point of the search without features (``epochs``, ``learning_rate``,
    ``no_components``, ``alpha``) becomes a point of the search with features:
    ``alpha`` becomes ``item_alpha`` and ``scaling`` is 1, so ``user_alpha = item_alpha
    = alpha`` and the point trains the same model (plus the features). Values outside
    ``space`` are moved to its bounds (:func:`clip_to_space`).

    Post 2 meant to do this with ``x0 = res.x.append(1.)``; ``list.append`` returns
    ``None``, so its second search started from random points only.

    Parameters
    ----------
    best : mapping
        The best call of the first search (e.g. ``SearchResult.best``); keys other
        than the first space's are ignored.
    space : mapping
        The space of the search with features (it has ``item_alpha`` and ``scaling``).
    scaling : float, default=1.0

    Examples
    --------
    >>> from recasketch.study import published
    >>> side_information_start(published.WARP_SEARCH["best"], published.WARP_SIDE_INFO_SEARCH["space"])
    {'epochs': 168, 'learning_rate': 0.0913, 'no_components': 104, 'item_alpha': 0.000235, 'scaling': 1.0}
    """
    carried = [name for name in space if name not in ("item_alpha", "scaling")]
    missing = [name for name in (*carried, "alpha") if name not in best]
    if missing:
        raise ValueError(f"The best point lacks {missing}; pass a call of the search without features.")
    point = {name: plain(best[name]) for name in carried}
    point.update(item_alpha=float(best["alpha"]), scaling=float(scaling))
    return clip_to_space(point, space)
