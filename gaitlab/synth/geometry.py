"""2D sagittal geometry of the gait model (x forward, y up): segment angles and the hip-flexion definition."""

from __future__ import annotations

import numpy as np


def _angle_from_down(vx, vy):
    """Angle of a vector from the downward vertical, + towards +x."""
    return np.arctan2(vx, -vy)


def _down_dir(angle):
    """Unit vector at ``angle`` from the downward vertical (+ towards +x)."""
    return np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def hip_flexion_deg(hip_mid, shoulder_mid, knee):
    """Hip flexion per METRICS.md from 2D points (x forward, y up), degrees.

    Angle between the trunk (hip midpoint -> shoulder midpoint, reversed) and the
    thigh (hip -> knee): 0 in line, + when the knee is in front (flexion).
    """
    hip_mid, shoulder_mid, knee = (np.asarray(a, float) for a in (hip_mid, shoulder_mid, knee))
    trunk_down = hip_mid - shoulder_mid
    thigh = knee - hip_mid
    a = _angle_from_down(thigh[..., 0], thigh[..., 1]) - _angle_from_down(trunk_down[..., 0], trunk_down[..., 1])
    return np.degrees((a + np.pi) % (2 * np.pi) - np.pi)
