"""Paths used across the package, notebooks and Makefile, defined in one place."""

from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("RECASKETCH_DATA_DIR", PROJ_ROOT / "data"))
SAMPLE_DIR = DATA_DIR / "sample"
REAL_DIR = DATA_DIR / "sketchfab"
SYNTHETIC_FULL_DIR = DATA_DIR / "synthetic-full"
RESULTS_DIR = DATA_DIR / "results"

LIKES_FILE = "model_likes_anon.psv"
FEATURES_FILE = "model_feats.psv"
TRUTH_FILE = "ground_truth.psv"

#: The budgets a notebook runs at (see :mod:`recasketch.study.budgets`).
BUDGETS = ("ci", "full", "posts")


def check_budget(budget: str) -> str:
    """Return ``budget`` if it is one of :data:`BUDGETS`, else raise ``ValueError``."""
    if budget not in BUDGETS:
        raise ValueError(f"Unknown budget {budget!r}; choose one of {list(BUDGETS)}.")
    return budget


#: Where each named dataset lives. Notebooks pick one with ``RECASKETCH_DATA``, which may
#: also be the path of a folder of your own (see :func:`dataset_dir`).
DATASETS = {
    "sample": SAMPLE_DIR,
    "sketchfab": REAL_DIR,
    "synthetic-full": SYNTHETIC_FULL_DIR,
}


def shown_path(path) -> Path:
    """``path`` as a reader is shown it: relative to the project root when it lies inside it, so
    that no machine's own folders appear in a notebook's output.

    >>> str(shown_path(PROJ_ROOT / "data" / "results")), shown_path("/elsewhere/x").as_posix()
    ('data/results', '/elsewhere/x')
    """
    resolved = Path(path).resolve()
    return resolved.relative_to(PROJ_ROOT) if resolved.is_relative_to(PROJ_ROOT) else Path(path)


def dataset_dir(data) -> Path:
    """Return the folder of dataset ``data``: one of :data:`DATASETS`, or a folder path.

    A relative path is looked up from the current directory, then from the project root, so
    ``RECASKETCH_DATA=tests/data/own_likes`` means the same folder to a shell in the
    project root and to a notebook running in ``notebooks/``.

    Raises
    ------
    ValueError
        If ``data`` is neither a name in :data:`DATASETS` nor an existing folder.
    """
    if isinstance(data, str) and data in DATASETS:
        return DATASETS[data]
    path = Path(data).expanduser()
    for candidate in [path] if path.is_absolute() else [Path.cwd() / path, PROJ_ROOT / path]:
        if candidate.is_dir():
            return candidate
        if candidate.is_file():
            raise ValueError(f"{candidate} is a file; give the folder that holds it.")
    raise ValueError(
        f"Unknown dataset {str(data)!r}; choose one of {sorted(DATASETS)} or give the path "
        f"of a folder (looked up from {Path.cwd()} and from {PROJ_ROOT})."
    )


def dataset_name(data) -> str:
    """The name a dataset is labelled with: its name in :data:`DATASETS`, or its folder's name."""
    if isinstance(data, str) and data in DATASETS:
        return data
    return dataset_dir(data).resolve().name


def results_dir(data, budget: str = "ci") -> Path | None:
    """Where a notebook run saves its figures, tables and grid logs, or ``None``.

    ``RECASKETCH_RESULTS_DIR`` wins when set (``make results`` sets it); otherwise a
    ``full`` or ``posts`` budget writes to ``data/results/<name>/`` — ``<name>`` being
    :func:`dataset_name`, so a folder of your own writes to ``data/results/<folder name>/``
    — so a long search is logged and can resume; a ``ci`` budget saves nothing.
    """
    check_budget(budget)
    name = dataset_name(data)  # validates the name or path
    env = os.environ.get("RECASKETCH_RESULTS_DIR")
    if env:
        path = Path(env)
    elif budget != "ci":
        path = RESULTS_DIR / name
    else:
        return None
    path.mkdir(parents=True, exist_ok=True)
    return path
