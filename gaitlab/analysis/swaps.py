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
  right most of the time, so the labelling it used on most of the frames is
  taken as the true one.

``swap_mask`` builds on these: long enough segments are *anchors*; consecutive
anchors are chained across short gaps (the model's in-between frames) by
extrapolating each leg's motion, each chain takes its majority labelling, and
the frames in the gaps are labelled one by one against the line between the
anchors, those fitting neither leg becoming missing ("glitch") frames.
"""

from __future__ import annotations

import numpy as np

from gaitlab.core.landmarks import idx, leg_length_px
from gaitlab.core.runs import true_runs
from gaitlab.core.types import PoseTrack

# Groups repaired independently: the model sometimes swaps only the feet (e.g. the
# near foot jumps onto the far swinging foot for a few frames at touchdown).
SWAP_GROUPS: tuple[tuple[str, ...], ...] = (("hip", "knee"), ("ankle", "heel", "foot_index"))
COST_POINTS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("hip", "knee"): ("knee",),
    ("ankle", "heel", "foot_index"): ("ankle", "heel", "foot_index"),
}


def _leg_coords(xy: np.ndarray, side: str, points: tuple[str, ...]) -> np.ndarray:
    return np.stack([xy[:, idx(side, p)] for p in points], axis=1)  # (T, P, 2)


def flip_between_frames(
    track: PoseTrack, points: tuple[str, ...] = ("knee", "ankle", "heel", "foot_index"), *, min_margin: float = 0.35
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame t >= 1: did the labelling flip since t-1, and can we tell?

    Returns ``(flipped, decisive)``; ``decisive`` is False where the legs are
    too close relative to their motion, or data is missing.
    """
    left, right = _leg_coords(track.xy_px, "left", points), _leg_coords(track.xy_px, "right", points)
    d_same = np.nansum(
        np.linalg.norm(left[1:] - left[:-1], axis=2) + np.linalg.norm(right[1:] - right[:-1], axis=2), axis=1
    )
    d_cross = np.nansum(
        np.linalg.norm(left[1:] - right[:-1], axis=2) + np.linalg.norm(right[1:] - left[:-1], axis=2), axis=1
    )
    complete = np.all(
        np.isfinite(left[1:]).all(axis=2)
        & np.isfinite(left[:-1]).all(axis=2)
        & np.isfinite(right[1:]).all(axis=2)
        & np.isfinite(right[:-1]).all(axis=2),
        axis=1,
    )
    total = d_same + d_cross
    margin = np.divide(np.abs(d_cross - d_same), total, out=np.zeros_like(total), where=total > 0)
    flipped = np.concatenate([[False], d_cross < d_same])
    decisive = np.concatenate([[False], complete & (margin >= min_margin)])
    return flipped, decisive


def _segments(decisive: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] frame runs linked by decisive transitions."""
    starts = [0] + [t for t in range(1, len(decisive)) if not decisive[t]]
    return [(a, b - 1) for a, b in zip(starts, starts[1:] + [len(decisive)])]


def _line_at(t: np.ndarray, values: np.ndarray, frames: np.ndarray, t_at: float) -> np.ndarray:
    """Least-squares line through ``values[frames]`` (P, 2 per frame) evaluated at ``t_at``."""
    out = np.full(values.shape[1:], np.nan)
    tt = t[frames]
    for j in range(values.shape[1]):
        for c in range(2):
            y = values[frames, j, c]
            ok = np.isfinite(y)
            if ok.sum() >= 2 and np.ptp(tt[ok]) > 0:
                out[j, c] = np.polyval(np.polyfit(tt[ok], y[ok], 1), t_at)
            elif ok.any():
                out[j, c] = y[ok][-1]
    return out


def _cross_vs_same(
    left: np.ndarray, right: np.ndarray, pred_l: np.ndarray, pred_r: np.ndarray, min_margin: float
) -> bool | None:
    """True if ``left/right`` (P, 2) match the predictions crossed, False if as labelled, None if unclear."""
    if not (
        np.isfinite(left).all() and np.isfinite(right).all() and np.isfinite(pred_l).all() and np.isfinite(pred_r).all()
    ):
        return None
    same = np.linalg.norm(left - pred_l, axis=1).sum() + np.linalg.norm(right - pred_r, axis=1).sum()
    cross = np.linalg.norm(left - pred_r, axis=1).sum() + np.linalg.norm(right - pred_l, axis=1).sum()
    total = same + cross
    if total <= 0 or abs(cross - same) / total < min_margin:
        return None
    return bool(cross < same)


def _segment_parity(flipped: np.ndarray, decisive: np.ndarray) -> np.ndarray:
    """(T,) True where a frame's labelling is crossed relative to the first frame of its segment."""
    parity = np.zeros(len(flipped), bool)
    for i in range(1, len(flipped)):
        parity[i] = parity[i - 1] ^ flipped[i] if decisive[i] else False
    return parity


def _chain_anchors(
    t: np.ndarray,
    segs: list[tuple[int, int]],
    anchors: list[int],
    cons_l: np.ndarray,
    cons_r: np.ndarray,
    *,
    min_len: int,
    max_bridge_s: float,
    min_margin: float,
) -> tuple[dict[int, int], dict[int, bool]]:
    """Link consecutive anchors across short gaps: ({anchor -> chain number}, {anchor -> parity offset}).

    ``cons_l``/``cons_r``: the legs labelled consistently within each segment. An anchor
    joins the previous one's chain when it starts at most ``max_bridge_s`` after it and
    its legs clearly match (as labelled or crossed) each leg's line of motion fitted on the
    last ``min_len`` frames of the previous anchor; the offset is the parity correction
    that makes the anchor consistent with its chain.
    """
    chain, offset = {}, {}
    prev = None
    for k in anchors:
        a = segs[k][0]
        link = None
        if prev is not None:
            pa, pb = segs[prev]
            if t[a] - t[pb] <= max_bridge_s:
                fit = np.arange(max(pa, pb - min_len + 1), pb + 1)
                link = _cross_vs_same(
                    cons_l[a], cons_r[a], _line_at(t, cons_l, fit, t[a]), _line_at(t, cons_r, fit, t[a]), min_margin
                )
        if link is None:
            chain[k], offset[k] = (chain[prev] + 1 if prev is not None else 0), False
        else:
            chain[k] = chain[prev]
            offset[k] = bool(offset[prev] ^ link)
        prev = k
    return chain, offset


def _label_anchors(
    n: int,
    segs: list[tuple[int, int]],
    anchors: list[int],
    chain: dict[int, int],
    offset: dict[int, bool],
    parity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(swapped, anchored): (T,) masks; each chain of anchors takes the labelling the model used on most
    of its frames, frames outside anchors are left unswapped and not anchored."""
    out = np.zeros(n, bool)
    anchored = np.zeros(n, bool)
    for c in set(chain.values()):
        members = [k for k in anchors if chain[k] == c]
        labels = np.concatenate([parity[segs[k][0] : segs[k][1] + 1] ^ offset[k] for k in members])
        majority = labels.mean() > 0.5  # the labelling the model used most is taken as right
        for k in members:
            a, b = segs[k]
            out[a : b + 1] = (parity[a : b + 1] ^ offset[k]) != majority
            anchored[a : b + 1] = True
    return out, anchored


def _label_gap(
    out: np.ndarray,
    glitch: np.ndarray,
    gap: tuple[int, int],
    t: np.ndarray,
    legs: tuple[np.ndarray, np.ndarray],
    fixed: tuple[np.ndarray, np.ndarray],
    *,
    leg_px: float,
    min_margin: float,
    glitch_leg_frac: float,
) -> None:
    """Label the frames of one gap [a, b] between anchors (in place in ``out`` and ``glitch``).

    Each frame is compared with the straight line between the repaired anchor frames
    a - 1 and b + 1 (``fixed``: the legs with the anchors' labels repaired); it is swapped
    if its legs clearly match that line crossed, and a glitch if a leg lies more than
    ``glitch_leg_frac`` leg lengths (plus the allowed bend) from its line.
    """
    a, b = gap
    left, right = legs
    fixed_l, fixed_r = fixed
    # A real foot leaves the straight line between the anchors by up to |v_after - v_before| * gap / 4
    # (a change of velocity at mid-gap, e.g. a landing). Negligible for a few frames at 240 fps, but
    # at 30 fps a 4-frame gap spans a whole contact: allow it, or real landings become "glitches".
    gap_s = t[b + 1] - t[a - 1]
    bend_px = max(_velocity_change_px_s(fixed_l, t, a, b), _velocity_change_px_s(fixed_r, t, a, b)) * gap_s / 4
    for i in range(a, b + 1):
        w = (t[i] - t[a - 1]) / gap_s
        pl = (1 - w) * fixed_l[a - 1] + w * fixed_l[b + 1]
        pr = (1 - w) * fixed_r[a - 1] + w * fixed_r[b + 1]
        cross = _cross_vs_same(left[i], right[i], pl, pr, min_margin)
        if cross:
            out[i] = True
        li, ri = (right[i], left[i]) if out[i] else (left[i], right[i])
        off = max(np.nanmax(np.linalg.norm(li - pl, axis=1)), np.nanmax(np.linalg.norm(ri - pr, axis=1)))
        if np.isfinite(leg_px) and off > glitch_leg_frac * leg_px + bend_px:
            glitch[i] = True


def _label_gaps(
    out: np.ndarray,
    anchored: np.ndarray,
    track: PoseTrack,
    legs: tuple[np.ndarray, np.ndarray],
    *,
    frame_s: float,
    max_bridge_s: float,
    min_margin: float,
    glitch_leg_frac: float,
) -> np.ndarray:
    """Label the frames between anchors one by one (``out`` updated in place); returns the (T,) glitch mask.

    Gaps touching the ends of the track, or whose anchors are more than ``max_bridge_s``
    (plus two frames) apart, are left as they are.
    """
    n, t = len(out), track.time_s
    left, right = legs
    glitch = np.zeros(n, bool)
    fixed = (np.where(out[:, None, None], right, left), np.where(out[:, None, None], left, right))
    leg_px = leg_length_px(track.xy_px)
    for a, stop in true_runs(~anchored):
        b = stop - 1  # [a, b]: the gap's first and last frame
        if a == 0 or b == n - 1 or t[b + 1] - t[a - 1] > max_bridge_s + 2 * frame_s:
            continue
        _label_gap(
            out,
            glitch,
            (a, b),
            t,
            legs,
            fixed,
            leg_px=leg_px,
            min_margin=min_margin,
            glitch_leg_frac=glitch_leg_frac,
        )
    return glitch


def swap_mask(
    track: PoseTrack,
    points: tuple[str, ...] = ("knee", "ankle", "heel", "foot_index"),
    *,
    min_margin: float = 0.35,
    anchor_s: float = 0.02,
    max_bridge_s: float = 0.08,
    glitch_leg_frac: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """(T,) True for frames whose left/right labels of ``points`` should be exchanged,
    and (T,) True for *glitch* frames whose points fit neither leg (to be treated as missing).

    Segments of frames linked by decisive frame-to-frame continuity and at least
    ``anchor_s`` long are *anchors*. The model often passes through a few
    in-between ("morph") frames when it swaps the legs, which breaks continuity
    although the legs are far apart; so consecutive anchors are linked across
    such gaps (up to ``max_bridge_s``) by extrapolating each leg's line of motion
    from the earlier anchor. Each chain of linked anchors takes the labelling the
    model used on most of its frames. Frames in the gaps are labelled one by one
    against the line between the neighbouring anchors; a frame whose points are
    more than ``glitch_leg_frac`` leg lengths from both legs' lines is a glitch.
    """
    n = track.n_frames
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, bool)
    t = track.time_s
    flipped, decisive = flip_between_frames(track, points, min_margin=min_margin)
    parity = _segment_parity(flipped, decisive)
    left, right = _leg_coords(track.xy_px, "left", points), _leg_coords(track.xy_px, "right", points)
    frame_s = float(np.median(np.diff(t))) if n > 1 else 1.0
    min_len = max(2, int(round(anchor_s / frame_s)))
    segs = _segments(decisive)
    anchors = [k for k, (a, b) in enumerate(segs) if b - a + 1 >= min_len]
    # labels made consistent within each segment (as at the segment's first frame)
    cons_l = np.where(parity[:, None, None], right, left)
    cons_r = np.where(parity[:, None, None], left, right)
    chain, offset = _chain_anchors(
        t, segs, anchors, cons_l, cons_r, min_len=min_len, max_bridge_s=max_bridge_s, min_margin=min_margin
    )
    out, anchored = _label_anchors(n, segs, anchors, chain, offset, parity)
    glitch = _label_gaps(
        out,
        anchored,
        track,
        (left, right),
        frame_s=frame_s,
        max_bridge_s=max_bridge_s,
        min_margin=min_margin,
        glitch_leg_frac=glitch_leg_frac,
    )
    return out, glitch


def _velocity_change_px_s(points: np.ndarray, t: np.ndarray, a: int, b: int) -> float:
    """Largest |velocity after - velocity before| of the points around the gap [a, b] (0 if unknown)."""
    if a < 2 or b + 2 >= len(t):
        return 0.0
    v_before = (points[a - 1] - points[a - 2]) / (t[a - 1] - t[a - 2])
    v_after = (points[b + 2] - points[b + 1]) / (t[b + 2] - t[b + 1])
    dv = np.linalg.norm(v_after - v_before, axis=1)
    return float(np.nanmax(dv)) if np.isfinite(dv).any() else 0.0


def repair_leg_swaps(track: PoseTrack, *, min_margin: float = 0.35) -> tuple[PoseTrack, np.ndarray]:
    """The track with swapped labels exchanged (thigh and foot groups separately),
    and the (T,) mask of frames where any group was swapped. Glitch frames of a
    group (points on neither leg) become missing, to be interpolated later."""
    xy, z, vis = track.xy_px.copy(), track.z.copy(), track.visibility.copy()
    any_mask = np.zeros(track.n_frames, bool)
    any_glitch = False
    for group in SWAP_GROUPS:
        mask, glitch = swap_mask(track, COST_POINTS[group], min_margin=min_margin)
        any_mask |= mask
        any_glitch |= bool(glitch.any())
        for p in group:
            a, b = idx("left", p), idx("right", p)
            for arr in (xy, z, vis):
                arr[mask, a], arr[mask, b] = arr[mask, b], arr[mask, a]  # fancy indexing: both sides are copies
            if p not in COST_POINTS[group]:
                continue  # hips barely differ between the legs: kept
            for k in (a, b):
                xy[glitch, k] = np.nan
                vis[glitch, k] = 0.0
    if not (any_mask.any() or any_glitch):
        return track, any_mask
    return track.with_xy(xy, z=z, visibility=vis), any_mask
