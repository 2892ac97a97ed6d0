"""Leg identity over time: repair left/right swaps, and find far-leg collapse.

Swaps (Sports2D #35/#39; MediaPipe too): the model labels the two legs the other
way round for a few frames. A two-state Viterbi pass (kept / swapped per frame)
picks the labelling that moves the leg points least from frame to frame (each
leg's points predicted at constant velocity), with a small cost when the labels
contradict the clip's near/far depth order (MediaPipe's z: the near leg is
nearer the camera). Hips, knees, ankles, heels and toes swap together.

Collapse (MediaPipe #3496/#4969): in side view the far leg is often drawn on top
of the near one. Knees and ankles of both legs then coincide at once, which a
running stride never does (when the knees pass each other the ankles are far
apart: one on the ground, one tucked under the hip), certainly not for 0.15 s
or more. Those frames are marked;
measures of the far leg that use them are unreliable; the near leg is fine.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .landmarks import INDEX, LEG_POINTS, idx
from .types import PoseTrack

_LEFT = [idx("left", p) for p in LEG_POINTS]
_RIGHT = [idx("right", p) for p in LEG_POINTS]
_DISTAL = [1, 2, 3, 4]  # positions in LEG_POINTS of knee, ankle, heel, toe: they move; the hips barely differ
# Both knee and ankle pairs closer than this share of the leg length: the far leg sits on the near one.
COLLAPSE_LEG_FRAC = 0.12
# ...for at least this long: legs at the same height in flight with knees level can meet for an instant.
COLLAPSE_MIN_S = 0.15
# Cost (in leg lengths) of labels contradicting the clip's depth order in one frame.
DEPTH_PENALTY_LEG = 0.05


def _swapped(xy: np.ndarray) -> np.ndarray:
    out = xy.copy()
    out[:, _LEFT], out[:, _RIGHT] = xy[:, _RIGHT], xy[:, _LEFT]
    return out


def _leg_length_px(xy: np.ndarray) -> float:
    lengths = []
    for side in ("left", "right"):
        hip, knee, ankle = (xy[:, idx(side, p)] for p in ("hip", "knee", "ankle"))
        lengths.append(np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1))
    value = np.nanmedian(np.concatenate(lengths))
    return float(value) if np.isfinite(value) else float("nan")


def find_swaps(track: PoseTrack, *, near_side: str | None = None) -> np.ndarray:
    """(T,) True where the leg labels should be exchanged (Viterbi over kept/swapped)."""
    xy = track.xy_px.astype(np.float64)
    n = len(xy)
    if n < 3:
        return np.zeros(n, bool)
    leg = _leg_length_px(xy)
    if not np.isfinite(leg) or leg <= 0:
        return np.zeros(n, bool)
    variants = [xy[:, _LEFT + _RIGHT][:, [*_DISTAL, *[5 + d for d in _DISTAL]]],
                _swapped(xy)[:, _LEFT + _RIGHT][:, [*_DISTAL, *[5 + d for d in _DISTAL]]]]  # (T, 8, 2)
    depth_cost = np.zeros((n, 2))
    if near_side is not None:
        dz = np.nanmean(track.z[:, _LEFT][:, _DISTAL] - track.z[:, _RIGHT][:, _DISTAL], axis=1)
        left_nearer = dz < 0
        contradicts = (left_nearer != (near_side == "left")) & np.isfinite(dz)
        depth_cost[:, 0] = DEPTH_PENALTY_LEG * contradicts
        depth_cost[:, 1] = DEPTH_PENALTY_LEG * (~contradicts & np.isfinite(dz))
    cost = depth_cost[0].copy()
    back = np.zeros((n, 2), np.int8)
    prev_states = [[None, None], [None, None]]  # per state: last two positions on the best path
    hist = {0: [variants[0][0]], 1: [variants[1][0]]}
    for t in range(1, n):
        new_cost = np.zeros(2)
        new_hist = {}
        for b in (0, 1):
            cur = variants[b][t]
            options = []
            for a in (0, 1):
                path = hist[a]
                if len(path) >= 2 and np.all(np.isfinite(path[-2])):
                    pred = 2 * path[-1] - path[-2]  # constant velocity
                else:
                    pred = path[-1]
                d = np.linalg.norm(cur - pred, axis=1) / leg
                step = float(np.nanmean(d)) if np.isfinite(d).any() else 0.0
                options.append(cost[a] + step)
            a_best = int(np.argmin(options))
            new_cost[b] = options[a_best] + depth_cost[t, b]
            back[t, b] = a_best
            base = hist[a_best]
            nxt = np.where(np.isfinite(cur), cur, base[-1])
            new_hist[b] = (base + [nxt])[-2:]
        cost, hist = new_cost, new_hist
    del prev_states
    state = np.zeros(n, np.int8)
    state[-1] = int(np.argmin(cost))
    for t in range(n - 1, 0, -1):
        state[t - 1] = back[t, state[t]]
    swapped = state.astype(bool)
    # the overall labelling is arbitrary to continuity: keep the majority as the model gave it
    if swapped.mean() > 0.5:
        swapped = ~swapped
    return swapped


def repair_swaps(track: PoseTrack, *, near_side: str | None = None) -> tuple[PoseTrack, np.ndarray]:
    """The track with swapped frames' leg labels exchanged, and the (T,) swap mask."""
    swaps = find_swaps(track, near_side=near_side)
    if not swaps.any():
        return track, swaps
    xy, z, vis = track.xy_px.copy(), track.z.copy(), track.visibility.copy()
    for arr in (z, vis):
        arr[np.ix_(swaps, _LEFT + _RIGHT)] = arr[np.ix_(swaps, _RIGHT + _LEFT)]
    xy[swaps] = _swapped(track.xy_px[swaps])
    return replace(track, xy_px=xy, z=z, visibility=vis), swaps


def collapsed_frames(track: PoseTrack) -> np.ndarray:
    """(T,) True where both knees and both ankles coincide (far leg drawn on the near leg)."""
    xy = track.xy_px.astype(np.float64)
    leg = _leg_length_px(xy)
    if not np.isfinite(leg) or leg <= 0:
        return np.zeros(len(xy), bool)
    knee = np.linalg.norm(xy[:, INDEX["left_knee"]] - xy[:, INDEX["right_knee"]], axis=1)
    ankle = np.linalg.norm(xy[:, INDEX["left_ankle"]] - xy[:, INDEX["right_ankle"]], axis=1)
    close = (knee < COLLAPSE_LEG_FRAC * leg) & (ankle < COLLAPSE_LEG_FRAC * leg)
    out = np.zeros_like(close)
    padded = np.concatenate([[0], close.astype(np.int8), [0]])
    edges = np.diff(padded)
    t = track.time_s
    frame_s = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if t[b - 1] - t[a] + frame_s >= COLLAPSE_MIN_S:
            out[a:b] = True
    return out
