"""Far-leg collapse (left/right swaps are repaired in ``swaps.py``).

Collapse (MediaPipe #3496/#4969): in side view the far leg is often drawn on top
of the near one. Knees and ankles of both legs then coincide at once, which a
running stride never does (when the knees pass each other the ankles are far
apart: one on the ground, one tucked under the hip), certainly not for 0.15 s
or more. Those frames are marked;
measures of the far leg that use them are unreliable; the near leg is fine.
"""

from __future__ import annotations

import numpy as np

from gaitlab.core.landmarks import INDEX, leg_length_px
from gaitlab.core.runs import true_runs
from gaitlab.core.types import PoseTrack

# Both knee and ankle pairs closer than this share of the leg length: the far leg sits on the near one.
COLLAPSE_LEG_FRAC = 0.12
# ...for at least this long: legs at the same height in flight with knees level can meet for an instant.
COLLAPSE_MIN_S = 0.15


def collapsed_frames(track: PoseTrack) -> np.ndarray:
    """(T,) True where both knees and both ankles coincide (far leg drawn on the near leg)."""
    xy = track.xy_px.astype(np.float64)
    leg = leg_length_px(xy)
    if not np.isfinite(leg) or leg <= 0:
        return np.zeros(len(xy), bool)
    knee = np.linalg.norm(xy[:, INDEX["left_knee"]] - xy[:, INDEX["right_knee"]], axis=1)
    ankle = np.linalg.norm(xy[:, INDEX["left_ankle"]] - xy[:, INDEX["right_ankle"]], axis=1)
    close = (knee < COLLAPSE_LEG_FRAC * leg) & (ankle < COLLAPSE_LEG_FRAC * leg)
    out = np.zeros_like(close)
    t = track.time_s
    frame_s = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    for a, b in true_runs(close):
        if t[b - 1] - t[a] + frame_s >= COLLAPSE_MIN_S:
            out[a:b] = True
    return out
