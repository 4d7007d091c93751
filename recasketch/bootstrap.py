"""Percentile bootstrap intervals over users for per-user metric values."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .factors import count_non_finite
from .ranking import is_int
from .utils import check_random_state

__all__ = ["BootstrapCI", "bootstrap_ci", "paired_bootstrap_diff"]

# Most user indices one block of bootstrap resamples may hold (int64: 16 MB).
_BOOT_CELLS = 2**21


class BootstrapCI(NamedTuple):
    """A mean over users with a percentile bootstrap confidence interval.

    Attributes
    ----------
    mean : float
        The mean of the values (for :func:`paired_bootstrap_diff`, of the differences).
    low, high : float
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled means.
    """

    mean: float
    low: float
    high: float


def bootstrap_ci(per_user_values, n_boot=1000, level=0.95, random_state=None) -> BootstrapCI:
    """Mean of per-user metric values with a percentile bootstrap confidence interval.

    The users are the sampling unit: each of ``n_boot`` resamples draws n users with
    replacement from the n values and takes their mean; the interval is the central
    ``level`` share of those means (the percentile bootstrap). Resamples are drawn in
    blocks of at most about two million indices, so memory stays bounded whatever
    ``n_boot``.

    Parameters
    ----------
    per_user_values : array-like of float of shape (n_users,)
        One value per evaluated user, e.g. ``precision_at_k(..., per_user=True)``.
    n_boot : int, default=1000
        Number of resamples.
    level : float in (0, 1), default=0.95
        Coverage of the interval.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)`` as floats.

    Raises
    ------
    ValueError
        If the values are empty, not 1-D, or hold NaN or inf (per-user AUC is NaN for
        users without a positive or a negative: drop them first), or if ``n_boot`` or
        ``level`` is out of range.
    TypeError
        If the values are not numbers.

    See Also
    --------
    paired_bootstrap_diff : the difference of two models scored on the same users.

    Examples
    --------
    >>> bootstrap_ci([0.2, 0.2, 0.2, 0.2], random_state=0)
    BootstrapCI(mean=0.2, low=0.2, high=0.2)
    >>> mean, low, high = bootstrap_ci(np.arange(100) / 100, random_state=0)
    >>> round(mean, 3), low < mean < high
    (0.495, True)
    """
    values = _check_values(per_user_values, "per_user_values")
    return _percentile_bootstrap(values, n_boot, level, random_state)


def paired_bootstrap_diff(a, b, n_boot=1000, level=0.95, random_state=None) -> BootstrapCI:
    """Mean difference ``a - b`` of two models' per-user values, with a bootstrap interval.

    ``a`` and ``b`` hold the same metric of two models for the *same* users in the same
    order (e.g. both from ``map_at_k(..., users=split.user_index, per_user=True)``).
    Each resample draws users with replacement and takes both models' values of the
    drawn users, so the interval reflects how much the difference varies over users,
    which is far narrower than comparing two separate intervals when the models agree
    on which users are easy. An interval that excludes 0 says that the difference is
    not a matter of which users happened to be in the test set.

    Parameters
    ----------
    a, b : array-like of float of shape (n_users,)
        Per-user values of the two models on the same users.
    n_boot : int, default=1000
        Number of resamples.
    level : float in (0, 1), default=0.95
        Coverage of the interval.
    random_state : None, int or numpy.random.Generator, default=None
        Seed of the resampling; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)`` of the differences ``a - b``.

    Raises
    ------
    ValueError
        As in :func:`bootstrap_ci`, and if ``a`` and ``b`` differ in length.
    TypeError
        If the values are not numbers.

    Examples
    --------
    Model a beats model b by 0.1 on every user, so every resample agrees:

    >>> b = np.linspace(0.0, 0.5, 50)
    >>> mean, low, high = paired_bootstrap_diff(b + 0.1, b, random_state=0)
    >>> round(mean, 6), round(low, 6), round(high, 6)
    (0.1, 0.1, 0.1)
    """
    a = _check_values(a, "a")
    b = _check_values(b, "b")
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must hold one value per user for the same users, got {a.size} and "
            f"{b.size} values."
        )
    return _percentile_bootstrap(a - b, n_boot, level, random_state)


def _check_values(values, name) -> np.ndarray:
    if sp.issparse(values):
        raise TypeError(f"{name} must be a 1-D array of per-user values, got a sparse matrix.")
    array = np.asarray(values)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise TypeError(
            f"{name} must be a 1-D array of numbers (per-user metric values), got dtype "
            f"{array.dtype}."
        )
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of per-user values, got shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; a bootstrap needs at least one user's value.")
    array = array.astype(np.float64)
    n_nan, n_inf = count_non_finite(array)
    if n_nan or n_inf:
        raise ValueError(
            f"{name} holds {n_nan} NaN and {n_inf} inf values; drop those users first (per-user "
            "AUC is NaN for a user without a positive or a negative), e.g. "
            "values[np.isfinite(values)], and for two models drop the same users from both."
        )
    return array


def _percentile_bootstrap(values, n_boot, level, random_state) -> BootstrapCI:
    if not is_int(n_boot) or n_boot < 1:
        raise ValueError(f"n_boot must be an integer >= 1, got {n_boot!r}.")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), e.g. 0.95, got {level!r}.")
    rng = check_random_state(random_state)
    n = len(values)
    means = np.empty(int(n_boot))
    block = max(1, _BOOT_CELLS // n)
    for start in range(0, int(n_boot), block):
        size = min(block, int(n_boot) - start)
        means[start:start + size] = values[rng.integers(0, n, size=(size, n))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return BootstrapCI(float(values.mean()), float(low), float(high))
