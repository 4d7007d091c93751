"""Grid search over learning curves, resumable from its log.

:func:`grid_search_learning_curve` runs one learning curve per combination of a
parameter grid, in parallel processes with one BLAS thread each, and appends every
finished combination to a log file as it goes, so an interrupted search resumes
where it stopped. A combination whose model goes non-finite (NaN or inf factors, a
diverged fit) is recorded as failed rather than stopping the grid.
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from implicit.cpu.als import AlternatingLeastSquares
from sklearn.model_selection import ParameterGrid
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .. import metrics
from ..parallel import cluster
from ..utils import plain
from .curves import check_epochs, learning_curve
from .search_log import append_record, data_key, describe_callable, open_log, read_log

__all__ = ["FAILED", "best_params", "grid_key", "grid_search_learning_curve", "param_columns", "parameter_summary",
           "read_grid_log"]


_TIDY_COLUMNS = ("epoch", "metric", "split", "value")

#: The ``metric`` of the one row a failed combination leaves in a grid's results.
FAILED = "failed"


def param_columns(results: pd.DataFrame) -> list[str]:
    """The parameter columns of a tidy results frame: all but epoch, metric, split, value."""
    return [c for c in results.columns if c not in _TIDY_COLUMNS]


def _params_key(params: Mapping) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True, default=float)


def _worker_init():
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threadpool_limits(1)


def _accepts(estimator, name: str) -> bool:
    try:
        return name in inspect.signature(estimator).parameters
    except (TypeError, ValueError):
        return False


def _run_combination(estimator, params, train, test, epochs, k, users, item_features, exclude_train, single_thread,
                     validation=None):
    """One learning curve as ``(curve, reason)``; in a worker process (``single_thread``)
    the model and the scoring get one thread each, BLAS having been pinned by
    :func:`_worker_init`.

    A model that goes non-finite gives the reason and a curve of one row,
    ``metric=FAILED`` at the checkpoint where it failed, with the reason as ``split``
    and a NaN ``value``: it holds no score, so the combination never counts as best.
    """
    kwargs = dict(params)
    if single_thread and _accepts(estimator, "num_threads") and "num_threads" not in kwargs:
        kwargs["num_threads"] = 1
    try:
        curve = learning_curve(estimator(**kwargs), train, test, epochs, k=k, user_index=users,
                               item_features=item_features, exclude_train=exclude_train,
                               num_threads=1 if single_thread else None, verbose=False, validation=validation)
    except metrics.NonFiniteModelError as err:
        reason = str(err)
        failed = {"epoch": [err.epoch], "metric": [FAILED], "split": [reason], "value": [np.nan]}
        return failed, reason
    return curve.to_dict(orient="list"), None


def _by_params(records: list[dict]) -> dict[str, dict]:
    """Finished combinations of a grid log, by their parameters."""
    return {_params_key(record["params"]): record for record in records if "params" in record}


def grid_key(base_params: Mapping, train, test, k: int, users, estimator, item_features, exclude_train,
             validation) -> dict:
    """The key of a grid's log: the estimator and its fixed parameters, ``k``, the protocol and the data.

    The data are the fingerprints of the split, the evaluated users, the validation likes and
    the item features. Each combination's own parameters and checkpoints are kept with it in
    the log, so a grid grown or cut down on the same key reuses the combinations it shares.
    """
    return {"estimator": describe_callable(estimator), "base_params": dict(base_params), "k": k,
            "exclude_train": exclude_train,
            **data_key(train=train, test=test, users=users, validation=validation, item_features=item_features)}


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
    """Read a grid-search log written by :func:`grid_search_learning_curve` as a tidy frame.

    Failed combinations appear as they do in the grid's results: one ``metric="failed"``
    row each.
    """
    records = list(_by_params(read_log(Path(path), "grid")[1]).values())
    if param_names is None:
        param_names = sorted({name for r in records for name in r["params"]})
    return _records_to_frame(records, list(param_names))


def grid_search_learning_curve(base_params: Mapping, param_grid: Mapping | list, train, test,
                               epochs: Iterable[int], k: int = 5, user_index=None,
                               estimator: Callable | None = None, item_features=None,
                               exclude_train: bool = False, n_jobs: int | None = None, log_path=None,
                               progress: bool = True, validation=None, scheduler=None) -> pd.DataFrame:
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
        Worker processes on this machine; ``None`` uses every core, ``1`` runs in this
        process. An existing Dask cluster (``scheduler`` an address or a Client) runs on
        the workers it has.
    log_path : str or Path, default=None
        A JSON-lines file that receives each finished combination at once. If it
        already holds combinations of this grid, they are read back instead of
        being run again: rerunning an interrupted search resumes it. Its header holds
        the grid's key (:func:`grid_key`: the estimator, ``base_params``, ``k``, the
        protocol and fingerprints of the data, users and validation likes); a log made
        with another key is refused, and ``{key}`` in the name gives each key a file of
        its own (:func:`recasketch.tuning.search_log.log_file`).
    progress : bool, default=True
        Show a progress bar over combinations.
    validation : scipy.sparse matrix, default=None
        Held-out likes scored at every checkpoint as ``split="validation"`` (see
        :func:`learning_curve`).
    scheduler : str or distributed.Client, default=None
        Where the combinations run when ``n_jobs`` is not 1 (see :mod:`recasketch.parallel.cluster`):
        ``"processes"`` (a process pool), ``"local"`` (a Dask LocalCluster on this machine,
        started once per session), the address of a Dask scheduler (``"tcp://host:8786"``)
        or a ``distributed.Client``. ``None`` reads ``RECASKETCH_SCHEDULER``, else uses
        :data:`recasketch.parallel.cluster.DEFAULT_SCHEDULER`. On Dask the matrices go to each
        worker once, and a task lost with its worker runs again on another; the log,
        resume and results are the same on every scheduler.

    Returns
    -------
    pandas.DataFrame
        Tidy results: the grid's parameter columns, then ``epoch``, ``metric``,
        ``split`` and ``value`` as in :func:`learning_curve`.

    Warns
    -----
    RuntimeWarning
        If some combinations failed, naming them.

    Notes
    -----
    A combination whose model goes non-finite (:class:`recasketch.metrics.NonFiniteModelError`:
    NaN or inf factors at a checkpoint, or LightFM's fit diverging) does not stop the
    grid. It is logged with ``"status": "failed"`` and its ``"reason"``, so a resumed
    grid does not run it again, and it leaves a single row in the results:
    ``metric="failed"`` (:data:`FAILED`), ``epoch`` the checkpoint where it failed,
    the reason as ``split`` and a NaN ``value``. It has no score rows, so
    :func:`best_params`, :func:`parameter_summary` and the plots pass it by; count the
    failures with ``(results["metric"] == "failed").sum()``. A log written before logs
    carried their key is read back by :func:`read_grid_log` but not resumed (it cannot be
    checked against this grid).
    """
    combos = [dict(base_params, **p) for p in ParameterGrid(param_grid)]
    grid_names = sorted({name for p in ParameterGrid(param_grid) for name in p})
    epochs = check_epochs(epochs)
    users = None if user_index is None else np.asarray(user_index, dtype=np.int64)
    estimator = estimator or AlternatingLeastSquares
    key = grid_key(base_params, train, test, k, users, estimator, item_features, exclude_train, validation)
    with open_log(log_path, "grid", key) as (log_path, logged):
        records = _run_grid(combos, _by_params(logged), epochs, log_path, n_jobs, scheduler, progress,
                            {"train": train, "test": test, "users": users, "item_features": item_features,
                             "validation": validation},
                            {"estimator": estimator, "epochs": epochs, "k": k, "exclude_train": exclude_train})
    ordered = [records[_params_key(p)] for p in combos if _params_key(p) in records]
    failed = [r["params"] for r in ordered if r.get("status") == "failed"]
    if failed:
        shown = "; ".join(_params_key(p) for p in failed[:5]) + ("; ..." if len(failed) > 5 else "")
        warnings.warn(
            f"{len(failed)} of {len(ordered)} combinations failed, their models having gone "
            f"non-finite: {shown}. They are left out of the scores; the rows with "
            f"metric={FAILED!r} give the reasons.",
            RuntimeWarning, stacklevel=2,
        )
    return _records_to_frame(ordered, grid_names)


def _run_grid(combos: list, done: dict, epochs: list, log_path, n_jobs, scheduler, progress: bool, data: dict,
              settings: dict) -> dict:
    """Each combination's record by its parameters: read from ``done`` where it was logged with these
    ``epochs``, else run (on the chosen back-end) and appended to the log as it finishes."""
    records, todo = {}, []  # the combinations logged as this grid runs them, and the others
    for params in combos:
        logged = done.get(_params_key(params))
        if logged is not None and logged.get("epochs") == epochs:
            records[_params_key(params)] = logged
        else:
            todo.append(params)

    n_jobs = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    backend = None if n_jobs == 1 or len(todo) <= 1 else cluster.resolve_scheduler(scheduler)
    client = None if backend in (None, cluster.PROCESSES) else cluster.get_client(backend, n_workers=n_jobs)
    bar = tqdm(total=len(combos), initial=len(records), desc="grid", unit="combination",
               disable=not progress)

    def finish(params, result):
        curve, reason = result
        record = {"params": params, "epochs": epochs, "curve": curve}
        if reason is not None:
            record.update(status="failed", reason=reason)
        records[_params_key(params)] = record
        if log_path is not None:
            append_record(log_path, record)
        bar.update(1)

    try:
        _run_combinations(todo, finish, backend, client, n_jobs, data, settings)
    finally:
        bar.close()
    return records


def _run_combinations(todo: list, finish: Callable, backend, client, n_jobs: int, data: dict,
                      settings: dict) -> None:
    """Run :func:`_run_combination` for each of ``todo``, calling ``finish(params, result)`` as each ends.

    In this process (``backend`` ``None``), on a Dask ``client``'s cluster (``data`` sent to each
    worker once) or in ``n_jobs`` processes here; interrupted, the unfinished ones are cancelled.
    """
    if backend is None:
        for params in todo:
            finish(params, _run_combination(params=params, single_thread=False, **data, **settings))
    elif client is not None:
        cluster.map_unordered(client, _run_combination, [{"params": params} for params in todo],
                              lambda call, result: finish(call["params"], result),
                              shared=data, common={**settings, "single_thread": True})
    else:
        with ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init) as pool:
            futures = {pool.submit(_run_combination, params=params, single_thread=True, **data,
                                   **settings): params for params in todo}
            try:
                for future in as_completed(futures):
                    finish(futures[future], future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def best_params(results: pd.DataFrame, metric: str = "p@k", split: str = "test") -> pd.Series:
    """The row of ``results`` (tidy, as returned above) with the highest ``metric`` on ``split``.

    Returns the parameters, the ``epoch`` and the ``value``; for ``metric="mse"`` the
    lowest value wins. Failed combinations have no ``metric`` row and never win.
    """
    chosen = results[(results["metric"] == metric) & (results["split"] == split)]
    if chosen.empty:
        raise ValueError(f"No rows with metric={metric!r} and split={split!r} in the results.")
    idx = chosen["value"].idxmin() if metric == "mse" else chosen["value"].idxmax()
    return chosen.loc[idx].drop(["metric", "split"])


def parameter_summary(results: pd.DataFrame, metric: str = "p@k", split: str = "test") -> pd.DataFrame:
    """How much each parameter moves the score, one row per parameter value.

    Each combination is first reduced to its best score over epochs (failed
    combinations have none and are left out). Then, for each value of each parameter:
    ``best`` is the best combination with that value and ``mean`` the average over all
    combinations with it. A parameter whose means are far apart (a wide ``spread``)
    must be chosen with care; one whose means are close can be set freely.

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
        rows.extend({"parameter": name, "value": plain(v), "best": float(r[agg]), "mean": float(r["mean"]),
                     "spread": spread} for v, r in by_value.iterrows())
    values = [row["value"] for row in rows]
    out = pd.DataFrame(rows)
    out["value"] = pd.Series(values, dtype=object)  # 10 stays 10, not 10.0 beside a 0.1
    order = out.groupby("parameter")["spread"].first().sort_values(ascending=False).index
    out["parameter"] = pd.Categorical(out["parameter"], categories=list(order), ordered=True)
    return out.sort_values(["parameter", "value"]).reset_index(drop=True).astype({"parameter": str})
