"""Execute notebooks top to bottom and write them back without volatile metadata.

``python -m recasketch.tools.execute --inplace notebooks/*.ipynb`` refreshes the committed
outputs (what ``make run`` does); ``--out DIR`` writes the executed copies to ``DIR``
instead and points ``RECASKETCH_RESULTS_DIR`` there, so the notebooks save their
figures and metric tables beside them (what ``make results`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import functools
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ..study.report import SITTINGS_LOG

__all__ = ["execute_notebook"]


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


def execute_notebook(path, out_path=None, timeout=None, cwd=None) -> Path:
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

    Returns
    -------
    Path
        The written notebook. If a cell fails, the partly executed notebook is
        still written (so the error can be read there) and the error is raised.
    """
    path = Path(path)
    out_path = Path(out_path) if out_path is not None else path
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    client.on_notebook_start = functools.partial(_record_stops, client)
    try:
        client.execute()
    finally:
        _strip_volatile(nb)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_path)
    return out_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--inplace", action="store_true", help="overwrite each notebook")
    where.add_argument("--out", type=Path, help="folder for the executed copies and their results")
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        os.environ["RECASKETCH_RESULTS_DIR"] = str(args.out.resolve())
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` ends a run as Ctrl-C does: recorded
    try:
        return _run_all(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_all(args) -> int:
    for nb_path in args.notebooks:
        target = nb_path if args.inplace else args.out / nb_path.name
        start = time.perf_counter()
        print(f"executing {nb_path} -> {target}", flush=True)
        sitting = _Sitting(args.out, nb_path.name)
        try:
            execute_notebook(nb_path, target, timeout=args.timeout, cwd=nb_path.parent)
        except BaseException as exc:
            if _was_stopped(exc):
                sitting.end("interrupted")
                print(f"INTERRUPTED {nb_path} after {time.perf_counter() - start:.0f} s; run it again to "
                      "resume from its logs", file=sys.stderr)
                return 130
            if not isinstance(exc, Exception):
                raise
            sitting.end("failed")
            print(f"FAILED {nb_path}: {_failure(exc)}", file=sys.stderr)
            print(f"the partly executed notebook is in {target}", file=sys.stderr)
            return 1
        sitting.end("completed")
        print(f"done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


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
    (no end line) still tells how long it ran, to within a heartbeat."""

    def __init__(self, folder, notebook: str, heartbeat_s: float = 60.0):
        self.path = None if folder is None else Path(folder) / SITTINGS_LOG
        self.run = uuid.uuid4().hex[:12]
        self.notebook = notebook
        self.started = time.time()
        self._write(event="start")
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
