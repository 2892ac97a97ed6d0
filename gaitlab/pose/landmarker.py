"""MediaPipe VIDEO-mode pose tracking over a stream of frames.

``run_landmarker`` runs a Tasks ``PoseLandmarker`` on frames with strictly
increasing timestamps (1 s apart by default, see ``PoseSettings``) and collects
one row per frame in pixels of the upright frame (NaN where no pose was found);
``parallel_pose`` and ``roi`` drive it, ``extract`` turns the rows into a ``PoseTrack``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gaitlab.core.landmarks import N_LANDMARKS
from gaitlab.core.progress import progress
from gaitlab.core.types import PoseTrack
from gaitlab.io.video import Frame
from gaitlab.pose.models.provision import DEFAULT_MODEL


@dataclass(frozen=True)
class PoseSettings:
    """Everything that changes the pose output; part of the cache key."""

    model: str = DEFAULT_MODEL
    # Several poses per frame, so ``person`` can pick one athlete and keep it (others are ignored).
    num_poses: int = 3
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    # VIDEO mode smooths landmarks over time with a speed-adaptive (one-euro) filter
    # driven by the timestamps. On the sample clip it lags the feet by ~2 frames and
    # doubles knee error (median 9 -> 3.5 px without it), which corrupts contact
    # timing. gaitlab filters with zero lag itself, so by default the landmarker is
    # fed timestamps 1 s apart, which makes that filter pass samples through; the
    # track keeps the real capture times. True restores MediaPipe's smoothing.
    mediapipe_smoothing: bool = False
    # Drop repeated frames before pose (``dedupe``); analyze the new frames only.
    drop_repeated_frames: bool = True
    # "x,y" or "x,y,w,h" (upright frame px) choosing the athlete among several people; "" = largest.
    athlete_hint: str = ""
    # Track the athlete between fixed restarts and pose every person only where a probe sees others or the
    # track drifts (``tracking``): ~2x faster, but not more accurate on every row of docs/accuracy.md, so
    # off by default (every frame is then posed afresh with every person, restarted on the same grid).
    tracking: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@contextmanager
def quiet_native_stderr():
    """Silence the C++ logging MediaPipe/LiteRT prints; yield a stream to the real stderr.

    That logging goes straight to file descriptor 2 (model loading, and the odd
    warning mid-run), so Python-level redirection cannot catch it and users would
    read lines that mean nothing to them. Our own messages (progress) use the
    yielded stream, a duplicate of the original stderr.
    """
    if os.environ.get("GAITLAB_DEBUG"):
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    user_stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        os.dup2(devnull, 2)
        yield user_stderr
    finally:
        try:
            user_stderr.flush()
        except OSError:  # the reader went away (e.g. `| head`); nothing left to tell it
            pass
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        user_stderr.close()


@contextmanager
def _closing(landmarker):
    try:
        yield landmarker
    finally:
        landmarker.close()


def create_landmarker(model_path: Path, settings: PoseSettings):
    """A VIDEO-mode PoseLandmarker on the CPU."""
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=settings.num_poses,
        min_pose_detection_confidence=settings.min_pose_detection_confidence,
        min_pose_presence_confidence=settings.min_pose_presence_confidence,
        min_tracking_confidence=settings.min_tracking_confidence,
        output_segmentation_masks=False,
    )
    return vision.PoseLandmarker.create_from_options(options)


class TimestampClock:
    """Strictly increasing integer milliseconds for ``detect_for_video`` (Tasks requires it).

    ``real=True``: the frame's real capture time. ``real=False``: one second per
    frame, which disables MediaPipe's temporal landmark smoothing (see PoseSettings).
    """

    SPACED_MS = 1000

    def __init__(self, *, real: bool = True) -> None:
        self._last_ms = -1
        self._real = real

    def __call__(self, time_s: float) -> int:
        wanted = int(round(time_s * 1000.0)) if self._real else self._last_ms + self.SPACED_MS
        ms = max(wanted, self._last_ms + 1)
        self._last_ms = ms
        return ms


class PoseRows:
    """Accumulates one row per frame; NaN rows where no pose was found."""

    def __init__(self) -> None:
        self.xy, self.z, self.vis, self.times, self.index = [], [], [], [], []

    def image_to_px(self, frame: Frame) -> tuple[float, float, float, float]:
        """(x0, y0, width, height) in frame pixels of the image the landmarker saw."""
        h, w = frame.rgb.shape[:2]
        return 0.0, 0.0, float(w), float(h)

    def add(self, frame: Frame, result) -> None:
        row_xy = np.full((N_LANDMARKS, 2), np.nan, np.float32)
        row_z = np.full(N_LANDMARKS, np.nan, np.float32)
        row_v = np.zeros(N_LANDMARKS, np.float32)
        if result is not None and result.pose_landmarks:
            x0, y0, w, h = self.image_to_px(frame)
            lms = result.pose_landmarks[0]
            row_xy[:, 0] = [x0 + lm.x * w for lm in lms]
            row_xy[:, 1] = [y0 + lm.y * h for lm in lms]
            row_z[:] = [lm.z for lm in lms]
            row_v[:] = [lm.visibility if lm.visibility is not None else 1.0 for lm in lms]
        self.xy.append(row_xy)
        self.z.append(row_z)
        self.vis.append(row_v)
        self.times.append(frame.time_s)
        self.index.append(frame.index)

    def to_track(self, frame_size_px: tuple[int, int], meta: dict) -> PoseTrack:
        if not self.times:
            return PoseTrack(
                xy_px=np.zeros((0, N_LANDMARKS, 2), np.float32),
                z=np.zeros((0, N_LANDMARKS), np.float32),
                visibility=np.zeros((0, N_LANDMARKS), np.float32),
                time_s=np.zeros(0),
                frame_index=np.zeros(0, np.int64),
                frame_size_px=frame_size_px,
                meta=meta,
            )
        return PoseTrack(
            xy_px=np.stack(self.xy),
            z=np.stack(self.z),
            visibility=np.stack(self.vis),
            time_s=np.asarray(self.times, np.float64),
            frame_index=np.asarray(self.index, np.int64),
            frame_size_px=frame_size_px,
            meta=meta,
        )


def run_landmarker(
    frames: Iterable[Frame],
    model_path: Path,
    settings: PoseSettings,
    *,
    label: str,
    total: int | None,
    show_progress: bool = True,
    rows=None,
    on_frame=None,
):
    """One VIDEO-mode landmarker over a stream of frames (timestamps = real capture time).

    ``rows`` collects the results (``add(frame, result)``): ``PoseRows`` (first pose) by default;
    ``on_frame()`` is called after each frame (progress kept by the caller).
    """
    import mediapipe as mp

    rows = rows if rows is not None else PoseRows()
    clock = TimestampClock(real=settings.mediapipe_smoothing)
    with quiet_native_stderr() as user_stderr:
        landmarker = create_landmarker(model_path, settings)
        with _closing(landmarker), progress(label, total, enabled=show_progress, stream=user_stderr) as bar:
            for frame in frames:
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
                rows.add(frame, landmarker.detect_for_video(image, clock(frame.time_s)))
                bar.advance()
                if on_frame is not None:
                    on_frame()
    return rows
