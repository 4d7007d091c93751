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


def duration(seconds: float) -> str:
    """A span of time as a reader says it: seconds under 2 min, minutes under 2 h, then hours.

    Examples
    --------
    >>> [duration(s) for s in (59.6, 119, 120, 3600, 7199, 7200, 12600)]
    ['60 s', '119 s', '2 min', '60 min', '120 min', '2.0 h', '3.5 h']
    """
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
