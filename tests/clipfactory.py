"""Small real video files for batch/library tests, written with PyAV into a tmp folder.

``trim_clip`` re-encodes a stretch of a real clip (e.g. from ../shared/data;
never copied into the repo); ``noise_clip`` makes a clip with no person in it.
``crf`` changes the encoding, so two trims of the same frames are different
files (different sha256, so the pose cache cannot share them).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def _encoder(out, rate: Fraction, width: int, height: int, crf: int):
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.time_base = 1 / rate
    stream.options = {"preset": "ultrafast", "crf": str(crf)}
    return stream


def trim_clip(src: Path, dst: Path, *, start: int = 0, n_frames: int = 120, crf: int = 20, scale: float = 1.0) -> Path:
    """Frames ``start .. start+n_frames-1`` of ``src`` as a new H.264 MP4 at the same rate.

    A slow-motion clip's capture-rate metadata (``com.android.capture.fps``) is kept.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "use_metadata_tags"}) as out:
        for key, value in inp.metadata.items():
            if "capture.fps" in key:
                out.metadata[key] = value
        s = inp.streams.video[0]
        rate = Fraction(s.average_rate).limit_denominator(1000)
        w = int(s.codec_context.width * scale) // 2 * 2
        h = int(s.codec_context.height * scale) // 2 * 2
        enc = _encoder(out, rate, w, h, crf)
        for i, frame in enumerate(inp.decode(s)):
            if i >= start + n_frames:
                break
            if i >= start:
                f = frame.reformat(width=w, height=h, format="yuv420p")
                f.pts, f.time_base = i - start, 1 / rate
                out.mux(enc.encode(f))
        out.mux(enc.encode())
    return dst


def noise_clip(
    dst: Path, *, n_frames: int = 30, size_px: tuple[int, int] = (96, 64), fps: int = 30, seed: int = 0
) -> Path:
    """A valid video of random noise: decodable, but no person and no running in it."""
    rng = np.random.default_rng(seed)
    rate = Fraction(fps)
    with av.open(str(dst), "w") as out:
        enc = _encoder(out, rate, size_px[0], size_px[1], 20)
        for i in range(n_frames):
            rgb = rng.integers(0, 256, (size_px[1], size_px[0], 3), dtype=np.uint8)
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            f.pts, f.time_base = i, 1 / rate
            out.mux(enc.encode(f))
        out.mux(enc.encode())
    return dst


def corrupt_copy(src: Path, dst: Path, *, keep_bytes: int = 30_000) -> Path:
    """The first bytes of a clip only (an interrupted transfer): the MP4 index is missing."""
    dst.write_bytes(Path(src).read_bytes()[:keep_bytes])
    return dst
