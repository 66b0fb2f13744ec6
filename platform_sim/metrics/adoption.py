"""Adoption metrics: how much of what people adopt comes from the platform, and when.

Pure functions over 1-D arrays; empty input -> ``float("nan")``; malformed input
(wrong ndim, non-0/1 indicators, mismatched lengths) -> ``ValueError``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["crossing_step", "machine_share", "novelty_rate"]


def _indicator_1d(x, name: str) -> np.ndarray:
    """Validate a 1-D array of booleans / 0-1 numbers; return it as float64."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only booleans or 0/1 values")
    return arr


def machine_share(machine) -> float:
    """Share of adopted solutions whose origin is the platform ("machine-made").

    ``machine``: 1-D bool (or 0/1) array, one entry per adoption in a window, True when
    the adopted solution originated on the platform. Returns the mean, in [0, 1].
    Empty window -> ``nan``.
    """
    arr = _indicator_1d(machine, "machine")
    return float(arr.mean()) if arr.size else float("nan")


def novelty_rate(is_new) -> float:
    """Share of adoptions that are new inventions (a solution nobody had used before).

    ``is_new``: 1-D bool (or 0/1) array, one entry per adoption in a window. Returns the
    mean, in [0, 1]. Empty window -> ``nan``.
    """
    arr = _indicator_1d(is_new, "is_new")
    return float(arr.mean()) if arr.size else float("nan")


def crossing_step(steps, values, threshold: float) -> float:
    """First step at which a time series exceeds ``threshold`` (strictly).

    ``steps``: 1-D numeric array of step indices; ``values``: 1-D float array of the same
    length (e.g. ``machine_share`` per window; NaN entries are ignored). Returns the
    smallest ``steps[i]`` with ``values[i] > threshold`` as a float (for sorted ``steps``
    that is the first crossing), or ``nan`` if the series never crosses.
    """
    st = np.asarray(steps, dtype=np.float64)
    va = np.asarray(values, dtype=np.float64)
    if st.ndim != 1 or va.ndim != 1:
        raise ValueError(f"steps and values must be 1-D, got {st.shape} and {va.shape}")
    if st.shape != va.shape:
        raise ValueError(f"steps and values must have equal length, got {st.size} and {va.size}")
    with np.errstate(invalid="ignore"):
        crossed = va > float(threshold)  # NaN compares False: ignored
    if not crossed.any():
        return float("nan")
    return float(st[crossed].min())
