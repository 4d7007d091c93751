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


def plain(value):
    """A JSON-able Python scalar for a numpy one; anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def is_count(value) -> bool:
    """Whether ``value`` is an integer >= 0 (a bool is not one)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def check_count(value, name: str, low: int = 1) -> int:
    """``value`` as an int; ``ValueError`` unless it is an integer >= ``low`` (a bool is not one).

    >>> check_count(3, "n_calls"), check_count(0, "n_initial_points", low=0)
    (3, 0)
    """
    if not is_count(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def json_default(value):
    """JSON for numpy scalars and arrays, and for ranges and sets (``json.dumps(..., default=json_default)``).

    Examples
    --------
    >>> import json
    >>> json.dumps({"k": np.int64(5), "grid": range(2, 6, 2), "tags": {"b", "a"}}, default=json_default)
    '{"k": 5, "grid": [2, 4], "tags": ["a", "b"]}'
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, range, set, frozenset)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(np.asarray(value).tolist())
    raise TypeError(f"Cannot write {type(value).__name__} as JSON: give plain values (numbers, strings, lists, "
                    "dicts), or a fingerprint of data (recasketch.parallel.cache.fingerprint).")
