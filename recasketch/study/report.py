"""Sentences generated from result tables.

A notebook's prose that ranks models or says whether something helped must stay
true when the data or the budget changes, so such sentences are written from the
numbers beside them rather than by hand.
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["change", "ranked"]


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def ranked(values: Mapping[str, float], digits: int = 4) -> str:
    """Names in decreasing order of their values, ``=`` where the shown values tie.

    Examples
    --------
    >>> ranked({"popularity": 0.0571, "ALS": 0.125, "WARP": 0.1188})
    'ALS (0.1250) > WARP (0.1188) > popularity (0.0571)'
    >>> ranked({"a": 0.10004, "b": 0.1}, digits=3)
    'a (0.100) = b (0.100)'
    """
    if not values:
        raise ValueError("Nothing to rank.")
    order = sorted(values.items(), key=lambda item: -item[1])
    out = f"{order[0][0]} ({_fmt(order[0][1], digits)})"
    for (_, previous), (name, value) in zip(order, order[1:]):
        sign = "=" if _fmt(previous, digits) == _fmt(value, digits) else ">"
        out += f" {sign} {name} ({_fmt(value, digits)})"
    return out


def change(before: float, after: float, digits: int = 4) -> str:
    """How a value moved: ``'rose from 0.1000 to 0.1200 (+20 %)'``, ``'fell ...'`` or
    ``'stayed at ...'`` when the shown values are equal.

    Examples
    --------
    >>> change(0.1, 0.12)
    'rose from 0.1000 to 0.1200 (+20 %)'
    >>> change(0.0478, 0.0461)
    'fell from 0.0478 to 0.0461 (-3.6 %)'
    >>> change(0.05, 0.05001)
    'stayed at 0.0500'
    """
    if _fmt(before, digits) == _fmt(after, digits):
        return f"stayed at {_fmt(after, digits)}"
    verb = "rose" if after > before else "fell"
    relative = f" ({100 * (after - before) / before:+.2g} %)" if before else ""
    return f"{verb} from {_fmt(before, digits)} to {_fmt(after, digits)}{relative}"
