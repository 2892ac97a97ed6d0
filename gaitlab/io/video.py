"""The only module that opens videos: probe, streamed frame iterator.

Frames are decoded one at a time with PyAV (FFmpeg), rotated upright from the
display-matrix metadata, and handed on as RGB arrays; a clip is never held in
memory. ``iter_frames`` is the one decode loop (whole clip or a range of
frames) and ``Clock`` the one place timestamps become stored and real capture
time (stored presentation time divided by the slow-motion factor, capture fps /
stored fps).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitlab.core.errors import BadInputError
from gaitlab.core.types import VideoInfo

# Keys phones write for the real capture rate of slow-motion clips.
CAPTURE_FPS_KEYS = ("com.android.capture.fps", "com.apple.quicktime.capture.fps", "capture_fps")
# Capture rates a camera can have: 1 fps up to the fastest high-speed cameras used in sprint research.
# Outside it times become absurd (1e300 fps puts every frame at 0 s): a rate given is refused, one in
# the metadata ignored, one stored in the file makes the clip unreadable without --capture-fps.
CAPTURE_FPS_RANGE = (1.0, 10_000.0)


def check_capture_fps(fps: float, what: str) -> float:
    """``fps`` if it lies in CAPTURE_FPS_RANGE, else a one-line BadInputError about ``what``."""
    lo, hi = CAPTURE_FPS_RANGE
    if not lo <= fps <= hi:
        raise BadInputError(f"{what}: capture rate {fps:g} fps is not a camera's ({lo:g} to {hi:g} fps)")
    return float(fps)


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
                if CAPTURE_FPS_RANGE[0] <= value <= CAPTURE_FPS_RANGE[1]:  # else damaged or made up: ignored
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
            cap, source = check_capture_fps(capture_fps, str(path)), "user"
        elif meta_fps is not None:
            cap, source = meta_fps, "metadata"
        else:
            cap, source = check_capture_fps(stored_fps, f"{path} (its stored rate; pass --capture-fps)"), "assumed"
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
    """One decoded frame.

    ``index``: its number in the clip (see ``iter_frames``); ``stored_time_s`` and
    ``time_s``: its stored and real capture time (``Clock``); ``damaged``: the decoder
    found errors in its data, so parts of the image are FFmpeg's concealment (copied
    or smeared from other frames), not what the camera saw.
    """

    index: int
    stored_time_s: float
    time_s: float
    rgb: np.ndarray
    damaged: bool = False


@dataclass
class DecodeStats:
    """Filled while iterating: frames handed on, and what could not be read.

    ``lost``: one entry per packet that failed to decode (its frame is missing), the
    frame position it held or None when the packet has no timestamp; ``damaged``:
    ``Frame.index`` of each frame handed on with ``damaged=True``; ``anchors`` and
    ``keyframes``: ``Frame.index`` of the frames handed on that are not B-frames, and
    of the keyframes (what ``damage_spans`` needs).
    """

    frames: int = 0
    lost: list[int | None] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)
    anchors: list[int] = field(default_factory=list)
    keyframes: list[int] = field(default_factory=list)

    @property
    def bad_packets(self) -> int:
        return len(self.lost)


class Clock:
    """The one place file timestamps become times.

    Stored time: a frame's presentation time (timestamp x stream time base) from
    the clip's first frame (``first_raw_s``, default: the first frame given), kept
    strictly increasing: a stamp at or before the previous one (broken or
    duplicate timestamps) becomes the previous one plus one frame at the stored
    rate. Real (capture) time: stored time / the slow-motion factor
    (``VideoInfo.slowmo_factor``).
    """

    def __init__(self, info: VideoInfo, *, first_raw_s: float | None = None):
        self.stored_fps = info.stored_fps
        self.slowmo_factor = info.slowmo_factor
        self._first_raw_s = first_raw_s
        self._last_s = -np.inf

    def stored_s(self, raw_s: float) -> float:
        """Stored time of the next frame in presentation order, from its raw presentation time."""
        if self._first_raw_s is None:
            self._first_raw_s = raw_s
        t = raw_s - self._first_raw_s
        if t <= self._last_s:
            t = self._last_s + 1.0 / self.stored_fps
        self._last_s = t
        return t

    def real_s(self, stored_s: float) -> float:
        """Real capture time of a stored time."""
        return stored_s / self.slowmo_factor


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply display rotation (counter-clockwise degrees, FFmpeg's convention)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=k)) if k else rgb


def packet_pts(info: VideoInfo) -> np.ndarray | None:
    """Sorted presentation timestamps of the video packets (demux only, no decoding).

    A frame's position is the rank of its timestamp here, which lets
    ``iter_frames`` decode a range. None when positions would be ambiguous
    (a packet without a timestamp, or two with the same one).
    """
    container = _open(info.path)
    with container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size]
    if not pts or any(p is None for p in pts):
        return None
    arr = np.sort(np.asarray(pts, np.int64))
    if np.any(np.diff(arr) <= 0):
        return None
    return arr


class _SeekMissed(Exception):
    pass


def _b_pictures() -> frozenset:
    from av.video.frame import PictureType

    return frozenset({PictureType.B, PictureType.BI})


def damage_spans(damaged: list[int], anchors: list[int], keyframes: list[int], last: int) -> list[tuple[int, int]]:
    """Frame index ranges (inclusive) whose pictures may carry the damage of ``damaged`` frames.

    A damaged frame's errors reach every frame predicted from it: for a
    B-frame, the frames between the anchors (I/P frames) around it; for an
    anchor, every frame after the anchor before it up to the next keyframe
    (later P-frames chain from it). Overlapping ranges are joined; ``last`` is
    the clip's last frame index.
    """
    a, k = np.asarray(sorted(anchors), np.int64), np.asarray(sorted(keyframes), np.int64)
    spans: list[tuple[int, int]] = []
    for f in sorted(damaged):
        before = a[a < f]
        lo = int(before[-1]) + 1 if len(before) else 0
        ends = k[k > f] if f in set(a.tolist()) else a[a > f]
        hi = int(ends[0]) - 1 if len(ends) else last
        if spans and lo <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans


def iter_frames(
    info: VideoInfo,
    *,
    stats: DecodeStats | None = None,
    fmt: str = "rgb24",
    positions: np.ndarray | None = None,
    start: int = 0,
    stop: int | None = None,
    threads: int = 1,
) -> Iterator[Frame]:
    """Stream the clip's frames ``start <= index < stop`` upright, with stored and real capture times.

    Without ``positions``, the clip is decoded from its start and ``Frame.index``
    counts the frames the decoder gives. With ``positions`` (``packet_pts``),
    ``Frame.index`` is the rank of the frame's timestamp there (the same number
    unless packets fail to decode), times count from the first packet, and the
    decoder starts at the keyframe before ``start`` (at the clip start when the
    demuxer lands after it); frames before ``start`` are decoded, not converted.
    Stopping the iteration early closes the file.

    Packets that fail to decode are skipped and recorded in ``stats.lost``; frames
    the decoder flags as corrupt come with ``damaged=True`` (``stats.damaged``).
    ``threads``: decoder threads. 1 makes the damage flags reproducible (with
    FFmpeg's frame threads they depend on thread timing); 0 lets FFmpeg
    choose, for callers that only draw. Undamaged frames decode to the same
    pixels from any start; a damaged frame's concealed pixels may not.
    """
    stats = stats if stats is not None else DecodeStats()
    seek = positions is not None and start > 0
    n_lost = len(stats.lost)
    try:
        yield from _decode(info, stats, fmt, positions, start, stop, threads, seek=seek)
    except _SeekMissed:  # raised before any frame was handed on
        del stats.lost[n_lost:]
        yield from _decode(info, stats, fmt, positions, start, stop, threads, seek=False)


def _decode(info, stats, fmt, positions, start, stop, threads, *, seek: bool) -> Iterator[Frame]:
    import av

    b_pictures = _b_pictures()

    def in_range(pos: int | None) -> bool:
        return pos is None or (pos >= start and (stop is None or pos < stop))

    container = _open(info.path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if threads:
            stream.thread_count = threads
        tb = float(stream.time_base) if stream.time_base else 1.0 / info.stored_fps
        pos_of = None if positions is None else {int(p): i for i, p in enumerate(positions)}
        clock = Clock(info, first_raw_s=None if positions is None else float(positions[0]) * tb)
        if seek:
            container.seek(int(positions[start]), stream=stream, backward=True, any_frame=False)
        n_out = 0  # frames out of the decoder
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                pos = pos_of.get(packet.pts) if pos_of is not None and packet.pts is not None else None
                if in_range(pos):
                    stats.lost.append(pos)
                continue
            for frame in frames:
                pos = n_out if pos_of is None else pos_of.get(frame.pts)
                n_out += 1
                if pos is None:
                    continue
                if seek:
                    if pos > start:
                        raise _SeekMissed
                    seek = False
                if stop is not None and pos >= stop:
                    return
                if pos < start:  # pre-roll from the keyframe: decoded, never converted
                    continue
                raw_s = frame.pts * tb if frame.pts is not None else pos / info.stored_fps
                stored_s = clock.stored_s(raw_s)
                damaged = bool(frame.is_corrupt)
                if damaged:
                    stats.damaged.append(pos)
                if frame.pict_type not in b_pictures:
                    stats.anchors.append(pos)
                if frame.key_frame:
                    stats.keyframes.append(pos)
                stats.frames += 1
                rgb = upright(frame.to_ndarray(format=fmt), info.rotation_deg)
                yield Frame(index=pos, stored_time_s=stored_s, time_s=clock.real_s(stored_s), rgb=rgb, damaged=damaged)


def file_sha256(path: Path, *, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()
