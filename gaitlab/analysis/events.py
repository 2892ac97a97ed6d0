"""Touchdown and toe-off per foot, with sub-frame times and a confidence.

Method (per foot):
1. Heel and toe heights, each above its *own* stance level: the rolling lowest
   position of that point (a window that holds at least one contact), carried
   along the ground's drift (``ground.py``), in pixels. The heel landmark sits
   higher above the sole than the toe landmark, so a single ground line for the
   lowest of the two keeps a planted heel "in the air" until the toe comes down.
   The foot's height is the lower of the two.
2. Candidate contacts: runs where the foot is within a fraction of the leg length
   of the ground (on the despiked unfiltered track; runs split by a short glitch are
   merged; a frame or two without a pose at either edge does not hide the landing).
3. Sub-frame refinement on the *unfiltered* track, because a low-pass filter
   rounds the corner where the foot lands or leaves:
   - Touchdown: for heel and toe separately, the centre of the corner where the
     point's descent meets its stance level, fitted as a hinge blurred by a
     Gaussian of free width (impact, shoe compression and the pose model round
     that corner; a symmetric rounding keeps its centre at the impact); the
     foot is down when the first of the two is (heel strike or forefoot strike).
   - Toe-off: within a short window, ``h = c + g*(t - t0)`` on the ground side
     and ``h = c + b*s + a*s^2`` (``s`` = time in the air, a, b >= 0) on the air
     side, fitted on the height of the point the foot rolls over
     (``pivot_height_px``), not on the pose model's toe point, which sits behind
     the tip and rises before the tip leaves.
4. Confidence: how well that model fits (residual vs the contact threshold),
   how visible the foot was, and how many frames the event window holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter
from scipy.special import ndtr

from gaitlab.analysis.event_fits import fit_hinge_event, search_landing_corner
from gaitlab.analysis.ground import ground_drift_px_s, rolling_ground_px
from gaitlab.core import columns as col
from gaitlab.core.config import EventConfig
from gaitlab.core.landmarks import SIDES, idx, leg_length_px
from gaitlab.core.runs import true_runs
from gaitlab.core.types import PoseTrack

CONTACT_COLUMNS = col.CONTACT_COLUMNS


@dataclass(frozen=True)
class FootSignal:
    time_s: np.ndarray
    height_px: np.ndarray  # despiked, unfiltered: detection and timing both use it
    visibility: np.ndarray
    threshold_px: float
    ground_px: np.ndarray  # image y of the toe's stance level (the toe-off pivot is measured from it)
    toe_px: np.ndarray  # (T, 2) unfiltered toe (foot index) and heel: the toe-off pivot comes from them
    heel_px: np.ndarray
    # Each point's height above its own stance level (the heel point sits higher above the sole than
    # the toe point, so one ground line for both puts a planted heel "in the air"); None: ``height_px``.
    heel_height_px: np.ndarray | None = None
    toe_height_px: np.ndarray | None = None


def _lowest_y(track: PoseTrack, side: str) -> np.ndarray:
    heel = track.xy_px[:, idx(side, "heel"), 1]
    toe = track.xy_px[:, idx(side, "foot_index"), 1]
    return np.fmax(heel, toe)  # y grows down: the larger y is the lower point


def despike(values: np.ndarray, *, fs_hz: float, window_s: float = 0.017) -> np.ndarray:
    """Running median over ~17 ms (at least 3 samples): removes 1-2 frame pose glitches
    (a foot jumping to the other leg and back) while keeping the corner at an event sharp."""
    size = max(3, int(round(window_s * fs_hz)) | 1)
    ok = np.isfinite(values)
    out = values.copy()
    if ok.sum() >= size:
        filled = np.interp(np.arange(len(values)), np.flatnonzero(ok), values[ok])
        out = median_filter(filled, size=size, mode="nearest")
        out[~ok] = np.nan
    return out


def foot_signal(
    track: PoseTrack,
    raw: PoseTrack,
    side: str,
    *,
    leg_px: float,
    config: EventConfig,
    fs_hz: float,
    drift_px_s: float = 0.0,
) -> FootSignal:
    """One foot's heel and toe heights above their own stance levels, and the contact threshold.

    Each point's stance level is the rolling lowest position of that point (despiked,
    unfiltered), carried along the ground drift. ``height_px`` is the lower of the two
    heights: the foot is on the ground as soon as either point is at its stance level.
    ``leg_px`` is the leg length of ``track`` (``detect_contacts`` measures it once).
    """
    window = int(round(config.ground_window_s * fs_hz))
    heights, grounds = {}, {}
    for point in ("heel", "foot_index"):
        y = despike(raw.xy_px[:, idx(side, point), 1].astype(np.float64), fs_hz=fs_hz)
        grounds[point] = rolling_ground_px(track.time_s, y, window_frames=window, drift_px_s=drift_px_s)
        heights[point] = grounds[point] - y
    height = np.fmin(heights["heel"], heights["foot_index"])
    vis = np.minimum(track.visibility[:, idx(side, "heel")], track.visibility[:, idx(side, "foot_index")])
    threshold = config.contact_height_leg_frac * leg_px
    return FootSignal(
        time_s=track.time_s,
        height_px=height,
        visibility=vis,
        threshold_px=threshold,
        ground_px=grounds["foot_index"],
        toe_px=raw.xy_px[:, idx(side, "foot_index")].astype(np.float64),
        heel_px=raw.xy_px[:, idx(side, "heel")].astype(np.float64),
        heel_height_px=heights["heel"],
        toe_height_px=heights["foot_index"],
    )


def pivot_height_px(sig: FootSignal, first: int, last: int, *, fs_hz: float) -> tuple[np.ndarray, float]:
    """Height above the ground of the point the foot rolls over at push-off, and its offset (px).

    At the end of a contact the foot rotates about the tip of the shoe, which
    stays on the ground until toe-off. A pose model's toe point sits behind and
    above that tip (MediaPipe's foot index is on the toes), so it starts to rise
    as the heel lifts, one to two frames at 240 fps before the tip leaves
    (toe-off early by ~4-12 ms on the sample clip). The pivot is estimated per
    contact as the point on the heel->toe line, ``a`` px beyond the toe, whose
    height stays constant while the foot rotates in the second half of the
    contact: ``y_toe + a * u_y = const`` (``u`` the heel->toe unit vector), a
    least-squares fit of ``a``. ``a`` is kept within half a foot length; when the
    foot barely rotates (< ~9 deg) it is unidentifiable and the toe itself is used.
    """
    d = sig.toe_px - sig.heel_px
    length = np.linalg.norm(d, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        u_y = d[:, 1] / length
    mid = (first + last) // 2
    y, u = sig.toe_px[mid : last + 1, 1], u_y[mid : last + 1]
    ok = np.isfinite(y) & np.isfinite(u)
    offset_px = 0.0
    if ok.sum() >= 4 and np.ptp(u[ok]) > 0.15:
        cov = np.cov(y[ok], u[ok])
        offset_px = float(np.clip(-cov[0, 1] / cov[1, 1], 0.0, 0.5 * np.nanmedian(length)))
    pivot_y = despike(sig.toe_px[:, 1] + offset_px * np.nan_to_num(u_y), fs_hz=fs_hz)
    pivot_y[~np.isfinite(u_y)] = np.nan
    return sig.ground_px - pivot_y, offset_px


def candidate_contacts(sig: FootSignal, *, config: EventConfig) -> list[tuple[int, int, int]]:
    """Ground-contact runs complete within the data: (first, last, exit) frame indices.

    A contact starts when the foot comes below the threshold. ``last`` is the last
    frame below it; ``exit`` the last before the foot rises above
    ``contact_exit_factor`` times it (hysteresis, ``exit >= last``). A pose model's
    toe often hovers near the threshold while the foot rolls over it: the plain
    threshold then ends the contact well before the foot leaves, and the toe-off
    fit must be allowed to search up to ``exit``.
    """
    h = sig.height_px
    below = np.isfinite(h) & (h < sig.threshold_px)
    on = below.copy()
    for start, stop in true_runs(np.isfinite(h) & (h < config.contact_exit_factor * sig.threshold_px)):
        entered = np.flatnonzero(below[start:stop])
        if len(entered):
            on[start + entered[0] : stop] = True
    runs = true_runs(on)
    # merge runs split by a short pose glitch (up to ~25 ms, at least 2 frames)
    t = sig.time_s
    frame_s = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    max_gap = max(2, int(round(0.025 / frame_s)))
    merged: list[list[int]] = []
    for start, stop in runs:
        if merged and start - merged[-1][1] <= max_gap:
            merged[-1][1] = stop
        else:
            merged.append([start, stop])
    out = []
    for start, stop in merged:
        # a contact must start and end inside the data, with the foot seen in the air on both sides
        # (a frame or two without a pose between the air and the ground does not hide the landing)
        seen_before = np.flatnonzero(np.isfinite(h[max(0, start - 1 - max_gap) : start]))
        seen_after = np.flatnonzero(np.isfinite(h[stop : stop + 1 + max_gap]))
        if start == 0 or stop >= len(h) or not (len(seen_before) and len(seen_after)):
            continue
        last = start + int(np.flatnonzero(below[start:stop])[-1])
        duration = (last - start + 1) * frame_s
        if duration < 0.5 * config.min_contact_s:  # the refined time is checked again later
            continue
        if duration > config.max_contact_s + frame_s:
            continue
        out.append((start, last, stop - 1))
    return out


def refine_contact(
    sig: FootSignal, first: int, last: int, *, config: EventConfig, fs_hz: float, exit_last: int | None = None
) -> dict:
    """Sub-frame touchdown and toe-off for one candidate contact [first, last] (``candidate_contacts``;
    ``exit_last``: its hysteresis end, ``last`` when not given)."""
    t, h = sig.time_s, sig.height_px
    half = max(3, int(round(config.fit_half_window_s * fs_hz)))
    n = len(t)
    frame_s = 1.0 / fs_hz
    # The detection threshold sits above the ground, so the run starts a little
    # after the true touchdown... or before it: search from one frame before the
    # run to well inside it, and fit on data reaching further into the air.
    mid = (first + last) // 2
    step = 0.1 * frame_s
    if last - first + 1 < config.subframe_min_contact_frames:
        return _frame_resolution_contact(sig, first, last, frame_s=frame_s, half=half)
    # The fit starts where it would on the plain threshold and may run on to the hysteresis exit.
    end = last if exit_last is None else max(last, exit_last)
    lo, hi = max(mid, last - 2 * half), min(n - 1, end + half)
    pivot_h, _ = pivot_height_px(sig, first, last, fs_hz=fs_hz)
    if np.isfinite(pivot_h[lo : hi + 1]).sum() < 0.8 * np.isfinite(h[lo : hi + 1]).sum():
        pivot_h = h  # heel hidden on much of the window: no pivot, the lowest foot point as before
    to, to_rms = fit_hinge_event(
        t[lo : hi + 1],
        pivot_h[lo : hi + 1],
        t_lo=t[max(mid, last - half)],
        t_hi=t[min(end + half // 2, n - 1)],
        air_before=False,
        step_s=step,
    )
    # Touchdown: the landing corner of each foot point on its own stance level, searched around the
    # frame where that point came within ``touchdown_anchor_frac`` of the threshold; the foot is down
    # when the first of them is (a heel strike lands on the heel, a forefoot strike on the toe).
    span = max(3, int(round(config.touchdown_span_s * fs_hz)))
    anchor_px = config.touchdown_anchor_frac * sig.threshold_px
    td = td_rms = float("nan")
    for point_h in (sig.heel_height_px, sig.toe_height_px) if sig.heel_height_px is not None else (h,):
        near_ground = np.isfinite(point_h[first : mid + 1]) & (point_h[first : mid + 1] < anchor_px)
        if not near_ground.any():
            continue  # this point never reached its stance level early in the contact (e.g. a forefoot heel)
        t_point, rms = search_landing_corner(
            t,
            point_h,
            first + int(np.argmax(near_ground)),
            mid,
            span=span,
            step_s=step,
            frame_s=frame_s,
            blur_s=config.touchdown_blur_s,
        )
        if np.isfinite(t_point) and not (t_point >= td):
            td, td_rms = t_point, rms
    if not np.isfinite(td):  # no corner (e.g. the foot never came down): the ground/air hinge fit
        lo, hi = max(0, first - half), min(mid, first + 2 * half)
        td, td_rms = fit_hinge_event(
            t[lo : hi + 1],
            h[lo : hi + 1],
            t_lo=t[max(0, first - half // 2)],
            t_hi=t[min(mid, first + half)],
            air_before=True,
            step_s=step,
        )
    if not (np.isfinite(td) and np.isfinite(to)) or to <= td:
        td, to = t[first] - 0.5 * frame_s, t[last] + 0.5 * frame_s  # fall back to frame resolution
        td_rms = to_rms = sig.threshold_px
    fit_quality = float(np.exp(-max(td_rms, to_rms) / max(1e-6, 0.5 * sig.threshold_px)))
    return {col.TOUCHDOWN_S: td, col.TOE_OFF_S: to, "confidence": _confidence(sig, first, last, half, fit_quality)}


def _confidence(sig: FootSignal, first: int, last: int, half: int, quality: float) -> float:
    """Event confidence in [0, 1]: the feet's mean visibility around the contact x the timing
    ``quality`` x a penalty for contacts seen on fewer than ~6 frames (coarse timing)."""
    vis = float(np.nanmean(sig.visibility[max(0, first - half) : min(len(sig.time_s), last + half + 1)]))
    samples = min(1.0, (last - first + 1) / 6.0)
    return float(np.clip(vis, 0, 1) * quality * (0.5 + 0.5 * samples))


def _frame_resolution_contact(sig: FootSignal, first: int, last: int, *, frame_s: float, half: int) -> dict:
    """Events at frame resolution for a contact seen on only a few frames (low frame rates).

    With 2-4 frames on the ground the hinge fits have fewer samples than parameters
    near each corner and drift by a frame or more, so the touchdown is put halfway
    between the last frame in the air and the first on the ground, the toe-off
    halfway between the last on the ground and the first in the air: unbiased for a
    uniformly placed event, error SD frame/sqrt(12) each.
    """
    t = sig.time_s
    td = 0.5 * (t[first - 1] + t[first]) if first > 0 else t[first] - 0.5 * frame_s
    to = 0.5 * (t[last] + t[last + 1]) if last + 1 < len(t) else t[last] + 0.5 * frame_s
    n = len(t)
    # how clearly the frames separate: ground frames well below the threshold, air frames above it
    h = sig.height_px
    ground = h[first : last + 1]
    air = h[[i for i in (first - 1, last + 1) if 0 <= i < n]]
    margin = min(np.nanmin(sig.threshold_px - ground), np.nanmin(air - sig.threshold_px)) if len(air) else 0.0
    clarity = float(ndtr(margin / max(1e-6, 0.5 * sig.threshold_px))) if np.isfinite(margin) else 0.0
    return {
        col.TOUCHDOWN_S: float(td),
        col.TOE_OFF_S: float(to),
        "confidence": _confidence(sig, first, last, half, clarity),
    }


def time_to_frame(time_s: np.ndarray, frame_index: np.ndarray, t: float) -> float:
    """Fractional stored-frame index of a real time (linear between frames)."""
    return float(np.interp(t, time_s, frame_index.astype(np.float64)))


def detect_contacts(
    track: PoseTrack, raw: PoseTrack, *, config: EventConfig, fs_hz: float, leg_of_side: dict[str, str]
) -> pd.DataFrame:
    """All complete ground contacts of both feet, sorted by touchdown time.

    ``track`` is the cleaned (low-pass) track, ``raw`` the same track before
    the low-pass; ``leg_of_side`` maps left/right to near/far/unknown.
    """
    rows = []
    # one ground drift for both feet (they run on the same ground; see ground.py)
    window = int(round(config.ground_window_s * fs_hz))
    lows = {side: despike(_lowest_y(raw, side), fs_hz=fs_hz) for side in SIDES}
    leg_px = leg_length_px(track.xy_px)
    drift = ground_drift_px_s(track.time_s, list(lows.values()), window_frames=window, leg_length_px=leg_px)
    for side in SIDES:
        sig = foot_signal(track, raw, side, leg_px=leg_px, config=config, fs_hz=fs_hz, drift_px_s=drift)
        if not np.isfinite(sig.threshold_px):
            continue
        for first, last, exit_last in candidate_contacts(sig, config=config):
            ev = refine_contact(sig, first, last, config=config, fs_hz=fs_hz, exit_last=exit_last)
            contact = ev[col.TOE_OFF_S] - ev[col.TOUCHDOWN_S]
            if not (config.min_contact_s <= contact <= config.max_contact_s):
                continue
            rows.append(
                {
                    "side": side,
                    "leg": leg_of_side.get(side, "unknown"),
                    col.TOUCHDOWN_FRAME: time_to_frame(track.time_s, track.frame_index, ev[col.TOUCHDOWN_S]),
                    col.TOE_OFF_FRAME: time_to_frame(track.time_s, track.frame_index, ev[col.TOE_OFF_S]),
                    col.TOUCHDOWN_S: ev[col.TOUCHDOWN_S],
                    col.TOE_OFF_S: ev[col.TOE_OFF_S],
                    col.CONTACT_TIME_S: contact,
                    "confidence": ev[col.CONFIDENCE],
                }
            )
    df = pd.DataFrame(rows, columns=CONTACT_COLUMNS)
    return df.sort_values(col.TOUCHDOWN_S, ignore_index=True)
