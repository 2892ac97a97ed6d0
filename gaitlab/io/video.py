"""The only module that opens videos: probe, streamed frame iterator.

Frames are decoded one at a time with PyAV (FFmpeg), rotated upright from the
display-matrix metadata, and handed on as RGB arrays; a clip is never held in
memory. Times are real capture time: stored presentation time divided by the
slow-motion factor (capture fps / stored fps).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitlab.core.errors import BadInputError
from gaitlab.core.types import VideoInfo

# Keys phones write for the real capture rate of slow-motion clips.
CAPTURE_FPS_KEYS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps", "capture_fps")


def _open(path: Path):
    import av

    av.logging.set_level(None)  # FFmpeg's own chatter is not for users; we report problems ourselves.
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BadInputError(f"{path}: not a readable video ({reason})") from None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise BadInputError(f"{path}: file not found")
    if not path.is_file():
        raise BadInputError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise BadInputError(f"{path}: file is empty")


def _capture_fps_from_metadata(*dicts: dict) -> float | None:
    for meta in dicts:
        for key in CAPTURE_FPS_KEYS:
            if key in meta:
                try:
                    value = float(str(meta[key]).strip())
                except ValueError:
                    continue
                if value > 0:
                    return value
    return None


def probe(path: Path | str, *, capture_fps: float | None = None) -> VideoInfo:
    """Read a clip's rates, size, frame count and rotation; decode its first frame.

    ``capture_fps`` from the user wins over metadata; without either the clip
    is assumed real-time (the summary then warns).
    """
    path = Path(path)
    _check_file(path)
    container = _open(path)
    with container:
        if not container.streams.video:
            raise BadInputError(f"{path}: no video stream (audio-only or not a video)")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        stored_fps = float(rate) if rate else 0.0
        fmt = container.format.name if container.format else ""
        if fmt in ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe"):
            raise BadInputError(f"{path}: a single image, not a video")
        first = None
        try:
            for frame in container.decode(stream):
                first = frame
                break
        except Exception as exc:  # FFmpeg raises many error types on broken files
            raise BadInputError(f"{path}: cannot decode video frames ({exc.__class__.__name__})") from None
        if first is None:
            raise BadInputError(f"{path}: the video has no decodable frames")
        if stored_fps <= 0:
            raise BadInputError(f"{path}: the video has no frame rate")
        duration_s = float(container.duration / 1e6) if container.duration else 0.0
        n_frames = int(stream.frames or 0)
        if n_frames <= 0:
            n_frames = max(1, int(round(duration_s * stored_fps)))
        meta_fps = _capture_fps_from_metadata(dict(container.metadata), dict(stream.metadata))
        if capture_fps is not None:
            if capture_fps <= 0:
                raise BadInputError(f"{path}: --capture-fps must be > 0, got {capture_fps}")
            cap, source = float(capture_fps), "user"
        elif meta_fps is not None:
            cap, source = meta_fps, "metadata"
        else:
            cap, source = stored_fps, "assumed"
        rotation = int(round(getattr(first, "rotation", 0) or 0)) % 360
        return VideoInfo(
            path=path,
            stored_fps=stored_fps,
            capture_fps=cap,
            capture_fps_source=source,
            n_frames=n_frames,
            width_px=int(stream.codec_context.width),
            height_px=int(stream.codec_context.height),
            rotation_deg=rotation,
            codec=stream.codec_context.name,
            duration_s=duration_s,
        )


@dataclass
class Frame:
    """One decoded frame: ``index`` in decode order, times in seconds."""

    index: int
    stored_time_s: float
    time_s: float
    rgb: np.ndarray


@dataclass
class DecodeStats:
    """Filled while iterating: what could not be read."""

    frames: int = 0
    bad_packets: int = 0


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply display rotation (counter-clockwise degrees, FFmpeg's convention)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=k)) if k else rgb


def iter_frames(info: VideoInfo, *, stats: DecodeStats | None = None, fmt: str = "rgb24") -> Iterator[Frame]:
    """Stream the clip's frames upright, with stored and real capture times.

    Packets that fail to decode (corrupt data) are skipped and counted in
    ``stats.bad_packets`` instead of ending the analysis.
    """
    import av

    stats = stats if stats is not None else DecodeStats()
    container = _open(info.path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base) if stream.time_base else 1.0 / info.stored_fps
        t0 = None
        last_t = -np.inf
        index = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                stats.bad_packets += 1
                continue
            for frame in frames:
                if frame.pts is not None:
                    stored_t = frame.pts * tb
                else:
                    stored_t = index / info.stored_fps
                if t0 is None:
                    t0 = stored_t
                stored_t -= t0
                if stored_t <= last_t:  # broken or duplicate timestamps: fall back to the nominal rate
                    stored_t = last_t + 1.0 / info.stored_fps
                last_t = stored_t
                rgb = upright(frame.to_ndarray(format=fmt), info.rotation_deg)
                yield Frame(index=index, stored_time_s=stored_t, time_s=stored_t / info.slowmo_factor, rgb=rgb)
                index += 1
                stats.frames = index


def file_sha256(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()
