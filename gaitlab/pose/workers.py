"""Worker processes for ``parallel_pose``: one process per contiguous range of frames.

Each worker decodes its range with ``video.iter_frames`` (from the keyframe
before it), scans and poses every frame from ``OVERLAP_FRAMES`` before the
range (so the VIDEO-mode tracker has locked on), and returns the rows, scan
numbers, times and damaged frames of the frames it owns (``ChunkResult``). The calling process runs the same
``run_chunk`` on its own range; ``WorkerPool`` starts the "spawn" workers
(``_worker_main``) with one thread each.
"""

from __future__ import annotations

import os
import queue as queue_mod
import time
import traceback
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitlab.core.cpu import thread_env
from gaitlab.core.types import VideoInfo
from gaitlab.io.video import DecodeStats, Frame, iter_frames
from gaitlab.pose.landmarker import PoseSettings, quiet_native_stderr
from gaitlab.pose.person import CandidateRows
from gaitlab.pose.scan import SCAN_KEYS, ThumbScanner
from gaitlab.pose.tracking import LOCK_FRAMES, Landmarkers, SegmentPoser

# Frames decoded before a worker's range (a segment start) for the tracker's lock-on (``tracking``; rows dropped).
OVERLAP_FRAMES = LOCK_FRAMES
# A change this small (99.5th pct of |gray diff|) is a repeat for any threshold dedupe picks (it floors at 1).
SURE_REPEAT_P995 = 1.0
# Progress messages a worker sends: one per this many owned frames (the remainder comes before "done").
_PROGRESS_EVERY = 10


@dataclass
class ChunkResult:
    """What one process returns for the frames it owns (positions ``start <= pos < end``).

    ``positions``/``stored_time_s``: per owned decoded frame, its position (``video.iter_frames``
    with ``positions``) and stored time; ``damaged``/``anchors``/``keyframes``: positions of
    owned frames as in ``video.DecodeStats`` (damaged frames are not posed: an empty row);
    ``lost``: positions (or None) of owned packets that failed to decode.
    """

    positions: list[int] = field(default_factory=list)
    stored_time_s: list[float] = field(default_factory=list)
    scan: dict = field(default_factory=lambda: {k: [] for k in SCAN_KEYS})
    rows: CandidateRows = field(default_factory=CandidateRows)  # posed owned frames; frame index = position
    damaged: list[int] = field(default_factory=list)
    anchors: list[int] = field(default_factory=list)
    keyframes: list[int] = field(default_factory=list)
    lost: list[int | None] = field(default_factory=list)
    timings_s: dict = field(default_factory=dict)


class _Chunk:
    """Decode from ``lock_from`` (positions), scan and pose; keep what falls in ``[start, end)``.

    Two frames before ``lock_from`` are decoded too, for the scan's comparisons.
    ``poll(pos)`` is called after each decoded frame and may return a new ``end``
    (never at or before ``pos``); ``on_owned()`` once per decoded frame the chunk owns.
    Damaged frames go to ``rows`` without a pose instead of to the landmarker.
    """

    def __init__(
        self,
        info: VideoInfo,
        pts_sorted: np.ndarray | None,
        rows: CandidateRows,
        *,
        start: int,
        end: int | None,
        lock_from: int,
        pose_all: bool,
        poll=None,
        on_owned=None,
    ):
        self.info, self.pts_sorted, self.rows = info, pts_sorted, rows
        self.start, self.end, self.lock_from = start, end, lock_from
        self.pose_all, self.poll, self.on_owned = pose_all, poll, on_owned
        self.out = ChunkResult()
        self.t_decode = self.t_scan = 0.0
        self._scanner = ThumbScanner()
        self._stats = DecodeStats()

    def _decoded(self) -> Iterator[Frame]:
        """The decoded frames from two before ``lock_from`` until ``end`` (which ``poll`` may move)."""
        frames = iter_frames(
            self.info, stats=self._stats, positions=self.pts_sorted, start=max(0, self.lock_from - 2), stop=self.end
        )
        with closing(frames):
            while True:
                t = time.perf_counter()
                frame = next(frames, None)
                self.t_decode += time.perf_counter() - t
                if frame is None or (self.end is not None and frame.index >= self.end):
                    break
                yield frame
        stats = self._stats
        self.out.lost = [p for p in stats.lost if p is None or self._owns(p)]
        self.out.damaged = [p for p in stats.damaged if self._owns(p)]
        self.out.anchors = [p for p in stats.anchors if self._owns(p)]
        self.out.keyframes = [p for p in stats.keyframes if self._owns(p)]

    def _owns(self, pos: int) -> bool:
        return pos >= self.start and (self.end is None or pos < self.end)

    def frames_to_pose(self) -> Iterator[Frame]:
        """Scan every decoded frame; yield those the landmarker must see."""
        for frame in self._decoded():
            pos = frame.index
            t = time.perf_counter()
            values = self._scanner.step(frame.rgb, damaged=frame.damaged)
            owned = pos >= self.start
            if owned:
                self.out.positions.append(pos)
                self.out.stored_time_s.append(float(frame.stored_time_s))
                for name, value in zip(SCAN_KEYS, values):
                    self.out.scan[name].append(value)
            self.t_scan += time.perf_counter() - t
            if owned and self.on_owned is not None:
                self.on_owned()
            if self.poll is not None:
                new_end = self.poll(pos)
                if new_end is not None:
                    self.end = new_end
            if pos < self.lock_from:
                continue
            if frame.damaged:  # concealed pixels: no pose rather than a wrong one
                self.rows.add(frame, None)
                continue
            sure_repeat = np.isfinite(values[0]) and values[0] <= SURE_REPEAT_P995
            if self.pose_all or not sure_repeat:
                yield frame


class _KeepOwned(CandidateRows):
    """``CandidateRows`` that keeps only frames at or after the chunk's start (drops lock-on rows)."""

    def __init__(self, start: int):
        super().__init__()
        self.start = start

    def add(self, frame: Frame, result) -> None:
        if frame.index >= self.start:
            super().add(frame, result)


def run_chunk(
    info: VideoInfo,
    pts_sorted: np.ndarray | None,
    model_path: Path,
    settings: PoseSettings,
    *,
    start: int,
    end: int | None,
    poll=None,
    on_owned=None,
    landmarkers: Landmarkers | None = None,
) -> ChunkResult:
    """Scan and pose one range of positions (the whole clip with ``start=0, end=None``).

    ``landmarkers``: made beforehand (a worker loads them while it waits for its range); else made here.

    ``poll``/``on_owned``: see ``_Chunk`` (the calling process learns its ``end``
    through ``poll`` once the workers are ready; ``on_owned`` advances a progress count).
    """
    if (pts_sorted is not None and start >= len(pts_sorted)) or (end is not None and start >= end):
        zero = ("wall_s", "decode_s", "scan_s", "pose_s", "posed_frames", "owned_frames", "landmarker_calls")
        return ChunkResult(timings_s={**dict.fromkeys(zero, 0), "segments": {}})
    lock_from = max(0, start - OVERLAP_FRAMES)
    rows = _KeepOwned(start)
    chunk = _Chunk(
        info,
        pts_sorted,
        rows,
        start=start,
        end=end,
        lock_from=lock_from,
        pose_all=not settings.drop_repeated_frames,
        poll=poll,
        on_owned=on_owned,
    )
    t0 = time.perf_counter()
    detect = _TimedFrames(chunk.frames_to_pose())
    with quiet_native_stderr():
        made = landmarkers is None
        landmarkers = Landmarkers(model_path, settings) if made else landmarkers
        try:
            poser = SegmentPoser(landmarkers, rows, start=start)
            for frame in detect:
                poser.add(frame)
            poser.finish(info, pts_sorted, chunk.end)
        finally:
            if made:
                landmarkers.close()
    wall = time.perf_counter() - t0
    chunk.out.rows = rows
    chunk.out.timings_s = {
        "wall_s": wall,
        "decode_s": chunk.t_decode,
        "scan_s": chunk.t_scan,
        "pose_s": wall - detect.producer_s,
        "posed_frames": detect.n,
        "owned_frames": len(chunk.out.positions),
        "landmarker_calls": poser.landmarker_calls,
        "segments": poser.decisions(),
    }
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


def _worker_main(wid: int, info: VideoInfo, model_path: str, settings: PoseSettings, jobs, results) -> None:
    """A spawned worker: load the landmarker, report ready, run one range, send the result."""
    try:
        import cv2

        cv2.setNumThreads(1)
        with quiet_native_stderr():  # load the landmarkers this worker will use before saying ready
            landmarkers = Landmarkers(Path(model_path), settings)
        results.put(("ready", wid, None))
        job = jobs.get()
        if job is None:
            landmarkers.close()
            return
        pts_sorted, start, end = job
        unsent = [0]  # owned frames not yet reported

        def count_owned() -> None:
            unsent[0] += 1
            if unsent[0] == _PROGRESS_EVERY:
                results.put(("progress", wid, unsent[0]))
                unsent[0] = 0

        with closing(landmarkers):
            out = run_chunk(
                info,
                pts_sorted,
                Path(model_path),
                settings,
                start=start,
                end=end,
                on_owned=count_owned,
                landmarkers=landmarkers,
            )
        if unsent[0]:
            results.put(("progress", wid, unsent[0]))  # same queue, so read before "done"
        results.put(("done", wid, out))
    except BaseException:  # noqa: BLE001 - the parent re-raises it with the worker's traceback
        results.put(("error", wid, traceback.format_exc()))


class WorkerPool:
    """``n`` spawned workers waiting for one range each."""

    def __init__(self, n: int, info: VideoInfo, model_path: Path, settings: PoseSettings):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.jobs = [ctx.Queue() for _ in range(n)]
        self.procs = []
        one_thread = thread_env(1)
        saved = {k: os.environ.get(k) for k in one_thread}
        os.environ.update(one_thread)  # inherited by the spawned interpreters only
        try:
            for wid in range(n):
                p = ctx.Process(
                    target=_worker_main,
                    args=(wid, info, str(model_path), settings, self.jobs[wid], self.results),
                    daemon=True,
                )
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
