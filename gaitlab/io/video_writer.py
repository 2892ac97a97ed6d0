"""H.264 / yuv420p MP4 writer (PyAV), atomic: a reader never sees a half-written video.

Browsers and phones play H.264 in yuv420p; OpenCV's ``mp4v`` (MPEG-4 part 2)
does not play there. Frames are written one at a time, nothing is buffered
beyond what the encoder keeps for its own lookahead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import numpy as np

from gaitlab.core.errors import OutputError
from gaitlab.io.atomic import atomic_path


def rate_fraction(fps: float) -> Fraction:
    """A frame rate as an exact-enough fraction (29.97 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)


class H264Writer:
    """Encodes RGB frames of one fixed size; use through :func:`open_h264_writer`."""

    def __init__(self, container, stream, width_px: int, height_px: int):
        self._container, self._stream = container, stream
        self.width_px, self.height_px = width_px, height_px
        self.frames_written = 0

    def write(self, rgb: np.ndarray) -> None:
        import av
        import cv2

        if rgb.shape != (self.height_px, self.width_px, 3):
            raise ValueError(
                f"H264Writer: expected a frame of shape {(self.height_px, self.width_px, 3)}, got {rgb.shape}"
            )
        # OpenCV's SIMD RGB->I420 (BT.601 limited range, as FFmpeg's default) is ~20x faster than
        # letting PyAV's swscale path convert each frame, which would dominate the annotation time.
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        frame.pts = self.frames_written
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def _flush(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)


@contextmanager
def open_h264_writer(
    path: Path,
    *,
    width_px: int,
    height_px: int,
    fps: float,
    preset: str = "ultrafast",
    crf: int = 23,
    threads: int | None = None,
) -> Iterator[H264Writer]:
    """Write an H.264/yuv420p MP4 at ``path`` (replaced only when writing succeeded).

    ``width_px`` and ``height_px`` must be even (yuv420p halves both for colour).
    ``fps`` is the playback rate; one written frame is one ``1/fps`` tick.
    """
    import av

    if width_px % 2 or height_px % 2:
        raise ValueError(f"H.264 yuv420p needs even frame sizes, got {width_px}x{height_px}")
    path = Path(path)
    rate = rate_fraction(fps)
    try:
        with atomic_path(path) as tmp:
            # faststart moves the index to the front so browsers start playing before the download ends
            container = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
            try:
                stream = container.add_stream("libx264", rate=rate)
                stream.width, stream.height = width_px, height_px
                stream.pix_fmt = "yuv420p"
                stream.time_base = 1 / rate
                stream.codec_context.time_base = 1 / rate
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = threads or min(4, os.cpu_count() or 1)
                stream.options = {"preset": preset, "crf": str(crf)}
                writer = H264Writer(container, stream, width_px, height_px)
                yield writer
                writer._flush()
            finally:
                container.close()
    except OSError as exc:
        raise OutputError(f"{path}: cannot write video ({exc.strerror or exc})") from None
