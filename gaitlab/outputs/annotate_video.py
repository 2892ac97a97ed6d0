"""annotated.mp4: decode the clip once, draw the overlay on each frame, encode H.264.

Streams: one decoded frame at a time goes from the decoder through the
annotator into the encoder. Optional: slower playback (``slowmo_factor``) and a
crop that follows the athlete, scaled back up to the clip's size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitlab.core.errors import BadInputError
from gaitlab.core.progress import progress
from gaitlab.core.types import VideoInfo
from gaitlab.io.video import DecodeStats, iter_frames
from gaitlab.io.video_writer import open_h264_writer
from gaitlab.outputs.annotate import FrameAnnotator, ViewTransform
from gaitlab.outputs.overlay import OverlayData


@dataclass(frozen=True)
class AnnotateResult:
    path: Path
    frames_written: int
    size_px: tuple[int, int]
    playback_fps: float
    wall_s: float


def _interp_nan(values: np.ndarray) -> np.ndarray:
    """Fill NaNs by linear interpolation, holding the ends; all-NaN stays all-NaN."""
    ok = np.isfinite(values)
    if not ok.any():
        return values
    idx = np.arange(len(values))
    return np.interp(idx, idx[ok], values[ok])


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < 2:
        return values
    pad = window // 2
    padded = np.pad(values, pad, mode="edge")
    return np.convolve(padded, np.ones(window) / window, mode="valid")[: len(values)]


def crop_boxes(
    overlay: OverlayData, *, stored_fps: float, zoom_margin: float = 1.6, min_frac: float = 0.3
) -> np.ndarray:
    """(T, 4) crop boxes x0, y0, width, height (px) following the athlete, one per analysis row.

    The box has the frame's aspect ratio and one size for the whole clip (the
    athlete's typical height times ``zoom_margin``, at least ``min_frac`` of the
    frame), and its centre is the athlete's smoothed centre, so the view pans
    steadily instead of jittering with the landmarks.
    """
    w, h = overlay.frame_size_px
    n = len(overlay.time_s)
    pts = np.stack([a for a in overlay.points.values()], axis=1)  # (T, P, 2)
    pts = np.where(overlay.detected[:, None, None], pts, np.nan)
    with np.errstate(all="ignore"), _quiet():
        cx = _interp_nan(np.nanmedian(pts[..., 0], axis=1))
        cy = _interp_nan(np.nanmedian(pts[..., 1], axis=1))
        body_h = np.nanmax(pts[..., 1], axis=1) - np.nanmin(pts[..., 1], axis=1)
    if n == 0 or not np.isfinite(cx).any():
        return np.tile([0.0, 0.0, float(w), float(h)], (max(n, 0), 1))
    window = max(1, int(round(0.3 * stored_fps)) | 1)
    cx, cy = _moving_average(cx, window), _moving_average(cy, window)
    typical_h = float(np.nanpercentile(body_h, 90)) if np.isfinite(body_h).any() else float(h)
    crop_h = float(np.clip(zoom_margin * typical_h, min_frac * h, h))
    crop_w = crop_h * w / h
    x0 = np.clip(cx - crop_w / 2, 0, w - crop_w)
    y0 = np.clip(cy - crop_h / 2, 0, h - crop_h)
    return np.column_stack([x0, y0, np.full(n, crop_w), np.full(n, crop_h)])


class _quiet:
    """Silence numpy's all-NaN slice warnings (frames without a pose are expected)."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def write_annotated_video(
    info: VideoInfo,
    overlay: OverlayData,
    path: Path,
    *,
    slowmo_factor: float = 1.0,
    crop: bool = False,
    show_progress: bool = True,
    preset: str = "ultrafast",
    capture_fps: float | None = None,
) -> AnnotateResult:
    """Write the annotated copy of the clip at ``path`` (H.264, yuv420p, same size and frame count).

    ``slowmo_factor`` > 1 plays the clip that many times slower (same frames,
    lower playback rate). Odd frame sizes are padded by one pixel (yuv420p needs even sizes).
    ``capture_fps``: count the time shown at this capture rate instead of the analysis's.
    """
    import cv2

    if not slowmo_factor > 0:
        raise BadInputError(f"{info.path}: --slowmo must be > 0, got {slowmo_factor}")
    t0 = time.perf_counter()
    w, h = info.upright_size_px
    if tuple(overlay.frame_size_px) != (w, h):
        raise BadInputError(
            f"{info.path}: the analysis was made on {overlay.frame_size_px[0]}x"
            f"{overlay.frame_size_px[1]} frames but the clip's are {w}x{h}: not the same clip?"
        )
    out_w, out_h = w + w % 2, h + h % 2
    annotator = FrameAnnotator(
        overlay,
        out_size_px=(out_w, out_h),
        capture_fps=capture_fps,
        clock_slowmo=info.slowmo_factor,
        playback_slowmo=slowmo_factor,
    )
    boxes = crop_boxes(overlay, stored_fps=info.stored_fps) if crop else None
    fps = info.stored_fps / slowmo_factor
    stats = DecodeStats()
    with (
        open_h264_writer(path, width_px=out_w, height_px=out_h, fps=fps, preset=preset) as writer,
        progress(f"annotate {info.path.name}", info.n_frames, enabled=show_progress) as bar,
    ):
        for frame in iter_frames(info, stats=stats, threads=0):  # drawing only: FFmpeg's threads
            img = frame.rgb
            view = ViewTransform()
            row = overlay.row(frame.index)
            if boxes is not None and row is not None:
                x0, y0, cw, ch = boxes[row]
                xa, ya = int(round(x0)), int(round(y0))
                xb, yb = min(w, xa + int(round(cw))), min(h, ya + int(round(ch)))
                img = cv2.resize(img[ya:yb, xa:xb], (w, h), interpolation=cv2.INTER_LINEAR)
                view = ViewTransform(x0_px=xa, y0_px=ya, scale=w / max(1, xb - xa))
            if (out_w, out_h) != (w, h):
                img = cv2.copyMakeBorder(img, 0, out_h - h, 0, out_w - w, cv2.BORDER_REPLICATE)
            annotator.annotate(img, frame.index, time_s=frame.time_s, view=view)
            writer.write(img)
            bar.advance()
        written = writer.frames_written
    return AnnotateResult(
        path=Path(path),
        frames_written=written,
        size_px=(out_w, out_h),
        playback_fps=fps,
        wall_s=time.perf_counter() - t0,
    )
