"""Learning curves and grid search over them.

A *learning curve* trains one model a few epochs at a time and scores it at each
checkpoint (train and test precision@k and MSE, as post 1 does), without refitting
from scratch: implicit's ALS continues from its current factors when ``fit`` is
called again, and LightFM has ``fit_partial``.

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
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import ParameterGrid
from tqdm import tqdm

from . import cluster, metrics

__all__ = [
    "Candidate",
    "FAILED",
    "FitFailed",
    "LightFMObjective",
    "SearchResult",
    "WORST_VALUE",
    "clip_to_space",
    "compare_models",
    "projected_search_seconds",
    "side_information_start",
    "param_columns",
    "post_lightfm_params",
    "read_search_log",
    "resumable_search",
    "parameter_summary",
    "best_params",
    "format_log_row",
    "grid_search_learning_curve",
    "learning_curve",
    "read_grid_log",
    "train_more",
    "warp_searches",
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
                      num_threads=None, mse_scores=True):
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
        mse_scores=mse_scores,
    )


def _column_title(metric: str, split: str, k: int) -> str:
    if metric == "p@k":
        return f"filt. p@{k}" if split == metrics.FILTERED_TEST else f"{split} p@{k}"
    return f"{split} {metric}"


def learning_curve(
    model,
    train,
    test,
    epochs: Iterable[int],
    k: int = 5,
    user_index=None,
    item_features=None,
    user_features=None,
    exclude_train: bool | str = False,
    num_threads=None,
    verbose: bool = True,
    mse_scores: bool = True,
    validation=None,
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
    epochs = _check_epochs(epochs)
    users = None if user_index is None else np.asarray(user_index, dtype=np.int64)
    rows = []
    done = 0
    fit_seconds = eval_seconds = 0.0
    for epoch in epochs:
        start = time.perf_counter()
        try:
            train_more(model, train, epoch - done, item_features, user_features, num_threads)
        except ValueError as err:
            if not _lightfm_diverged(err):
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


def _lightfm_diverged(err: ValueError) -> bool:
    """Whether ``err`` is LightFM's "Not all estimated parameters are finite" after an epoch."""
    return "parameters are finite" in str(err)


def _non_finite_at(epoch: int, message: str) -> metrics.NonFiniteModelError:
    """A NonFiniteModelError naming the checkpoint, with it as ``epoch``."""
    err = metrics.NonFiniteModelError(f"At epoch {epoch}: {message}")
    err.epoch = epoch
    return err


# --------------------------------------------------------------------- grid search


_TIDY_COLUMNS = ("epoch", "metric", "split", "value")

#: The ``metric`` of the one row a failed combination leaves in a grid's results.
FAILED = "failed"


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
        curve = learning_curve(
            estimator(**kwargs), train, test, epochs, k=k, user_index=users, item_features=item_features,
            exclude_train=exclude_train, num_threads=1 if single_thread else None, verbose=False,
            validation=validation,
        )
    except metrics.NonFiniteModelError as err:
        reason = str(err)
        failed = {"epoch": [err.epoch], "metric": [FAILED], "split": [reason], "value": [np.nan]}
        return failed, reason
    return curve.to_dict(orient="list"), None


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
    """Read a grid-search log written by :func:`grid_search_learning_curve` as a tidy frame.

    Failed combinations appear as they do in the grid's results: one ``metric="failed"``
    row each.
    """
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
    validation=None,
    scheduler=None,
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
        Worker processes on this machine; ``None`` uses every core, ``1`` runs in this
        process. An existing Dask cluster (``scheduler`` an address or a Client) runs on
        the workers it has.
    log_path : str or Path, default=None
        A JSON-lines file that receives each finished combination at once. If it
        already holds combinations of this grid, they are read back instead of
        being run again: rerunning an interrupted search resumes it.
    progress : bool, default=True
        Show a progress bar over combinations.
    validation : scipy.sparse matrix, default=None
        Held-out likes scored at every checkpoint as ``split="validation"`` (see
        :func:`learning_curve`). A logged combination scored without them is run again.
    scheduler : str or distributed.Client, default=None
        Where the combinations run when ``n_jobs`` is not 1 (see :mod:`recasketch.cluster`):
        ``"processes"`` (a process pool), ``"local"`` (a Dask LocalCluster on this machine,
        started once per session), the address of a Dask scheduler (``"tcp://host:8786"``)
        or a ``distributed.Client``. ``None`` reads ``RECASKETCH_SCHEDULER``, else uses
        :data:`recasketch.cluster.DEFAULT_SCHEDULER`. On Dask the matrices go to each
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
    failures with ``(results["metric"] == "failed").sum()``. Logs written before this
    field existed read as they did.
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
        if (key in done and done[key].get("epochs") == epochs
                and done[key].get("validation", False) == (validation is not None)):
            records[key] = done[key]
        else:
            todo.append(params)

    n_jobs = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    backend = None if n_jobs == 1 or len(todo) <= 1 else cluster.resolve_scheduler(scheduler)
    client = None if backend in (None, cluster.PROCESSES) else cluster.get_client(backend, n_workers=n_jobs)
    bar = tqdm(total=len(combos), initial=len(records), desc="grid", unit="combination", disable=not progress)

    def finish(params, result):
        curve, reason = result
        record = {"params": params, "epochs": epochs, "curve": curve}
        if validation is not None:
            record["validation"] = True
        if reason is not None:
            record.update(status="failed", reason=reason)
        records[_params_key(params)] = record
        if log_path is not None:
            _append_log(log_path, record)
        bar.update(1)

    try:
        if backend is None:
            for params in todo:
                finish(params, _run_combination(estimator, params, train, test, epochs, k, users,
                                                item_features, exclude_train, False, validation))
        elif client is not None:
            cluster.map_unordered(
                client, _run_combination, [{"params": params} for params in todo],
                lambda call, result: finish(call["params"], result),
                shared={"train": train, "test": test, "users": users, "item_features": item_features,
                        "validation": validation},
                common={"estimator": estimator, "epochs": epochs, "k": k, "exclude_train": exclude_train,
                        "single_thread": True},
            )
        else:
            with ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init) as pool:
                futures = {
                    pool.submit(_run_combination, estimator, params, train, test, epochs, k, users,
                                item_features, exclude_train, True, validation): params
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
        rows.extend({"parameter": name, "value": _plain(v), "best": float(r[agg]), "mean": float(r["mean"]),
                     "spread": spread} for v, r in by_value.iterrows())
    values = [row["value"] for row in rows]
    out = pd.DataFrame(rows)
    out["value"] = pd.Series(values, dtype=object)  # 10 stays 10, not 10.0 beside a 0.1
    order = out.groupby("parameter")["spread"].first().sort_values(ascending=False).index
    out["parameter"] = pd.Categorical(out["parameter"], categories=list(order), ordered=True)
    return out.sort_values(["parameter", "value"]).reset_index(drop=True).astype({"parameter": str})


# --------------------------------------------------------------------- model-based search


class FitFailed(Exception):
    """Raised by a search objective when a call cannot give a score (e.g. a diverged fit).

    :func:`resumable_search` logs such a call with status ``"failed"`` and the message
    as its reason, scores it as the worst value, and goes on.
    """


#: What :func:`resumable_search` scores a failed call: ``-p@k`` of a model that finds
#: nothing, the worst value a precision can take.
WORST_VALUE = 0.0


class SearchResult(NamedTuple):
    """What :func:`resumable_search` returns.

    Attributes
    ----------
    calls : pandas.DataFrame
        One row per call in order: ``call`` (0-based), ``origin`` ("x0" for a given
        starting point, "search" for a point skopt chose), one column per dimension,
        one per score the objective returned, ``objective`` (the value minimised),
        ``seconds``, ``status`` ("ok"/"failed") and ``reason`` (why a call failed).
    optimize_result : scipy.optimize.OptimizeResult
        scikit-optimize's result over all calls (``x_iters``, ``func_vals``, ``models``,
        ...), e.g. for ``skopt.plots.plot_convergence``.
    n_resumed : int
        Calls read back from the log rather than run in this session.
    """

    calls: pd.DataFrame
    optimize_result: object
    n_resumed: int

    @property
    def best(self) -> pd.Series:
        """The successful call with the lowest ``objective``."""
        ok = self.calls[self.calls["status"] == "ok"]
        if ok.empty:
            raise ValueError("Every call of the search failed; there is no best call.")
        return ok.loc[ok["objective"].idxmin()]

    @property
    def n_failed(self) -> int:
        """Number of failed calls."""
        return int((self.calls["status"] == "failed").sum())


def _dimensions(space: Mapping) -> list:
    """skopt dimensions named after the keys of ``space``."""
    import copy

    from skopt.space import check_dimension

    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty mapping of parameter name -> skopt dimension.")
    dims = []
    for name, spec in space.items():
        dim = copy.copy(check_dimension(spec))
        dim.name = name
        dims.append(dim)
    return dims


def _plain(value):
    """A JSON-able Python scalar for a numpy one."""
    return value.item() if isinstance(value, np.generic) else value


def _describe_space(dims) -> dict:
    return {d.name: repr(d) for d in dims}


def _read_search_log(path: Path, dims) -> list[dict]:
    """Finished calls of a search log in order; a torn last line is ignored."""
    if not path.exists():
        return []
    header, calls = None, []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "space" in record and header is None:
                header = record
            elif "call" in record:
                calls.append(record)
    if header is not None and header["space"] != _describe_space(dims):
        raise ValueError(
            f"{path} holds a search over another space ({header['space']}); resume it with the "
            "same space, or give this search a new log_path."
        )
    calls.sort(key=lambda r: r["call"])
    if [r["call"] for r in calls] != list(range(len(calls))):
        raise ValueError(f"{path}: the logged calls are not numbered 0, 1, 2, ...; the log is damaged.")
    return calls


def _point(dims, params: Mapping) -> list:
    return [_plain(params[d.name]) for d in dims]


def resumable_search(
    objective: Callable[[dict], Mapping],
    space: Mapping,
    n_calls: int,
    log_path=None,
    x0=None,
    n_initial_points: int = 10,
    target: str = "p@k",
    minimizer: Callable | None = None,
    random_state: int | None = None,
    progress: bool = True,
) -> SearchResult:
    """Maximise ``objective[target]`` with scikit-optimize, logging every call, resumably.

    A search of the post's kind (``forest_minimize`` over a few hyper-parameters, each
    call a full training run) takes hours at full size. Here every finished call is
    appended at once to ``log_path`` (one JSON line: parameters, scores, seconds,
    status), and running the same search again with the same log resumes it: the
    logged calls are handed to the minimiser as ``x0``/``y0`` and its
    ``n_initial_points`` is lowered by the random starting points already done (left
    as it is, skopt would draw its random start again on every resume). An
    interrupted search therefore reaches ``n_calls`` calls with none lost or repeated,
    and a finished one can be extended by asking for more calls.

    Parameters
    ----------
    objective : callable
        Takes a dict ``{name: value}`` of one point and returns a mapping of scores
        (e.g. :class:`LightFMObjective`). It raises :class:`FitFailed` when the point
        gives no score (a diverged fit): the call is logged as failed and scored
        :data:`WORST_VALUE`. Any other exception stops the search (the calls finished
        so far stay in the log).
    space : mapping of str to skopt dimension or tuple
        Name -> ``skopt.space.Integer``/``Real``/``Categorical`` or a tuple skopt
        understands, e.g. ``{"epochs": (1, 260), "learning_rate": (1e-4, 1.0,
        "log-uniform")}``. The order of the mapping is the order of skopt's points.
    n_calls : int
        Total calls, including ``x0`` and the calls already in the log.
    log_path : str or Path, default=None
        JSON-lines log; ``None`` keeps nothing on disk. A log made for another space
        is refused.
    x0 : list of points, or one point, default=None
        Starting points evaluated first (a warm start), each a list in the order of
        ``space`` or a dict by name. Points already in the log are not run again.
    n_initial_points : int, default=10
        Random points after ``x0`` before skopt's model proposes points.
    target : str, default="p@k"
        The score to maximise: the minimiser sees ``-scores[target]``.
    minimizer : callable, default=None
        A skopt minimiser with its interface (``forest_minimize``, ``gp_minimize``,
        ``gbrt_minimize``); ``None`` uses ``forest_minimize``, as post 2 did.
        (skopt 0.10.2's ``dummy_minimize`` fails with current scikit-learn; for random
        search see :func:`recasketch.search_strategies.random_search`.)
    random_state : int, default=None
        Seed of the minimiser. A fresh search calls it with exactly this seed, so it
        proposes what ``forest_minimize(..., random_state=random_state)`` would; a
        resumed one uses a seed derived from it and the number of calls done, so its
        random points are not the ones already logged.
    progress : bool, default=True
        Show a progress bar over calls.

    Returns
    -------
    SearchResult
        The calls as a table, skopt's ``OptimizeResult`` and how many calls came from
        the log; ``.best`` is the best successful call.

    Raises
    ------
    ValueError
        For an empty space, ``n_calls`` below ``len(x0) + n_initial_points`` on a fresh
        search, or a log of another search.
    """
    from skopt import forest_minimize

    dims = _dimensions(space)
    names = [d.name for d in dims]
    if not _is_count(n_calls) or n_calls < 1:
        raise ValueError(f"n_calls must be an integer >= 1, got {n_calls!r}.")
    if not _is_count(n_initial_points):
        raise ValueError(f"n_initial_points must be an integer >= 0, got {n_initial_points!r}.")
    starts = _check_x0(x0, dims)
    if len(starts) + n_initial_points > n_calls:
        raise ValueError(
            f"n_calls={n_calls} leaves no room for the {len(starts)} x0 point(s) and "
            f"n_initial_points={n_initial_points} random ones; raise n_calls or lower them."
        )
    minimizer = minimizer or forest_minimize
    log_path = Path(log_path) if log_path is not None else None
    done = _read_search_log(log_path, dims) if log_path is not None else []
    n_resumed = len(done)
    if log_path is not None and not log_path.exists():
        log_path.parent.mkdir(parents=True, exist_ok=True)
        _append_log(log_path, {"space": _describe_space(dims), "target": target})

    bar = tqdm(total=n_calls, initial=min(len(done), n_calls), desc="search", unit="call",
               disable=not progress)

    def evaluate(point) -> float:
        call = len(done)
        params = {name: _plain(v) for name, v in zip(names, point)}
        origin = "x0" if call < len(starts) else "search"
        start = time.perf_counter()
        try:
            scores = {k: float(v) for k, v in objective(dict(params)).items()}
            if target not in scores:
                raise KeyError(f"The objective returned {sorted(scores)}, without the target {target!r}.")
            if not np.isfinite(scores[target]):
                raise FitFailed(f"{target} is {scores[target]}")
            status, reason, value = "ok", None, -scores[target]
        except FitFailed as err:
            scores, status, reason, value = {}, "failed", str(err), WORST_VALUE
        record = {"call": call, "origin": origin, "params": params, "scores": scores,
                  "objective": value, "seconds": time.perf_counter() - start,
                  "status": status, "reason": reason}
        done.append(record)
        if log_path is not None:
            _append_log(log_path, record)
        bar.update(1)
        bar.set_postfix_str(f"best {target} {max(-r['objective'] for r in done) + 0.0:.4f}", refresh=False)
        return value

    try:
        if not done:
            result = minimizer(evaluate, dims, n_calls=n_calls, x0=starts or None,
                               n_initial_points=n_initial_points, random_state=random_state)
        else:
            for point in starts[len(done):]:  # a warm start cut short by the interruption
                evaluate(point)
            done_random = sum(r["origin"] == "search" for r in done)
            seed = None
            if random_state is not None:
                seed = int(np.random.SeedSequence([int(random_state), len(done)]).generate_state(1)[0])
            result = minimizer(
                evaluate, dims,
                n_calls=max(n_calls - len(done), 0),
                x0=[_point(dims, r["params"]) for r in done],
                y0=[r["objective"] for r in done],
                n_initial_points=max(n_initial_points - done_random, 0),
                random_state=seed,
            )
    finally:
        bar.close()
    return SearchResult(_calls_frame(done, names), result, n_resumed)


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def _check_x0(x0, dims) -> list[list]:
    if x0 is None:
        return []
    points = [x0] if isinstance(x0, Mapping) or (len(x0) and not isinstance(x0[0], (list, tuple, Mapping))) else list(x0)
    out = []
    for point in points:
        if isinstance(point, Mapping):
            missing = [d.name for d in dims if d.name not in point]
            if missing:
                raise ValueError(f"x0 point {dict(point)} lacks {missing}.")
            point = _point(dims, point)
        point = [_plain(v) for v in point]
        if len(point) != len(dims):
            raise ValueError(f"x0 point {point} has {len(point)} values; the space has {len(dims)}.")
        for dim, value in zip(dims, point):
            if value not in dim:
                raise ValueError(f"x0 value {value!r} of {dim.name!r} lies outside {dim}.")
        out.append(point)
    return out


def _calls_frame(records: list[dict], names: list[str]) -> pd.DataFrame:
    score_names = list(dict.fromkeys(k for r in records for k in r["scores"]))
    rows = [{"call": r["call"], "origin": r["origin"], **{n: r["params"][n] for n in names},
             **{s: r["scores"].get(s, np.nan) for s in score_names},
             "objective": r["objective"], "seconds": r["seconds"], "status": r["status"],
             "reason": r["reason"]} for r in records]
    columns = ["call", "origin", *names, *score_names, "objective", "seconds", "status", "reason"]
    return pd.DataFrame(rows, columns=columns)


def read_search_log(path, space: Mapping) -> pd.DataFrame:
    """The calls of a :func:`resumable_search` log as the table it returns (``calls``)."""
    dims = _dimensions(space)
    return _calls_frame(_read_search_log(Path(path), dims), [d.name for d in dims])


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

    def model(self, point: Mapping):
        """The unfitted LightFM for ``point``."""
        from lightfm import LightFM

        return LightFM(loss=self.loss, random_state=self.random_state, **self.to_params(point))

    def fit(self, point: Mapping):
        """A LightFM trained at ``point``; raises :class:`FitFailed` if it diverges."""
        model = self.model(point)
        try:
            model.fit(self.train, epochs=int(point["epochs"]), item_features=self.item_features,
                      num_threads=self.num_threads)
        except ValueError as err:
            if "finite" not in str(err):
                raise
            raise FitFailed(f"the fit diverged: {err}") from None
        return model

    def __call__(self, point: Mapping) -> dict:
        model = self.fit(point)
        try:
            users, items = metrics.as_factors(model, item_features=self.item_features)
            bound = (float(np.linalg.norm(users.astype(np.float64), axis=1).max())
                     * float(np.linalg.norm(items.astype(np.float64), axis=1).max()))
            if not bound < float(np.finfo(np.float32).max):
                raise FitFailed(
                    f"the fit diverged: its scores can reach {bound:.3g}, beyond float32's range, "
                    "so they would overflow and rank nothing"
                )
            scores = {
                "p@k": metrics.precision_at_k(model, self.test, self.k, users=self.users,
                                              item_features=self.item_features),
                "p@k filtered": metrics.precision_at_k(model, self.test, self.k, users=self.users,
                                                       exclude=self.train.tocsr(),
                                                       item_features=self.item_features),
            }
        except metrics.NonFiniteModelError as err:
            raise FitFailed(str(err)) from None
        bad = {name: value for name, value in scores.items() if not np.isfinite(value)}
        if bad:
            raise FitFailed(f"non-finite scores {bad}")
        return scores


def clip_to_space(point: Mapping, space: Mapping) -> dict:
    """``point`` with every value of a numeric dimension moved into its bounds.

    A warm start carried over from another search (post 2 starts its search with
    item features at the best point without them) can lie outside the new space,
    and skopt refuses such an ``x0``.

    Examples
    --------
    >>> clip_to_space({"epochs": 300, "item_alpha": 1e-7}, {"epochs": (1, 260), "item_alpha": (1e-5, 1e-3, "log-uniform")})
    {'epochs': 260, 'item_alpha': 1e-05}
    """
    out = {}
    for dim in _dimensions(space):
        value = point[dim.name]
        if hasattr(dim, "low"):
            value = type(value)(min(max(value, dim.low), dim.high))
        out[dim.name] = value
    return out


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
    >>> from recasketch import published
    >>> side_information_start(published.WARP_SEARCH["best"], published.WARP_SIDE_INFO_SEARCH["space"])
    {'epochs': 168, 'learning_rate': 0.0913, 'no_components': 104, 'item_alpha': 0.000235, 'scaling': 1.0}
    """
    carried = [name for name in space if name not in ("item_alpha", "scaling")]
    missing = [name for name in (*carried, "alpha") if name not in best]
    if missing:
        raise ValueError(f"The best point lacks {missing}; pass a call of the search without features.")
    point = {name: _plain(best[name]) for name in carried}
    point.update(item_alpha=float(best["alpha"]), scaling=float(scaling))
    return clip_to_space(point, space)


def projected_search_seconds(calls: pd.DataFrame, n_calls: int, epochs=None) -> float:
    """Wall seconds that ``n_calls`` calls of a search like ``calls`` would take.

    The median seconds per training epoch of the successful calls, times the mean
    epochs per call, times ``n_calls``. Training dominates a call, and its cost
    grows with the epochs, so calls made with fewer epochs (a budget that caps them)
    still predict a search over the full range.

    Parameters
    ----------
    calls : pandas.DataFrame
        ``SearchResult.calls`` (needs ``epochs``, ``seconds`` and ``status``).
    n_calls : int
    epochs : tuple of (int, int), default=None
        The epochs range of the search to project; a call is assumed to draw its
        epochs uniformly from it, so its mean is the midpoint. ``None`` uses the mean
        epochs of ``calls`` themselves.

    Examples
    --------
    >>> calls = pd.DataFrame({"epochs": [10, 30], "seconds": [1.0, 3.0], "status": ["ok", "ok"]})
    >>> projected_search_seconds(calls, 250), projected_search_seconds(calls, 250, epochs=(1, 259))
    (500.0, 3250.0)
    """
    ok = calls[calls["status"] == "ok"]
    if ok.empty:
        raise ValueError("No successful call to project from.")
    per_epoch = float((ok["seconds"] / ok["epochs"]).median())
    mean_epochs = float(ok["epochs"].mean()) if epochs is None else (epochs[0] + epochs[1]) / 2
    return per_epoch * mean_epochs * int(n_calls)


# --------------------------------------------------------------------- model comparison

#: Names of the two evaluation protocols in comparison tables.
PROTOCOLS = {False: "all models ranked (post)", True: "train likes removed"}


class Candidate(NamedTuple):
    """A model for :func:`compare_models`, with what it needs to train.

    Attributes
    ----------
    model : unfitted model
        An implicit model, :class:`recasketch.baselines.Popularity` or a
        ``lightfm.LightFM``.
    epochs : int, default=None
        LightFM's training epochs (required for LightFM); implicit models train for
        their own ``iterations``.
    item_features : scipy.sparse matrix, default=None
        LightFM's item features, for training and scoring.
    """

    model: object
    epochs: int | None = None
    item_features: object = None


def compare_models(candidates: Mapping[str, Candidate], train, test, users=None, k: int = 5,
                   num_threads: int = 1) -> pd.DataFrame:
    """Train each candidate on ``train`` and score test precision@k in both protocols.

    Parameters
    ----------
    candidates : mapping of str to Candidate
        Display name -> model to train (in order; a bare model is taken as
        ``Candidate(model)``).
    train, test : scipy.sparse matrix of shape (n_users, n_items)
    users : array-like of int, default=None
        Users to score (the split's ``user_index``).
    k : int, default=5
    num_threads : int, default=1
        LightFM's training threads (1 is exactly repeatable).

    Returns
    -------
    pandas.DataFrame
        Two rows per model: ``model``, ``protocol`` (``PROTOCOLS``), ``value`` (test
        p@k) and ``fit seconds``.
    """
    rows = []
    for name, candidate in candidates.items():
        if not isinstance(candidate, Candidate):
            candidate = Candidate(candidate)
        model = candidate.model
        start = time.perf_counter()
        if hasattr(model, "fit_partial"):
            if candidate.epochs is None:
                raise ValueError(f"{name!r} is a LightFM model: give its Candidate the epochs to train.")
            train_more(model, train, candidate.epochs, item_features=candidate.item_features,
                       num_threads=num_threads)
        else:
            model.fit(sp.csr_matrix(train), show_progress=False)
        seconds = time.perf_counter() - start
        for exclude, protocol in PROTOCOLS.items():
            value = metrics.precision_at_k(model, test, k, users=users, item_features=candidate.item_features,
                                           exclude=train if exclude else None)
            rows.append({"model": name, "protocol": protocol, "value": value, "fit seconds": seconds})
    return pd.DataFrame(rows, columns=["model", "protocol", "value", "fit seconds"])


def warp_searches(train, test, users=None, item_features=None, budget: str = "ci", k: int = 5,
                  num_threads: int = 1, random_state: int = 2016, log_dir=None,
                  progress: bool = True) -> dict:
    """Post 2's two searches at ``budget``, as notebook 02 runs them, in one call.

    The search without features, then (when ``item_features`` is given) the search with
    them, warm-started from the first one's best (:func:`side_information_start`). With
    ``log_dir``, each search resumes from (or reads back) its log there,
    ``warp_search.jsonl`` and ``warp_tags_search.jsonl``: the names notebook 02 uses, so
    a later notebook reuses its finished searches instead of running them again.

    Returns
    -------
    dict of str to SearchResult
        ``"without features"`` and, with ``item_features``, ``"identity + tags"``.
    """
    from . import budgets

    def log(name):
        return None if log_dir is None else Path(log_dir) / name

    plain_budget = budgets.warp_search(budget)
    searches = {"without features": resumable_search(
        LightFMObjective(train, test, users, k=k, num_threads=num_threads, random_state=random_state),
        plain_budget.space, plain_budget.n_calls, n_initial_points=plain_budget.n_initial_points,
        log_path=log("warp_search.jsonl"), random_state=random_state, progress=progress)}
    if item_features is not None:
        side = budgets.warp_search(budget, side_information=True)
        searches["identity + tags"] = resumable_search(
            LightFMObjective(train, test, users, k=k, item_features=item_features, num_threads=num_threads,
                             random_state=random_state),
            side.space, side.n_calls, x0=side_information_start(searches["without features"].best, side.space),
            n_initial_points=side.n_initial_points, log_path=log("warp_tags_search.jsonl"),
            random_state=random_state, progress=progress)
    return searches
