"""One clip on every core: the scan and the main landmarker pass in one decode, split over processes.

Each frame is decoded once. The process that decodes it computes its scan
numbers (``scan.ThumbScanner``: repeats, camera motion,
cuts) and runs the landmarker on it (``num_poses`` candidates,
``person.CandidateRows``). Exact copies of the previous frame (change <= 1 gray
level, a repeat whatever ``dedupe`` decides) skip the landmarker; other repeats
are found only once the whole clip is scanned, so they are posed and dropped
afterwards (the price of decoding once: a clip slowed k times by duplication
with noisy copies costs k times the pose work of its new frames).

Parallel plan: frames are identified by their presentation timestamp (a demux
pass, no decoding, lists every packet's pts: ``video.packet_pts``; rank in
sorted pts = position).
The calling process starts posing from frame 0 at once while ``workers - 1``
spawned processes import MediaPipe and build their landmarkers (~1 s). When all
are ready, the frames not yet done are split into contiguous ranges so every
process has the same number of landmarker calls left. A worker decodes its
range with ``video.iter_frames`` (from the keyframe before it, converting from
two frames before ``OVERLAP_FRAMES`` ahead of its range), and runs the landmarker from there so the
tracker has locked on when its range starts; the overlap rows are dropped
(the previous range owns those frames). Rows are concatenated in frame order and
renumbered exactly as ``video.iter_frames`` numbers and times frames, so the
person linking/selection after this runs unchanged. Frames the decoder flags as
damaged are scanned but not posed (an empty row, like a frame without a person).

Workers are "spawn" processes (MediaPipe is not fork-safe once initialised)
with one thread each for OpenMP and OpenCV (every pose decode is single-threaded), so N processes on N cores
do not oversubscribe. The result does not depend on the number of workers
beyond landmark noise at the range starts; the pose cache is shared across
worker counts. The per-range machinery (``_Chunk``, the worker processes) is
in ``workers``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitlab.core.cpu import default_workers
from gaitlab.core.types import VideoInfo
from gaitlab.io.video import Clock, DecodeStats, packet_pts
from gaitlab.pose.landmarker import PoseSettings
from gaitlab.pose.person import CandidateRows
from gaitlab.pose.scan import ClipScan
from gaitlab.pose.tracking import SEGMENT_FRAMES, snap_to_grid
from gaitlab.pose.workers import OVERLAP_FRAMES, ChunkResult, WorkerPool, run_chunk

# Below this many frames per process, splitting costs more (startup, overlap) than it saves.
MIN_FRAMES_PER_WORKER = 60


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


def grid_split(done_to: int, n_frames: int, n_procs: int, overlap: int) -> list[int]:
    """``split_remaining`` with the inner bounds moved to the nearest tracking segment start (``tracking``):
    a range must begin where the tracker restarts in any run. The caller's end is after ``done_to - 1``,
    the frame it is at; a process may get an empty range."""
    bounds = split_remaining(done_to, n_frames, n_procs, overlap)
    inner = [min(n_frames, snap_to_grid(b, after=done_to - 1)) for b in bounds[1:-1]]
    inner = list(np.maximum.accumulate(inner)) if inner else []
    return [done_to] + [int(b) for b in inner] + [n_frames]


# --- the entry point -------------------------------------------------------------------------------------


@dataclass
class ScanAndPose:
    scan: ClipScan
    rows: CandidateRows  # every posed (or damaged) frame, frame index = decode-order index like iter_frames
    stats: DecodeStats  # damaged: frame indices of the decoded frames the decoder flagged
    workers_used: int
    timings_s: dict
    # tracking restarts (segment_frames) and the segment starts posed with every pose (redone: after tracking)
    tracking: dict = field(default_factory=dict)


def scan_and_pose(
    info: VideoInfo, model_path: Path, settings: PoseSettings, *, workers: int | None = None, show_progress: bool = True
) -> ScanAndPose:
    """Scan every frame and run the main landmarker pass, over ``workers`` processes.

    ``workers=None``: all cores this process may use. A batch parallel over clips
    passes ``workers=1`` (``batch_worker.process_clip``), so clip- and frame-level
    parallelism never stack.
    """
    import multiprocessing as mp

    from gaitlab.core.progress import progress
    from gaitlab.pose.landmarker import quiet_native_stderr

    t0 = time.perf_counter()
    workers = max(1, int(workers if workers is not None else default_workers()))
    if mp.current_process().daemon:
        workers = 1  # daemonic pool workers may not start processes
    # the workers start (import MediaPipe, load the model) while this process lists the packets
    extra = min(workers - 1, info.n_frames // MIN_FRAMES_PER_WORKER - 1)
    pool = WorkerPool(extra, info, model_path, settings) if extra > 0 else None
    pts_sorted = packet_pts(info)
    n = len(pts_sorted) if pts_sorted is not None else info.n_frames
    if pool is not None and pts_sorted is None:  # no ranges without positions: one process
        pool.close()
        pool, extra = None, 0
    plan = {"bounds": None}
    with (
        quiet_native_stderr() as user_stderr,
        progress(f"pose {info.path.name}", n, enabled=show_progress, stream=user_stderr) as bar,
    ):
        try:

            def drain_progress(block_s: float = 0.0) -> None:
                before = pool.progress
                pool.drain(block_s=block_s)
                if pool.progress > before:
                    bar.advance(pool.progress - before)

            def poll(pos: int) -> int | None:
                """Show the workers' progress; once all are ready, hand out the ranges and return our end."""
                if pool is None:
                    return None
                drain_progress()
                if plan["bounds"] is not None or len(pool.ready) < extra:
                    return None
                bounds = grid_split(pos + 1, n, extra + 1, OVERLAP_FRAMES)
                plan["bounds"] = bounds
                for wid in range(extra):
                    pool.jobs[wid].put((pts_sorted, bounds[wid + 1], bounds[wid + 2]))
                return bounds[1]

            own = run_chunk(info, pts_sorted, model_path, settings, start=0, end=None, poll=poll, on_owned=bar.advance)
            parts = [own]
            # (if the clip ended before the workers were ready, they are not needed: closed below)
            if pool is not None and plan["bounds"] is not None:
                while len(pool.done) < extra:
                    drain_progress(block_s=0.2)
                    pool.check_alive()
                parts += [pool.done[w] for w in range(extra)]
        finally:
            if pool is not None:
                pool.close()
    used = 1 + (extra if plan["bounds"] is not None else 0)
    merged = _merge(parts, info)
    merged.workers_used = used
    merged.timings_s = {
        "wall_s": time.perf_counter() - t0,
        "processes": [p.timings_s for p in parts],
        "bounds": plan["bounds"],
    }
    merged.tracking = {"segment_frames": SEGMENT_FRAMES}
    for key in ("multi_segments", "redone_segments"):
        merged.tracking[key] = sorted(s for p in parts for s in p.timings_s.get("segments", {}).get(key, []))
    return merged


def _merge(parts: list[ChunkResult], info: VideoInfo) -> ScanAndPose:
    """Concatenate the ranges in frame order; number frames as ``video.iter_frames`` does and time them
    with ``video.Clock``."""
    positions = np.asarray([k for part in parts for k in part.positions], np.int64)
    range_t = np.asarray([t for part in parts for t in part.stored_time_s], np.float64)
    scan_cols = {k: [v for part in parts for v in part.scan[k]] for k in parts[0].scan}
    order = np.argsort(positions, kind="stable")
    positions, range_t = positions[order], range_t[order]
    scan_cols = {k: [v[i] for i in order] for k, v in scan_cols.items()}
    clock = Clock(info)  # from the first decoded frame, as a whole-clip decode counts
    stored = np.asarray([clock.stored_s(t) for t in range_t])
    index_of = {int(k): i for i, k in enumerate(positions)}
    rows = CandidateRows()
    for part in parts:
        for poses, (pos, _, shape) in zip(part.rows.poses, part.rows.frames):
            i = index_of.get(int(pos))
            if i is None:
                continue
            rows.poses.append(poses)
            rows.frames.append((i, float(clock.real_s(stored[i])), shape))
    by_index = np.argsort([f[0] for f in rows.frames], kind="stable")
    rows.poses = [rows.poses[k] for k in by_index]
    rows.frames = [rows.frames[k] for k in by_index]
    stats = DecodeStats(
        frames=len(positions),
        lost=[p for part in parts for p in part.lost],
        damaged=sorted(index_of[p] for part in parts for p in part.damaged),
        anchors=sorted(index_of[p] for part in parts for p in part.anchors),
        keyframes=sorted(index_of[p] for part in parts for p in part.keyframes),
    )
    scan = ClipScan(stored_time_s=[float(t) for t in stored], **scan_cols, bad_packets=stats.bad_packets)
    return ScanAndPose(scan=scan, rows=rows, stats=stats, workers_used=1, timings_s={})
