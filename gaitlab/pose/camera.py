"""Is the camera fixed, and where are the scene cuts? (from ``scan.ClipScan``)

Camera motion: the per-frame background translation (median over image blocks,
so the athlete does not count) is summed over the clip. A fixed camera drifts by
a few % of the width at most (sub-pixel estimation bias); a pan that follows a
runner travels a large part of the width or more.

Cuts: a frame whose change, after undoing the camera's translation, is both
several times larger than that of any frame within 5 frames, with a histogram
change also twice its neighbours' (an isolated spike, unlike a person moving
close to the lens, which changes many frames in a row), that persists: the next
frame differs from the one before the cut as well (a flash or glitch does not).

Why it matters: contact times, joint angles and angular velocities come from one
body's own landmarks and survive a moving camera; speed and step length need a
fixed camera (we do not report them when it moves). Events must not span a cut.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gaitlab.pose.scan import ClipScan

MOVING_PATH_FRAC = 0.20  # net travel of the background over the clip, in image widths
MOVING_P75_SHIFT_FRAC = 0.005  # or a typical per-frame shift of 0.5 % of the width
CUT_SPIKE_RATIO = 3.0
CUT_MIN_HIST_DISTANCE = 0.1
CUT_MIN_RESIDUAL = 4.0  # gray levels
CUT_QUIET_FRAMES = 5  # the spike must stand alone within this many frames each side


@dataclass(frozen=True)
class CameraMotion:
    """``moving``: the camera pans/tilts; ``path_frac``: net background travel (image widths);
    ``p75_shift_frac``: 75th percentile of the per-frame shift; ``cuts``: decoded frame
    indices that start a new shot."""

    moving: bool
    path_frac: float
    p75_shift_frac: float
    cuts: list[int]

    def to_dict(self) -> dict:
        return asdict(self)


def find_cuts(scan: ClipScan, frames: np.ndarray | None = None) -> list[int]:
    """Decoded frame indices where a new shot starts (among ``frames``, default all)."""
    frames = np.arange(scan.n_frames) if frames is None else np.asarray(frames)
    res = scan.array("residual")[frames]
    hist = scan.array("hist_distance")[frames]
    hist2 = scan.array("hist_distance_2")
    cuts = []
    for i in range(1, len(frames)):
        if not (np.isfinite(res[i]) and res[i] >= CUT_MIN_RESIDUAL and hist[i] >= CUT_MIN_HIST_DISTANCE):
            continue
        near = [
            j
            for j in range(i - CUT_QUIET_FRAMES, i + CUT_QUIET_FRAMES + 1)
            if j != i and 0 < j < len(frames) and np.isfinite(res[j])
        ]
        if not near:
            continue
        spike = res[i] >= CUT_SPIKE_RATIO * max(max(res[j] for j in near), 0.5)
        hist_spike = hist[i] >= 2.0 * max(hist[j] for j in near)
        # a new shot persists: the frame after differs from the one before as much (a flash does not)
        after = int(frames[i]) + 1
        persists = after >= scan.n_frames or hist2[after] >= 0.5 * hist[i]
        if spike and hist_spike and persists:
            cuts.append(int(frames[i]))
    return cuts


def camera_motion(scan: ClipScan, frames: np.ndarray | None = None) -> CameraMotion:
    """Fixed or moving camera, and the cuts, over the analyzed (non-repeated) ``frames``."""
    frames = np.arange(scan.n_frames) if frames is None else np.asarray(frames)
    cuts = find_cuts(scan, frames)
    dx = scan.array("shift_x_frac")[frames]
    dy = scan.array("shift_y_frac")[frames]
    ok = np.isfinite(dx) & np.isfinite(dy) & ~np.isin(frames, cuts)
    if ok.sum() < 2:
        return CameraMotion(moving=False, path_frac=0.0, p75_shift_frac=0.0, cuts=cuts)
    path = float(max(abs(dx[ok].sum()), abs(dy[ok].sum())))
    p75 = float(np.percentile(np.hypot(dx[ok], dy[ok]), 75))
    moving = path > MOVING_PATH_FRAC or p75 > MOVING_P75_SHIFT_FRAC
    return CameraMotion(moving=bool(moving), path_frac=path, p75_shift_frac=p75, cuts=cuts)
