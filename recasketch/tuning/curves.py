"""Learning curves: train a model a few epochs at a time and score it at each checkpoint.

A *learning curve* trains one model a few epochs at a time and scores it at each
checkpoint (train and test precision@k and MSE, as post 1 does), without refitting
from scratch: implicit's ALS continues from its current factors when ``fit`` is
called again, and LightFM has ``fit_partial``.
"""

from __future__ import annotations

import time
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import metrics

__all__ = ["check_epochs", "format_log_row", "learning_curve", "lightfm_diverged", "train_more"]


def train_more(model, train, epochs: int, item_features=None, user_features=None, num_threads=None):
    """Train ``model`` for ``epochs`` more epochs on ``train``, continuing from its state.

    Works for implicit's matrix-factorisation models (``fit`` resumes from the
    current factors once they exist) and for ``lightfm.LightFM`` (``fit_partial``).

    Parameters
    ----------
    model : implicit ALS/BPR model or lightfm.LightFM
    train : scipy.sparse matrix of shape (n_users, n_items)
    epochs : int
        Epochs (ALS iterations) to add; must be >= 1.
    item_features, user_features : scipy.sparse matrix, default=None
        Passed to LightFM; implicit has no side information.
    num_threads : int, default=None
        LightFM's threads; ``None`` uses its default (1). implicit models use their own
        ``num_threads`` attribute.
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if hasattr(model, "fit_partial"):  # LightFM
        kwargs = {"item_features": item_features, "user_features": user_features, "epochs": int(epochs)}
        if num_threads is not None:
            kwargs["num_threads"] = num_threads
        model.fit_partial(sp.coo_matrix(train), **kwargs)
    elif hasattr(model, "iterations") and hasattr(model, "fit"):  # implicit
        if item_features is not None or user_features is not None:
            raise ValueError("implicit's models take no item_features/user_features.")
        model.iterations = int(epochs)
        model.fit(sp.csr_matrix(train), show_progress=False)
    else:
        raise TypeError(
            f"Cannot train {type(model).__name__} incrementally: expected an implicit model "
            "(with `iterations` and `fit`) or a lightfm.LightFM (with `fit_partial`)."
        )
    return model


def check_epochs(epochs) -> list[int]:
    """``epochs`` as a list of ints, refused unless it is a non-empty increasing list >= 1."""
    epochs = [int(e) for e in epochs]
    if not epochs or epochs[0] < 1 or any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise ValueError(f"epochs must be a non-empty increasing list of integers >= 1, got {epochs}.")
    return epochs


def format_log_row(values, spacing: int = 12, header: bool = False) -> str:
    """One row of the boxed log table that :func:`learning_curve` prints.

    ``header=True`` draws the top rule and a double rule under the row.
    """
    cells = []
    for v in values:
        if isinstance(v, float):
            text = f"{v:.5f}"
        else:
            text = str(v)
        cells.append(f" {text:^{spacing - 2}} ")
    rule = "+" + "+".join("-" * spacing for _ in values) + "+"
    line = "|" + "|".join(cells) + "|"
    if header:
        return "\n".join([rule, line, rule.replace("-", "=")])
    return "\n".join([line, rule])


def _score_checkpoint(model, train, test, users, k, item_features, user_features, exclude_train,
                      num_threads=None, mse_scores=True):
    """Train/test p@k and MSE of ``model`` for one checkpoint, as a dict."""
    return metrics.checkpoint_scores(model, train, test, users=users, k=k, exclude_train=exclude_train,
                                     item_features=item_features, user_features=user_features,
                                     num_threads=0 if num_threads is None else num_threads,
                                     mse_scores=mse_scores)


def _column_title(metric: str, split: str, k: int) -> str:
    if metric == "p@k":
        return f"filt. p@{k}" if split == metrics.FILTERED_TEST else f"{split} p@{k}"
    return f"{split} {metric}"


def learning_curve(model, train, test, epochs: Iterable[int], k: int = 5, user_index=None, item_features=None,
                   user_features=None, exclude_train: bool | str = False, num_threads=None,
                   verbose: bool = True, mse_scores: bool = True, validation=None,
                   on_checkpoint=None) -> pd.DataFrame:
    """Train ``model`` up to each of ``epochs`` in turn and score it at each one.

    Parameters
    ----------
    model : implicit ALS/BPR model or lightfm.LightFM
        An unfitted (or partly fitted) model; it is trained in place.
    train, test : scipy.sparse matrix of shape (n_users, n_items)
        The split from :func:`recasketch.split.train_test_split`.
    epochs : iterable of int
        Increasing checkpoints, e.g. ``range(2, 39, 2)``: the model is trained to
        epoch 2, scored, trained two more, scored, and so on.
    k : int, default=5
        Cut-off of precision@k.
    user_index : array-like of int, default=None
        Users to score (the split's ``user_index``); ``None`` scores every user
        with a test like.
    item_features, user_features : scipy.sparse matrix, default=None
        Side information for LightFM.
    exclude_train : bool or "both", default=False
        ``False`` ranks all items, as the post does; ``True`` removes each user's
        train items before ranking the test items; ``"both"`` scores the test items
        both ways (the filtered rows get ``split`` ``metrics.FILTERED_TEST``).
    num_threads : int, default=None
        Threads for LightFM's training and for scoring; ``None`` trains with LightFM's
        default and scores on every core.
    verbose : bool, default=True
        Print the post-style boxed table, one row per checkpoint.
    mse_scores : bool, default=True
        Score the MSE too (post 1 does; it means little for a ranking loss).
    validation : scipy.sparse matrix of shape (n_users, n_items), default=None
        Held-out likes to choose hyper-parameters on: each checkpoint also gets a
        ``p@k`` row with ``split="validation"`` (posts' protocol, same users), so a
        choice made on validation can be reported on test from the same curve.
    on_checkpoint : callable, default=None
        Called as ``on_checkpoint(epoch, model, scores, fit_seconds)`` after each checkpoint is
        scored (``scores`` maps ``(metric, split)`` to its value), e.g. to keep a copy of the
        model at its best checkpoint instead of training it again.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per ``epoch``, ``metric`` ("p@k" or "mse"), ``split``
        ("train"/"test") with its ``value``; plus ``metric="seconds"`` rows with
        ``split`` "fit" and "eval" holding the time spent up to that checkpoint.

    Raises
    ------
    recasketch.metrics.NonFiniteModelError
        If the model goes non-finite: its factors hold NaN or inf at a checkpoint, or
        LightFM's training stops because its parameters are no longer finite. The
        message names the checkpoint, and the error's ``epoch`` attribute holds it.
    """
    epochs = check_epochs(epochs)
    users = None if user_index is None else np.asarray(user_index, dtype=np.int64)
    rows = []
    done = 0
    fit_seconds = eval_seconds = 0.0
    for epoch in epochs:
        start = time.perf_counter()
        try:
            train_more(model, train, epoch - done, item_features, user_features, num_threads)
        except ValueError as err:
            if not lightfm_diverged(err):
                raise
            raise _non_finite_at(epoch, f"LightFM's fit diverged: {err}") from err
        fit_seconds += time.perf_counter() - start
        done = epoch
        start = time.perf_counter()
        try:
            scores = _score_checkpoint(model, train, test, users, k, item_features, user_features,
                                       exclude_train, num_threads, mse_scores)
            if validation is not None:
                scores[("p@k", "validation")] = metrics.precision_at_k(
                    model, validation, k, users=users, item_features=item_features,
                    user_features=user_features, num_threads=0 if num_threads is None else num_threads)
        except metrics.NonFiniteModelError as err:
            raise _non_finite_at(epoch, str(err)) from None
        eval_seconds += time.perf_counter() - start
        if on_checkpoint is not None:
            on_checkpoint(epoch, model, dict(scores), fit_seconds)
        for (metric, split), value in scores.items():
            rows.append((epoch, metric, split, float(value)))
        rows.append((epoch, "seconds", "fit", fit_seconds))
        rows.append((epoch, "seconds", "eval", eval_seconds))
        if verbose:
            if epoch == epochs[0]:
                titles = ["epoch", *(_column_title(m, s, k) for m, s in scores)]
                print(format_log_row(titles, header=True))
            print(format_log_row([epoch, *scores.values()]))
    return pd.DataFrame(rows, columns=["epoch", "metric", "split", "value"])


def lightfm_diverged(err: ValueError) -> bool:
    """Whether ``err`` is LightFM's "Not all estimated parameters are finite" after an epoch."""
    return "parameters are finite" in str(err)


def _non_finite_at(epoch: int, message: str) -> metrics.NonFiniteModelError:
    """A NonFiniteModelError naming the checkpoint, with it as ``epoch``."""
    err = metrics.NonFiniteModelError(f"At epoch {epoch}: {message}")
    err.epoch = epoch
    return err
