"""Running median and maximum over a sliding window, the normal CDF and Student-t quantiles.

They give what ``scipy.ndimage.median_filter`` / ``maximum_filter1d`` (``mode="nearest"``, centred
as SciPy centres them), ``scipy.special.ndtr`` and ``scipy.special.stdtrit`` give (the same numbers,
or within a few units in the last place), without importing SciPy's
subpackages, whose start-up (~0.2-0.5 s each, their array-API docstring machinery) a re-analysis
from the pose cache would pay. tests/test_iir.py checks them against SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _edge_windows(values: np.ndarray, size: int) -> np.ndarray:
    """(n, size) windows, window i from ``i - size // 2``, the ends continued with the edge values."""
    before = size // 2
    padded = np.pad(np.asarray(values), (before, size - 1 - before), mode="edge")
    return sliding_window_view(padded, size)


def running_median(values: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.median_filter(values, size=size, mode="nearest")`` for an odd ``size``."""
    if size % 2 != 1:
        raise ValueError(f"running_median: odd window needed, got {size}")
    return np.median(_edge_windows(values, size), axis=1)


def running_max(values: np.ndarray, size: int) -> np.ndarray:
    """``scipy.ndimage.maximum_filter1d(values, size=size, mode="nearest")``."""
    return _edge_windows(values, size).max(axis=1)


_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf(x):
    """Standard normal CDF, ``scipy.special.ndtr`` (float for a scalar, else an array)."""
    if np.ndim(x) == 0:
        return 0.5 * math.erfc(-float(x) / math.sqrt(2.0))
    return 0.5 * _erfc(-np.asarray(x, np.float64) / math.sqrt(2.0)).astype(np.float64)


def _t_two_sided(theta: float, df: int) -> float:
    """P(|T| <= sqrt(df) tan(theta)) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3-4)."""
    c, s = math.cos(theta), math.sin(theta)
    if df % 2:
        term, total = c, c if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= c * c * (2 * k) / (2 * k + 1)
            total += term
        return 2.0 / math.pi * (theta + s * total)
    term = total = 1.0
    for k in range(1, df // 2):
        term *= c * c * (2 * k - 1) / (2 * k)
        total += term
    return s * total


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with integer ``df`` >= 1 (bisection to the last bit)."""
    if not (0.5 < p < 1.0 and df >= 1):
        raise ValueError(f"t_quantile: 0.5 < p < 1 and df >= 1 needed, got p={p}, df={df}")
    lo, hi = 0.0, math.pi / 2
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            return math.sqrt(df) * math.tan(mid)
        if _t_two_sided(mid, df) < 2.0 * p - 1.0:
            lo = mid
        else:
            hi = mid
