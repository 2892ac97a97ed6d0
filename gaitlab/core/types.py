"""Typed data passed between stages, validated once at construction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitlab.core.landmarks import INDEX, N_LANDMARKS


@dataclass(frozen=True)
class VideoInfo:
    """What ``video.probe`` learned about a clip.

    ``stored_fps`` is the container's average frame rate (what a player shows);
    ``capture_fps`` is the real rate the camera filmed at (slow-motion files
    differ). ``capture_fps_source`` says where it came from: ``metadata``,
    ``user`` or ``assumed`` (equal to stored, which the summary warns about).
    """

    path: Path
    stored_fps: float
    capture_fps: float
    capture_fps_source: str
    n_frames: int
    width_px: int
    height_px: int
    rotation_deg: int
    codec: str
    duration_s: float
    variable_frame_rate: bool = False

    def __post_init__(self) -> None:
        if not (self.stored_fps > 0 and self.capture_fps > 0):
            raise ValueError(f"fps must be > 0, got stored={self.stored_fps} capture={self.capture_fps}")
        if self.rotation_deg % 90:
            raise ValueError(f"rotation must be a multiple of 90, got {self.rotation_deg}")

    @property
    def slowmo_factor(self) -> float:
        """Capture fps / stored fps: 8.0 for a 240 fps clip stored at 30 fps."""
        return self.capture_fps / self.stored_fps

    @property
    def upright_size_px(self) -> tuple[int, int]:
        """(width, height) after applying the rotation metadata."""
        if self.rotation_deg % 180:
            return self.height_px, self.width_px
        return self.width_px, self.height_px


@dataclass(frozen=True)
class PoseTrack:
    """Landmark tracks of one person over a clip.

    ``xy_px``: (T, 33, 2) image pixels of the upright frame, NaN where no pose;
    ``z``: (T, 33) MediaPipe relative depth (smaller = nearer the camera), NaN if unknown;
    ``visibility``: (T, 33) in [0, 1], 0 where no pose;
    ``time_s``: (T,) real capture time from the first frame;
    ``frame_index``: (T,) index of the stored frame each row comes from.
    """

    xy_px: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    time_s: np.ndarray
    frame_index: np.ndarray
    frame_size_px: tuple[int, int]
    source: str = "mediapipe"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.time_s)
        expected = {
            "xy_px": (t, N_LANDMARKS, 2),
            "z": (t, N_LANDMARKS),
            "visibility": (t, N_LANDMARKS),
            "frame_index": (t,),
        }
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ValueError(f"PoseTrack.{name}: expected shape {shape}, got {got}")
        if t > 1 and not np.all(np.diff(self.time_s) > 0):
            raise ValueError("PoseTrack.time_s must increase strictly")

    @property
    def n_frames(self) -> int:
        return len(self.time_s)

    def point(self, name: str) -> np.ndarray:
        """(T, 2) pixel track of one landmark by name, e.g. ``"left_knee"``."""
        return self.xy_px[:, INDEX[name], :]

    def with_xy(self, xy_px: np.ndarray, **changes) -> PoseTrack:
        return replace(self, xy_px=xy_px, **changes)

    @property
    def detected(self) -> np.ndarray:
        """(T,) True where a pose was found in the frame."""
        return np.isfinite(self.xy_px[:, INDEX["left_hip"], 0])
