"""Repeated frames: which frames are new, their true times, and the real frame rate.

Slowed-down exports and rate conversions repeat frames (a 24 fps film in a
30 fps file repeats one frame in five; a clip slowed 3x by duplication shows
each image three times). Repeats carry no new motion, distort every time
derivative and waste pose time, so they are dropped before pose.

Decision: a frame is a repeat when its change from the previous frame
(``ClipScan.change_p995``) belongs to the clip's low cluster: sorted changes
show a wide gap (ratio >= ``GAP_RATIO``) between compression noise (a few gray
levels, up to ~35 with a screen-recorder's UI) and real motion (tens of
levels). Without such a gap only near-exact copies (<= ``EXACT_P995``) count.
Frames where nothing moves at all (athlete not yet in view) also fall in the
low cluster; dropping them loses nothing, and ``systematic`` tells a real
repetition pattern (spread over the clip) from such a still stretch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np

from gaitlab.pose.scan import ClipScan

GAP_RATIO = 3.0
MAX_REPEAT_P995 = 40.0  # gray levels: above this a frame always counts as new
EXACT_P995 = 3.0
# A time gap this many times the typical interval between new frames splits the clip (pause, dropped stretch).
LONG_GAP_FACTOR = 3.0


@dataclass(frozen=True)
class FrameTiming:
    """Which decoded frames to analyze, and at what time.

    ``keep``: indices of decoded frames that are new (not repeats);
    ``stored_time_s``: their times from the file; ``time_s``: their times after
    retiming regular repetition patterns (still stored-time scale);
    ``unique_fps``: new frames per second of stored time (the real frame rate
    when the clip plays in real time); ``repeat_factor``: decoded / new frames;
    ``systematic``: repeats form a pattern over the whole clip (not a still
    stretch); ``regular_k``: k when every image is shown exactly k times
    (typical of "slow down by k" exports), else 0; ``segment_starts``: positions
    in ``keep`` that start a new stretch after a long gap.
    """

    keep: list[int]
    stored_time_s: list[float]
    time_s: list[float]
    n_decoded: int
    unique_fps: float
    repeat_factor: float
    systematic: bool
    regular_k: int
    retimed: bool
    repeat_threshold_p995: float
    segment_starts: list[int]

    @property
    def n_duplicates(self) -> int:
        return self.n_decoded - len(self.keep)

    def to_dict(self) -> dict:
        return asdict(self)


def repeat_threshold(change_p995: np.ndarray) -> float:
    """Largest change still counted as a repeat, from the gap in the sorted changes."""
    v = np.sort(np.maximum(change_p995[np.isfinite(change_p995)], 1.0))
    if v.size < 3:
        return EXACT_P995
    ratios = v[1:] / v[:-1]
    ratios[v[:-1] > MAX_REPEAT_P995] = 0.0
    k = int(np.argmax(ratios))
    if ratios[k] >= GAP_RATIO:
        return float(v[k])
    return EXACT_P995


def find_repeats(scan: ClipScan) -> tuple[np.ndarray, float]:
    """(T,) True where a decoded frame repeats the previous one; the threshold used."""
    change = scan.array("change_p995")
    threshold = repeat_threshold(change)
    repeat = np.isfinite(change) & (np.maximum(change, 1.0) <= threshold)
    return repeat, threshold


def _is_systematic(repeat: np.ndarray) -> bool:
    """Repeats make up >= 10 % of frames and appear in every quarter of the clip."""
    n = len(repeat)
    if n < 8 or repeat.mean() < 0.10:
        return False
    return all(part.mean() >= 0.05 for part in np.array_split(repeat, 4))


def frame_timing(scan: ClipScan) -> FrameTiming:
    """Drop repeats; estimate the new-frame rate; retime regular patterns uniformly."""
    t = scan.array("stored_time_s")
    n = len(t)
    repeat, threshold = find_repeats(scan) if n else (np.zeros(0, bool), EXACT_P995)
    keep = np.flatnonzero(~repeat)
    tk = t[keep]
    systematic = bool(_is_systematic(repeat))
    if len(keep) < 2:
        return FrameTiming(
            keep=keep.tolist(),
            stored_time_s=tk.tolist(),
            time_s=tk.tolist(),
            n_decoded=n,
            unique_fps=float("nan"),
            repeat_factor=n / max(1, len(keep)),
            systematic=systematic,
            regular_k=0,
            retimed=False,
            repeat_threshold_p995=threshold,
            segment_starts=[0],
        )
    dt = np.diff(tk)
    typical = float(np.median(dt))
    # a long gap inside a repetition pattern is a pause or a dropped stretch; in a clip without
    # a pattern it is only a still stretch (nothing moved), which needs no split
    long_gap = (dt > LONG_GAP_FACTOR * typical) & systematic
    segment_starts = [0] + (np.flatnonzero(long_gap) + 1).tolist()
    # new frames per second over the stretches without long gaps
    span = float(dt[~long_gap].sum())
    unique_fps = float((~long_gap).sum() / span) if span > 0 else float("nan")
    runs = np.diff(np.append(keep, n))
    inner = runs[:-1] if len(runs) > 1 else runs
    k = int(np.median(inner))
    regular_k = k if systematic and k >= 2 and float(np.mean(inner == k)) >= 0.8 else 0
    stored_fps = (n - 1) / float(t[-1] - t[0]) if t[-1] > t[0] else float("nan")
    if not systematic:
        unique_fps = stored_fps  # dropped frames were a still stretch: the file's rate stands
    elif regular_k:
        unique_fps = stored_fps / regular_k  # a missed new frame here and there must not bias the rate
    times = tk.copy()
    retimed = False
    if systematic and np.isfinite(unique_fps):
        # uniform times within each stretch, if the first-appearance times are only jittered by the pattern
        frame_s = 1.0 / stored_fps if np.isfinite(stored_fps) else typical
        bounds = segment_starts + [len(keep)]
        fitted = times.copy()
        ok = True
        for a, b in pairwise(bounds):
            if b - a < 2:
                continue
            i = np.arange(b - a)
            slope, intercept = np.polyfit(i, tk[a:b], 1)
            fit = intercept + slope * i
            if np.max(np.abs(fit - tk[a:b])) > 1.0 * frame_s:
                ok = False
                break
            fitted[a:b] = fit
        if ok:
            times, retimed = fitted, True
    return FrameTiming(
        keep=keep.tolist(),
        stored_time_s=tk.tolist(),
        time_s=times.tolist(),
        n_decoded=n,
        unique_fps=unique_fps,
        repeat_factor=n / len(keep),
        systematic=systematic,
        regular_k=regular_k,
        retimed=retimed,
        repeat_threshold_p995=threshold,
        segment_starts=segment_starts,
    )
