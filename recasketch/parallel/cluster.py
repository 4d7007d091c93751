"""Dask clusters for the grids and searches: one machine by default, a cluster by address.

A grid of learning curves (:func:`recasketch.tuning.grid.grid_search_learning_curve`) and a
batched search (:func:`recasketch.tuning.batched.batched_search`) run their tasks
where ``scheduler`` says:

``"processes"``
    A ``concurrent.futures`` process pool on this machine (the grid only).
``"local"``
    A Dask ``LocalCluster`` on this machine: one worker process per core, one thread
    each, BLAS pinned to one thread. It is started on first use, its dashboard address
    is printed, and it is kept for the rest of the Python session (a notebook's later
    grids reuse it); :func:`close_local` stops it.
``"tcp://host:8786"``
    An existing Dask cluster (``dask scheduler`` on one machine, ``dask worker
    tcp://host:8786`` on each of the others, with recasketch and its dependencies
    installed on every worker).
a ``distributed.Client``
    Used as it is.

``None`` reads the environment variable ``RECASKETCH_SCHEDULER`` (``make ...
SCHEDULER=tcp://host:8786`` sets it), and without it uses :data:`DEFAULT_SCHEDULER`.

:func:`map_unordered` sends the large inputs (the train and test matrices, an objective
holding them) to every worker once with ``client.scatter(..., broadcast=True)``, submits
one task per item and hands each result back to the caller as it finishes, in this
process, so a log written there receives each finished item exactly once. A worker that
dies mid-task (killed, out of memory) has its task run again on another worker by the
scheduler; if it held the last copy of a scattered input, :class:`Shared` scatters that
input again and the tasks that waited on it are submitted again. A task that raises
stops the run, as it does in a process pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import urllib.parse
import warnings
from typing import Callable, Iterable, Mapping

import dask
import distributed
import distributed.comm
from distributed.client import FutureCancelledError
from threadpoolctl import threadpool_limits

from ..errors import EngineUnavailableError

__all__ = ["DEFAULT_SCHEDULER", "LOCAL", "PROCESSES", "SCHEDULER_ENV", "Shared", "close_local", "get_client",
           "map_unordered", "n_workers", "resolve_scheduler"]

#: The environment variable that sets the default scheduler, e.g. ``tcp://host:8786``.
SCHEDULER_ENV = "RECASKETCH_SCHEDULER"
#: A ``concurrent.futures`` process pool on this machine.
PROCESSES = "processes"
#: An in-process Dask ``LocalCluster`` on this machine.
LOCAL = "local"
#: What a grid runs on when neither ``scheduler`` nor ``RECASKETCH_SCHEDULER`` says: the
#: Dask ``LocalCluster``. Measured with ``make bench-dask`` on a slice of post 1's grid on the
#: full-size synthetic data (2 cores): 0.6 % slower than the process pool once running, plus
#: about 7 s to start it once per session (README, "Measured").
DEFAULT_SCHEDULER = LOCAL

_ADDRESS_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://", "inproc://")

_local = {"client": None, "n_workers": None}
_remote: dict = {}


def resolve_scheduler(scheduler=None):
    """The scheduler a grid or search runs on: ``"processes"``, ``"local"``, an address or a Client.

    Parameters
    ----------
    scheduler : str, distributed.Client or None, default=None
        ``None`` reads ``RECASKETCH_SCHEDULER``, then falls back to
        :data:`DEFAULT_SCHEDULER`.

    Raises
    ------
    ValueError
        For a string that is none of the accepted forms.

    Examples
    --------
    >>> resolve_scheduler("processes"), resolve_scheduler(" tcp://10.0.0.5:8786 ")
    ('processes', 'tcp://10.0.0.5:8786')
    """
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV, "").strip() or DEFAULT_SCHEDULER
    if isinstance(scheduler, str):
        value = scheduler.strip()
        if value in (PROCESSES, LOCAL) or value.startswith(_ADDRESS_SCHEMES):
            return value
        raise ValueError(
            f"Unknown scheduler {scheduler!r}: use 'processes' (a process pool on this machine), "
            "'local' (a Dask LocalCluster on this machine), the address of a running Dask "
            "scheduler such as 'tcp://host:8786', or a distributed.Client. "
            f"(Check the environment variable {SCHEDULER_ENV} if you did not pass it.)"
        )
    if isinstance(scheduler, distributed.Client):
        return scheduler
    raise TypeError(f"scheduler must be a string or a distributed.Client, got {type(scheduler).__name__}.")


def get_client(scheduler=None, n_workers: int | None = None, dashboard_address: str | None = ":8787",
               timeout: float = 10.0, verbose: bool = True):
    """A ``distributed.Client`` for ``scheduler``, starting a LocalCluster if need be.

    Parameters
    ----------
    scheduler : str, distributed.Client or None, default=None
        ``"local"``, an address or a Client (see the module's docstring); ``None`` reads
        ``RECASKETCH_SCHEDULER``. ``"processes"`` is no Dask scheduler and is refused.
    n_workers : int, default=None
        Worker processes of a LocalCluster; ``None`` means one per core. A LocalCluster
        already running with another count is closed and started again. Ignored for an
        existing cluster, which runs on the workers it has.
    dashboard_address : str or None, default=":8787"
        Where a new LocalCluster serves its dashboard (another free port if that one is
        taken); ``None`` starts none.
    timeout : float, default=10.0
        Seconds to wait for a remote scheduler.
    verbose : bool, default=True
        Print the workers and the dashboard address when a LocalCluster starts.

    Raises
    ------
    recasketch.errors.EngineUnavailableError
        If the scheduler at the address cannot be reached.
    """
    original, scheduler = scheduler, resolve_scheduler(scheduler)
    if scheduler == PROCESSES:
        raise ValueError("'processes' is a process pool, not a Dask scheduler; use 'local' or an address.")
    if not isinstance(scheduler, str):
        return scheduler
    if n_workers is not None and (int(n_workers) != n_workers or n_workers < 1):
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}.")
    if scheduler == LOCAL:
        wanted = int(n_workers) if n_workers is not None else (os.cpu_count() or 1)
        client = _local["client"]
        if client is not None and client.status == "running" and _local["n_workers"] == wanted:
            return client
        close_local()
        # Dask sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, so that glibc hands freed memory
        # back at once; then every block of scores an evaluation allocates is a fresh mmap, and
        # the grid's evaluations took about 45 % longer than in a process pool (measured on the
        # full-size synthetic data). glibc's own adaptive threshold is kept here instead.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                warnings.catch_warnings():
            # another cluster's dashboard on the port: Dask takes a free one, and the line below says which
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = distributed.LocalCluster(
                n_workers=wanted, threads_per_worker=1, processes=True, dashboard_address=dashboard_address,
                env={"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
            )
        client = distributed.Client(cluster, set_as_default=False)
        _local.update(client=client, n_workers=wanted)
        if verbose:
            where = f"dashboard at {client.dashboard_link}" if dashboard_address is not None else "no dashboard"
            print(f"Dask LocalCluster: {wanted} worker processes x 1 thread; {where}", flush=True)
        return client
    client = _remote.get(scheduler)
    if client is not None and client.status == "running":
        return client
    client = _connect(scheduler, _source(original), timeout)
    _remote[scheduler] = client
    return client


def _source(scheduler) -> str:
    """Where the address ``scheduler`` (as passed to :func:`get_client`) came from, for messages.

    The callers resolve the scheduler before passing it on, so an address equal to the
    value of ``RECASKETCH_SCHEDULER`` is taken to have come from there.
    """
    from_env = os.environ.get(SCHEDULER_ENV, "").strip()
    if scheduler is None or (isinstance(scheduler, str) and from_env and scheduler.strip() == from_env):
        return f"the environment variable {SCHEDULER_ENV}"
    return "the scheduler argument"


def _unreachable(address: str, source: str, problem: str) -> EngineUnavailableError:
    """The error for a scheduler address that does not lead to a Dask scheduler.

    Parameters
    ----------
    address : str
        The address, e.g. ``tcp://host:8786``.
    source : str
        Where it came from (:func:`_source`).
    problem : str
        What went wrong, in a sentence without its full stop.

    Returns
    -------
    EngineUnavailableError
    """
    dashboard = " (8787 is the port of the dashboard, a web page)" if address.endswith(":8787") else ""
    return EngineUnavailableError(
        f"Could not reach the Dask scheduler at {address}, from {source}: {problem}. "
        f"Check that the address is the scheduler's, which listens on port 8786 by default, not its "
        f"dashboard's on 8787{dashboard}; that the scheduler is running there (`dask scheduler`, then "
        f"`dask worker {address}` on each machine, with recasketch installed); and that no firewall "
        f"blocks the port. To run on this machine instead, unset {SCHEDULER_ENV} (or pass scheduler='local').",
        engine="dask",
    )


def _address_problem(address: str) -> str | None:
    """What is wrong with the form of a scheduler address, or ``None`` if it looks right.

    Examples
    --------
    >>> _address_problem("tcp://10.0.0.5:8786") is None, _address_problem("tcp://[::1]:8786") is None
    (True, True)
    >>> _address_problem("tcp://127.0.0.1:notaport")
    "its port 'notaport' is not an integer from 1 to 65535; write it as tcp://host:8786"
    """
    if address.startswith("inproc://"):
        return None  # this process's own schedulers: inproc://ip/pid/n
    form = "write it as tcp://host:8786"
    try:
        parts = urllib.parse.urlsplit(address)
        port = parts.port
    except ValueError as err:
        netloc = address.split("://", 1)[1]
        after_host = netloc.rsplit("]", 1)[1] if "]" in netloc else netloc
        if netloc.startswith("[") and "]" not in netloc or ":" not in after_host:
            return f"it is not an address ({err}); {form}"
        return f"its port {after_host.rpartition(':')[2]!r} is not an integer from 1 to 65535; {form}"
    if not parts.hostname:
        return f"it names no host; {form}"
    if port is None:
        return f"it names no port; {form}"
    if port == 0:
        return f"its port 0 is none a scheduler listens on; {form}"
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        return f"it holds more than a host and a port; {form}"
    return None


async def _identify(address: str, timeout: float) -> dict:
    """What the server at ``address`` says it is, speaking Dask's protocol to it.

    Raises
    ------
    OSError, MemoryError, ValueError, ...
        Whatever a server that speaks another protocol makes Dask's reader raise.
    """
    comm = await distributed.comm.connect(address, timeout=timeout,
                                          **distributed.Security().get_connection_args("client"))
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _in_thread(function: Callable, timeout: float, abandoned: Callable | None = None):
    """``function()`` in a daemon thread, waited for at most ``timeout`` seconds.

    Parameters
    ----------
    function : callable
        Called without arguments.
    timeout : float
        Seconds to wait for it.
    abandoned : callable, default=None
        Called with the result of a call that returns after the wait ended (a client
        connected too late, to close).

    Returns
    -------
    object
        What ``function`` returned; what it raised is raised.

    Raises
    ------
    TimeoutError
        If it has not returned in time. The thread is left to end by itself; being a
        daemon thread, it does not keep the interpreter from exiting.
    """
    outcome, lock, done = {}, threading.Lock(), threading.Event()

    def run():
        try:
            outcome["value"] = function()
        except BaseException as err:  # handed to the waiting thread
            outcome["error"] = err
        with lock:
            done.set()
            late = outcome.get("late", False)
        if late and abandoned is not None and "value" in outcome:
            with contextlib.suppress(Exception):  # tidying up after a caller that has gone
                abandoned(outcome["value"])

    threading.Thread(target=run, name="recasketch-connect", daemon=True).start()
    done.wait(max(timeout, 0.0))
    with lock:
        outcome["late"] = not done.is_set()
    if outcome["late"]:
        raise TimeoutError(f"no result within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _connect(address: str, source: str, timeout: float):
    """A ``distributed.Client`` of the scheduler at ``address``, within ``timeout`` seconds in all.

    The address is checked first, then asked what it is over Dask's protocol under a
    deadline (a server that accepts and says nothing, a web page, another protocol: Dask's
    own client would wait for ever or fail oddly), then connected to.

    Raises
    ------
    recasketch.errors.EngineUnavailableError
        If the address is malformed, or is not a Dask scheduler answering in time.
    """
    problem = _address_problem(address)
    if problem is None:
        deadline = time.monotonic() + timeout
        try:
            identity = _in_thread(lambda: asyncio.run(asyncio.wait_for(_identify(address, timeout), timeout)),
                                  timeout)
            kind = identity.get("type") if isinstance(identity, dict) else None
            if kind == "Scheduler":
                # the client's timeout is kept for its later calls too (a scatter), so it is the full one
                return _in_thread(lambda: distributed.Client(address, timeout=timeout, set_as_default=False),
                                  max(deadline - time.monotonic(), 0.1), abandoned=lambda client: client.close())
            problem = f"the server there answers as {f'a Dask {kind}' if kind else 'something else'}, not a scheduler"
        except Exception as err:  # a timeout, a refused connection, or any error of a reader fed another protocol
            problem = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            if isinstance(err, (TimeoutError, asyncio.TimeoutError)):
                problem = f"no answer as a Dask scheduler within {timeout:g} s"
            elif isinstance(err, (MemoryError, ValueError, TypeError, KeyError)):  # a length or frame misread
                problem = f"the server there speaks another protocol than Dask's ({problem})"
    raise _unreachable(address, source, problem)


def close_local() -> None:
    """Stop the LocalCluster that :func:`get_client` started, if any."""
    client = _local["client"]
    _local.update(client=None, n_workers=None)
    if client is not None:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


def n_workers(client) -> int:
    """Worker processes (threads, for workers with several) the cluster has now."""
    workers = client.scheduler_info().get("workers", {})
    return max(sum(int(w.get("nthreads", 1)) for w in workers.values()), 1)


_pinned_limits = []


def _pinned(function: Callable, *args, **kwargs):
    """Call ``function`` with BLAS limited to one thread in this (worker) process."""
    if not _pinned_limits:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        _pinned_limits.append(threadpool_limits(1))
    return function(*args, **kwargs)


def map_unordered(client, function: Callable, calls: Iterable[Mapping], on_result: Callable,
                  shared: Mapping | None = None, common: Mapping | None = None, max_resubmits: int = 3,
                  more: Callable | None = None) -> int:
    """Run ``function(**call, **common, **shared)`` for every call on the cluster.

    Parameters
    ----------
    client : distributed.Client
    function : callable
        Importable by the workers (a module-level function of an installed package).
    calls : iterable of mapping
        The keyword arguments of each task, e.g. ``{"params": {...}}``.
    on_result : callable
        ``on_result(call, result)``, called in this process as each task finishes, in
        the order they finish, once per call.
    shared : mapping or Shared, default=None
        Large keyword arguments common to every task (matrices, an objective): sent to
        every worker once (``client.scatter(..., broadcast=True)``), not once per task,
        and released at the end. A :class:`Shared` made by the caller is used as it is
        and left for the caller to release, so several runs can share one scatter.
    common : mapping, default=None
        Small keyword arguments common to every task, sent with each.
    max_resubmits : int, default=3
        How often one call is submitted again after its task was cancelled because its
        inputs were lost.
    more : callable, default=None
        ``more(call, result)``, called after ``on_result``: further calls to run, submitted at
        once (e.g. the next proposal of a search that keeps every worker busy). ``None`` or
        an empty list: none.

    Returns
    -------
    int
        The number of tasks run, those that ``more`` added included.

    Notes
    -----
    A task lost with its worker is run again by the scheduler. The scattered inputs
    cannot be recomputed: Dask keeps fewer copies of them than workers once they have
    been sent (its active memory manager drops replicas), and if the last worker holding
    one dies, the tasks waiting on it are cancelled. Those inputs are then scattered
    again and the cancelled calls submitted again, so a killed worker loses no call.

    If ``on_result`` or the wait is interrupted (``KeyboardInterrupt``, an error in a
    task), the tasks not yet finished are cancelled before the exception propagates;
    what ``on_result`` has written stays written.
    """
    calls = list(calls)
    if not calls:
        return 0
    owned = not isinstance(shared, Shared)
    shared = Shared(client, **dict(shared or {})) if owned else shared
    common = dict(common or {})

    def submit(index):
        return client.submit(_pinned, function, **calls[index], **common, **shared.futures(), pure=False)

    futures, resubmits = {}, [0] * len(calls)
    try:
        futures = {submit(i): i for i in range(len(calls))}
        pending = distributed.as_completed(list(futures), loop=client.loop)
        for future in pending:
            index = futures.pop(future)
            try:
                result = future.result()
            except FutureCancelledError:
                resubmits[index] += 1
                if resubmits[index] > max_resubmits:
                    raise
                again = submit(index)  # with the inputs scattered again where they were lost
                futures[again] = index
                pending.add(again)
                continue
            on_result(calls[index], result)
            for call in (more(calls[index], result) if more is not None else None) or ():
                calls.append(call)
                resubmits.append(0)
                again = submit(len(calls) - 1)
                futures[again] = len(calls) - 1
                pending.add(again)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        if owned:
            shared.release()
    return len(calls)


class Shared:
    """Large inputs of many tasks, sent to every worker of ``client`` once.

    Each value is scattered with ``broadcast=True`` on first use; :meth:`futures` scatters
    again any value whose data was lost (the last worker holding it died), so tasks
    submitted after the loss find it. ``None`` values are passed to the tasks as they are.

    Parameters
    ----------
    client : distributed.Client
    **values
        Name -> object, the task keyword arguments to share.
    """

    def __init__(self, client, **values):
        self.client = client
        self.values = {name: value for name, value in values.items() if value is not None}
        self.empty = {name: None for name, value in values.items() if value is None}
        self._futures = {}

    def futures(self) -> dict:
        """Name -> the future of each value (``None`` for a ``None`` value)."""
        for name, value in self.values.items():
            future = self._futures.get(name)
            if future is None or future.status in ("cancelled", "lost", "error"):
                # in a list of one: scatter would otherwise send a list's, tuple's or dict's items apart
                self._futures[name] = self.client.scatter([value], broadcast=True, hash=False)[0]
        return {**self.empty, **self._futures}

    def release(self) -> None:
        """Let the workers drop the scattered data."""
        if self._futures:
            self.client.cancel(list(self._futures.values()))
        self._futures = {}
