"""Which clips a batch analyzes, who and when each one is, and where its outputs go.

Discovery never opens a file it finds: it asks the file system (``os.stat``)
what each entry is, and only regular files become clips to analyze. Everything
else with a video name (a broken link, a FIFO, a device, a folder that cannot
be listed, a clip its roster row names no athlete for) becomes a job with a
``problem``: the batch records it in failures.csv and goes on.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from gaitlab.analysis.scale import check_athlete_height
from gaitlab.core.errors import BadInputError
from gaitlab.team.library import VIDEO_SUFFIXES, name_or_fallback, read_sidecar

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class ClipJob:
    """One entry of the batch: a clip to analyze, or (``problem`` set) one recorded as failed unopened.

    ``athlete``, ``session`` and the last part of ``out_dir`` are safe, non-empty
    folder names; ``out_dir`` is None for a problem entry.
    """

    clip: Path
    rel: str  # path relative to SOURCE, as shown in the table
    athlete: str
    session: str
    capture_fps: float | None
    out_dir: Path | None
    problem: str | None = None
    athlete_height_m: float | None = None  # from the clip's sidecar (gaitlab upload --athlete-height-m)


def find_clips(source: Path, *, skip: Path | None = None, unreadable: list | None = None) -> list[Path]:
    """Entries with a video name under ``source`` in a stable order (whatever they are: see :func:`discover`).

    Skips hidden entries, ``*.gaitlab`` outputs and ``skip``. Folders that cannot be
    listed are appended to ``unreadable`` as ``(path, OSError)``.
    """
    skip_resolved = skip.resolve() if skip else None
    clips = []
    for folder, dirs, files in os.walk(source, onerror=None if unreadable is None else unreadable.append):
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


def _roster_fps(text: str, path: Path, line: int) -> float | None:
    if not text:
        return None
    try:
        fps = float(text)
    except ValueError:
        fps = math.nan
    if not (math.isfinite(fps) and fps > 0):
        raise BadInputError(f"{path} line {line}: capture_fps {text!r} is not a positive number")
    return fps


def load_roster(path: Path) -> dict[str, dict]:
    """Roster CSV: columns ``clip`` (path relative to SOURCE, or file name) and ``athlete``;
    optional ``session`` (YYYY-MM-DD) and ``capture_fps``.

    A row without a clip or with a bad capture fps stops the batch with the line
    named. A row without an athlete is kept with ``athlete`` None and ``where`` (file, line):
    its clip is recorded as failed, not filed under a made-up name.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read for ever, a device never end
            raise BadInputError(f"{path}: cannot read the roster (not a regular file)")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInputError(f"{path}: cannot read the roster ({exc})") from None
    if not rows or not {"clip", "athlete"} <= set(rows[0][1]):
        raise BadInputError(f"{path}: the roster needs the columns 'clip' and 'athlete'")
    roster = {}
    for line, row in rows:
        clip = (row.get("clip") or "").strip().replace("\\", "/")
        if not clip:
            raise BadInputError(f"{path} line {line}: no clip named")
        roster[clip] = {
            "athlete": (row.get("athlete") or "").strip() or None,
            "session": (row.get("session") or "").strip() or None,
            "capture_fps": _roster_fps((row.get("capture_fps") or "").strip(), path, line),
            "where": f"{path} line {line}",
        }
    return roster


def _sidecar_fps(meta: dict) -> tuple[float | None, str | None]:
    """(capture fps, problem): the sidecar's capture fps when it is absent or a positive number."""
    fps = meta.get("capture_fps")
    if fps is None:
        return None, None
    if isinstance(fps, (int, float)) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0:
        return float(fps), None
    return None, f"capture_fps {fps!r} in its sidecar is not a positive number"


def _sidecar_height(meta: dict | None) -> tuple[float | None, str | None]:
    """(standing height in metres, problem): the sidecar's ``athlete_height_m`` when absent or plausible."""
    height = (meta or {}).get("athlete_height_m")
    if height is None:
        return None, None
    if isinstance(height, (int, float)) and not isinstance(height, bool) and math.isfinite(height):
        try:
            check_athlete_height(float(height))
            return float(height), None
        except BadInputError as exc:
            return None, f"its sidecar's {exc}"
    return None, f"athlete_height_m {height!r} in its sidecar is not a number"


def _describe(
    clip: Path, rel: Path, source: Path, roster: dict, mtime_s: float | None
) -> tuple[str, str, float | None, str | None]:
    """(athlete, session, capture_fps, problem) as given: from the library sidecar, else the roster, else the folders.

    Folder rule: ``<athlete>/<YYYY-MM-DD>/clip`` is the library layout; otherwise the
    athlete is the clip's folder name and the session the first date in the path,
    else the file's modification date (``mtime_s``; blank when unknown). ``problem``:
    the clip's roster row names no athlete, or its sidecar a bad capture fps.
    """
    meta = read_sidecar(clip) if mtime_s is not None else None
    if meta and meta.get("athlete") and meta.get("session"):
        return (str(meta["athlete"]), str(meta["session"]), *_sidecar_fps(meta))
    entry = roster.get(rel.as_posix()) or roster.get(clip.name)
    parts = rel.parts
    date_in_path = next((m.group(0) for p in parts for m in [_DATE.search(p)] if m), None)
    mtime_date = dt.date.fromtimestamp(mtime_s).isoformat() if mtime_s is not None else ""
    if entry and entry["athlete"]:
        return entry["athlete"], entry["session"] or date_in_path or mtime_date, entry["capture_fps"], None
    problem = f"{entry['where']}: no athlete given for this clip" if entry else None
    if len(parts) >= 3 and _DATE.fullmatch(parts[-2]):
        return parts[-3], parts[-2], None, problem
    athlete = parts[-2] if len(parts) >= 2 else source.resolve().name
    return athlete, date_in_path or mtime_date, None, problem


def _unusable(clip: Path, rel: Path) -> tuple[str | None, float | None]:
    """(why the entry is no clip to open, or None; its modification time): asks ``os.stat``, opens nothing."""
    try:
        st = os.stat(clip)  # follows links: a link to a clip is a clip
    except OSError as exc:
        if os.path.islink(clip):
            return f"broken link (its target {os.readlink(clip)!r} does not exist)", None
        return f"cannot read ({exc.strerror or exc})", None
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, device or socket): not opened", None
    return None, st.st_mtime


def discover(source: Path, out: Path, *, roster: Path | None = None) -> list[ClipJob]:
    """One job per entry with a video name under ``source``; each clip with its own folder under ``out/clips``.

    Names that sanitize to nothing (a clip ``-.mp4``, a folder ``__``) get a short
    hash-based name instead (:func:`~gaitlab.team.library.name_or_fallback`).
    """
    source, out = Path(source), Path(out)
    table = load_roster(roster) if roster else {}
    unreadable: list[OSError] = []
    jobs, used = [], set()
    for clip in find_clips(source, skip=out, unreadable=unreadable):
        rel = clip.relative_to(source)
        unusable, mtime_s = _unusable(clip, rel)
        athlete, session, capture_fps, problem = _describe(clip, rel, source, table, mtime_s)
        height, height_problem = _sidecar_height(read_sidecar(clip)) if mtime_s is not None else (None, None)
        problem = unusable or problem or height_problem
        athlete = name_or_fallback(athlete, fallback="athlete")
        session = name_or_fallback(session, fallback="session") if session else ""
        job = ClipJob(
            clip, rel.as_posix(), athlete, session, capture_fps, out_dir=None, problem=problem, athlete_height_m=height
        )
        if problem is None:
            name = name_or_fallback(clip.stem, fallback="clip")
            out_dir, k = out / "clips" / athlete / session / name, 1
            while str(out_dir).casefold() in used:  # same stem twice (a.mp4, A.mov, two folders): keep both
                k += 1
                out_dir = out / "clips" / athlete / session / f"{name}-{k}"
            used.add(str(out_dir).casefold())
            job.out_dir = out_dir
        jobs.append(job)
    for exc in unreadable:
        folder = Path(exc.filename or source)
        rel = folder.relative_to(source) if folder.is_relative_to(source) else folder
        reason = f"{rel.as_posix()}/: cannot list the folder ({exc.strerror or exc}); clips in it were not seen"
        jobs.append(ClipJob(folder, rel.as_posix() + "/", "", "", None, out_dir=None, problem=reason))
    return jobs
