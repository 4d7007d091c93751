"""How fitting WRMF grows with the likes, and what notebook 05 computes at each budget.

The growth study generates Sketchfab-shaped likes at several sizes — the synthetic
generator's preset with its users and models multiplied by a scale (the generator
scaled, not rows copied: each user still draws likes from the same kind of tastes) —
fits implicit's ALS and Spark's ALS on each, and measures the seconds per iteration
and the memory of a fit. From those it fits the growth (a power law in the likes for
time, a line for memory) and projects the number of likes at which one machine's
memory runs out.

Seconds per iteration are measured as the difference of two fits with different
iteration counts, divided by the difference, so fixed costs (Spark's job set-up,
copying the matrix) do not count as iterations. Memory is what a fit needs beyond what
was there before it:

* implicit: the likes matrix (CSR, as passed) plus the peak of what Python allocates
  during ``fit`` (``tracemalloc``: its copy of the matrix, the transpose, the factors);
* Spark: the peak of the JVM heap from loading the likes to the end of ``fit``
  (:attr:`recasketch.models.spark_als.SparkALS.peak_heap_bytes_`), which includes garbage not
  yet collected, so it is an upper bound; and what is still held after a full GC at the
  end (``retained_heap_bytes_``: the cached likes and the factors), a lower bound.
"""

from __future__ import annotations

import dataclasses
import gc
import time
import tracemalloc
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import psutil
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from ..datasets.synthetic import PRESETS, make_sketchfab_like
from ..models.spark_als import SparkALS, stop_spark
from ..parallel import cluster
from ..preprocess import build_interactions, threshold_interactions
from ..tuning.grid import grid_search_learning_curve

__all__ = ["FitCost", "compare_grid_schedulers", "fit_growth", "growth_table", "implicit_fit_cost",
           "machine_memory_bytes", "scaled_likes", "scaled_preset", "spark_fit_cost", "stop_engines"]


def scaled_preset(scale: float, base: str = "full"):
    """The synthetic preset ``base`` with ``scale`` times its users and models.

    Likes grow in proportion: every user keeps the same activity distribution, and
    the models' popularity the same shape over ``scale`` times as many models.
    Duplicate rows scale too. Returns a :class:`recasketch.datasets.synthetic.Preset`.

    Examples
    --------
    >>> p = scaled_preset(4, "sample")
    >>> p.n_users, p.n_models
    (11200, 5200)
    """
    if base not in PRESETS:
        raise ValueError(f"Unknown preset {base!r}; choose one of {sorted(PRESETS)}.")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}.")
    p = PRESETS[base]
    return dataclasses.replace(p, n_users=max(int(round(p.n_users * scale)), 2),
                               n_models=max(int(round(p.n_models * scale)), 2),
                               n_duplicates=int(round(p.n_duplicates * scale)))


def scaled_likes(scale: float, base: str = "full", random_state=0) -> sp.csr_matrix:
    """The 5/5-core likes matrix of :func:`scaled_preset` (users x models, CSR)."""
    data = make_sketchfab_like(scaled_preset(scale, base), random_state=random_state)
    likes = data.likes.drop_duplicates()
    return build_interactions(threshold_interactions(likes, verbose=False)).matrix


class FitCost(NamedTuple):
    """Seconds per ALS iteration and the memory of one fit.

    ``peak_bytes`` is the most a fit held at once (for Spark an upper bound, garbage
    included); ``retained_bytes`` what it still holds after a full GC at the end (Spark
    only: a lower bound of what it needs), ``None`` where not measured.
    """

    seconds_per_iteration: float
    peak_bytes: int
    retained_bytes: int | None = None


def _matrix_bytes(matrix: sp.csr_matrix) -> int:
    return int(matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes)


def _check_iterations(iterations) -> tuple:
    few, many = (int(i) for i in iterations)
    if not 1 <= few < many:
        raise ValueError(f"iterations must be two counts 1 <= a < b, got {iterations!r}.")
    return few, many


def implicit_fit_cost(matrix, iterations=(2, 6), factors: int = 40, **params) -> FitCost:
    """Seconds per iteration and memory of implicit's ALS (CPU) fitting ``matrix``.

    Fits with ``iterations[0]`` and ``iterations[1]`` iterations (timed), then once more
    under ``tracemalloc`` for the memory. ``params`` go to ``AlternatingLeastSquares``.
    """
    few, many = _check_iterations(iterations)
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    params = {"random_state": 0, **params}

    def fit(n):
        model = AlternatingLeastSquares(factors=factors, iterations=n, **params)
        start = time.perf_counter()
        model.fit(matrix, show_progress=False)
        return time.perf_counter() - start

    # implicit runs its own threads; BLAS threads beside them oversubscribe the cores
    # (measured: up to 5x slower per iteration on 2 cores), so BLAS gets one, as in the grids.
    with threadpool_limits(1, "blas"):
        seconds = (fit(many) - fit(few)) / (many - few)
        gc.collect()
        tracemalloc.start()
        try:
            fit(few)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return FitCost(max(seconds, 0.0), _matrix_bytes(matrix) + int(peak))


def spark_fit_cost(matrix, iterations=(2, 6), factors: int = 40, spark=None, **params) -> FitCost:
    """Seconds per iteration and peak JVM heap of Spark's ALS fitting ``matrix``.

    ``params`` go to :class:`recasketch.models.spark_als.SparkALS`.
    """
    few, many = _check_iterations(iterations)
    params = {"random_state": 0, **params}
    short = SparkALS(factors=factors, iterations=few, spark=spark, **params).fit(matrix)
    long = SparkALS(factors=factors, iterations=many, spark=spark, **params).fit(matrix)
    seconds = (long.fit_seconds_ - short.fit_seconds_) / (many - few)
    if long.peak_heap_bytes_ is None:  # a cluster: its executors' memory is not seen from here
        return FitCost(max(seconds, 0.0), 0, None)
    return FitCost(max(seconds, 0.0), max(short.peak_heap_bytes_, long.peak_heap_bytes_),
                   max(short.retained_heap_bytes_, long.retained_heap_bytes_))


def growth_table(engines: dict[str, Callable], scales: Sequence[float], base: str = "full",
                 fraction: float = 1.0, random_state=0, progress: Callable | None = None) -> pd.DataFrame:
    """Measure each engine's :class:`FitCost` on the likes of each scaled preset.

    Parameters
    ----------
    engines : dict of str to callable
        Name -> ``cost(matrix) -> FitCost``, e.g. ``functools.partial(implicit_fit_cost,
        iterations=(5, 15))``.
    scales : sequence of float
        Multiples of the preset's users and models (after ``fraction``), e.g. (1, 4, 16).
    base : str, default="full"
        The synthetic preset.
    fraction : float, default=1.0
        Applied before ``scales`` (a small budget uses a fraction of the preset).
    random_state : int, default=0
        Seed of the generator.
    progress : callable, default=None
        Called with a line of text after each measurement.

    Returns
    -------
    pandas.DataFrame
        One row per (scale, engine): ``scale``, ``users``, ``items``, ``likes``,
        ``engine``, ``seconds per iteration``, ``peak MB``, ``retained MB`` (NaN where not
        measured) and ``bytes per like`` (of the peak).
    """
    rows = []
    for scale in scales:
        matrix = scaled_likes(scale * fraction, base, random_state=random_state)
        for name, cost in engines.items():
            measured = cost(matrix)
            retained = np.nan if measured.retained_bytes is None else measured.retained_bytes / 2**20
            rows.append({"scale": scale, "users": matrix.shape[0], "items": matrix.shape[1], "likes": matrix.nnz,
                         "engine": name, "seconds per iteration": measured.seconds_per_iteration,
                         "peak MB": measured.peak_bytes / 2**20, "retained MB": retained,
                         "bytes per like": measured.peak_bytes / matrix.nnz})
            if progress is not None:
                progress(f"{name}: {matrix.nnz:,} likes, {measured.seconds_per_iteration:.3f} s/iteration, "
                         f"{measured.peak_bytes / 2**20:,.0f} MB")
    return pd.DataFrame(rows)


def machine_memory_bytes() -> int:
    """This machine's physical memory."""
    return int(psutil.virtual_memory().total)


def fit_growth(table: pd.DataFrame, memory_bytes: int | None = None, memory: str = "peak MB") -> pd.DataFrame:
    """The growth of each engine's cost with the likes, and where memory runs out.

    Time: ``seconds = c * likes ** exponent``, fitted by least squares on the logs.
    Memory: ``bytes = fixed + per_like * likes``, fitted by least squares. The
    projection is the likes at which ``bytes`` reaches ``memory_bytes`` (this machine's
    memory by default), with the seconds per iteration there. ``memory`` names the
    column fitted (``"peak MB"`` or ``"retained MB"``); engines without it are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``engine``: ``time exponent``, ``bytes per like`` (the fitted slope),
        ``fixed MB``, ``likes at memory limit`` and ``seconds per iteration there``.

    Examples
    --------
    >>> t = pd.DataFrame({"engine": ["a"] * 3, "likes": [1e3, 4e3, 16e3],
    ...                   "seconds per iteration": [0.01, 0.04, 0.16], "peak MB": [1.0, 2.5, 8.5]})
    >>> g = fit_growth(t, memory_bytes=2**30)
    >>> round(float(g.loc["a", "time exponent"]), 3), round(float(g.loc["a", "bytes per like"]))
    (1.0, 524)
    """
    memory_bytes = machine_memory_bytes() if memory_bytes is None else int(memory_bytes)
    rows = {}
    for engine, part in table.groupby("engine", sort=False):
        if part[memory].isna().any():
            continue
        likes = part["likes"].to_numpy(dtype=float)
        seconds = part["seconds per iteration"].to_numpy(dtype=float)
        peak = part[memory].to_numpy(dtype=float) * 2**20
        if len(part) < 2 or np.ptp(likes) == 0:
            raise ValueError(f"{engine}: fitting a growth needs measurements at two or more sizes.")
        positive = seconds > 0
        if positive.sum() >= 2:
            exponent, log_c = np.polyfit(np.log(likes[positive]), np.log(seconds[positive]), 1)
        else:
            exponent, log_c = np.nan, np.nan
        per_like, fixed = np.polyfit(likes, peak, 1)
        limit = (memory_bytes - fixed) / per_like if per_like > 0 else np.inf
        rows[engine] = {"time exponent": exponent, "bytes per like": per_like, "fixed MB": fixed / 2**20,
                        "likes at memory limit": limit,
                        "seconds per iteration there": float(np.exp(log_c) * limit ** exponent)
                        if np.isfinite(limit) and np.isfinite(exponent) else np.nan}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "engine"
    return out


def compare_grid_schedulers(train, test, users, param_grid, epochs, schedulers: dict, k: int = 5,
                            n_jobs: int | None = None, base_params=None, cold_start: bool = True):
    """Run one grid of learning curves on each scheduler in turn, timing each.

    Parameters
    ----------
    train, test : scipy.sparse matrix of shape (n_users, n_items)
    users : array-like of int
        The split's users.
    param_grid : mapping
        As for :func:`recasketch.tuning.grid.grid_search_learning_curve` (implicit's ALS).
    epochs : list of int
        Checkpoints.
    schedulers : dict of str to scheduler
        Display name -> ``scheduler`` argument, run in this order, e.g.
        ``{"process pool": "processes", "Dask, started here": "local", "Dask, running": "local"}``.
    k : int, default=5
    n_jobs : int, default=None
        Worker processes on this machine (``None``: one per core).
    base_params : mapping, default=None
        Shared model parameters; default ``{"random_state": 0}``.
    cold_start : bool, default=True
        Stop a running LocalCluster before the first ``"local"`` entry, so its time
        includes starting the cluster (as a script's first grid does).

    Returns
    -------
    table : pandas.DataFrame
        One row per scheduler: ``scheduler``, ``wall seconds``, ``combinations``,
        ``relative to first`` (wall time over the first row's) and ``largest difference``
        (the largest absolute difference of any score from the first row's results).
    results : dict of str to pandas.DataFrame
        Each scheduler's results frame.
    """
    base_params = {"random_state": 0} if base_params is None else dict(base_params)
    if not schedulers:
        raise ValueError("Give at least one scheduler to time.")
    results, seconds = {}, {}
    stopped = not cold_start
    for name, scheduler in schedulers.items():
        if not stopped and scheduler == cluster.LOCAL:
            cluster.close_local()
            stopped = True
        start = time.perf_counter()
        results[name] = grid_search_learning_curve(base_params, param_grid, train, test, epochs, k=k,
                                                          user_index=users, n_jobs=n_jobs, progress=False,
                                                          scheduler=scheduler)
        seconds[name] = time.perf_counter() - start
    first = next(iter(results))

    def scores(frame):
        keep = frame[frame.metric != "seconds"]
        return keep.sort_values([*param_grid, "epoch", "metric", "split"], kind="stable")["value"].to_numpy()

    rows = [{"scheduler": name, "wall seconds": seconds[name],
             "combinations": int(frame.groupby(list(param_grid)).ngroups),
             "relative to first": seconds[name] / seconds[first],
             "largest difference": float(np.max(np.abs(scores(frame) - scores(results[first]))))}
            for name, frame in results.items()]
    return pd.DataFrame(rows), results


def stop_engines() -> None:
    """Stop what notebook 05 started: the Spark session and the Dask LocalCluster, if running."""
    stop_spark()
    cluster.close_local()
