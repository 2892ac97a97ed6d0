"""Synthetic landmark tracks with answers known by construction (for unit tests)."""

from __future__ import annotations

import numpy as np

from gaitlab.core.landmarks import INDEX, N_LANDMARKS
from gaitlab.core.types import PoseTrack


def make_track(
    points: dict[str, np.ndarray], time_s: np.ndarray, *, frame_size_px=(1920, 1080), z: dict[str, float] | None = None
) -> PoseTrack:
    """A PoseTrack from (T, 2) pixel arrays per landmark name; others NaN; visibility 1 where given."""
    t = len(time_s)
    xy = np.full((t, N_LANDMARKS, 2), np.nan)
    vis = np.zeros((t, N_LANDMARKS))
    zz = np.full((t, N_LANDMARKS), np.nan)
    for name, arr in points.items():
        xy[:, INDEX[name]] = arr
        vis[:, INDEX[name]] = 1.0
        zz[:, INDEX[name]] = (z or {}).get(name, -0.1 if name.startswith("left") else 0.1)
    return PoseTrack(
        xy_px=xy,
        z=zz,
        visibility=vis,
        time_s=np.asarray(time_s, float),
        frame_index=np.arange(t),
        frame_size_px=frame_size_px,
        source="synthetic",
    )


def foot_height_profile(
    time_s: np.ndarray,
    touchdown_s: float,
    toe_off_s: float,
    *,
    descent_px_s: float,
    lift_px_s2: float,
    lift_px_s: float = 0.0,
    max_px: float = 120.0,
) -> np.ndarray:
    """Foot height above ground: falls at a constant speed, 0 in [touchdown, toe-off], rises after.

    The rise is ``lift_px_s * s + lift_px_s2 * s^2`` with s the time since toe-off.
    """
    h = np.zeros_like(time_s)
    before = time_s < touchdown_s
    h[before] = descent_px_s * (touchdown_s - time_s[before])
    after = time_s > toe_off_s
    s = time_s[after] - toe_off_s
    h[after] = lift_px_s * s + lift_px_s2 * s * s
    return np.minimum(h, max_px)


def running_track(
    contacts: list[tuple[str, float, float]],
    *,
    fps: float,
    duration_s: float,
    ground_y_px: float = 900.0,
    descent_px_s: float = 600.0,
    lift_px_s2: float = 20000.0,
    lift_px_s: float = 100.0,
    noise_px: float = 0.0,
    seed: int = 0,
    thigh_deg=None,
) -> PoseTrack:
    """A side-view runner (facing +x) whose feet touch the ground exactly at the given contacts.

    ``contacts``: (side, touchdown_s, toe_off_s). Between contacts a foot rises
    from its toe-off and falls into its next touchdown (the lower of the two
    profiles), capped at 120 px. Hips at y=500, leg ~400 px. ``thigh_deg(side, t)``
    optionally sets the thigh angle (deg from downward vertical, + forward).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * fps))) / fps
    pts: dict[str, np.ndarray] = {}
    hip = np.column_stack([np.full_like(t, 800.0), np.full_like(t, 500.0)])
    for side in ("left", "right"):
        mine = sorted((td, to) for s, td, to in contacts if s == side)
        h = np.full_like(t, 120.0)
        for td, to in mine:
            h = np.minimum(
                h, foot_height_profile(t, td, to, descent_px_s=descent_px_s, lift_px_s2=lift_px_s2, lift_px_s=lift_px_s)
            )
        foot_x = 800.0 + 40.0 * np.sin(2 * np.pi * t)
        pts[f"{side}_heel"] = np.column_stack([foot_x - 20, ground_y_px - h - 2.0])
        pts[f"{side}_foot_index"] = np.column_stack([foot_x + 30, ground_y_px - h])
        pts[f"{side}_ankle"] = np.column_stack([foot_x - 10, ground_y_px - h - 25])
        angle = np.radians(thigh_deg(side, t)) if thigh_deg else np.zeros_like(t)
        knee = hip + 200.0 * np.column_stack([np.sin(angle), np.cos(angle)])
        pts[f"{side}_hip"] = hip.copy()
        pts[f"{side}_knee"] = knee
        pts[f"{side}_shoulder"] = hip + np.array([0.0, -300.0])
    if noise_px:
        for name in pts:
            pts[name] = pts[name] + rng.normal(0, noise_px, pts[name].shape)
    return make_track(pts, t)
