"""Evaluation with uncertainty: many models, many metrics, both protocols, bootstrap CIs.

Notebook 04 compares models the way a reader can cite: each one scored on the same
held-out likes of the same users, in both protocols (the posts' "rank every model" and
the train-filtered one), with a 95 % percentile-bootstrap interval over users for each
figure, and hyper-parameters chosen on a validation split rather than on the test likes.

* :func:`score_with_ci` — one model, every metric of :data:`METRICS`, both protocols.
* :func:`evaluate` — a table of models (:class:`Fitted`) with their intervals.
* :func:`select_on_validation` — from one grid of fitted configurations scored on
  validation and on test: the configuration chosen on validation, reported on test,
  beside the one the posts would have chosen (the best test score), and the optimism.
* :func:`clear_difference` — "no clear difference" unless two intervals are disjoint.
"""

from __future__ import annotations

import copy

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp  # noqa: F401  (the doctests use it)
from sklearn.model_selection import ParameterGrid

from .. import metrics
from ..datasets.synthetic import topic_feature_keys
from ..preprocess import feature_keys
from ..tuning.curves import learning_curve

__all__ = ["METRICS", "PROTOCOLS", "Fitted", "restrict_items", "clear_difference", "epochs_on_validation",
           "evaluate", "fit_timed", "optimism_sentence", "ranking_sentence", "small_grid", "tag_truth",
           "score_with_ci", "select_on_validation"]

#: Metric label -> (function of :mod:`recasketch.metrics`, cut-off or None).
METRICS = {
    "p@5": (metrics.precision_at_k, 5),
    "recall@10": (metrics.recall_at_k, 10),
    "nDCG@10": (metrics.ndcg_at_k, 10),
    "MAP@10": (metrics.map_at_k, 10),
    "AUC": (metrics.auc, None),
}
#: The two protocols: the posts' (every model ranked) and train likes removed.
PROTOCOLS = ("all models ranked (post)", "train likes removed")


class Fitted(NamedTuple):
    """A fitted model, the item features it scores with, and its fit seconds."""

    model: object
    item_features: object = None
    seconds: float = float("nan")


def fit_timed(make: Callable[[], object], fit: Callable[[object], object], item_features=None) -> Fitted:
    """Build a model with ``make()``, fit it with ``fit(model)`` and time the fit.

    Examples
    --------
    >>> from recasketch.models.baselines import Popularity
    >>> train = sp.csr_matrix(np.eye(3, dtype=np.float32))
    >>> fitted = fit_timed(Popularity, lambda m: m.fit(train))
    >>> fitted.seconds >= 0
    True
    """
    model = make()
    start = time.perf_counter()
    fit(model)
    return Fitted(model, item_features, time.perf_counter() - start)


def score_with_ci(model, test, users, exclude=None, item_features=None, metric_names=None,
                  n_boot: int = 1000, level: float = 0.95, random_state=0, num_threads: int = 0) -> pd.DataFrame:
    """Every metric of ``model`` on ``test`` in both protocols, with bootstrap intervals.

    Parameters
    ----------
    model : any model :mod:`recasketch.metrics` scores
    test : scipy.sparse matrix of shape (n_users, n_items)
        The held-out likes.
    users : array-like of int
        The evaluated users (the split's ``user_index``).
    exclude : scipy.sparse matrix, default=None
        The likes to remove in the filtered protocol (the training likes); ``None``
        scores the posts' protocol only.
    item_features : scipy.sparse matrix, default=None
        For LightFM models fitted with item features.
    metric_names : list of str, default=None
        Keys of :data:`METRICS`; ``None`` scores them all.
    n_boot, level, random_state
        Passed to :func:`recasketch.metrics.bootstrap_ci`; the same seed resamples the
        same users for every model, so intervals are comparable.

    Returns
    -------
    pandas.DataFrame
        Columns ``protocol``, ``metric``, ``mean``, ``low``, ``high``, ``users``. Users
        for whom a metric is undefined (AUC with no negative) are left out of its mean.
    """
    names = list(METRICS) if metric_names is None else list(metric_names)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose from {list(METRICS)}.")
    protocols = [(PROTOCOLS[0], None)] + ([(PROTOCOLS[1], exclude)] if exclude is not None else [])
    rows = []
    for protocol, excluded in protocols:
        for name in names:
            fn, k = METRICS[name]
            kwargs = dict(users=users, exclude=excluded, item_features=item_features, per_user=True,
                          num_threads=num_threads)
            values = fn(model, test, k, **kwargs) if k is not None else fn(model, test, **kwargs)
            values = np.asarray(values, dtype=float)
            values = values[np.isfinite(values)]
            ci = metrics.bootstrap_ci(values, n_boot=n_boot, level=level, random_state=random_state)
            rows.append({"protocol": protocol, "metric": name, "mean": ci.mean, "low": ci.low,
                         "high": ci.high, "users": len(values)})
    return pd.DataFrame(rows)


def evaluate(models: Mapping[str, Fitted], test, users, exclude=None, metric_names=None,
             n_boot: int = 1000, level: float = 0.95, random_state=0, num_threads: int = 0) -> pd.DataFrame:
    """:func:`score_with_ci` for each model, in one long table with ``model`` and ``fit s``.

    Examples
    --------
    >>> from recasketch.models.baselines import Popularity
    >>> train = sp.csr_matrix(np.tile(np.eye(3, 6, dtype=np.float32), (2, 1)))
    >>> test = sp.csr_matrix(np.tile(np.eye(3, 6, 3, dtype=np.float32), (2, 1)))
    >>> table = evaluate({"popularity": fit_timed(Popularity, lambda m: m.fit(train))}, test,
    ...                  [0, 1, 2, 3, 4, 5], exclude=train, metric_names=["p@5"], n_boot=50)
    >>> table[["model", "protocol", "metric"]].values.tolist()
    [['popularity', 'all models ranked (post)', 'p@5'], ['popularity', 'train likes removed', 'p@5']]
    """
    frames = []
    for name, fitted in models.items():
        if not isinstance(fitted, Fitted):
            raise TypeError(f"models[{name!r}] must be a Fitted(model, item_features, seconds), "
                            f"got {type(fitted).__name__}.")
        table = score_with_ci(fitted.model, test, users, exclude, fitted.item_features, metric_names,
                              n_boot, level, random_state, num_threads)
        frames.append(table.assign(model=name, **{"fit s": fitted.seconds}))
    if not frames:
        raise ValueError("models is empty.")
    out = pd.concat(frames, ignore_index=True)
    return out[["model", "protocol", "metric", "mean", "low", "high", "users", "fit s"]]


def select_on_validation(scores: pd.DataFrame, params: list[str], validation: str = "validation",
                         test: str = "test") -> pd.DataFrame:
    """The configuration chosen on validation, beside the one chosen on test.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per configuration (and epoch, if any), with the parameter columns
        ``params`` and a validation and a test score.
    params : list of str
        The columns that name a configuration (include ``"epoch"`` for learning curves).

    Returns
    -------
    pandas.DataFrame
        Two rows, ``"chosen on validation"`` and ``"chosen on test (the posts)"``, with the
        parameters, the validation and test scores; ``attrs["optimism"]`` holds the test
        score chosen on test minus the one chosen on validation (>= 0).

    Examples
    --------
    >>> grid = pd.DataFrame({"factors": [10, 20, 40], "validation": [0.10, 0.12, 0.11],
    ...                      "test": [0.09, 0.10, 0.13]})
    >>> picked = select_on_validation(grid, ["factors"])
    >>> [int(f) for f in picked["factors"]], round(picked.attrs["optimism"], 2)
    ([20, 40], 0.03)
    """
    missing = [c for c in [*params, validation, test] if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks columns {missing}.")
    ok = scores.dropna(subset=[validation, test])
    if ok.empty:
        raise ValueError("No configuration has both a validation and a test score.")
    on_val = ok.loc[ok[validation].idxmax()]
    on_test = ok.loc[ok[test].idxmax()]
    out = pd.DataFrame([on_val[[*params, validation, test]], on_test[[*params, validation, test]]],
                       index=["chosen on validation", "chosen on test (the posts)"])
    out.attrs["optimism"] = float(on_test[test] - on_val[test])
    return out


def clear_difference(a: Mapping, b: Mapping) -> bool:
    """Whether two intervals (mappings with ``low`` and ``high``) are disjoint.

    Examples
    --------
    >>> clear_difference({"low": 0.1, "high": 0.2}, {"low": 0.25, "high": 0.3})
    True
    >>> clear_difference({"low": 0.1, "high": 0.2}, {"low": 0.15, "high": 0.3})
    False
    """
    return bool(a["high"] < b["low"] or b["high"] < a["low"])


def restrict_items(fitted: Fitted, items) -> Fitted:
    """The same model scoring only ``items`` (columns), for a cold-start evaluation.

    Returns a :class:`Fitted` whose model is the tuple ``(user_vectors, item_vectors[items])``
    of :func:`recasketch.metrics.as_factors`, so every metric ranks those items only;
    score it against ``test[:, items]``.

    Examples
    --------
    >>> from recasketch.models.baselines import Popularity
    >>> pop = Popularity().fit(sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32)))
    >>> users, items = restrict_items(Fitted(pop), [1, 2]).model
    >>> items.ravel().tolist()
    [0.0, 1.0]
    """
    users, item_vectors = metrics.as_factors(fitted.model, item_features=fitted.item_features)
    items = np.asarray(items)
    item_vectors = item_vectors[items]
    return Fitted((users, item_vectors), None, fitted.seconds)



def small_grid(build: Callable[[dict], Fitted], grid: Mapping, validation, test, users, k: int = 5,
               exclude_validation=None, exclude_test=None) -> pd.DataFrame:
    """Fit ``build(params)`` for every combination of ``grid``; p@k on validation and test.

    For models without epochs to follow (item-kNN, BPR at fixed iterations, the tags-only
    model). Pass the result to :func:`select_on_validation`.

    Parameters
    ----------
    exclude_validation, exclude_test : scipy.sparse matrix, default=None
        Likes removed from each user's ranking before scoring validation and test: ``None``
        ranks every model (the posts' protocol); the train likes (and, for test, the
        validation likes too) score the standard protocol, the one in which a model that
        ranks a user's own likes first (item-kNN) can compete.

    Returns
    -------
    pandas.DataFrame
        The grid's columns, ``validation``, ``test`` and ``fit s``.

    Examples
    --------
    >>> from recasketch.models.baselines import Popularity
    >>> train = sp.csr_matrix(np.tile(np.eye(3, 6, dtype=np.float32), (2, 1)))
    >>> build = lambda p: fit_timed(Popularity, lambda m: m.fit(train))
    >>> small_grid(build, {"unused": [1, 2]}, train, train, [0, 1], k=2)[["unused", "validation"]]
       unused  validation
    0       1         0.5
    1       2         0.5
    """
    rows = []
    for params in ParameterGrid(dict(grid)):
        fitted = build(params)
        scores = {name: metrics.precision_at_k(fitted.model, likes, k, users=users, exclude=exclude,
                                               item_features=fitted.item_features)
                  for name, likes, exclude in (("validation", validation, exclude_validation),
                                               ("test", test, exclude_test))}
        rows.append({**params, **scores, "fit s": fitted.seconds})
    if not rows:
        raise ValueError("The grid is empty.")
    return pd.DataFrame(rows)


def epochs_on_validation(make: Callable[[], object], train, validation, users, epochs, k: int = 5,
                         item_features=None, num_threads: int = 1) -> tuple[int, Fitted, pd.DataFrame]:
    """Choose a model's epochs on validation, keeping the model as it was at that epoch.

    ``make()`` builds an unfitted LightFM (or implicit) model; it is trained through
    ``epochs`` with :func:`recasketch.tuning.curves.learning_curve` scoring validation p@k,
    and a copy of it is kept at each checkpoint that beats every earlier one (the first of
    equal scores), so the chosen model is not trained twice. Single-threaded, the copy is
    the model a fresh ``make()`` trained to that epoch would be.

    Returns
    -------
    best_epoch : int
    fitted : Fitted
        The model at the best checkpoint, its item features and the seconds its training
        to that checkpoint took.
    curve : pandas.DataFrame
        Columns ``epoch`` and ``validation``.
    """
    best = {}

    def keep_best(epoch, model, scores, fit_seconds):
        value = scores[("p@k", "test")]
        if not best or value > best["value"]:
            best.update(value=value, epoch=epoch, model=copy.deepcopy(model), seconds=fit_seconds)

    curve = learning_curve(make(), train, validation, epochs, k=k, user_index=users,
                           item_features=item_features, num_threads=num_threads, verbose=False,
                           mse_scores=False, on_checkpoint=keep_best)
    scores = curve[(curve.metric == "p@k") & (curve.split == "test")][["epoch", "value"]]
    scores = scores.rename(columns={"value": "validation"}).reset_index(drop=True)
    return int(best["epoch"]), Fitted(best["model"], item_features, best["seconds"]), scores


def ranking_sentence(table: pd.DataFrame, metric: str, protocol: str | None = None) -> str:
    """A ranking that says "no clear difference" wherever the intervals overlap.

    ``table`` is :func:`evaluate`'s (one row per model for ``metric``/``protocol``). The
    sentence names the model with the highest mean, the models whose intervals overlap
    its interval, and those clearly below it.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["a", "b", "c"], "metric": "p@5", "mean": [0.2, 0.19, 0.1],
    ...                   "low": [0.18, 0.17, 0.08], "high": [0.22, 0.21, 0.12]})
    >>> ranking_sentence(t, "p@5")
    'By p@5, a scores highest (0.2000, 95 % CI 0.1800–0.2200); no clear difference from b (0.1900, CI 0.1700–0.2100); clearly above c (0.1000).'
    """
    rows = table[table["metric"] == metric]
    if protocol is not None:
        rows = rows[rows["protocol"] == protocol]
    if rows.empty:
        raise ValueError(f"No rows for metric {metric!r}" + (f" and protocol {protocol!r}." if protocol else "."))
    rows = rows.sort_values("mean", ascending=False)
    top = rows.iloc[0]
    ties = [r for _, r in rows.iloc[1:].iterrows() if not clear_difference(top, r)]
    below = [r for _, r in rows.iloc[1:].iterrows() if clear_difference(top, r)]
    text = (f"By {metric}, {top['model']} scores highest ({top['mean']:.4f}, 95 % CI "
            f"{top['low']:.4f}–{top['high']:.4f})")
    if ties:
        text += "; no clear difference from " + ", ".join(
            f"{r['model']} ({r['mean']:.4f}, CI {r['low']:.4f}–{r['high']:.4f})" for r in ties)
    if below:
        text += "; clearly above " + ", ".join(f"{r['model']} ({r['mean']:.4f})" for r in below)
    return text + "."


def optimism_sentence(name: str, on_test: float, on_validation: float, diff) -> str:
    """How optimistic choosing on test was: one sentence from a paired bootstrap.

    Parameters
    ----------
    name : str
        The search (``"ALS grid"``).
    on_test, on_validation : float
        Test score of the configuration chosen on test (the posts' way) and of the one
        chosen on validation.
    diff : mapping or object with ``mean``, ``low`` and ``high``
        :func:`recasketch.metrics.paired_bootstrap_diff` of the two models' per-user
        test scores (chosen on test minus chosen on validation).

    Examples
    --------
    >>> optimism_sentence("ALS grid", 0.13, 0.12, {"mean": 0.01, "low": -0.004, "high": 0.025})
    'ALS grid: choosing on test reported 0.1300; choosing on validation, 0.1200 — +0.0100 p@5 points (95 % CI -0.0040 to +0.0250): not clearly optimistic here (the interval includes 0).'
    """
    get = diff.get if isinstance(diff, Mapping) else lambda key: getattr(diff, key)
    mean, low, high = float(get("mean")), float(get("low")), float(get("high"))
    if low == high == 0:
        verdict = "no optimism here: the two choices score the same for every user"
    elif low > 0:
        verdict = "clearly optimistic"
    elif high < 0:
        verdict = "clearly pessimistic (choosing on validation did better on test)"
    else:
        verdict = "not clearly optimistic here (the interval includes 0)"
    return (f"{name}: choosing on test reported {on_test:.4f}; choosing on validation, "
            f"{on_validation:.4f} — {mean:+.4f} p@5 points (95 % CI {low:+.4f} to {high:+.4f}): "
            f"{verdict}.")


def tag_truth(features: pd.DataFrame, model_topics: pd.DataFrame) -> dict:
    """How informative the synthetic tags are about the planted topics, by construction.

    Returns the share of models with at least one tag, the share of tag occurrences that
    name some topic, and the share of those that name the model's own topic (the rest
    are common or long-tail tags that say nothing of taste).
    """
    tags = features[features["type"] == "tag"]
    keys = feature_keys(tags).to_numpy()
    topic_of = model_topics.set_index("mid")["topic"]
    own = topic_of.reindex(tags["mid"]).to_numpy()
    owners = topic_feature_keys()
    names_topic = np.array([bool(owners.get(key)) for key in keys])
    names_own = np.array([o in owners.get(key, ()) for key, o in zip(keys, own)])
    return {
        "models with tags": tags["mid"].nunique() / model_topics["mid"].nunique(),
        "tags naming a topic": float(names_topic.mean()),
        "of those, the model's own topic": float(names_own[names_topic].mean()),
    }
