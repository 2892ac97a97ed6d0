"""Repair left/right leg identity swaps of a side-view pose track.

MediaPipe (like other 2D pose models) sometimes labels the near leg as the far
one for a stretch of frames, typically in mid-swing when the far thigh is high.
Two cues decide, per frame, whether the legs' labels are swapped:

- continuity: between consecutive frames a leg moves a little, while a swap
  makes each label jump to where the other leg was. Comparing the
  "same labels" and "crossed labels" distances says whether the labelling
  flipped between two frames, unless the legs are too close to tell
  (they cross twice a stride), which ends a *segment*;
- majority: within a segment all frames are labelled consistently; MediaPipe is
  right most of the time, so the labelling it used on most of the segment's
  frames is taken as the true one.
"""

from __future__ import annotations

import numpy as np

from .landmarks import idx
from .types import PoseTrack

# Groups repaired independently: the model sometimes swaps only the feet (e.g. the
# near foot jumps onto the far swinging foot for a few frames at touchdown).
SWAP_GROUPS: tuple[tuple[str, ...], ...] = (("hip", "knee"), ("ankle", "heel", "foot_index"))
COST_POINTS: dict[tuple[str, ...], tuple[str, ...]] = {("hip", "knee"): ("knee",),
                                                       ("ankle", "heel", "foot_index"): ("ankle", "heel", "foot_index")}


def _leg_coords(xy: np.ndarray, side: str, points: tuple[str, ...]) -> np.ndarray:
    return np.stack([xy[:, idx(side, p)] for p in points], axis=1)  # (T, P, 2)


def flip_between_frames(track: PoseTrack, points: tuple[str, ...] = ("knee", "ankle", "heel", "foot_index"), *,
                        min_margin: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Per frame t >= 1: did the labelling flip since t-1, and can we tell?

    Returns ``(flipped, decisive)``; ``decisive`` is False where the legs are
    too close relative to their motion, or data is missing.
    """
    left, right = _leg_coords(track.xy_px, "left", points), _leg_coords(track.xy_px, "right", points)
    d_same = np.nansum(np.linalg.norm(left[1:] - left[:-1], axis=2) + np.linalg.norm(right[1:] - right[:-1], axis=2), axis=1)
    d_cross = np.nansum(np.linalg.norm(left[1:] - right[:-1], axis=2) + np.linalg.norm(right[1:] - left[:-1], axis=2), axis=1)
    complete = np.all(np.isfinite(left[1:]).all(axis=2) & np.isfinite(left[:-1]).all(axis=2)
                      & np.isfinite(right[1:]).all(axis=2) & np.isfinite(right[:-1]).all(axis=2), axis=1)
    total = d_same + d_cross
    margin = np.divide(np.abs(d_cross - d_same), total, out=np.zeros_like(total), where=total > 0)
    flipped = np.concatenate([[False], d_cross < d_same])
    decisive = np.concatenate([[False], complete & (margin >= min_margin)])
    return flipped, decisive


def swap_mask(track: PoseTrack, points: tuple[str, ...] = ("knee", "ankle", "heel", "foot_index"), *,
              min_margin: float = 0.35) -> np.ndarray:
    """(T,) True for frames whose left/right labels of ``points`` should be exchanged."""
    n = track.n_frames
    if n == 0:
        return np.zeros(0, bool)
    flipped, decisive = flip_between_frames(track, points, min_margin=min_margin)
    parity = np.zeros(n, bool)
    segment = np.zeros(n, int)
    seg = 0
    for t in range(1, n):
        if decisive[t]:
            parity[t] = parity[t - 1] ^ flipped[t]
        else:
            seg += 1
            parity[t] = False
        segment[t] = seg
    out = np.zeros(n, bool)
    for s in range(seg + 1):
        members = segment == s
        # the labelling MediaPipe used on most of the segment is taken as right
        majority = parity[members].mean() > 0.5
        out[members] = parity[members] != majority
    return out


def repair_leg_swaps(track: PoseTrack, *, min_margin: float = 0.35) -> tuple[PoseTrack, np.ndarray]:
    """The track with swapped labels exchanged (thigh and foot groups separately),
    and the (T,) mask of frames where any group was swapped."""
    xy, z, vis = track.xy_px.copy(), track.z.copy(), track.visibility.copy()
    any_mask = np.zeros(track.n_frames, bool)
    for group in SWAP_GROUPS:
        mask = swap_mask(track, COST_POINTS[group], min_margin=min_margin)
        any_mask |= mask
        for p in group:
            a, b = idx("left", p), idx("right", p)
            for arr in (xy, z, vis):
                arr[mask, a], arr[mask, b] = arr[mask, b], arr[mask, a]  # fancy indexing: both sides are copies
    if not any_mask.any():
        return track, any_mask
    return track.with_xy(xy, z=z, visibility=vis), any_mask
