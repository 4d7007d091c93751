"""Learning curves and grid search over them.

A *learning curve* trains one model a few epochs at a time and scores it at each
checkpoint (train and test precision@k and MSE, as post 1 does), without refitting
from scratch: implicit's ALS continues from its current factors when ``fit`` is
called again, and LightFM has ``fit_partial``.

:func:`grid_search_learning_curve` runs one learning curve per combination of a
parameter grid, in parallel processes with one BLAS thread each, and appends every
finished combination to a log file as it goes, so an interrupted search resumes
where it stopped.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import ParameterGrid
from tqdm import tqdm

from . import metrics

__all__ = [
    "param_columns",
    "parameter_summary",
    "best_params",
    "format_log_row",
    "grid_search_learning_curve",
    "learning_curve",
    "read_grid_log",
    "train_more",
]

_QUALITY = ("p@k", "mse")


def _default_estimator():
    from implicit.cpu.als import AlternatingLeastSquares

    return AlternatingLeastSquares


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


def _check_epochs(epochs) -> list[int]:
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
                      num_threads=None):
    """Train/test p@k and MSE of ``model`` for one checkpoint, as a dict."""
    return metrics.checkpoint_scores(
        model,
        train,
        test,
        users=users,
        k=k,
        exclude_train=exclude_train,
        item_features=item_features,
        user_features=user_features,
        num_threads=0 if num_threads is None else num_threads,
    )


def learning_curve(
    model,
    train,
    test,
    epochs: Iterable[int],
    k: int = 5,
    user_index=None,
    item_features=None,
    user_features=None,
    exclude_train: bool = False,
    num_threads=None,
    verbose: bool = True,
) -> pd.DataFrame:
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
    exclude_train : bool, default=False
        ``False`` ranks all items, as the post does; ``True`` removes each user's
        train items before ranking the test items.
    num_threads : int, default=None
        Threads for LightFM's training and for scoring; ``None`` trains with LightFM's
        default and scores on every core.
    verbose : bool, default=True
        Print the post-style boxed table, one row per checkpoint.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per ``epoch``, ``metric`` ("p@k" or "mse"), ``split``
        ("train"/"test") with its ``value``; plus ``metric="seconds"`` rows with
        ``split`` "fit" and "eval" holding the time spent up to that checkpoint.
    """
    epochs = _check_epochs(epochs)
    users = None if user_index is None else np.asarray(user_index, dtype=np.int64)
    rows = []
    done = 0
    fit_seconds = eval_seconds = 0.0
    if verbose:
        print(format_log_row(["epoch", f"train p@{k}", f"test p@{k}", "train mse", "test mse"], header=True))
    for epoch in epochs:
        start = time.perf_counter()
        train_more(model, train, epoch - done, item_features, user_features, num_threads)
        fit_seconds += time.perf_counter() - start
        done = epoch
        start = time.perf_counter()
        scores = _score_checkpoint(model, train, test, users, k, item_features, user_features, exclude_train,
                                   num_threads)
        eval_seconds += time.perf_counter() - start
        for (metric, split), value in scores.items():
            rows.append((epoch, metric, split, float(value)))
        rows.append((epoch, "seconds", "fit", fit_seconds))
        rows.append((epoch, "seconds", "eval", eval_seconds))
        if verbose:
            print(
                format_log_row(
                    [epoch, scores["p@k", "train"], scores["p@k", "test"], scores["mse", "train"], scores["mse", "test"]]
                )
            )
    return pd.DataFrame(rows, columns=["epoch", "metric", "split", "value"])


# --------------------------------------------------------------------- grid search


_TIDY_COLUMNS = ("epoch", "metric", "split", "value")


def param_columns(results: pd.DataFrame) -> list[str]:
    """The parameter columns of a tidy results frame: all but epoch, metric, split, value."""
    return [c for c in results.columns if c not in _TIDY_COLUMNS]


def _params_key(params: Mapping) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True, default=float)


def _worker_init():
    from threadpoolctl import threadpool_limits

    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threadpool_limits(1)


def _accepts(estimator, name: str) -> bool:
    try:
        return name in inspect.signature(estimator).parameters
    except (TypeError, ValueError):
        return False


def _run_combination(estimator, params, train, test, epochs, k, users, item_features, exclude_train, single_thread):
    """One learning curve; in a worker process (``single_thread``) the model and the
    scoring get one thread each, BLAS having been pinned by :func:`_worker_init`."""
    kwargs = dict(params)
    if single_thread and _accepts(estimator, "num_threads") and "num_threads" not in kwargs:
        kwargs["num_threads"] = 1
    curve = learning_curve(
        estimator(**kwargs), train, test, epochs, k=k, user_index=users, item_features=item_features,
        exclude_train=exclude_train, num_threads=1 if single_thread else None, verbose=False,
    )
    return curve.to_dict(orient="list")


def _read_log(path: Path) -> dict[str, dict]:
    """Finished combinations in a log, by key. A torn last line (from a crash) is ignored."""
    done = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[_params_key(record["params"])] = record
    return done


def _append_log(path: Path, record: dict) -> None:
    line = json.dumps(record, default=float) + "\n"
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:  # a torn last line (from a crash) must not swallow this one
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                line = "\n" + line
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _records_to_frame(records: Iterable[dict], param_names: list[str]) -> pd.DataFrame:
    frames = []
    for record in records:
        curve = pd.DataFrame(record["curve"])
        for position, name in enumerate(param_names):
            curve.insert(position, name, record["params"].get(name))
        frames.append(curve)
    if not frames:
        return pd.DataFrame(columns=[*param_names, *_TIDY_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def read_grid_log(path, param_names=None) -> pd.DataFrame:
    """Read a grid-search log written by :func:`grid_search_learning_curve` as a tidy frame."""
    records = list(_read_log(Path(path)).values())
    if param_names is None:
        param_names = sorted({name for r in records for name in r["params"]})
    return _records_to_frame(records, list(param_names))


def grid_search_learning_curve(
    base_params: Mapping,
    param_grid: Mapping | list,
    train,
    test,
    epochs: Iterable[int],
    k: int = 5,
    user_index=None,
    estimator: Callable | None = None,
    item_features=None,
    exclude_train: bool = False,
    n_jobs: int | None = None,
    log_path=None,
    progress: bool = True,
) -> pd.DataFrame:
    """A learning curve for every combination of ``param_grid``.

    Parameters
    ----------
    base_params : mapping
        Parameters shared by every model, e.g. ``{"random_state": 0}``.
    param_grid : mapping of lists, or list of such mappings
        As scikit-learn's ``ParameterGrid``, e.g. ``{"factors": [10, 40],
        "regularization": [0.01, 0.1], "alpha": [10, 50]}``.
    train, test : scipy.sparse matrix of shape (n_users, n_items)
    epochs : iterable of int
        Checkpoints of each learning curve, e.g. ``range(2, 39, 2)``.
    k : int, default=5
    user_index : array-like of int, default=None
        Users to score; ``None`` means every user with a test like.
    estimator : callable, default=None
        Builds a model from keyword parameters; default implicit's CPU
        ``AlternatingLeastSquares``. Where it takes ``num_threads`` and the grid runs
        in several processes, each model gets ``num_threads=1``.
    item_features : scipy.sparse matrix, default=None
        For LightFM.
    exclude_train : bool, default=False
        Score with train items removed before ranking (see :func:`learning_curve`).
    n_jobs : int, default=None
        Worker processes; ``None`` uses every core, ``1`` runs in this process.
    log_path : str or Path, default=None
        A JSON-lines file that receives each finished combination at once. If it
        already holds combinations of this grid, they are read back instead of
        being run again: rerunning an interrupted search resumes it.
    progress : bool, default=True
        Show a progress bar over combinations.

    Returns
    -------
    pandas.DataFrame
        Tidy results: the grid's parameter columns, then ``epoch``, ``metric``,
        ``split`` and ``value`` as in :func:`learning_curve`.
    """
    estimator = estimator or _default_estimator()
    combos = [dict(base_params, **p) for p in ParameterGrid(param_grid)]
    grid_names = sorted({name for p in ParameterGrid(param_grid) for name in p})
    epochs = _check_epochs(epochs)
    users = None if user_index is None else np.asarray(user_index, dtype=np.int64)
    log_path = Path(log_path) if log_path is not None else None
    done = _read_log(log_path) if log_path is not None else {}
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)

    records = {}
    todo = []
    for params in combos:
        key = _params_key(params)
        if key in done and done[key].get("epochs") == epochs:
            records[key] = done[key]
        else:
            todo.append(params)

    n_jobs = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    bar = tqdm(total=len(combos), initial=len(records), desc="grid", unit="combination", disable=not progress)

    def finish(params, curve):
        record = {"params": params, "epochs": epochs, "curve": curve}
        records[_params_key(params)] = record
        if log_path is not None:
            _append_log(log_path, record)
        bar.update(1)

    try:
        if n_jobs == 1 or len(todo) <= 1:
            for params in todo:
                finish(params, _run_combination(estimator, params, train, test, epochs, k, users,
                                                item_features, exclude_train, single_thread=False))
        else:
            with ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init) as pool:
                futures = {
                    pool.submit(_run_combination, estimator, params, train, test, epochs, k, users,
                                item_features, exclude_train, True): params
                    for params in todo
                }
                try:
                    for future in as_completed(futures):
                        finish(futures[future], future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        bar.close()

    ordered = [records[_params_key(p)] for p in combos if _params_key(p) in records]
    return _records_to_frame(ordered, grid_names)


def best_params(results: pd.DataFrame, metric: str = "p@k", split: str = "test") -> pd.Series:
    """The row of ``results`` (tidy, as returned above) with the highest ``metric`` on ``split``.

    Returns the parameters, the ``epoch`` and the ``value``; for ``metric="mse"`` the
    lowest value wins.
    """
    chosen = results[(results["metric"] == metric) & (results["split"] == split)]
    if chosen.empty:
        raise ValueError(f"No rows with metric={metric!r} and split={split!r} in the results.")
    idx = chosen["value"].idxmin() if metric == "mse" else chosen["value"].idxmax()
    return chosen.loc[idx].drop(["metric", "split"])


def parameter_summary(results: pd.DataFrame, metric: str = "p@k", split: str = "test") -> pd.DataFrame:
    """How much each parameter moves the score, one row per parameter value.

    Each combination is first reduced to its best score over epochs. Then, for each
    value of each parameter: ``best`` is the best combination with that value and
    ``mean`` the average over all combinations with it. A parameter whose means are
    far apart (a wide ``spread``) must be chosen with care; one whose means are close
    can be set freely.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``value``, ``best``, ``mean`` and ``spread`` (largest
        minus smallest ``mean`` of that parameter), widest spread first.
    """
    chosen = results[(results["metric"] == metric) & (results["split"] == split)]
    params = param_columns(results)
    if chosen.empty or not params:
        raise ValueError(f"No rows with metric={metric!r} and split={split!r}, or no parameter columns.")
    agg = "min" if metric == "mse" else "max"
    per_combo = chosen.groupby(params)["value"].agg(agg).reset_index()
    rows = []
    for name in params:
        by_value = per_combo.groupby(name)["value"].agg([agg, "mean"])
        spread = float(by_value["mean"].max() - by_value["mean"].min())
        rows.extend({"parameter": name, "value": v, "best": float(r[agg]), "mean": float(r["mean"]),
                     "spread": spread} for v, r in by_value.iterrows())
    out = pd.DataFrame(rows)
    order = out.groupby("parameter")["spread"].first().sort_values(ascending=False).index
    out["parameter"] = pd.Categorical(out["parameter"], categories=list(order), ordered=True)
    return out.sort_values(["parameter", "value"]).reset_index(drop=True).astype({"parameter": str})
