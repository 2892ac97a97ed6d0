"""PoseTrack -> PoseTrack cleaning steps, each a pure function.

Order used by the pipeline: ``mask_low_visibility`` -> ``orient_running_direction``
-> ``fill_short_gaps`` -> ``lowpass``. The unfiltered (but oriented and
gap-filled) track is kept for event timing, which needs sharp corners that a
low-pass filter would round off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from gaitlab.core.landmarks import idx
from gaitlab.core.runs import true_runs
from gaitlab.core.types import PoseTrack


@dataclass(frozen=True)
class Orientation:
    """How the clip was turned so that +x is the running direction."""

    mirrored: bool  # True when the athlete ran towards -x in the image
    method: str  # "feet" (toe ahead of heel) or "hips" (hip travel) or "default"
    confidence: float  # 0..1 agreement of the evidence

    @property
    def near_side(self) -> str:
        """The athlete's side facing the camera in a side view.

        Running left-to-right in the image (facing +x) the athlete shows the
        camera their right side; running right-to-left, their left side.
        """
        return "left" if self.mirrored else "right"


def sample_rate_hz(time_s: np.ndarray) -> float:
    """Median real sampling rate of a track (robust to variable frame rate)."""
    if len(time_s) < 2:
        return float("nan")
    return float(1.0 / np.median(np.diff(time_s)))


def mask_low_visibility(track: PoseTrack, *, min_visibility: float) -> PoseTrack:
    """Landmarks MediaPipe itself doubts (visibility below the threshold) become NaN."""
    xy = track.xy_px.copy()
    xy[track.visibility < min_visibility] = np.nan
    return track.with_xy(xy)


def detect_orientation(track: PoseTrack) -> Orientation:
    """Which way the athlete runs in the image.

    Primary evidence: the toe is ahead of the heel (Sports2D's rule), which
    holds for a fixed or a panning camera. Fallback: hip travel across the frame.
    """
    votes = []
    for side in ("left", "right"):
        d = track.xy_px[:, idx(side, "foot_index"), 0] - track.xy_px[:, idx(side, "heel"), 0]
        votes.append(np.sign(d[np.isfinite(d)]))
    feet = np.concatenate(votes) if votes else np.zeros(0)
    feet_agreement = float(np.mean(feet)) if feet.size else 0.0
    if abs(feet_agreement) >= 0.3:
        return Orientation(mirrored=feet_agreement < 0, method="feet", confidence=abs(feet_agreement))
    hip_x = np.nanmean(track.xy_px[:, [idx("left", "hip"), idx("right", "hip")], 0], axis=1)
    ok = np.isfinite(hip_x)
    if ok.sum() >= 2:
        slope = np.polyfit(track.time_s[ok], hip_x[ok], 1)[0]
        travel = abs(slope) * (track.time_s[ok][-1] - track.time_s[ok][0])
        if travel > 0.1 * track.frame_size_px[0]:
            return Orientation(mirrored=slope < 0, method="hips", confidence=min(1.0, travel / track.frame_size_px[0]))
    return Orientation(mirrored=False, method="default", confidence=0.0)


def orient_running_direction(track: PoseTrack, orientation: Orientation) -> PoseTrack:
    """Mirror x when needed so +x is forward. Sides keep their anatomical labels."""
    if not orientation.mirrored:
        return track
    xy = track.xy_px.copy()
    xy[..., 0] = (track.frame_size_px[0] - 1) - xy[..., 0]
    return track.with_xy(xy)


def fill_gaps_1d(values: np.ndarray, time_s: np.ndarray, *, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate interior NaN runs no longer than ``max_gap_s``."""
    out = values.copy()
    bad = ~np.isfinite(values)
    for start, stop in true_runs(bad):
        if start == 0 or stop == len(values):
            continue  # never extrapolate past the data
        if time_s[stop] - time_s[start - 1] > max_gap_s + 1e-9:
            continue
        out[start:stop] = np.interp(
            time_s[start:stop], [time_s[start - 1], time_s[stop]], [values[start - 1], values[stop]]
        )
    return out


def fill_short_gaps(track: PoseTrack, *, max_gap_s: float) -> PoseTrack:
    xy = track.xy_px.astype(np.float64).copy()
    for j in range(xy.shape[1]):
        for c in range(2):
            xy[:, j, c] = fill_gaps_1d(xy[:, j, c], track.time_s, max_gap_s=max_gap_s)
    return track.with_xy(xy)


def effective_cutoff_hz(cutoff_hz: float, fs_hz: float) -> float:
    """The cutoff actually used: at most 80 % of Nyquist, so low frame rates still filter."""
    return float(min(cutoff_hz, 0.4 * fs_hz))


def lowpass_1d(values: np.ndarray, *, fs_hz: float, cutoff_hz: float, order: int) -> np.ndarray:
    """Zero-lag Butterworth low-pass (forward-backward), applied per finite run.

    Runs too short for the filter's padding are left unfiltered rather than
    dropped: they are rare, short and flagged by gap statistics anyway.
    """
    out = values.astype(np.float64).copy()
    wn = effective_cutoff_hz(cutoff_hz, fs_hz) / (fs_hz / 2.0)
    sos = butter(order, wn, btype="low", output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    for start, stop in true_runs(np.isfinite(values)):
        if stop - start > padlen:
            out[start:stop] = sosfiltfilt(sos, out[start:stop], padlen=padlen)
    return out


def lowpass(track: PoseTrack, *, cutoff_hz: float, order: int) -> PoseTrack:
    """Zero-lag low-pass of every landmark coordinate, cutoff in real (capture) Hz."""
    fs = sample_rate_hz(track.time_s)
    xy = track.xy_px.astype(np.float64).copy()
    if not np.isfinite(fs) or track.n_frames < 4:
        return track.with_xy(xy)
    for j in range(xy.shape[1]):
        for c in range(2):
            xy[:, j, c] = lowpass_1d(xy[:, j, c], fs_hz=fs, cutoff_hz=cutoff_hz, order=order)
    return track.with_xy(xy)
