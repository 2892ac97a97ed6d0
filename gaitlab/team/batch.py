"""Batch analysis of a squad: find clips, skip finished ones, run the rest, write the team table.

SOURCE is a team library (``<athlete>/<YYYY-MM-DD>/<clip>`` with sidecars) or
any folder tree of clips. Each clip's outputs go to
``OUT/clips/<athlete>/<session>/<clip>/``; its ``batch_done.json`` marker is
written last (atomically) and holds the clip's sha256, a key of all settings
that change results, and its team-table row. A re-run reuses every clip whose
marker key still matches, so it does only new or changed clips, and a killed
batch resumes where it stopped. The team outputs are written once all clips
are done; every file is written atomically.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError
from gaitlab.io.atomic import prepare_out_dir, write_text_atomic
from gaitlab.pose.landmarker import PoseSettings
from gaitlab.team.library import VIDEO_SUFFIXES, read_sidecar, sanitize_name
from gaitlab.team.table import FAILURE_COLUMNS, STATUS_FAILED, STATUS_OK, clip_report_link, failure_rows, table_csv_text
from gaitlab.team.worker import marker_key, read_marker, unchanged_since

BATCH_FORMAT_VERSION = 1
EXECUTORS = ("local", "ray")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class ClipJob:
    clip: Path
    rel: str  # path relative to SOURCE, as shown in the table
    athlete: str
    session: str
    capture_fps: float | None
    out_dir: Path


@dataclass
class BatchResult:
    rows: list[dict]
    n_cached: int
    n_processed: int
    elapsed_s: float
    paths: dict = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        """Clips that are not ``ok``: unreadable, no running found, or too few steps."""
        return sum(r["status"] != STATUS_OK for r in self.rows)


# --- discovery ---------------------------------------------------------------------------------


def find_clips(source: Path, *, skip: Path | None = None) -> list[Path]:
    """Video files under ``source`` in a stable order; skips hidden entries, ``*.gaitlab`` outputs and ``skip``."""
    skip_resolved = skip.resolve() if skip else None
    clips = []
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not d.endswith(".gaitlab")
            and (skip_resolved is None or (Path(folder) / d).resolve() != skip_resolved)
        )
        clips.extend(
            Path(folder) / f for f in sorted(files) if not f.startswith(".") and f.lower().endswith(VIDEO_SUFFIXES)
        )
    return clips


def load_roster(path: Path) -> dict[str, dict]:
    """Roster CSV: columns ``clip`` (path relative to SOURCE, or file name) and ``athlete``;
    optional ``session`` (YYYY-MM-DD) and ``capture_fps``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInputError(f"{path}: cannot read the roster ({exc})") from None
    if not rows or not {"clip", "athlete"} <= set(rows[0]):
        raise BadInputError(f"{path}: the roster needs the columns 'clip' and 'athlete'")
    roster = {}
    for row in rows:
        fps = (row.get("capture_fps") or "").strip()
        try:
            capture_fps = float(fps) if fps else None
        except ValueError:
            raise BadInputError(f"{path}: capture_fps {fps!r} of {row['clip']} is not a number") from None
        roster[row["clip"].strip().replace("\\", "/")] = {
            "athlete": row["athlete"],
            "session": (row.get("session") or "").strip() or None,
            "capture_fps": capture_fps,
        }
    return roster


def _describe(clip: Path, rel: Path, source: Path, roster: dict) -> tuple[str, str, float | None]:
    """(athlete, session, capture_fps): from the library sidecar, else the roster, else the folders.

    Folder rule: ``<athlete>/<YYYY-MM-DD>/clip`` is the library layout; otherwise the
    athlete is the clip's folder name and the session the first date in the path,
    else the file's modification date.
    """
    meta = read_sidecar(clip)
    if meta and meta.get("athlete") and meta.get("session"):
        return meta["athlete"], meta["session"], meta.get("capture_fps")
    entry = roster.get(rel.as_posix()) or roster.get(clip.name)
    parts = rel.parts
    date_in_path = next((m.group(0) for p in parts for m in [_DATE.search(p)] if m), None)
    mtime_date = dt.date.fromtimestamp(clip.stat().st_mtime).isoformat()
    if entry:
        return entry["athlete"], entry["session"] or date_in_path or mtime_date, entry["capture_fps"]
    if len(parts) >= 3 and _DATE.fullmatch(parts[-2]):
        return parts[-3], parts[-2], None
    athlete = parts[-2] if len(parts) >= 2 else source.resolve().name
    return athlete, date_in_path or mtime_date, None


def discover(source: Path, out: Path, *, roster: Path | None = None) -> list[ClipJob]:
    """One job per clip, each with its own output folder under ``out/clips``."""
    source, out = Path(source), Path(out)
    table = load_roster(roster) if roster else {}
    jobs, used = [], set()
    for clip in find_clips(source, skip=out):
        rel = clip.relative_to(source)
        athlete, session, capture_fps = _describe(clip, rel, source, table)
        athlete, session = sanitize_name(athlete, what="athlete"), sanitize_name(session, what="session")
        name = sanitize_name(clip.stem, what="clip name")
        out_dir = out / "clips" / athlete / session / name
        k = 1
        while out_dir in used:  # same stem twice (a.mp4, a.mov, or two folders): keep both
            k += 1
            out_dir = out / "clips" / athlete / session / f"{name}-{k}"
        used.add(out_dir)
        jobs.append(
            ClipJob(
                clip=clip,
                rel=rel.as_posix(),
                athlete=athlete,
                session=session,
                capture_fps=capture_fps,
                out_dir=out_dir,
            )
        )
    return jobs


# --- result cache ------------------------------------------------------------------------------


def settings_key(settings: PoseSettings, config: AnalysisConfig, *, model_path: Path | None = None) -> str:
    """Hash of everything besides the clip that changes a clip's results."""
    from gaitlab import __version__
    from gaitlab.pose.models.provision import ensure_model, model_sha256

    model_path = model_path or ensure_model(settings.model)
    payload = json.dumps(
        {
            "batch_format": BATCH_FORMAT_VERSION,
            "gaitlab": __version__,
            "pose": settings.to_dict(),
            "model_sha256": model_sha256(model_path),
            "config": config.to_dict(),
        },
        sort_keys=True,
        default=str,
    )
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
        sha = marker["clip_sha256"] if unchanged_since(st, marker) else file_sha256(job.clip)
    except OSError:
        return None, None
    if marker.get("key") != marker_key(sha, key, job.capture_fps):
        return None, {"sha256": sha, "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    return dict(marker["row"], athlete=job.athlete, session=job.session, clip=job.rel), None


# --- running -----------------------------------------------------------------------------------


class _TermAsInterrupt:
    """``kill`` (SIGTERM) stops a batch like Ctrl-C: workers are stopped, nothing half-written remains."""

    def __enter__(self):
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)


def _write_if_changed(path: Path, text: str) -> None:
    """Atomic write, skipped when the content is already there (a re-run changes no file)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    write_text_atomic(path, text)


def write_team_outputs(rows: list[dict], out: Path, *, source: Path) -> dict[str, Path]:
    """team_summary.csv, failures.csv and team_report.html in ``out``."""
    from gaitlab.team.report import team_report_html

    paths = {
        "team_summary.csv": out / "team_summary.csv",
        "failures.csv": out / "failures.csv",
        "team_report.html": out / "team_report.html",
    }
    _write_if_changed(paths["team_summary.csv"], table_csv_text(rows))
    _write_if_changed(paths["failures.csv"], table_csv_text(failure_rows(rows), FAILURE_COLUMNS))
    _write_if_changed(paths["team_report.html"], team_report_html(rows, title=f"Team report: {source.name}"))
    return paths


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
) -> BatchResult:
    """Analyze every clip under ``source`` not already done with these settings; write the team outputs."""
    from gaitlab.core.cpu import default_workers
    from gaitlab.team.executors import BatchProgress, run_local, run_ray

    t0 = time.perf_counter()
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise BadInputError(f"{source}: not a folder of clips")
    if executor not in EXECUTORS:
        raise BadInputError(f"--executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    workers = workers or default_workers()
    if workers < 1:
        raise BadInputError(f"--workers must be >= 1, got {workers}")
    prepare_out_dir(out)
    jobs = discover(source, out, roster=roster)
    if not jobs:
        raise BadInputError(f"{source}: no video clips found ({', '.join(VIDEO_SUFFIXES)})")
    key = settings_key(settings, config, model_path=model_path)

    rows: dict[str, dict] = {}
    todo, clip_hashes = [], {}
    for job in jobs:
        row, clip_hashes[job.rel] = check_marker(job, key)
        if row is not None:
            rows[job.rel] = row
        else:
            todo.append(job)
    n_cached = len(rows)
    payloads = (
        {
            "clip": str(j.clip.resolve()),
            "rel": j.rel,
            "athlete": j.athlete,
            "session": j.session,
            "out_dir": str(j.out_dir.resolve()),
            "batch_out_dir": str(out.resolve()),
            "capture_fps": j.capture_fps,
            "settings": settings,
            "config": config,
            "settings_key": key,
            "clip_hash": clip_hashes[j.rel],
        }
        for j in todo
    )
    bar = BatchProgress(len(todo), enabled=show_progress)
    try:
        with _TermAsInterrupt():
            results = (
                run_ray(payloads, workers=workers, address=ray_address)
                if executor == "ray"
                else run_local(payloads, workers=min(workers, len(todo)) or 1)
            )
            if todo:
                for res in results:
                    rows[res["rel"]] = res["row"]
                    bar.advance(res["n_frames"], res["row"]["status"])
    finally:
        bar.close()

    ordered = []
    for job in jobs:
        row = rows[job.rel]
        if row["status"] != STATUS_FAILED:  # the one link rule, re-applied so new reports are picked up
            link = clip_report_link(job.out_dir)
            row["report"] = Path(os.path.relpath(link, out)).as_posix() if link else ""
        ordered.append(row)
    paths = write_team_outputs(ordered, out, source=source)
    return BatchResult(
        rows=ordered, n_cached=n_cached, n_processed=len(todo), elapsed_s=time.perf_counter() - t0, paths=paths
    )
