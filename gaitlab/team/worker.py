"""What one batch worker does: limit its threads, analyze one clip, leave a ``done`` marker.

Runs inside pool processes and Ray workers alike. Only light modules are
imported at the top: thread limits must be set before numpy/OpenBLAS and
MediaPipe load, or each of N workers would start one thread per core and N
workers on N cores would fight over them.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from gaitlab.core.cpu import die_with_parent, thread_env

MARKER_NAME = "batch_done.json"
MARKER_FORMAT_VERSION = 1


def init_pool_worker(threads: int, counter, pin_cores: list[int]) -> None:
    """Pool initializer: thread limits, a CPU share of its own, die with the parent, ignore Ctrl-C.

    With ``pin_cores`` (given when workers <= cores), worker k is pinned to its
    own ``threads`` cores, so even threads the variables do not govern (FFmpeg's
    decoder threads) cannot spill onto another worker's core.
    """
    import signal

    os.environ.update(thread_env(threads))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    die_with_parent()
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    if pin_cores and hasattr(os, "sched_setaffinity"):
        share = [pin_cores[(k * threads + i) % len(pin_cores)] for i in range(threads)]
        try:
            os.sched_setaffinity(0, set(share))
        except OSError:
            pass


def read_marker(out_dir: Path) -> dict | None:
    try:
        marker = json.loads((Path(out_dir) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT_VERSION else None


def unchanged_since(stat: os.stat_result, record: dict | None) -> bool:
    """Same size and modification time as ``record`` (``size_bytes``, ``mtime_ns``) noted when the
    clip was hashed: its recorded sha256 still holds, no need to hash it again."""
    return bool(record) and (stat.st_size, stat.st_mtime_ns) == (record.get("size_bytes"), record.get("mtime_ns"))


def marker_key(clip_sha256: str, settings_key: str, capture_fps: float | None) -> str:
    import hashlib

    payload = json.dumps({"clip": clip_sha256, "settings": settings_key, "capture_fps": capture_fps}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Hidden temporaries a killed run left behind (atomic writes never expose them)."""
    if out_dir.is_dir():
        for tmp in out_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def process_clip(job: dict) -> dict:
    """Analyze one clip into ``job['out_dir']``; return its team-table row and status.

    ``job``: clip, rel (name shown in the table), athlete, session, out_dir,
    batch_out_dir, capture_fps, settings (PoseSettings), config (AnalysisConfig),
    settings_key, and optionally clip_hash (``batch.cached_row``'s hash of the clip:
    used while the clip's size and modification time still match it, so the clip is
    hashed once per run; the same sha keys the pose cache). Failures that depend
    only on the clip (bad video, no running) get a marker like successes so a
    re-run skips them; others (unexpected errors, unwritable output, missing
    model) do not, so they are retried.
    """
    from gaitlab.core.errors import BadInputError, GaitlabError
    from gaitlab.io.atomic import write_text_atomic
    from gaitlab.io.video import file_sha256
    from gaitlab.team.table import STATUS_FAILED, failure_row, summary_row

    t0 = time.perf_counter()
    clip, out_dir = Path(job["clip"]), Path(job["out_dir"])
    ident = {"athlete": job["athlete"], "session": job["session"], "clip": job["rel"]}
    _remove_stale_temp_files(out_dir)
    sha, n_frames, pose_cached, cacheable = "", 0, False, True
    try:
        stat = clip.stat()
        known = job.get("clip_hash")
        if unchanged_since(stat, known):
            sha = known["sha256"]
        else:
            sha = file_sha256(clip)
        from gaitlab.pipeline import analyze_clip

        # workers=1: the batch already runs one clip per core (pool process or Ray task with 1 CPU)
        done = analyze_clip(
            clip,
            out_dir=out_dir,
            capture_fps=job["capture_fps"],
            settings=job["settings"],
            config=job["config"],
            show_progress=False,
            clip_sha256=sha,
            workers=1,
        )
        summary = done.result.summary.to_dict()
        n_frames, pose_cached = done.result.summary.n_frames, done.pose_from_cache
        row = summary_row(
            summary, **ident, clip_sha256=sha, clip_out_dir=out_dir, batch_out_dir=Path(job["batch_out_dir"])
        )
    except (GaitlabError, OSError) as exc:
        row = failure_row(
            **ident,
            reason=str(exc) if isinstance(exc, GaitlabError) else f"{clip}: cannot read ({exc.strerror or exc})",
            clip_sha256=sha,
        )
        # Only the clip's own fault is final; a full disk or a missing model may be fixed by the next run.
        cacheable = isinstance(exc, BadInputError) and bool(sha)
    except Exception as exc:  # a bug or a crash inside a library: record it, retry on the next run
        row = failure_row(**ident, reason=f"internal error {exc.__class__.__name__}: {exc}", clip_sha256=sha)
        cacheable = False
    if cacheable:
        out_dir.mkdir(parents=True, exist_ok=True)
        marker = {
            "format": MARKER_FORMAT_VERSION,
            "key": marker_key(sha, job["settings_key"], job["capture_fps"]),
            "clip_sha256": sha,
            "size_bytes": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "n_frames": n_frames,
            "row": row,
        }
        # Written last and atomically: its presence means this clip's outputs are complete.
        write_text_atomic(out_dir / "batch_done.json", json.dumps(marker, indent=1) + "\n")
    return {
        "rel": job["rel"],
        "row": row,
        "failed": row["status"] == STATUS_FAILED,
        "n_frames": n_frames,
        "pose_cached": pose_cached,
        "elapsed_s": time.perf_counter() - t0,
    }
