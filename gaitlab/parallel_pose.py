"""One clip on every core: the scan and the main landmarker pass in one decode, split over processes.

Each frame is decoded once. The process that decodes it computes its scan
numbers (``scan.thumbnail_gray``/``compare_thumbs``: repeats, camera motion,
cuts) and runs the landmarker on it (``num_poses`` candidates,
``person.CandidateRows``). Exact copies of the previous frame (change <= 1 gray
level, a repeat whatever ``dedupe`` decides) skip the landmarker; other repeats
are found only once the whole clip is scanned, so they are posed and dropped
afterwards (the price of decoding once: a clip slowed k times by duplication
with noisy copies costs k times the pose work of its new frames).

Parallel plan: frames are identified by their presentation timestamp (a demux
pass, no decoding, lists every packet's pts; rank in sorted pts = position).
The calling process starts posing from frame 0 at once while ``workers - 1``
spawned processes import MediaPipe and build their landmarkers (~1 s). When all
are ready, the frames not yet done are split into contiguous ranges so every
process has the same number of landmarker calls left. A worker seeks to the
keyframe before its range, decodes forward without converting until
``OVERLAP_FRAMES`` before its range, and runs the landmarker from there so the
tracker has locked on when its range starts; the overlap rows are dropped
(the previous range owns those frames). Rows are concatenated in frame order and
renumbered exactly as ``video.iter_frames`` numbers and times frames, so the
person linking/selection after this runs unchanged.

Workers are "spawn" processes (MediaPipe is not fork-safe once initialised)
with one thread each for OpenMP, OpenCV and FFmpeg, so N processes on N cores
do not oversubscribe. The result does not depend on the number of workers
beyond landmark noise at the range starts; the pose cache is shared across
worker counts.
"""

from __future__ import annotations

import os
import queue as queue_mod
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .person import CandidateRows
from .pose import PoseSettings, run_landmarker
from .scan import ClipScan, _hist, _hist_distance, compare_thumbs, thumbnail_gray
from .types import VideoInfo
from .video import DecodeStats, Frame, _open, upright

# Frames posed before a worker's range so the VIDEO-mode tracker has locked on (rows dropped).
OVERLAP_FRAMES = 8
# A change this small (99.5th pct of |gray diff|) is a repeat for any threshold dedupe picks (it floors at 1).
SURE_REPEAT_P995 = 1.0
# Below this many frames per process, splitting costs more (startup, overlap) than it saves.
MIN_FRAMES_PER_WORKER = 60
_SCAN_KEYS = ("change_p995", "shift_x_frac", "shift_y_frac", "shift_response", "residual", "hist_distance")
# Threads per worker: set before the worker imports numpy/cv2/mediapipe.
_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "NUMEXPR_NUM_THREADS": "1"}


def default_workers() -> int:
    """All cores this process may use (the default for one clip)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def packet_pts(info: VideoInfo) -> np.ndarray | None:
    """Sorted presentation timestamps of the video packets (demux only), or None if unusable for seeking."""
    container = _open(info.path)
    with container:
        stream = container.streams.video[0]
        pts = [p.pts for p in container.demux(stream) if p.size]
    if not pts or any(p is None for p in pts):
        return None
    arr = np.sort(np.asarray(pts, np.int64))
    if np.any(np.diff(arr) <= 0):
        return None  # duplicate timestamps: positions would be ambiguous
    return arr


class _SeekMissed(Exception):
    pass


@dataclass
class ChunkResult:
    """What one process returns for the frames it owns (positions ``start <= pos < end``)."""

    keys: list[int] = field(default_factory=list)           # per owned decoded frame: pts (or position)
    stored_time_s: list[float] = field(default_factory=list)  # raw, from the file (not yet from frame 0)
    scan: dict = field(default_factory=lambda: {k: [] for k in _SCAN_KEYS + ("hist_distance_2",)})
    rows: CandidateRows = field(default_factory=CandidateRows)  # posed owned frames; frame index = key
    bad_packets: int = 0
    timings_s: dict = field(default_factory=dict)


class _Chunk:
    """Decode ``[lock_from, end)`` (positions), scan and pose; keep what falls in ``[start, end)``."""

    def __init__(self, info: VideoInfo, pts_sorted: np.ndarray | None, *, start: int, end: int | None,
                 lock_from: int, pose_all: bool, poll=None):
        self.info, self.pts_sorted = info, pts_sorted
        self.start, self.end, self.lock_from = start, end, lock_from
        self.pose_all, self.poll = pose_all, poll
        self.out = ChunkResult()
        self.t_decode = self.t_scan = 0.0
        self._prev = self._prev_hist = self._prev2_hist = None

    def _decoded(self) -> Iterator[tuple[int, int, float, np.ndarray]]:
        try:
            yield from self._decoded_from(seek=True)
        except _SeekMissed:  # the demuxer landed after the range: decode from the start instead
            yield from self._decoded_from(seek=False)

    def _decoded_from(self, *, seek: bool) -> Iterator[tuple[int, int, float, np.ndarray]]:
        """(position, key, stored time s, rgb) from ``lock_from`` on; seeks to the keyframe before it.

        key: the pts when positions come from ``pts_sorted``, else the decode-order position
        (one whole-clip pass); stored time as ``iter_frames`` reads it (pts, else position / fps).
        """
        import av

        container = _open(self.info.path)
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if os.environ.get("GAITLAB_WORKER"):
                stream.thread_count = 1
            tb = float(stream.time_base) if stream.time_base else 1.0 / self.info.stored_fps
            pos_of = {int(p): i for i, p in enumerate(self.pts_sorted)} if self.pts_sorted is not None else None
            first = max(0, self.lock_from - 2)
            seek = seek and first > 0 and pos_of is not None
            if seek:
                container.seek(int(self.pts_sorted[first]), stream=stream, backward=True, any_frame=False)
            n = 0
            t = time.perf_counter()
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    pos = pos_of.get(packet.pts) if pos_of is not None and packet.pts is not None else None
                    if pos is None or (pos >= self.start and (self.end is None or pos < self.end)):
                        self.out.bad_packets += 1
                    continue
                for frame in frames:
                    pos = pos_of.get(frame.pts) if pos_of is not None else n
                    n += 1
                    if pos is None:
                        continue
                    if seek and n == 1 and pos > first:
                        raise _SeekMissed
                    if self.end is not None and pos >= self.end:
                        self.t_decode += time.perf_counter() - t
                        return
                    if pos < self.lock_from - 2:  # pre-roll from the keyframe: decoded, never converted
                        continue
                    key = int(frame.pts) if pos_of is not None else pos
                    stored_t = frame.pts * tb if frame.pts is not None else pos / self.info.stored_fps
                    rgb = upright(frame.to_ndarray(format="rgb24"), self.info.rotation_deg)
                    self.t_decode += time.perf_counter() - t
                    yield pos, key, stored_t, rgb
                    t = time.perf_counter()
            self.t_decode += time.perf_counter() - t

    def frames_to_pose(self) -> Iterator[Frame]:
        """Scan every decoded frame; yield those the landmarker must see (``Frame.index`` = key)."""
        nan = float("nan")
        for pos, key, stored_t, rgb in self._decoded():
            t = time.perf_counter()
            thumb = thumbnail_gray(rgb)
            hist = _hist(thumb)
            if self._prev is None or self._prev.shape != thumb.shape:
                values = (nan,) * 6
            else:
                values = compare_thumbs(self._prev, thumb, self._prev_hist, hist)
            hist2 = _hist_distance(self._prev2_hist, hist)
            self._prev, self._prev_hist, self._prev2_hist = thumb, hist, self._prev_hist
            if pos >= self.start:
                self.out.keys.append(key)
                self.out.stored_time_s.append(float(stored_t))
                for name, value in zip(_SCAN_KEYS, values):
                    self.out.scan[name].append(value)
                self.out.scan["hist_distance_2"].append(hist2)
            self.t_scan += time.perf_counter() - t
            if self.poll is not None:
                self.poll(pos)  # may set self.end (never at or before pos)
            if pos < self.lock_from:
                continue
            sure_repeat = np.isfinite(values[0]) and values[0] <= SURE_REPEAT_P995
            if self.pose_all or not sure_repeat:
                yield Frame(index=key, stored_time_s=stored_t, time_s=stored_t / self.info.slowmo_factor, rgb=rgb)


class _KeepOwned(CandidateRows):
    """``CandidateRows`` that keeps only frames at or after the chunk's start (drops lock-on rows)."""

    def __init__(self, owned_from_pts: int | None):
        super().__init__()
        self.owned_from_pts = owned_from_pts

    def add(self, frame: Frame, result) -> None:
        if self.owned_from_pts is None or frame.index >= self.owned_from_pts:
            super().add(frame, result)


def run_chunk(info: VideoInfo, pts_sorted: np.ndarray | None, model_path: Path, settings: PoseSettings, *,
              start: int, end: int | None, overlap: int = OVERLAP_FRAMES, poll=None, bar=None) -> ChunkResult:
    """Scan and pose one range of positions (the whole clip with ``start=0, end=None``)."""
    if pts_sorted is not None and start >= len(pts_sorted):
        return ChunkResult(timings_s={"wall_s": 0.0, "decode_s": 0.0, "scan_s": 0.0, "pose_s": 0.0,
                                      "posed_frames": 0, "owned_frames": 0})
    lock_from = max(0, start - overlap)
    chunk = _Chunk(info, pts_sorted, start=start, end=end, lock_from=lock_from,
                   pose_all=not settings.drop_repeated_frames, poll=poll)
    owned_from = int(pts_sorted[start]) if (pts_sorted is not None and start > 0) else None
    rows = _KeepOwned(owned_from)
    t0 = time.perf_counter()
    detect = _TimedFrames(chunk.frames_to_pose())
    run_landmarker(detect, model_path, settings, label="", total=None, show_progress=False, rows=rows,
                   on_frame=bar)
    wall = time.perf_counter() - t0
    chunk.out.rows = rows
    chunk.out.timings_s = {"wall_s": wall, "decode_s": chunk.t_decode, "scan_s": chunk.t_scan,
                           "pose_s": wall - detect.producer_s, "posed_frames": detect.n,
                           "owned_frames": len(chunk.out.keys)}
    return chunk.out


class _TimedFrames:
    """Wraps the frame generator to time its own work (decode + scan) apart from the landmarker's."""

    def __init__(self, frames: Iterator[Frame]):
        self.frames, self.producer_s, self.n = frames, 0.0, 0

    def __iter__(self):
        while True:
            t = time.perf_counter()
            try:
                frame = next(self.frames)
            except StopIteration:
                self.producer_s += time.perf_counter() - t
                return
            self.producer_s += time.perf_counter() - t
            self.n += 1
            yield frame


# --- worker processes ------------------------------------------------------------------------------------

def _worker_main(wid: int, info: VideoInfo, pts_sorted: np.ndarray, model_path: str, settings: PoseSettings,
                 jobs, results) -> None:
    """A spawned worker: load the landmarker, report ready, run one range, send the result."""
    try:
        import cv2

        cv2.setNumThreads(1)
        from .pose import create_landmarker, quiet_native_stderr

        with quiet_native_stderr():  # warm the model files and MediaPipe runtime before saying ready
            create_landmarker(Path(model_path), settings).close()
        results.put(("ready", wid, None))
        job = jobs.get()
        if job is None:
            return
        start, end = job
        sent = [start]

        def progress(n: int = 1) -> None:
            sent[0] += n
            if sent[0] % 10 == 0:
                results.put(("progress", wid, 10))

        out = run_chunk(info, pts_sorted, Path(model_path), settings, start=start, end=end, bar=progress)
        results.put(("done", wid, out))
    except BaseException:  # noqa: BLE001 - the parent re-raises it with the worker's traceback
        results.put(("error", wid, traceback.format_exc()))


class _Pool:
    """``n`` spawned workers waiting for one range each."""

    def __init__(self, n: int, info: VideoInfo, pts_sorted: np.ndarray, model_path: Path, settings: PoseSettings):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.jobs = [ctx.Queue() for _ in range(n)]
        self.procs = []
        saved = {k: os.environ.get(k) for k in list(_THREAD_ENV) + ["GAITLAB_WORKER"]}
        os.environ.update(_THREAD_ENV, GAITLAB_WORKER="1")  # inherited by the spawned interpreters only
        try:
            for wid in range(n):
                p = ctx.Process(target=_worker_main, args=(wid, info, pts_sorted, str(model_path), settings,
                                                           self.jobs[wid], self.results), daemon=True)
                p.start()
                self.procs.append(p)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.ready: set[int] = set()
        self.done: dict[int, ChunkResult] = {}
        self.progress = 0

    def drain(self, *, block_s: float = 0.0) -> None:
        try:
            while True:
                kind, wid, payload = self.results.get(timeout=block_s) if block_s else self.results.get_nowait()
                block_s = 0.0
                if kind == "ready":
                    self.ready.add(wid)
                elif kind == "progress":
                    self.progress += payload
                elif kind == "done":
                    self.done[wid] = payload
                elif kind == "error":
                    raise RuntimeError(f"pose worker {wid} failed:\n{payload}")
        except queue_mod.Empty:
            pass

    def check_alive(self) -> None:
        for wid, p in enumerate(self.procs):
            if not p.is_alive() and wid not in self.done:
                self.drain()
                if wid not in self.done:
                    raise RuntimeError(f"pose worker {wid} exited with code {p.exitcode} without a result")

    def close(self) -> None:
        for q in self.jobs:
            try:
                q.put_nowait(None)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


def split_remaining(done_to: int, n_frames: int, n_procs: int, overlap: int) -> list[int]:
    """Range starts [done_to=b0, b1, ..., n_frames] so each process has equal landmarker calls left.

    The calling process continues from ``done_to`` with no lock-on cost; each
    other process pays ``overlap`` extra frames, so gets that many fewer.
    """
    left = n_frames - done_to
    share = (left + (n_procs - 1) * overlap) / n_procs
    bounds = [done_to]
    for k in range(n_procs - 1):
        size = share if k == 0 else share - overlap
        bounds.append(int(round(bounds[-1] + size)))
    bounds.append(n_frames)
    return [min(max(b, done_to), n_frames) for b in bounds]


# --- the entry point -------------------------------------------------------------------------------------

@dataclass
class ScanAndPose:
    scan: ClipScan
    rows: CandidateRows      # every posed frame, frame index = decode-order index like iter_frames
    stats: DecodeStats
    workers_used: int
    timings_s: dict


def scan_and_pose(info: VideoInfo, model_path: Path, settings: PoseSettings, *, workers: int | None = None,
                  show_progress: bool = True, overlap: int = OVERLAP_FRAMES) -> ScanAndPose:
    """Scan every frame and run the main landmarker pass, over ``workers`` processes.

    ``workers=None``: all cores, or 1 when this process is itself a pool worker
    (a batch parallel over clips), so clip- and frame-level parallelism never stack.
    """
    import multiprocessing as mp

    from .pose import quiet_native_stderr
    from .progress import progress

    t0 = time.perf_counter()
    if workers is None:
        # inside a process pool (a batch running one clip per core) the cores are taken already
        workers = 1 if mp.parent_process() is not None else default_workers()
    workers = max(1, int(workers))
    if mp.current_process().daemon:
        workers = 1  # daemonic pool workers may not start processes
    pts_sorted = packet_pts(info)
    n = len(pts_sorted) if pts_sorted is not None else info.n_frames
    extra = 0 if pts_sorted is None else min(workers - 1, n // MIN_FRAMES_PER_WORKER - 1)
    pool = _Pool(extra, info, pts_sorted, model_path, settings) if extra > 0 else None
    plan = {"bounds": None}
    with quiet_native_stderr() as user_stderr, \
            progress(f"pose {info.path.name}", n, enabled=show_progress, stream=user_stderr) as bar:
        try:
            def poll(pos: int) -> None:
                if pool is None:
                    return
                before = pool.progress
                pool.drain()
                if pool.progress > before:
                    bar.advance(pool.progress - before)
                if plan["bounds"] is None and len(pool.ready) == extra:
                    bounds = split_remaining(pos + 1, n, extra + 1, overlap)
                    plan["bounds"] = bounds
                    chunk.end = bounds[1]
                    for wid in range(extra):
                        pool.jobs[wid].put((bounds[wid + 1], bounds[wid + 2]))

            chunk = _Chunk(info, pts_sorted, start=0, end=None, lock_from=0,
                           pose_all=not settings.drop_repeated_frames, poll=poll)
            rows = CandidateRows()
            t_main = time.perf_counter()
            timed = _TimedFrames(chunk.frames_to_pose())
            run_landmarker(timed, model_path, settings, label="", total=None, show_progress=False, rows=rows,
                           on_frame=bar.advance)
            own = chunk.out
            own.rows = rows
            main_wall = time.perf_counter() - t_main
            own.timings_s = {"wall_s": main_wall, "decode_s": chunk.t_decode, "scan_s": chunk.t_scan,
                             "pose_s": main_wall - timed.producer_s, "posed_frames": timed.n,
                             "owned_frames": len(own.keys)}
            parts = [own]
            # (if the clip ended before the workers were ready, they are not needed: closed below)
            if pool is not None and plan["bounds"] is not None:
                while len(pool.done) < extra:
                    before = pool.progress
                    pool.drain(block_s=0.2)
                    if pool.progress > before:
                        bar.advance(pool.progress - before)
                    pool.check_alive()
                parts += [pool.done[w] for w in range(extra)]
        finally:
            if pool is not None:
                pool.close()
    used = 1 + (extra if plan["bounds"] is not None else 0)
    merged = _merge(parts, info)
    merged.workers_used = used
    merged.timings_s = {"wall_s": time.perf_counter() - t0, "processes": [p.timings_s for p in parts],
                        "bounds": plan["bounds"]}
    return merged


def _merge(parts: list[ChunkResult], info: VideoInfo) -> ScanAndPose:
    """Concatenate the ranges in frame order; number and time frames as ``video.iter_frames`` does."""
    keys = np.asarray([k for part in parts for k in part.keys], np.int64)
    raw_t = np.asarray([t for part in parts for t in part.stored_time_s], np.float64)
    scan_cols = {k: [v for part in parts for v in part.scan[k]] for k in parts[0].scan}
    order = np.argsort(keys, kind="stable")
    keys, raw_t = keys[order], raw_t[order]
    scan_cols = {k: [v[i] for i in order] for k, v in scan_cols.items()}
    stored = _stored_times_s(raw_t, info.stored_fps)
    index_of = {int(k): i for i, k in enumerate(keys)}
    rows = CandidateRows()
    for part in parts:
        for poses, (key, _, shape) in zip(part.rows.poses, part.rows.frames):
            i = index_of.get(int(key))
            if i is None:
                continue
            rows.poses.append(poses)
            rows.frames.append((i, float(stored[i] / info.slowmo_factor), shape))
    by_index = np.argsort([f[0] for f in rows.frames], kind="stable")
    rows.poses = [rows.poses[k] for k in by_index]
    rows.frames = [rows.frames[k] for k in by_index]
    scan = ClipScan(stored_time_s=[float(t) for t in stored], **scan_cols,
                    bad_packets=sum(p.bad_packets for p in parts))
    stats = DecodeStats(frames=len(keys), bad_packets=scan.bad_packets)
    return ScanAndPose(scan=scan, rows=rows, stats=stats, workers_used=1, timings_s={})


def _stored_times_s(raw_t: np.ndarray, stored_fps: float) -> np.ndarray:
    """Stored time from the first frame, with ``iter_frames``' fallback for non-increasing stamps."""
    out = np.empty(len(raw_t))
    last = -np.inf
    for i, t in enumerate(raw_t - raw_t[0] if len(raw_t) else raw_t):
        if t <= last:
            t = last + 1.0 / stored_fps
        out[i] = last = t
    return out
