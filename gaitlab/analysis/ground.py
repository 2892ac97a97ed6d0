"""The ground line under the feet: a rolling lowest foot position that may drift at a constant rate.

Foot height is measured up from the ground, and the ground is where the feet
stop going down: the rolling maximum of the lowest foot point's image y (y
grows down) over a window holding at least one contact of each foot.

A flat level maximum is wrong when the ground moves in the image while the
athlete runs: a fixed camera that is slightly tilted or looks along a track
that recedes (perspective) sees the contacts rise or fall steadily as the
athlete crosses the frame (``track_sprint_side_repeatedframes.mp4``: 21 px over
its 1.8 s, for a 75 px leg, which puts the middle contacts 10 px "in the air"
under a level maximum). So the ground is the rolling maximum of
``y_i + s * (t - t_i)``: each foot position carried along a drift of ``s``
px/s. The drift is the one that puts the ground lowest (smallest y) on
average: every wrong drift lifts the line at the contacts on one side of each
frame, so the true one gives the tightest envelope (``s = 0`` for a level
ground, the former behaviour, kept unless a drift is clearly tighter).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

# Drifts tried, in leg lengths per second (a 5 deg tilt over a 1.5 s crossing of a full-width frame is ~0.7).
DRIFT_RANGE_LEG_PER_S = 1.0
DRIFT_STEP_LEG_PER_S = 0.01


def rolling_ground_px(
    time_s: np.ndarray, lowest_y_px: np.ndarray, *, window_frames: int, drift_px_s: float = 0.0
) -> np.ndarray:
    """Rolling maximum of ``y_i + drift * (t - t_i)`` over ``window_frames`` (NaN-tolerant)."""
    t = np.asarray(time_s, np.float64)
    shifted = lowest_y_px - drift_px_s * t
    filled = np.where(np.isfinite(shifted), shifted, -np.inf)
    ground = maximum_filter1d(filled, size=max(3, window_frames), mode="nearest") + drift_px_s * t
    ground[~np.isfinite(ground)] = np.nan
    return ground


def ground_drift_px_s(
    time_s: np.ndarray, lowest_y_px: list[np.ndarray], *, window_frames: int, leg_length_px: float
) -> float:
    """The drift (px/s) giving the lowest mean ground under all the feet given (see module doc)."""
    if not np.isfinite(leg_length_px) or leg_length_px <= 0 or len(time_s) < 3:
        return 0.0
    n_steps = int(round(DRIFT_RANGE_LEG_PER_S / DRIFT_STEP_LEG_PER_S))
    drifts = np.arange(-n_steps, n_steps + 1) * DRIFT_STEP_LEG_PER_S * leg_length_px
    cost = np.full(len(drifts), np.inf)
    for k, s in enumerate(drifts):
        heights = [rolling_ground_px(time_s, y, window_frames=window_frames, drift_px_s=s) - y for y in lowest_y_px]
        h = np.concatenate(heights)
        h = h[np.isfinite(h)]
        if h.size:
            cost[k] = float(np.mean(h))
    if not np.isfinite(cost).any():
        return 0.0
    best = int(np.argmin(cost))
    zero = n_steps
    # A level ground unless a drift lowers it by over 1 % of the leg on average (a sixth of the contact
    # threshold): smaller gains are landmark noise and the heel/toe mix, not a tilted ground
    # (JA1 jog mocap: 0.5 %; JA1 sprint: 1.7 %; track_sprint_side_repeatedframes.mp4: 6.8 %).
    if cost[zero] - cost[best] <= 0.01 * leg_length_px:
        return 0.0
    return float(drifts[best])
