"""What one batch worker does: limit its threads, lock one clip's folder, analyze the clip within
its time limit, leave a ``done`` marker.

Runs inside pool processes and Ray workers alike. Only light modules are
imported at the top: thread limits must be set before numpy/OpenBLAS and
MediaPipe load, or each of N workers would start one thread per core and N
workers on N cores would fight over them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gaitlab.core.cpu import die_with_parent, thread_env

MARKER_NAME = "batch_done.json"
MARKER_FORMAT_VERSION = 1
LOCK_DIR_NAME = ".gaitlab-locks"
# Per-clip time limit (default_time_limit_s): a base for hashing, probing and model start-up,
# plus a share per frame.
TIME_LIMIT_BASE_S = 300.0
TIME_LIMIT_PER_FRAME_S = 0.5
TIME_LIMIT_MAX_S = 12 * 3600.0
TIME_LIMIT_GRACE_S = 60.0  # after the limit, how long a worker stuck in native code gets before it is ended


@dataclass(frozen=True)
class VideoOptions:
    """Each clip's annotated.mp4 (``--annotate``, ``--slowmo``, ``--crop``), as ``analyze_clip`` takes them."""

    annotate: bool = False
    slowmo_factor: float = 1.0
    crop: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


NO_VIDEO = VideoOptions()


def init_pool_worker(threads: int, counter, pin_cores: list[int]) -> None:
    """Pool initializer: thread limits, a CPU share of its own, die with the parent, ignore Ctrl-C.

    With ``pin_cores`` (given when workers <= cores), worker k is pinned to its
    own ``threads`` cores, so even threads the variables do not govern (FFmpeg's
    decoder threads) cannot spill onto another worker's core.
    """
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


def marker_key(
    clip_sha256: str, settings_key: str, capture_fps: float | None, athlete_height_m: float | None = None
) -> str:
    fields = {"clip": clip_sha256, "settings": settings_key, "capture_fps": capture_fps}
    if athlete_height_m is not None:  # only then: batches of clips without a height keep their keys
        fields["athlete_height_m"] = athlete_height_m
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Hidden temporaries a killed run left behind (atomic writes never expose them)."""
    if out_dir.is_dir():
        for tmp in out_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def clip_lock_path(batch_out_dir: Path, clip_out_dir: Path) -> Path:
    """The lock file of one clip's output folder: held while a batch analyzes that clip.

    Lock files live in ``OUT/.gaitlab-locks/`` (hidden: never taken for clips or
    outputs) and are never deleted.
    """
    rel = os.path.relpath(clip_out_dir, batch_out_dir)
    return (
        Path(batch_out_dir)
        / LOCK_DIR_NAME
        / (hashlib.sha256(rel.encode("utf-8", "surrogatepass")).hexdigest()[:24] + ".lock")
    )


def default_time_limit_s(n_frames: int) -> float:
    """How long one clip may take: ``300 s + 0.5 s per frame`` (at most 12 h).

    Pose runs at several frames per second per core even with the heavy model on
    a slow machine, so a clip that needs longer is stuck, not slow.
    """
    return min(TIME_LIMIT_BASE_S + TIME_LIMIT_PER_FRAME_S * max(0, n_frames), TIME_LIMIT_MAX_S)


class ClipTimeout(BaseException):
    """A clip passed its time limit. Not an ``Exception``: no library's ``except Exception`` may swallow it."""


class TimeLimit:
    """Raise :class:`ClipTimeout` in the main thread once ``seconds`` have passed since entering.

    A ``SIGALRM`` timer interrupts Python code and blocking system calls. If the
    main thread is stuck in native code that never returns to Python, a watchdog
    thread ends the whole process ``grace_s`` after the deadline: the executor then
    records the clip as failed. :meth:`extend_to` moves the deadline (once the
    clip's length is known).
    """

    def __init__(self, seconds: float, *, grace_s: float = TIME_LIMIT_GRACE_S):
        self.seconds, self.grace_s = float(seconds), grace_s
        self._done = threading.Event()
        self._old = None

    def __enter__(self) -> TimeLimit:
        self._t0 = time.monotonic()
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            self._old = signal.signal(signal.SIGALRM, self._alarm)
        self._arm()
        threading.Thread(target=self._watch, name="gaitlab-clip-watchdog", daemon=True).start()
        return self

    def extend_to(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._arm()

    def _arm(self) -> None:
        if self._old is not None:
            signal.setitimer(signal.ITIMER_REAL, max(1e-3, self._t0 + self.seconds - time.monotonic()))

    def _alarm(self, signum, frame) -> None:
        if not self._done.is_set():
            raise ClipTimeout(f"took longer than its time limit of {round(self.seconds, 2):g} s")

    def _watch(self) -> None:
        while not self._done.wait(1.0):
            if time.monotonic() > self._t0 + self.seconds + self.grace_s:
                print(
                    f"gaitlab worker: stuck {self.grace_s:.0f} s past the clip's time limit: exiting", file=sys.stderr
                )
                os._exit(70)

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._old is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)


def _clip_hash(clip: Path, known: dict | None) -> tuple[str, os.stat_result]:
    """(sha256, stat) of a regular file; refuses anything else unopened (it could block for ever)."""
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.video import file_sha256

    st = clip.stat()
    if not stat.S_ISREG(st.st_mode):
        raise BadInputError(f"{clip}: not a regular file (a FIFO, device or socket): not opened")
    return (known["sha256"] if unchanged_since(st, known) else file_sha256(clip)), st


def _analyze(job: dict, limit: TimeLimit, ident: dict, done: dict) -> None:
    """Hash, reuse another batch's marker, or probe and analyze within the time limit.

    Fills ``done`` as it goes (so a failure still knows the clip's hash): ``sha``,
    ``stat``, ``row``, ``n_frames``, ``pose_cached``, ``reused``, ``cacheable`` (the
    row may be stored in a marker).
    """
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.video import probe
    from gaitlab.pipeline import analyze_clip
    from gaitlab.team.table import summary_row, with_side_columns

    clip, out_dir = Path(job["clip"]), Path(job["out_dir"])
    done["sha"], done["stat"] = _clip_hash(clip, job.get("clip_hash"))
    marker = read_marker(out_dir)
    key = marker_key(done["sha"], job["settings_key"], job["capture_fps"], job.get("athlete_height_m"))
    if marker is not None and marker.get("key") == key:
        row = with_side_columns(dict(marker["row"], **ident), out_dir)
        done.update(row=row, reused=True, cacheable=False)  # another batch finished it
        return
    if job.get("time_limit_s") is None:
        try:
            limit.extend_to(default_time_limit_s(probe(clip, capture_fps=job["capture_fps"]).n_frames))
        except BadInputError:
            pass  # not a readable video: analyze_clip says so in its own words, well within the base limit
    # workers=1: the batch already runs one clip per core (pool process or Ray task with 1 CPU)
    result = analyze_clip(
        clip,
        out_dir=out_dir,
        capture_fps=job["capture_fps"],
        athlete_height_m=job.get("athlete_height_m"),
        settings=job["settings"],
        config=job["config"],
        show_progress=False,
        clip_sha256=done["sha"],
        workers=1,
        **(job.get("video") or NO_VIDEO).to_dict(),
    )
    summary = result.result.summary.to_dict()
    done.update(n_frames=result.result.summary.n_frames, pose_cached=result.pose_from_cache)
    done["row"] = summary_row(
        summary, **ident, clip_sha256=done["sha"], clip_out_dir=out_dir, batch_out_dir=Path(job["batch_out_dir"])
    )


def _failed(exc: BaseException, clip: Path, ident: dict, sha: str) -> tuple[dict, bool]:
    """(failure row, cacheable): only the clip's own fault is final; a full disk, a missing model or a
    time limit on a busy machine may be fixed by the next run."""
    from gaitlab.core.errors import BadInputError, GaitlabError
    from gaitlab.team.table import failure_row

    if isinstance(exc, ClipTimeout):
        reason = f"{clip.name}: {exc} (the batch option --clip-timeout sets it)"
    elif isinstance(exc, GaitlabError):
        reason = str(exc)
    elif isinstance(exc, OSError):
        reason = f"{clip}: cannot read ({exc.strerror or exc})"
    else:  # a bug or a crash inside a library: record it, retry on the next run
        reason = f"internal error {exc.__class__.__name__}: {exc}"
    return failure_row(**ident, reason=reason, clip_sha256=sha), isinstance(exc, BadInputError) and bool(sha)


def _console_in_worker() -> None:
    """A worker process (pool or Ray) shows warnings and errors as the command line does; without it,
    Python's last-resort handler would print every clip's quality notes (file-only records) on stderr."""
    import logging

    from gaitlab.core.logs import LOGGER_NAME, configure_console

    if not logging.getLogger(LOGGER_NAME).handlers:
        configure_console(-1)


def process_clip(job: dict) -> dict:
    """Analyze one clip into ``job['out_dir']``; return its team-table row and status.

    ``job``: clip, rel (name shown in the table), athlete, session, out_dir,
    batch_out_dir, capture_fps, settings (PoseSettings), config (AnalysisConfig),
    settings_key; optionally video (:class:`VideoOptions`), clip_hash (``batch.check_marker``'s hash of the clip:
    used while the clip's size and modification time still match it, so the clip is
    hashed once per run; the same sha keys the pose cache), lock_path
    (:func:`clip_lock_path`) and time_limit_s (None: :func:`default_time_limit_s`).

    With ``lock_path``, a clip another process holds the lock of is left alone and
    returned with ``busy`` True; one whose marker another batch wrote meanwhile is
    returned with ``reused`` True. Failures that depend only on the clip (bad
    video, no running) get a marker like successes so a re-run skips them; others
    (unexpected errors, unwritable output, missing model, time limit) do not, so
    they are retried.
    """
    from gaitlab.io.atomic import write_text_atomic
    from gaitlab.io.locks import file_lock
    from gaitlab.team.table import STATUS_FAILED

    _console_in_worker()
    t0 = time.perf_counter()
    clip, out_dir = Path(job["clip"]), Path(job["out_dir"])
    ident = {"athlete": job["athlete"], "session": job["session"], "clip": job["rel"]}
    lock = job.get("lock_path")
    with file_lock(lock, wait=False) if lock else contextlib.nullcontext(True) as held:
        if not held:
            return {"rel": job["rel"], "busy": True}
        _remove_stale_temp_files(out_dir)  # ours alone: the lock keeps other batches out of this folder
        done = {"sha": "", "stat": None, "n_frames": 0, "pose_cached": False, "reused": False, "cacheable": True}
        try:
            with TimeLimit(job.get("time_limit_s") or TIME_LIMIT_BASE_S) as limit:
                _analyze(job, limit, ident, done)
        except (Exception, ClipTimeout) as exc:
            done["row"], done["cacheable"] = _failed(exc, clip, ident, done["sha"])
        if done["cacheable"] and done["stat"] is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            marker = {
                "format": MARKER_FORMAT_VERSION,
                "key": marker_key(done["sha"], job["settings_key"], job["capture_fps"], job.get("athlete_height_m")),
                "clip_sha256": done["sha"],
                "size_bytes": done["stat"].st_size,
                "mtime_ns": done["stat"].st_mtime_ns,
                "n_frames": done["n_frames"],
                "row": done["row"],
            }
            # Written last and atomically: its presence means this clip's outputs are complete.
            write_text_atomic(out_dir / MARKER_NAME, json.dumps(marker, indent=1) + "\n")
    return {
        "rel": job["rel"],
        "row": done["row"],
        "failed": done["row"]["status"] == STATUS_FAILED,
        "reused": done["reused"],
        "n_frames": done["n_frames"],
        "pose_cached": done["pose_cached"],
        "elapsed_s": time.perf_counter() - t0,
    }
