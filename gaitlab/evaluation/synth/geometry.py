"""Sagittal geometry of the synthetic figures: segment angles, the hip-flexion definition (2D, x forward,
y up) and the head/hand placement shared by the gait model and the mocap-driven clips (2D or 3D)."""

from __future__ import annotations

import math

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


# ---- head and hand placement, shared by the gait model (2D) and the mocap-driven clips (3D) ---------------

#: The 2D model's sagittal axes (x forward, y up).
FORWARD_2D = np.array([1.0, 0.0])
UP_2D = np.array([0.0, 1.0])
HEAD_PITCH_DEG = 6.0  # the face looks slightly down the track
NECK_LEAN_SHARE = 0.6  # the head leans forward 0.6 x as much as the trunk
HAND_TURN_DEG = 15.0  # the hand is the forearm direction turned forward by this much (a loose fist)


def sagittal(fwd, up_, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Points ``fwd * forward + up_ * up`` from (N,) components and 2D or 3D unit axes: (N, dim)."""
    return np.asarray(fwd)[..., None] * forward + np.asarray(up_)[..., None] * up


def head_points(
    shoulder_mid,
    trunk_lean_rad,
    *,
    centre_above_shoulder_m: float,
    radius_m: float,
    forward: np.ndarray = FORWARD_2D,
    up: np.ndarray = UP_2D,
) -> dict[str, np.ndarray]:
    """Head centre/top, nose, eyes, ears, mouth (N, dim) on the neck line above the shoulder midpoint.

    The neck leans ``NECK_LEAN_SHARE`` x the trunk lean (rad from the vertical, + = forward); the face
    is pitched ``HEAD_PITCH_DEG`` down. Only sums of the ``forward``/``up`` axes, so the same placement
    serves the 2D gait model (default axes) and the 3D mocap lab frame. Left and right eye (ear) coincide.
    """
    neck = NECK_LEAN_SHARE * trunk_lean_rad
    c = shoulder_mid + centre_above_shoulder_m * sagittal(np.sin(neck), np.cos(neck), forward, up)
    pitch = math.radians(HEAD_PITCH_DEG)
    f = math.cos(pitch) * forward - math.sin(pitch) * up  # face direction
    hup = math.sin(pitch) * forward + math.cos(pitch) * up  # the head's up
    r = radius_m
    eye = c + 0.72 * r * f + 0.22 * r * hup
    ear = c - 0.05 * r * f
    return {
        "head_center": c,
        "head_top": c + 1.05 * r * hup,
        "nose": c + 1.0 * r * f - 0.12 * r * hup,
        "left_eye": eye,
        "right_eye": eye.copy(),
        "left_ear": ear,
        "right_ear": ear.copy(),
        "mouth": c + 0.82 * r * f - 0.55 * r * hup,
    }


def hand_tip(
    wrist, forearm_from_down_rad, *, hand_length_m: float, forward: np.ndarray = FORWARD_2D, up: np.ndarray = UP_2D
) -> np.ndarray:
    """Hand tip (N, dim): the forearm's angle from the downward vertical turned ``HAND_TURN_DEG`` forward."""
    a = forearm_from_down_rad + math.radians(HAND_TURN_DEG)
    return wrist + hand_length_m * sagittal(np.sin(a), -np.cos(a), forward, up)
