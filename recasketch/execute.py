"""Execute notebooks top to bottom and write them back without volatile metadata.

``python -m recasketch.execute --inplace notebooks/*.ipynb`` refreshes the committed
outputs (what ``make run`` does); ``--out DIR`` writes the executed copies to ``DIR``
instead and points ``RECASKETCH_RESULTS_DIR`` there, so the notebooks save their
figures and metric tables beside them (what ``make results`` does).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

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
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    out_path = Path(out_path) if out_path is not None else path
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )
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
    for nb_path in args.notebooks:
        target = nb_path if args.inplace else args.out / nb_path.name
        start = time.perf_counter()
        print(f"executing {nb_path} -> {target}", flush=True)
        try:
            execute_notebook(nb_path, target, timeout=args.timeout, cwd=nb_path.parent)
        except Exception as exc:  # report and stop, keeping what ran
            print(f"FAILED {nb_path}: {_failure(exc)}", file=sys.stderr)
            print(f"the partly executed notebook is in {target}", file=sys.stderr)
            return 1
        print(f"done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
