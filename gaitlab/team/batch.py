"""Batch analysis of a squad: find clips, skip finished ones, run the rest, write the team table.

SOURCE is a team library or any folder tree of clips (``discover``). Each clip's
outputs go to ``OUT/clips/<athlete>/<session>/<clip>/``; its ``batch_done.json``
marker is written last (atomically) and holds the clip's sha256, a key of all
settings that change results, and its team-table row. A re-run reuses every
clip whose marker key still matches, so it does only new or changed clips, and
a killed batch resumes where it stopped. A clip is analyzed under a lock on its
output folder, so two batches on one OUT share the clips: each leaves the
other's clips alone, waits for them at the end and reads their markers. The
team outputs are written once all clips are done (or, stopped by Ctrl-C or
``kill``, with the clips not done marked so); every file is written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError, OutputError
from gaitlab.core.signals import terminate_as_interrupt
from gaitlab.io.atomic import prepare_out_dir, temp_prefix, write_text_atomic
from gaitlab.io.locks import file_lock
from gaitlab.pose.landmarker import PoseSettings
from gaitlab.team.discover import ClipJob, discover
from gaitlab.team.library import VIDEO_SUFFIXES
from gaitlab.team.table import (
    FAILURE_COLUMNS,
    STATUS_FAILED,
    STATUS_OK,
    clip_report_link,
    failure_row,
    failure_rows,
    table_csv_text,
    with_side_columns,
)
from gaitlab.team.worker import (
    LOCK_DIR_NAME,
    NO_VIDEO,
    VideoOptions,
    clip_lock_path,
    marker_key,
    read_marker,
    unchanged_since,
)

BATCH_FORMAT_VERSION = 1
EXECUTORS = ("local", "ray")
TEAM_LOCK_NAME = "team.lock"  # in OUT/.gaitlab-locks: held while the team outputs are written
NOT_DONE_REASON = "not analyzed: the batch was stopped before this clip was done (run it again to finish)"

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    rows: list[dict]
    n_cached: int
    n_processed: int
    elapsed_s: float
    paths: dict = field(default_factory=dict)
    n_unopened: int = 0  # entries recorded as failed without being opened (broken links, FIFOs, ...)

    @property
    def n_failed(self) -> int:
        """Clips that are not ``ok``: unreadable, no running found, or too few steps."""
        return sum(r["status"] != STATUS_OK for r in self.rows)


# --- result cache ------------------------------------------------------------------------------


def settings_key(
    settings: PoseSettings,
    config: AnalysisConfig,
    *,
    model_path: Path | None = None,
    video: VideoOptions = NO_VIDEO,
) -> str:
    """Hash of everything besides the clip that changes a clip's results.

    The annotated video's options count only when it is made: a batch without
    ``--annotate`` keeps the key it always had. With it, a clip finished without the
    video is done again (its pose comes from the pose cache, keyed apart).
    """
    from gaitlab import __version__
    from gaitlab.pose.models.files import check_model_file
    from gaitlab.pose.models.provision import ensure_model, model_sha256

    model_path = check_model_file(model_path) if model_path else ensure_model(settings.model)
    fields = {
        "batch_format": BATCH_FORMAT_VERSION,
        "gaitlab": __version__,
        "pose": settings.to_dict(),
        "model_sha256": model_sha256(model_path),
        "config": config.to_dict(),
    }
    if video.annotate:
        fields["annotated_video"] = video.to_dict()
    payload = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def cached_row(job: ClipJob, key: str) -> dict | None:
    """The clip's row from its marker if the clip bytes and settings are unchanged, else None.

    Size and modification time equal to the marker's mean the bytes were hashed
    already; otherwise the clip is hashed again (a touched but unchanged clip is
    still reused).
    """
    return check_marker(job, key)[0]


def check_marker(job: ClipJob, key: str) -> tuple[dict | None, dict | None]:
    """``(row, clip_hash)``: :func:`cached_row`'s answer, and, when there is no row, the clip's
    hash if it is known here (else None).

    ``clip_hash`` (``sha256``, and the ``size_bytes`` and ``mtime_ns`` read before
    hashing) goes to the worker, which reuses it while the clip's size and time
    still match, so a changed clip is hashed once, not twice. It is known when the
    clip was hashed here (changed clip) and when the marker's hash still holds
    (unchanged clip, other settings): then the worker hashes nothing.
    """
    from gaitlab.io.video import file_sha256

    marker = read_marker(job.out_dir)
    if marker is None:
        return None, None
    try:
        st = job.clip.stat()
        if not stat.S_ISREG(st.st_mode):  # replaced since discovery (by a FIFO?): the worker refuses it unopened
            return None, None
        sha = marker["clip_sha256"] if unchanged_since(st, marker) else file_sha256(job.clip)
    except OSError:
        return None, None
    if marker.get("key") != marker_key(sha, key, job.capture_fps, job.athlete_height_m):
        return None, {"sha256": sha, "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    row = dict(marker["row"], athlete=job.athlete, session=job.session, clip=job.rel)
    return with_side_columns(row, job.out_dir), None


# --- running -----------------------------------------------------------------------------------


def _write_if_changed(path: Path, text: str) -> None:
    """Atomic write, skipped when the content is already there (a re-run changes no file)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, ValueError):  # missing, or not UTF-8 (not ours): replaced
        pass
    write_text_atomic(path, text)


def write_team_outputs(rows: list[dict], out: Path, *, source: Path) -> dict[str, Path]:
    """team_summary.csv, failures.csv and team_report.html in ``out``, under the team lock: two batches
    on one OUT write them in turn, so a temporary of theirs left beside them is a killed batch's, removed."""
    from gaitlab.team.report import team_report_html

    paths = {
        "team_summary.csv": out / "team_summary.csv",
        "failures.csv": out / "failures.csv",
        "team_report.html": out / "team_report.html",
    }
    with file_lock(out / LOCK_DIR_NAME / TEAM_LOCK_NAME):
        for tmp in out.glob(".*.tmp"):
            if tmp.name.startswith(tuple(temp_prefix(name) for name in paths)):
                tmp.unlink(missing_ok=True)
        _write_if_changed(paths["team_summary.csv"], table_csv_text(rows))
        _write_if_changed(paths["failures.csv"], table_csv_text(failure_rows(rows), FAILURE_COLUMNS))
        _write_if_changed(paths["team_report.html"], team_report_html(rows, title=f"Team report: {source.name}"))
    return paths


# What a batch makes in OUT: True for a folder, False for a file.
_OWN_ENTRIES = {LOCK_DIR_NAME: True, "clips": True, "team_summary.csv": False, "failures.csv": False}
_OWN_ENTRIES["team_report.html"] = False


def _check_own_entries(out: Path) -> None:
    """Something else in the place of a folder or file the batch makes in OUT (a file named ``clips``, a
    folder named ``team_summary.csv``) is an OutputError naming it, before any work; makes the lock folder."""
    for name, folder in _OWN_ENTRIES.items():
        path = out / name
        if os.path.lexists(path) and not (path.is_dir() if folder else path.is_file()):
            kind = "folder" if folder else "file"
            raise OutputError(f"{path}: something else is where the batch keeps its {kind} of that name; move it away")
    try:
        (out / LOCK_DIR_NAME).mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the output folder ({exc.strerror or exc})") from None


@dataclass
class _Run:
    """What every clip of one batch shares, and how its clips are sent to the executor."""

    out: Path
    key: str
    settings: PoseSettings
    config: AnalysisConfig
    executor: str
    workers: int
    ray_address: str | None
    time_limit_s: float | None
    show_progress: bool
    video: VideoOptions = NO_VIDEO
    n_run: int = 0
    n_reused: int = 0

    def payload(self, job: ClipJob, clip_hash: dict | None) -> dict:
        return {
            "clip": str(job.clip.resolve()),
            "rel": job.rel,
            "athlete": job.athlete,
            "session": job.session,
            "out_dir": str(job.out_dir.resolve()),
            "batch_out_dir": str(self.out.resolve()),
            "lock_path": str(clip_lock_path(self.out.resolve(), job.out_dir.resolve())),
            "capture_fps": job.capture_fps,
            "athlete_height_m": job.athlete_height_m,
            "settings": self.settings,
            "config": self.config,
            "settings_key": self.key,
            "video": self.video,
            "clip_hash": clip_hash,
            "time_limit_s": self.time_limit_s,
        }

    def execute(self, payloads):
        from gaitlab.team.executors import run_local, run_ray

        if self.executor == "ray":
            return run_ray(payloads, workers=self.workers, address=self.ray_address)
        return run_local(payloads, workers=min(self.workers, len(payloads)) or 1)


def _wait_for_other_batch(busy: list[ClipJob], run: _Run, rows: dict, bar) -> list[ClipJob]:
    """Wait until another batch has finished ``busy`` (the clips it holds the locks of); reuse their
    markers and return the clips still to do (the other batch could not finish them)."""
    logger.warning("another batch is analyzing %d clip(s) in %s: waiting for it", len(busy), run.out)
    todo = []
    for job in busy:
        with file_lock(clip_lock_path(run.out.resolve(), job.out_dir.resolve())):
            row, _ = check_marker(job, run.key)
        if row is None:
            todo.append(job)
        else:
            rows[job.rel] = row
            run.n_reused += 1
            bar.advance(0, "reused")
    return todo


def _run_clips(todo: list[ClipJob], hashes: dict, run: _Run, rows: dict) -> None:
    """Analyze ``todo`` through the executor; clips another batch holds are waited for, then reused or run."""
    from gaitlab.team.executors import BatchProgress

    by_rel = {job.rel: job for job in todo}
    bar = BatchProgress(len(todo), enabled=run.show_progress)
    try:
        while todo:
            busy = []
            for res in run.execute([run.payload(job, hashes.get(job.rel)) for job in todo]):
                if res.get("busy"):
                    busy.append(by_rel[res["rel"]])
                    continue
                rows[res["rel"]] = res["row"]
                run.n_reused += bool(res.get("reused"))
                run.n_run += not res.get("reused")
                bar.advance(res["n_frames"], res["row"]["status"])
            todo = _wait_for_other_batch(busy, run, rows, bar) if busy else []
    finally:
        bar.close()


def _table_rows(jobs: list[ClipJob], rows: dict, out: Path) -> list[dict]:
    """Rows in discovery order; a clip without a row (the batch was stopped) gets a failure row saying so."""
    ordered = []
    for job in jobs:
        row = rows.get(job.rel) or failure_row(
            athlete=job.athlete, session=job.session, clip=job.rel, reason=NOT_DONE_REASON
        )
        if row["status"] != STATUS_FAILED:  # the one link rule, re-applied so new reports are picked up
            link = clip_report_link(job.out_dir)
            row["report"] = Path(os.path.relpath(link, out)).as_posix() if link else ""
        ordered.append(row)
    return ordered


def _sort_jobs(jobs: list[ClipJob], key: str, rows: dict) -> tuple[list[ClipJob], dict]:
    """(clips to run, their known hashes): unopenable entries and finished clips go to ``rows`` instead."""
    todo, hashes = [], {}
    for job in jobs:
        if job.problem is not None:
            rows[job.rel] = failure_row(athlete=job.athlete, session=job.session, clip=job.rel, reason=job.problem)
            continue
        row, hashes[job.rel] = check_marker(job, key)
        if row is not None:
            rows[job.rel] = row
        else:
            todo.append(job)
    return todo, hashes


def run_batch(
    source: Path,
    out: Path,
    *,
    workers: int | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    roster: Path | None = None,
    settings: PoseSettings = PoseSettings(),
    config: AnalysisConfig = AnalysisConfig(),
    model_path: Path | None = None,
    show_progress: bool = True,
    clip_time_limit_s: float | None = None,
    video: VideoOptions = NO_VIDEO,
) -> BatchResult:
    """Analyze every clip under ``source`` not already done with these settings; write the team outputs.

    ``clip_time_limit_s``: how long one clip may take (None: scaled to its length,
    ``worker.default_time_limit_s``); a clip that takes longer is recorded as failed.
    ``video``: annotated.mp4 for every clip (``VideoOptions(annotate=True)``).
    Stopped by Ctrl-C or SIGTERM, it stops its workers, writes the team outputs with
    the clips not done marked so, and raises ``KeyboardInterrupt``.
    """
    from gaitlab.core.cpu import default_workers

    t0 = time.perf_counter()
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise BadInputError(f"{source}: not a folder of clips")
    if executor not in EXECUTORS:
        raise BadInputError(f"--executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    workers = workers or default_workers()
    if workers < 1:
        raise BadInputError(f"--workers must be >= 1, got {workers}")
    if clip_time_limit_s is not None and not clip_time_limit_s > 0:
        raise BadInputError(f"--clip-timeout must be > 0 seconds, got {clip_time_limit_s}")
    created = not out.exists()
    prepare_out_dir(out)
    try:
        jobs = discover(source, out, roster=roster)
        if not jobs:
            raise BadInputError(f"{source}: no video clips found ({', '.join(VIDEO_SUFFIXES)})")
    except BaseException:
        if created:  # made just now for nothing: leave no empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    _check_own_entries(out)
    key = settings_key(settings, config, model_path=model_path, video=video)
    rows: dict[str, dict] = {}
    todo, hashes = _sort_jobs(jobs, key, rows)
    n_unopened = sum(job.problem is not None for job in jobs)
    run = _Run(out, key, settings, config, executor, workers, ray_address, clip_time_limit_s, show_progress, video)
    run.n_reused = len(rows) - n_unopened
    with terminate_as_interrupt():
        try:
            _run_clips(todo, hashes, run, rows)
        except KeyboardInterrupt:
            write_team_outputs(_table_rows(jobs, rows, out), out, source=source)
            n_done, n_clips = len(rows) - n_unopened, len(jobs) - n_unopened
            logger.warning(
                "batch stopped: %d of %d clips are done and kept (the same command finishes the rest)", n_done, n_clips
            )
            raise
    ordered = _table_rows(jobs, rows, out)
    paths = write_team_outputs(ordered, out, source=source)
    return BatchResult(
        rows=ordered,
        n_cached=run.n_reused,
        n_processed=run.n_run,
        elapsed_s=time.perf_counter() - t0,
        paths=paths,
        n_unopened=n_unopened,
    )
