"""Execute notebooks top to bottom and write them back without volatile metadata.

``python -m recasketch.tools.execute --inplace notebooks/*.ipynb`` refreshes the committed
outputs (what ``make run`` does); ``--out DIR`` writes the executed copies to ``DIR``
instead and points ``RECASKETCH_RESULTS_DIR`` there, so the notebooks save their
figures and metric tables beside them (what ``make results`` does).

Every notebook path and the output folder are checked before anything runs (exit status 2,
one line per problem, when one is unusable). What the kernels print themselves, such as the
tracebacks of a kernel shut down mid-cell, goes to ``kernel.log`` in the ``--out`` folder
(for ``--inplace``, to a temporary file, removed when every notebook ran), not the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import functools
import json
import os
import platform
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError

from ..study import budgets
from ..study.report import SITTINGS_LOG

__all__ = ["KERNEL_LOG", "RUN_METADATA", "describe_machine", "execute_notebook", "machine", "record_run"]


#: The file in an ``--out`` folder that collects what the kernels print themselves (their
#: warnings, and the tracebacks of a kernel shut down mid-cell), rather than the terminal.
KERNEL_LOG = "kernel.log"


#: The key of the notebook metadata in which an executed notebook records its run: the data and
#: budget it ran with, the machine, and its wall time (see :func:`record_run`).
RUN_METADATA = "recasketch"

#: The environment variables that the notebooks' parameter cell reads, by the name recorded.
_PARAMETERS = {"data": "RECASKETCH_DATA", "budget": "RECASKETCH_BUDGET"}


#: A tqdm bar's elapsed/remaining time and rate, e.g. `` [00:06<00:00, 5.69combination/s]``.
_BAR_TIMING = re.compile(r" \[\d+:\d\d(?::\d\d)?<[^\]\n]*\]")


#: Terminal colour codes, which Jupyter puts in error messages.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _failure(exc: Exception) -> str:
    """One readable line for a failed notebook: the error's last line, without colour codes."""
    lines = _ANSI.sub("", str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"


def _settle_progress(text: str) -> str:
    """What a terminal would show, less what changes from run to run: on each line only
    the text after its last ``\\r``, and no progress bar timings."""
    return _BAR_TIMING.sub("", "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n")))


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name and settle progress bars."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == out["name"]):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = _settle_progress(out["text"])
    return [o for o in merged if not (o.get("output_type") == "stream" and not o["text"].strip())]


def _strip_volatile(nb) -> None:
    nb.metadata.pop("widgets", None)
    nb.metadata.get("kernelspec", {}).update(display_name="Python 3", name="python3")
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)


def _parameter_default(nb, variable: str):
    """The default the notebook's code gives ``variable``: ``os.environ.get("VAR", "default")``.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell('BUDGET = os.environ.get("RECASKETCH_BUDGET", "ci")  # ci | full')
    >>> _parameter_default(nbformat.v4.new_notebook(cells=[cell]), "RECASKETCH_BUDGET")
    'ci'
    >>> _parameter_default(nbformat.v4.new_notebook(cells=[cell]), "RECASKETCH_DATA") is None
    True
    """
    pattern = re.compile(r"""os\.environ\.get\(\s*["']""" + re.escape(variable)
                         + r"""["']\s*,\s*["']([^"'\n]*)["']\s*\)""")
    for cell in nb.cells:
        found = pattern.search(cell.source) if cell.cell_type == "code" else None
        if found:
            return found.group(1)
    return None


def machine() -> dict:
    """The machine this process runs on, as a run records it: nothing that changes between runs.

    Returns
    -------
    dict
        ``cpus`` (the CPUs this process may use), ``cpu`` (the processor's model name, or
        ``None``), ``memory_gib`` (physical memory, rounded to a GiB, or ``None``), ``os``
        (system and architecture, e.g. ``"Linux x86_64"``) and ``gpus`` (NVIDIA GPUs the
        driver lists, or ``None`` where that cannot be told).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count()
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    cpu = cpu or platform.processor() or None
    try:
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (AttributeError, ValueError, OSError):
        memory = None
    gpus = None
    if platform.system() == "Linux":
        listed = Path("/proc/driver/nvidia/gpus")
        gpus = len(list(listed.iterdir())) if listed.is_dir() else 0
    return {"cpus": cpus, "cpu": cpu, "memory_gib": memory,
            "os": f"{platform.system()} {platform.machine()}".strip() or None, "gpus": gpus}


def describe_machine(info) -> str:
    """One line for a machine that :func:`machine` described.

    Parameters
    ----------
    info : dict
        :func:`machine`'s result, as a notebook's metadata holds it; missing keys are left out.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_machine({"cpus": 2, "cpu": "Intel(R) Xeon(R) Processor @ 2.80GHz", "memory_gib": 24,
    ...                   "os": "Linux x86_64", "gpus": 0})
    '2 CPUs (Intel(R) Xeon(R) Processor @ 2.80GHz), 24 GiB memory, Linux x86_64, no NVIDIA GPU'
    >>> describe_machine({"cpus": 1, "gpus": 2}), describe_machine({})
    ('1 CPU, 2 NVIDIA GPUs', 'not recorded')
    """
    parts = []
    if info.get("cpus"):
        parts.append(f"{info['cpus']} CPU{'s' if info['cpus'] != 1 else ''}"
                     + (f" ({info['cpu']})" if info.get("cpu") else ""))
    if info.get("memory_gib"):
        parts.append(f"{info['memory_gib']} GiB memory")
    if info.get("os"):
        parts.append(info["os"])
    if info.get("gpus") is not None:
        gpus = info["gpus"]
        parts.append("no NVIDIA GPU" if gpus == 0 else f"{gpus} NVIDIA GPU{'s' if gpus != 1 else ''}")
    return ", ".join(parts) or "not recorded"


def record_run(nb, seconds=None, environ=None) -> dict:
    """Write into ``nb.metadata["recasketch"]`` what the notebook ran with, and return it.

    The data and budget are the environment variables the parameter cell reads
    (``RECASKETCH_DATA``, ``RECASKETCH_BUDGET``), or the defaults the cell gives them where
    they are not set; then this machine (:func:`machine`) and the wall time. Nothing else:
    no date, so a notebook run again on the same machine changes only in its seconds.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook; changed in place.
    seconds : float, default=None
        The wall time of the execution, rounded to 0.1 s; ``None`` records none (a run that
        did not complete).
    environ : mapping, default=None
        Where the variables are read; ``None`` reads ``os.environ`` (the kernel's).

    Returns
    -------
    dict
        The metadata written: ``data``, ``budget``, ``machine`` and, when given, ``seconds``.
    """
    environ = os.environ if environ is None else environ
    record = {name: environ.get(variable) or _parameter_default(nb, variable)
              for name, variable in _PARAMETERS.items()}
    record["machine"] = machine()
    if seconds is not None:
        record["seconds"] = round(float(seconds), 1)
    nb.metadata[RUN_METADATA] = record
    return record


def execute_notebook(path, out_path=None, timeout=None, cwd=None, kernel_log=None) -> Path:
    """Run the notebook at ``path`` in a fresh kernel and save it.

    Parameters
    ----------
    path : str or Path
        The notebook to run.
    out_path : str or Path, default=None
        Where to write the executed notebook; ``None`` overwrites ``path``.
    timeout : int, default=None
        Seconds allowed per cell; ``None`` means no limit.
    cwd : str or Path, default=None
        Working directory of the kernel; defaults to the notebook's folder.
    kernel_log : str or Path, default=None
        A file to which the kernel process's own stdout and stderr are appended (its
        warnings, and its tracebacks when it is shut down mid-cell); ``None`` leaves
        them on this process's terminal.

    Returns
    -------
    Path
        The written notebook, with what it ran with in its metadata (:func:`record_run`;
        the wall time only when every cell ran). If a cell fails, the partly executed
        notebook is still written (so the error can be read there) and the error is raised.

    Raises
    ------
    CellTimeoutError
        When a cell runs past ``timeout``; its message names the cell and the limit.
    """
    path = Path(path)
    out_path = Path(out_path) if out_path is not None else path
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    client.on_notebook_start = functools.partial(_record_stops, client)
    running = {}
    client.on_cell_execute = lambda cell, cell_index: running.update(index=cell_index)
    seconds = None
    with _open_kernel_log(kernel_log, path.name) as log:
        start = time.perf_counter()
        try:
            client.execute(stdout=log, stderr=log)
            seconds = time.perf_counter() - start
        except CellTimeoutError as exc:
            if timeout is None or "index" not in running:
                raise
            raise CellTimeoutError(_timeout_message(nb.cells, running["index"], timeout)) from exc
        finally:
            _strip_volatile(nb)
            record_run(nb, seconds)
            out_path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out_path)
    return out_path


def _open_kernel_log(path, notebook: str):
    """A context giving the open ``path`` (appended to, after a line naming ``notebook``).

    Parameters
    ----------
    path : str or Path or None
        The log file; ``None`` gives a context yielding ``None``.
    notebook : str
        The name written on the log's header line.

    Returns
    -------
    contextlib.AbstractContextManager
        Yields the open file, or ``None``.
    """
    if path is None:
        return contextlib.nullcontext()
    log = open(path, "a")
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    log.write(f"--- kernel of {notebook}, started {stamp}\n")
    log.flush()  # before the kernel, which shares the file, writes its own lines
    return log


def _timeout_message(cells, index: int, timeout) -> str:
    """One line naming the cell that ran past the limit and the limit.

    Parameters
    ----------
    cells : list
        The notebook's cells.
    index : int
        The position of the cell in ``cells``, counting from 0.
    timeout : int
        The limit per cell, in seconds.

    Returns
    -------
    str

    Examples
    --------
    >>> cells = [{"source": "# hi"}, {"source": "\\n  import time\\ntime.sleep(9)"}]
    >>> _timeout_message(cells, 1, 2)
    "cell 1 ('import time', counting cells from 0) was still running after 2 s, the limit per cell"
    """
    first = next((line.strip() for line in cells[index]["source"].splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return (f"cell {index} ({first!r}, counting cells from 0) was still running after {timeout} s, "
            "the limit per cell")


def main(argv=None) -> int:
    """Run the command line; see the module's docstring.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 when every notebook ran, 1 when one failed, 2 when a notebook path or the
        output folder is unusable (then nothing runs), 130 when the run was stopped.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--inplace", action="store_true", help="overwrite each notebook")
    where.add_argument("--out", type=Path, help="folder for the executed copies and their results")
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    problems = _problems(args.notebooks, args.out) or _make_out(args.out)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    if args.out is not None:
        os.environ["RECASKETCH_RESULTS_DIR"] = str(args.out.resolve())
        log = args.out / KERNEL_LOG
    else:
        fd, name = tempfile.mkstemp(prefix="recasketch-kernels-", suffix=".log")
        os.close(fd)
        log = Path(name)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` ends a run as Ctrl-C does: recorded
    try:
        status = _run_all(args, log)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if status == 0 and args.out is None:
        log.unlink(missing_ok=True)  # nothing went wrong, and nobody was told of it
    return status


def _run_all(args, log: Path) -> int:
    """Execute ``args.notebooks`` in turn, stopping at the first that fails or is stopped.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.
    log : Path
        Where the kernels' own output goes.

    Returns
    -------
    int
        The status of the first notebook that did not complete, else 0.
    """
    for nb_path in args.notebooks:
        target = nb_path if args.inplace else args.out / nb_path.name
        print(f"executing {nb_path} -> {target}", flush=True)
        status = _run_one(nb_path, target, args.out, args.timeout, log)
        if status:
            return status
    return 0


def _run_one(nb_path: Path, target: Path, out, timeout, log: Path) -> int:
    """Execute one notebook, record its sitting, and say how it ended.

    Parameters
    ----------
    nb_path, target : Path
        The notebook, and where its executed copy goes.
    out : Path or None
        The results folder, where the sittings are recorded; ``None`` records none.
    timeout : int or None
        Seconds allowed per cell.
    log : Path
        Where the kernel's own output goes.

    Returns
    -------
    int
        0 when it ran, 1 when a cell failed, 130 when the run was stopped.
    """
    start = time.perf_counter()
    before = _stamp(target)
    sitting = _Sitting(out, nb_path.name, plan=_plan_of(nb_path))
    try:
        execute_notebook(nb_path, target, timeout=timeout, cwd=nb_path.parent, kernel_log=log)
    except BaseException as exc:
        kept = _kept(target, before, log)
        if _was_stopped(exc):
            sitting.end("interrupted")
            print(f"INTERRUPTED {nb_path} after {time.perf_counter() - start:.0f} s; kept {kept}; "
                  "run it again to resume from its logs", file=sys.stderr)
            return 130
        if not isinstance(exc, Exception):
            raise
        sitting.end("failed")
        print(f"FAILED {nb_path}: {_failure(exc)}", file=sys.stderr)
        print(f"kept {kept}", file=sys.stderr)
        return 1
    sitting.end("completed")
    print(f"done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


def _plan_of(nb_path: Path, environ=None) -> str | None:
    """The fingerprint of what one of the project's notebooks computes at the budget it runs with
    (:func:`recasketch.study.budgets.plan_id`); ``None`` for any other notebook.

    Examples
    --------
    >>> full = {"RECASKETCH_BUDGET": "full"}
    >>> _plan_of(Path("notebooks/02_warp_side_information.ipynb"), full) == budgets.plan_id("02", "full")
    True
    >>> _plan_of(Path("my_analysis.ipynb"), full) is None
    True
    """
    environ = os.environ if environ is None else environ
    number = nb_path.name[:2]
    if number not in budgets.NOTEBOOKS:
        return None
    budget = environ.get(_PARAMETERS["budget"])
    if not budget and nb_path.exists():
        budget = _parameter_default(nbformat.read(nb_path, as_version=4), _PARAMETERS["budget"])
    try:
        return budgets.plan_id(number, budget)
    except (TypeError, ValueError):
        return None  # no budget, or one the notebook will refuse itself


def _stamp(path: Path):
    """What tells whether ``path`` was written since: its modification time and size, or ``None``."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _kept(target: Path, before, log: Path) -> str:
    """What a failed or stopped run left to read, naming only files that exist.

    Parameters
    ----------
    target : Path
        Where the executed notebook was to be written.
    before
        ``_stamp(target)`` from before the run: a notebook left there from an earlier
        run is not this run's partly executed one.
    log : Path
        The kernel's log.

    Returns
    -------
    str
        For instance ``"the partly executed notebook (out/a.ipynb) and the kernel's
        messages (out/kernel.log)"``, or ``"nothing"``.
    """
    kept = []
    now = _stamp(target)
    if now is not None and now != before:
        kept.append(f"the partly executed notebook ({target})")
    if log.is_file():
        kept.append(f"the kernel's messages ({log})")
    return " and ".join(kept) or "nothing"


# --------------------------------------------------------------------- checks before a run

def _problems(notebooks, out) -> list:
    """One line for each reason the run could not go through, found before anything runs.

    Parameters
    ----------
    notebooks : list of Path
        The notebooks to run.
    out : Path or None
        The ``--out`` folder; ``None`` for ``--inplace``, which needs each notebook writable.

    Returns
    -------
    list of str
        Empty when the run can start.
    """
    problems = [p for p in map(_notebook_problem, notebooks) if p]
    if out is None:
        problems += [f"{path}: cannot be overwritten (--inplace): no permission to write it"
                     for path in notebooks if path.is_file() and not os.access(path, os.W_OK)]
        return problems
    problem = _out_problem(out)
    if problem:
        return problems + [problem]
    written = {}
    for path in notebooks:
        target = out / path.name
        first = written.setdefault(target, path)
        if first.resolve() != path.resolve():
            problems.append(f"{first} and {path} would both be written to {target}")
        elif first is path and target.is_dir():
            problems.append(f"{path} cannot be written to {target}: it is a folder")
    return problems


def _notebook_problem(path: Path):
    """Why ``path`` is not a notebook that can be run, in one line, or ``None`` when it is.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str or None
    """
    if not path.exists():
        return f"{path}: no such file"
    if not path.is_file():
        return f"{path}: not a file"
    if path.suffix != ".ipynb":
        return f"{path}: not a notebook (its name does not end in .ipynb)"
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        return f"{path}: not a notebook (not valid JSON: {exc})"
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot be read ({exc})"
    version = data.get("nbformat") if isinstance(data, dict) else None
    if not isinstance(version, int) or version not in nbformat.versions:
        return f"{path}: not a notebook (its JSON has no nbformat version that nbformat knows)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids, which nbformat repairs
            nbformat.validate(nbformat.convert(nbformat.from_dict(data), 4))
    except Exception as exc:  # noqa: BLE001 - nbformat raises KeyError, TypeError... on bad input
        return f"{path}: not a valid notebook ({_first_line(exc)})"
    return None


def _first_line(exc: Exception) -> str:
    """The first line of an error's message, or its type's name when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _out_problem(out: Path):
    """Why ``out`` cannot be the results folder, in one line, or ``None`` when it can.

    Parameters
    ----------
    out : Path
        The ``--out`` folder, which need not exist yet.

    Returns
    -------
    str or None
    """
    if out.is_dir():
        return None if _can_write_in(out) else f"--out {out}: cannot write files in this folder"
    if out.is_file():
        return f"--out {out}: is a file, not a folder"
    if out.exists() or out.is_symlink():
        return f"--out {out}: exists but is not a folder"
    above = next(p for p in out.absolute().parents if p.exists() or p.is_symlink())
    if not above.is_dir():
        return f"--out {out}: cannot be created, as {above} is not a folder"
    if not os.access(above, os.W_OK | os.X_OK):
        return f"--out {out}: cannot be created, as {above} is not writable"
    return None


def _can_write_in(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, then removed)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _make_out(out) -> list:
    """Create the ``--out`` folder (when there is one), or say in one line why it cannot be."""
    if out is None:
        return []
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [f"--out {out}: cannot be created ({exc.strerror or exc})"]
    return [] if _can_write_in(out) else [f"--out {out}: cannot write files in this folder"]


_stopped = []  # the signals that asked this process to stop


def _was_stopped(exc: BaseException) -> bool:
    """Whether a run ended because it was asked to stop rather than because a cell failed.

    nbclient may turn a stop into another error on its way out, so the signals noted in
    ``_stopped`` decide; Ctrl-C in a terminal also reaches the kernel, which then reports
    a KeyboardInterrupt from the cell it was running.
    """
    return (bool(_stopped) or isinstance(exc, KeyboardInterrupt)
            or getattr(exc, "ename", None) == "KeyboardInterrupt")


def _interrupt(signum, frame):
    _stopped.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def _record_stops(client, notebook=None):
    """While a kernel runs, nbclient handles SIGINT and SIGTERM itself: it shuts the kernel down
    and the run then fails with whatever error that causes. Do the same, noting the signal."""

    def stop(signum):
        _stopped.append(signum)
        # what nbclient's own handler does (NotebookClient.async_setup_kernel, nbclient 0.11)
        client._async_cleanup_kernel_future = asyncio.ensure_future(client._async_cleanup_kernel())
        atexit.unregister(client._cleanup_kernel)

    try:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop, signum)
    except (RuntimeError, NotImplementedError):  # no loop in the main thread, or no signals here
        pass


# --------------------------------------------------------------------- sittings

class _Sitting:
    """One execution of one notebook into a results folder: a line when it starts, one when it
    ends, and one every ``heartbeat_s`` seconds in between, so that a process killed outright
    (no end line) still tells how long it ran, to within a heartbeat. The start line records the
    notebook's ``plan`` (:func:`_plan_of`) where it has one."""

    def __init__(self, folder, notebook: str, heartbeat_s: float = 60.0, plan: str | None = None):
        self.path = None if folder is None else Path(folder) / SITTINGS_LOG
        self.run = uuid.uuid4().hex[:12]
        self.notebook = notebook
        self.started = time.time()
        self._write(event="start", **({} if plan is None else {"plan": plan}))
        self._ended = threading.Event()
        if self.path is not None:
            threading.Thread(target=self._beat, args=(heartbeat_s,), daemon=True).start()

    def _beat(self, every: float):
        while not self._ended.wait(every):
            self._write(event="alive", seconds=round(time.time() - self.started, 1))

    def _write(self, **fields):
        if self.path is None:
            return
        entry = {"run": self.run, "notebook": self.notebook,
                 "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
                 **fields}
        with open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def end(self, status: str):
        self._ended.set()
        self._write(event="end", status=status, seconds=round(time.time() - self.started, 1))


if __name__ == "__main__":
    sys.exit(main())
