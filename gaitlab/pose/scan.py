"""A cheap pre-pass over a clip's frames: per-frame change, global motion, scene change.

Each decoded frame is reduced to a small grayscale thumbnail (``THUMB_WIDTH_PX``
wide) and compared with the previous one. The numbers feed ``dedupe`` (repeated
frames) and ``camera`` (moving camera, cuts); no decision is taken here.
Decoding the clip once more costs a few ms per frame, far less than pose.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gaitlab.core.types import VideoInfo
from gaitlab.io.video import DecodeStats, iter_frames

THUMB_WIDTH_PX = 256
_HIST_BINS = 32


@dataclass
class ClipScan:
    """Per decoded frame (index i compares frame i with frame i-1; entry 0 is NaN).

    ``stored_time_s``: presentation time from the file (from the first frame);
    ``change_p995``: 99.5th percentile of |gray difference| (0-255) on the thumbnail:
    a repeated frame shows only compression noise (a few levels), any real new
    frame a moving athlete (tens of levels), even when the athlete is small;
    ``shift_x_frac``/``shift_y_frac``: global translation (phase correlation) as a
    fraction of the thumbnail width; ``shift_response``: its peak strength (0-1);
    ``residual``: mean |difference| after undoing that translation (gray levels);
    ``hist_distance``: Bhattacharyya distance of gray histograms (0 same, 1 disjoint);
    ``hist_distance_2``: the same between frame i and frame i-2 (does a change persist?).
    """

    stored_time_s: list[float]
    change_p995: list[float]
    shift_x_frac: list[float]
    shift_y_frac: list[float]
    shift_response: list[float]
    residual: list[float]
    hist_distance: list[float]
    hist_distance_2: list[float]
    bad_packets: int = 0

    @property
    def n_frames(self) -> int:
        return len(self.stored_time_s)

    def to_dict(self) -> dict:
        return {
            k: [None if (isinstance(x, float) and not np.isfinite(x)) else x for x in v] if isinstance(v, list) else v
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, d: dict) -> ClipScan:
        def arr(v):
            return [float("nan") if x is None else float(x) for x in v]

        return cls(**{k: (arr(v) if isinstance(v, list) else v) for k, v in d.items()})

    def array(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, name), dtype=np.float64)


def thumbnail_gray(rgb: np.ndarray, *, width_px: int = THUMB_WIDTH_PX) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    height = max(8, int(round(h * width_px / w)))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(gray, (width_px, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def compare_thumbs(prev: np.ndarray, cur: np.ndarray, prev_hist: np.ndarray, cur_hist: np.ndarray) -> tuple:
    """(change_p995, shift_x_frac, shift_y_frac, response, residual, hist_distance) of two thumbnails."""
    import cv2

    diff = np.abs(cur - prev)
    p995 = float(np.percentile(diff, 99.5))
    h, w = cur.shape
    dx, dy, response = _background_shift(prev, cur)
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(prev, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    margin_x, margin_y = int(abs(dx)) + 2, int(abs(dy)) + 2
    inner = np.abs(cur - moved)[margin_y : h - margin_y, margin_x : w - margin_x]
    residual = float(inner.mean()) if inner.size else float(diff.mean())
    hist_d = float(cv2.compareHist(prev_hist, cur_hist, cv2.HISTCMP_BHATTACHARYYA))
    return p995, float(dx / w), float(dy / w), float(response), residual, hist_d


def _background_shift(prev: np.ndarray, cur: np.ndarray, *, grid: int = 4) -> tuple[float, float, float]:
    """Camera translation (thumbnail px) as the median of per-block phase correlations.

    One whole-frame correlation follows a large athlete as much as the
    background; the median over a grid of blocks ignores the few blocks the
    athlete covers. Blocks without texture (sky, weak response) do not vote.
    """
    import cv2

    h, w = cur.shape
    bh, bw = h // grid, w // grid
    if bh < 8 or bw < 8:
        (dx, dy), resp = cv2.phaseCorrelate(prev, cur)
        return float(dx), float(dy), float(resp)
    window = cv2.createHanningWindow((bw, bh), cv2.CV_32F)
    votes = []
    for r in range(grid):
        for c in range(grid):
            a = prev[r * bh : (r + 1) * bh, c * bw : (c + 1) * bw]
            b = cur[r * bh : (r + 1) * bh, c * bw : (c + 1) * bw]
            if float(a.std()) < 2.0:
                continue
            (dx, dy), resp = cv2.phaseCorrelate(a, b, window)
            if resp > 0.1:
                votes.append((dx, dy, resp))
    if not votes:
        return 0.0, 0.0, 0.0
    v = np.asarray(votes)
    return float(np.median(v[:, 0])), float(np.median(v[:, 1])), float(np.median(v[:, 2]))


def _hist_distance(a: np.ndarray | None, b: np.ndarray) -> float:
    import cv2

    return float("nan") if a is None else float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def _hist(thumb: np.ndarray) -> np.ndarray:
    import cv2

    hist = cv2.calcHist([thumb.astype(np.uint8)], [0], None, [_HIST_BINS], [0, 256])
    return hist / max(1.0, float(hist.sum()))


# Per-frame scan numbers, in ClipScan's field order (after stored_time_s).
SCAN_KEYS = (
    "change_p995",
    "shift_x_frac",
    "shift_y_frac",
    "shift_response",
    "residual",
    "hist_distance",
    "hist_distance_2",
)


class ThumbScanner:
    """The per-frame scan step: feed decoded frames in order, get each frame's ``SCAN_KEYS`` values.

    Keeps the previous thumbnail and the last two histograms; shared by
    :func:`scan_clip` and the parallel scan-and-pose workers so both compute
    the same numbers with the same code. A damaged frame (``Frame.damaged``)
    is not measured (NaN) and not compared with: its concealed pixels depend
    on where decoding started, so the numbers would depend on the worker count.
    """

    def __init__(self):
        self._prev = self._prev_hist = self._prev2_hist = None

    def step(self, rgb: np.ndarray, *, damaged: bool = False) -> tuple:
        """Scan numbers of this frame against the previous undamaged ones (NaN where there is none)."""
        if damaged:
            return (float("nan"),) * len(SCAN_KEYS)
        thumb = thumbnail_gray(rgb)
        hist = _hist(thumb)
        if self._prev is None or self._prev.shape != thumb.shape:
            values = (float("nan"),) * 6
        else:
            values = compare_thumbs(self._prev, thumb, self._prev_hist, hist)
        hist2 = _hist_distance(self._prev2_hist, hist)
        self._prev, self._prev_hist, self._prev2_hist = thumb, hist, self._prev_hist
        return values + (hist2,)


def scan_clip(info: VideoInfo) -> ClipScan:
    """Decode every frame once (gray) and measure frame-to-frame change."""
    stats = DecodeStats()
    out = {k: [] for k in ("stored_time_s",) + SCAN_KEYS}
    scanner = ThumbScanner()
    for frame in iter_frames(info, stats=stats):
        out["stored_time_s"].append(float(frame.stored_time_s))
        for key, value in zip(SCAN_KEYS, scanner.step(frame.rgb, damaged=frame.damaged)):
            out[key].append(value)
    return ClipScan(**out, bad_packets=stats.bad_packets)
