"""Long steps kept on disk, so that a notebook run again after a fault resumes where it stopped.

The searches log every call (:func:`recasketch.tuning.search.resumable_search`, the grids'
logs); a step whose result is not a stream of calls (a 30-minute strategy search, a
learning curve per feature variant) runs through :func:`cached` instead. It takes a path
and a *key*: everything that decides the result (parameters, seeds, and a
:func:`fingerprint` of the data). The result is pickled with its key and the seconds it
took, written atomically; run again with the same key, it is read back instead of
recomputed; with another key (other data, other parameters) it is computed again and
replaced. ``path=None`` computes and keeps nothing, as the notebooks do outside
``make results``.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "square.pkl"
>>> calls = []
>>> def square():
...     calls.append(1)
...     return 12 ** 2
>>> cached(path, {"n": 12}, square), cached(path, {"n": 12}, square), len(calls)
(144, 144, 1)
>>> cached(path, {"n": 13}, square), len(calls)  # another key: computed again
(144, 2)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import time
import uuid
import warnings
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..utils import json_default
from . import cluster

__all__ = ["Stored", "cached", "cached_map", "fingerprint", "is_stored", "path_for", "read"]

T = TypeVar("T")


class Stored(NamedTuple):
    """What :func:`cached` keeps: the key (as canonical JSON), the result and its seconds."""

    key: str
    value: object
    seconds: float


def _canonical(key: Mapping) -> str:
    if not isinstance(key, Mapping):
        raise TypeError(f"key must be a mapping of what decides the result, got {type(key).__name__}.")
    return json.dumps(key, sort_keys=True, default=json_default)


def fingerprint(*data) -> str:
    """A short hash of matrices, arrays and frames, to put in a key: equal data, equal hash.

    Sparse matrices are hashed in canonical CSR form (so COO and CSR of the same matrix
    agree); ``None`` hashes as itself.

    Examples
    --------
    >>> m = sp.csr_matrix(np.eye(3, dtype=np.float32))
    >>> fingerprint(m) == fingerprint(m.tocoo()), fingerprint(m) == fingerprint(2 * m)
    (True, False)
    """
    digest = hashlib.sha1()
    for item in data:
        if item is None:
            digest.update(b"none")
        elif sp.issparse(item):
            csr = sp.csr_matrix(item, copy=True)
            csr.sum_duplicates()
            csr.sort_indices()
            digest.update(f"sparse{csr.shape}{csr.dtype}".encode())
            for part in (csr.indptr, csr.indices, csr.data):
                digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(item, (pd.DataFrame, pd.Series)):
            labels = list(item.columns) if isinstance(item, pd.DataFrame) else [item.name]
            digest.update(f"frame{item.shape}{labels}".encode())
            digest.update(pd.util.hash_pandas_object(item, index=True).to_numpy().tobytes())
        else:
            array = np.ascontiguousarray(item)
            if array.dtype == object:
                raise TypeError("fingerprint() takes numeric arrays, sparse matrices and frames, not objects.")
            digest.update(f"array{array.shape}{array.dtype}".encode())
            digest.update(array.tobytes())
        digest.update(b"|")
    return digest.hexdigest()[:16]


def path_for(folder, name: str, key: Mapping) -> Path | None:
    """A file in ``folder`` named after ``name`` and a hash of ``key``; ``None`` without a folder.

    For steps that run for many keys (a fit per model and data), so that each result has
    its own file and none replaces another.

    Examples
    --------
    >>> path_for("results", "warp", {"epochs": 10}).name == path_for("results", "warp", {"epochs": 10}).name
    True
    >>> path_for("results", "warp", {"epochs": 10}) == path_for("results", "warp", {"epochs": 11})
    False
    >>> path_for(None, "warp", {"epochs": 10}) is None
    True
    """
    canonical = _canonical(key)
    if folder is None:
        return None
    return Path(folder) / f"{name}-{hashlib.sha1(canonical.encode()).hexdigest()[:12]}.pkl"


def read(path) -> Stored | None:
    """What :func:`cached` stored at ``path``; ``None`` if there is nothing readable there.

    A file that cannot be read back (cut short, a byte corrupted, written by another version
    of the code, not a kept result at all) counts as missing, with a ``RuntimeWarning``
    naming it, so that the result is computed again and the file replaced.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            stored = pickle.load(f)
    except (FileNotFoundError, NotADirectoryError):  # nothing there
        return None
    except Exception as err:  # a corrupted length reads as a MemoryError, a corrupted opcode as anything
        _warn(f"Could not read the kept result {path} ({type(err).__name__}: {err}); it counts as "
              "missing, and is computed again and replaced.")
        return None
    if not isinstance(stored, Stored):
        _warn(f"{path} holds a {_type_name(stored)}, not a result kept by recasketch.parallel.cache.cached; "
              "it counts as missing, and is computed again and replaced.")
        return None
    return stored


def is_stored(path, key: Mapping) -> bool:
    """Whether :func:`cached` would read ``path`` back for ``key`` instead of computing it."""
    if path is None:
        return False
    stored = read(path)
    return stored is not None and stored.key == _canonical(key)


def _type_name(value) -> str:
    """The type of ``value`` for a message: ``dict``, ``pandas.core.frame.DataFrame``."""
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _warn(message: str) -> None:
    """A ``RuntimeWarning`` about a kept result, shown where :func:`cached` or :func:`read` was called."""
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _store(path: Path, canonical: str, value, seconds: float) -> bool:
    """Keep ``value`` at ``path``, or warn that it cannot be kept; whether it was kept.

    It is written to a temporary file of its own in the same folder (named after the
    process and a random id, so that two writers of one key never share one) and renamed
    over ``path`` atomically: a crash mid-write leaves the old file or none, never half of
    one, and of two writers at once the last to finish wins whole. A value that does not
    pickle, or a folder that cannot be written, leaves no file behind and loses nothing
    but the copy on disk: the caller still gets the value.

    Returns
    -------
    bool
        ``True`` if it was kept; ``False``, with a ``RuntimeWarning`` naming the file and
        the type of the value, if not.
    """
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "xb") as f:
            pickle.dump(Stored(canonical, value, seconds), f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
        return True
    except BaseException as err:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if not isinstance(err, Exception):
            raise  # an interruption mid-write stops the run, leaving no temporary file
        why = (f"it could not be written ({type(err).__name__}: {err})" if isinstance(err, OSError) else
               f"the {_type_name(value)} computed does not pickle ({type(err).__name__}: {err})")
        _warn(f"The result for {path} is returned but could not be kept there: {why}. It will be "
              "computed again next time.")
        return False


def cached(path, key: Mapping, compute: Callable[[], T]) -> T:
    """``compute()``, or its result stored at ``path`` by an earlier run with the same ``key``.

    Parameters
    ----------
    path : str or Path or None
        Where the result is kept (a pickle); ``None`` always computes and keeps nothing.
    key : mapping
        Everything that decides the result, as plain values (numbers, strings, lists,
        dicts) and :func:`fingerprint` strings for data. A stored result is used only
        when its key is equal.
    compute : callable
        Computes the result when there is none to reuse. The result should pickle: one
        that does not is returned all the same, with a ``RuntimeWarning``, and not kept.

    Returns
    -------
    object
        The result.
    """
    return cached_map(compute, {"result": (path, key, {})})["result"]  # one job: runs here


def _timed(function, **kwargs):
    start = time.perf_counter()
    value = function(**kwargs)
    return value, time.perf_counter() - start


def cached_map(function: Callable[..., T], jobs: Mapping[str, tuple], shared: Mapping | None = None,
               scheduler=None) -> dict[str, T]:
    """:func:`cached` for many jobs at once: those not stored yet run in parallel on Dask.

    Parameters
    ----------
    function : callable
        Called as ``function(**kwargs, **shared)`` for each job, on a worker. It, its
        arguments and its result travel with Dask's cloudpickle, which takes a package's
        functions by name and functions defined in a notebook by value.
    jobs : mapping of str to (path, key, kwargs)
        Each job's file (or ``None``: computed, not kept), its key as for
        :func:`cached`, and its own keyword arguments.
    shared : mapping, default=None
        Keyword arguments common to every job (matrices, a model factory): sent to each
        worker once.
    scheduler : str or distributed.Client, default=None
        As in :func:`recasketch.parallel.cluster.get_client` (``None`` reads
        ``RECASKETCH_SCHEDULER``, else a LocalCluster here). No cluster is started when
        every job is stored, or when there is a single job to run (it runs here).

    Returns
    -------
    dict
        Each job's result, in the order of ``jobs``. A job's result is stored the moment
        it finishes, so an interrupted map keeps every job that finished.
    """
    keys = {name: _canonical(key) for name, (_, key, _) in jobs.items()}
    results, todo = {}, []
    for name, (path, _, _) in jobs.items():
        stored = read(path) if path is not None else None
        if stored is not None and stored.key == keys[name]:
            results[name] = stored.value
        else:
            todo.append(name)

    def record(call, outcome):
        name = call["name"]
        value, seconds = outcome
        results[name] = value
        path = jobs[name][0]
        if path is not None:
            _store(Path(path), keys[name], value, seconds)

    shared = dict(shared or {})
    if len(todo) == 1:
        name = todo[0]
        record({"name": name}, _timed(function, **jobs[name][2], **shared))
    elif todo:
        scheduler = cluster.resolve_scheduler(scheduler)
        client = cluster.get_client(cluster.LOCAL if scheduler == cluster.PROCESSES else scheduler)
        calls = [{"name": name, "kwargs": jobs[name][2]} for name in todo]
        cluster.map_unordered(client, _run_job, calls, record, shared=shared, common={"compute": function})
    return {name: results[name] for name in jobs}


def _run_job(name, kwargs, compute, **shared):
    """One job of :func:`cached_map` on a worker: the result and its seconds."""
    return _timed(compute, **kwargs, **shared)
