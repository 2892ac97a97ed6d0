"""Per-frame joint angles and angular velocities (definitions in METRICS.md).

Image y grows downwards and the track is oriented so +x is the running
direction. All angles in degrees; velocities in deg/s of real capture time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitlab.analysis.clean import lowpass_1d, sample_rate_hz
from gaitlab.core import columns as col
from gaitlab.core.landmarks import SIDES, idx
from gaitlab.core.types import PoseTrack


def segment_angle_deg(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Angle of the top->bottom segment from the downward vertical, + when bottom is ahead (+x)."""
    d = bottom - top
    return np.degrees(np.arctan2(d[..., 0], d[..., 1]))


def inner_angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle a-b-c at b, in [0, 180]."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def time_derivative(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """d(values)/dt by second-order central differences on the real time axis; NaN-safe."""
    out = np.full_like(values, np.nan, dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return out
    # central differences only where both neighbours are finite
    v, t = values, time_s
    num = v[2:] - v[:-2]
    den = t[2:] - t[:-2]
    out[1:-1] = num / den
    return out


def trunk_down_angle_deg(track: PoseTrack) -> np.ndarray:
    """Angle of the reversed trunk (shoulder midpoint -> hip midpoint) from the downward vertical."""
    sh = (track.point("left_shoulder") + track.point("right_shoulder")) / 2.0
    hp = (track.point("left_hip") + track.point("right_hip")) / 2.0
    return segment_angle_deg(sh, hp)


def smooth_trunk_angle_deg(trunk_deg: np.ndarray, time_s: np.ndarray, *, cutoff_hz: float) -> np.ndarray:
    """Low-pass the trunk angle much harder than the limbs.

    The trunk's lean changes slowly (a few degrees within a stride), but pose
    models pull the shoulder landmarks along with the swinging arms, so the raw
    shoulder-hip line oscillates at the stride rate. That oscillation adds to one
    leg's hip-flexion velocity and subtracts from the other's; the cutoff
    (``CleanConfig.trunk_cutoff_hz``) sits well below the stride rate.
    """
    fs = sample_rate_hz(time_s)
    if not np.isfinite(fs) or len(trunk_deg) < 16:
        return trunk_deg
    return lowpass_1d(trunk_deg, fs_hz=fs, cutoff_hz=cutoff_hz, order=2)


def compute_kinematics(track: PoseTrack, *, trunk_cutoff_hz: float | None = None) -> pd.DataFrame:
    """One row per frame: time, and per leg the angles, velocities and foot points.

    Columns (``<side>`` is left/right):
    ``thigh_angle_deg_<side>``: hip->knee from the downward vertical, + knee ahead of hip;
    ``hip_flexion_deg_<side>``: thigh relative to the reversed trunk, + in flexion (the trunk angle
    low-passed at ``trunk_cutoff_hz`` when given);
    ``hip_flexion_velocity_deg_s_<side>``, ``thigh_angular_velocity_deg_s_<side>``: time derivatives;
    ``knee_flexion_deg_<side>``: 180 minus the hip-knee-ankle angle.
    The landmarks themselves are added by ``outputs.tables.frames_table``.
    """
    t = track.time_s
    cols: dict[str, np.ndarray] = {col.FRAME_INDEX: track.frame_index, col.TIME_S: t, col.POSE_DETECTED: track.detected}
    trunk = trunk_down_angle_deg(track)
    if trunk_cutoff_hz:
        trunk = smooth_trunk_angle_deg(trunk, t, cutoff_hz=trunk_cutoff_hz)
    cols[col.TRUNK_LEAN_DEG] = -trunk  # + when the shoulders are ahead of the hips
    for side in SIDES:
        hip, knee, ankle = (track.xy_px[:, idx(side, p)] for p in ("hip", "knee", "ankle"))
        thigh = segment_angle_deg(hip, knee)
        flex = thigh - trunk
        cols[col.per_side(col.THIGH_ANGLE_DEG, side)] = thigh
        cols[col.per_side(col.HIP_FLEXION_DEG, side)] = flex
        cols[col.per_side(col.THIGH_ANGULAR_VELOCITY_DEG_S, side)] = time_derivative(thigh, t)
        cols[col.per_side(col.HIP_FLEXION_VELOCITY_DEG_S, side)] = time_derivative(flex, t)
        cols[col.per_side(col.KNEE_FLEXION_DEG, side)] = 180.0 - inner_angle_deg(hip, knee, ankle)
    return pd.DataFrame(cols)
