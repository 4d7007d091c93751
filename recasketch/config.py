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

#: Where each named dataset lives. Notebooks pick one with ``RECASKETCH_DATA``.
DATASETS = {
    "sample": SAMPLE_DIR,
    "sketchfab": REAL_DIR,
    "synthetic-full": SYNTHETIC_FULL_DIR,
}


def dataset_dir(name: str) -> Path:
    """Return the folder holding dataset ``name`` (one of :data:`DATASETS`)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"Unknown dataset {name!r}; choose one of {sorted(DATASETS)}."
        ) from None


def results_dir(data: str, budget: str = "ci") -> Path | None:
    """Where a notebook run saves its figures, tables and grid logs, or ``None``.

    ``RECASKETCH_RESULTS_DIR`` wins when set (``make results`` sets it); otherwise a
    ``full`` budget writes to ``data/results/<data>/`` — so a long search is logged and
    can resume — and a ``ci`` budget saves nothing.
    """
    if budget not in ("ci", "full"):
        raise ValueError(f"Unknown budget {budget!r}; choose 'ci' or 'full'.")
    dataset_dir(data)  # validates the name
    env = os.environ.get("RECASKETCH_RESULTS_DIR")
    if env:
        path = Path(env)
    elif budget == "full":
        path = RESULTS_DIR / data
    else:
        return None
    path.mkdir(parents=True, exist_ok=True)
    return path
