"""Runs of consecutive True values in a boolean mask."""

from __future__ import annotations

import numpy as np


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a 1-D ``mask`` as half-open ``[start, stop)`` index pairs.

    ``mask[start:stop]`` is all True, and ``mask[start - 1]`` / ``mask[stop]`` are
    False or outside the array. Runs come in increasing order; an empty or
    all-False mask gives ``[]``. The last index of a run is ``stop - 1``.
    """
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]]).astype(np.int8)
    d = np.diff(padded)
    return [(int(a), int(b)) for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]
