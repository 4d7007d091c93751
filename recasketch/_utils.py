"""Small helpers shared by the modules."""

from __future__ import annotations

import numbers

import numpy as np


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``None``, an int or a ``np.random.Generator`` into a ``np.random.Generator``.

    Parameters
    ----------
    random_state : None, int, np.random.Generator or np.random.SeedSequence
        ``None`` draws fresh entropy; an int seeds a new generator; a generator is
        returned unchanged so that a caller can pass its own stream down.
    """
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise ValueError(
        f"random_state must be None, an int or a numpy Generator, got {type(random_state).__name__}."
    )


def seed_from(rng: np.random.Generator) -> int:
    """Draw a 31-bit integer seed from ``rng`` for libraries that want an int seed."""
    return int(rng.integers(0, 2**31 - 1))
