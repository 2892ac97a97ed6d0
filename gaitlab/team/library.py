"""The team library: clips filed as ``LIB/<athlete>/<session>/<clip>`` with a metadata sidecar.

Uploading copies a clip in atomically (no reader ever sees a half-copied file),
writes ``<clip name>.meta.json`` beside it (sha256, probe info, capture fps,
upload time) and skips a clip whose exact bytes are already in the library.
Athlete, session and file names are sanitized so no name can leave the library.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gaitlab.core.errors import BadInputError

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_FORMAT_VERSION = 1
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")
_MAX_NAME_CHARS = 80


def sanitize_name(text: str, *, what: str = "name") -> str:
    """A safe single path component: letters, digits, ``_ . -``; never ``.``/``..`` or hidden.

    Spaces and any other character (``/``, ``\\``, ``:``, control characters)
    become ``_``; leading dots and dashes are dropped so the result can be neither
    a parent reference, a hidden file nor an option.
    """
    clean = re.sub(r"[^\w.\-]", "_", str(text).strip(), flags=re.UNICODE)
    clean = re.sub(r"_+", "_", clean).lstrip(".-_")[:_MAX_NAME_CHARS].rstrip("._ ")
    if not clean:
        raise BadInputError(f"{what} {text!r}: nothing usable left after removing unsafe characters")
    return clean


def check_session(session: str | None) -> str:
    """``YYYY-MM-DD``; today's local date when not given."""
    if session is None:
        return dt.date.today().isoformat()
    try:
        return dt.date.fromisoformat(session.strip()).isoformat()
    except ValueError:
        raise BadInputError(f"session {session!r}: expected a date YYYY-MM-DD") from None


def sidecar_path(clip: Path) -> Path:
    return clip.with_name(clip.name + SIDECAR_SUFFIX)


def read_sidecar(clip: Path) -> dict | None:
    """The clip's metadata sidecar, or None when absent or unreadable."""
    path = sidecar_path(clip)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def iter_library_sidecars(library: Path):
    """(clip, sidecar dict) for every clip filed in the library that has a sidecar."""
    for path in sorted(Path(library).glob(f"*/*/*{SIDECAR_SUFFIX}")):
        clip = path.with_name(path.name[: -len(SIDECAR_SUFFIX)])
        meta = read_sidecar(clip)
        if meta is not None and clip.is_file():
            yield clip, meta


def find_duplicate(library: Path, sha256: str) -> Path | None:
    """The library clip with exactly these bytes, if any."""
    for clip, meta in iter_library_sidecars(library):
        if meta.get("sha256") == sha256:
            return clip
    return None


@dataclass
class UploadResult:
    source: Path
    status: str  # "uploaded" | "duplicate"
    path: Path  # the clip in the library (the existing one for a duplicate)
    sha256: str


def _link_new(tmp: Path, dest: Path) -> bool:
    """Give the complete file ``tmp`` the name ``dest`` unless that name exists (atomic, no overwrite)."""
    try:
        os.link(tmp, dest)
        return True
    except FileExistsError:
        return False


def _temp_copy(dest_dir: Path, name: str, write) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest_dir)
    with os.fdopen(fd, "wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    return Path(tmp)


def _file_atomic(src: Path, dest_dir: Path, name: str, make_meta) -> Path:
    """Copy ``src`` into ``dest_dir`` as ``name`` (or ``stem-2.ext``...) with its sidecar; never overwrite.

    Bytes go to hidden temporary files first, are flushed to disk, and only then
    get their final names with ``os.link`` (which fails rather than replace an
    existing file). The sidecar is named first so a batch never sees the clip
    without its capture fps; a crash in between leaves only a clip-less sidecar,
    which everything ignores.
    """

    def copy_bytes(out) -> None:
        with open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)

    clip_tmp = _temp_copy(dest_dir, name, copy_bytes)
    try:
        stem, suffix = os.path.splitext(name)
        for k in range(1, 1000):
            dest = dest_dir / (name if k == 1 else f"{stem}-{k}{suffix}")
            if dest.exists():
                continue
            text = json.dumps(make_meta(dest), indent=2) + "\n"
            meta_tmp = _temp_copy(dest_dir, name + SIDECAR_SUFFIX, lambda out, text=text: out.write(text.encode()))
            try:
                if not _link_new(meta_tmp, sidecar_path(dest)):
                    continue
            finally:
                meta_tmp.unlink(missing_ok=True)
            if _link_new(clip_tmp, dest):
                return dest
            sidecar_path(dest).unlink(missing_ok=True)  # ours: we just created it
        raise BadInputError(f"{src}: too many clips named {name!r} in {dest_dir}")
    finally:
        clip_tmp.unlink(missing_ok=True)


def upload_clip(
    clip: Path, *, athlete: str, library: Path, session: str | None = None, capture_fps: float | None = None
) -> UploadResult:
    """File one clip into ``library/<athlete>/<session>/``; skip it if its bytes are already there."""
    from gaitlab.io.video import file_sha256, probe

    clip = Path(clip)
    athlete_dir = sanitize_name(athlete, what="athlete")
    session_dir = sanitize_name(check_session(session), what="session")
    info = probe(clip, capture_fps=capture_fps)  # refuses missing, empty, corrupt and non-video files
    sha = file_sha256(clip)
    existing = find_duplicate(library, sha)
    if existing is not None:
        return UploadResult(source=clip, status="duplicate", path=existing, sha256=sha)
    dest_dir = Path(library) / athlete_dir / session_dir
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"{dest_dir}: cannot create the library folder ({exc.strerror or exc})") from None
    name = sanitize_name(clip.stem, what="clip name") + clip.suffix.lower()
    uploaded_utc = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def make_meta(dest: Path) -> dict:
        return {
            "format": SIDECAR_FORMAT_VERSION,
            "clip": dest.name,
            "athlete": athlete_dir,
            "athlete_as_given": athlete,
            "session": session_dir,
            "original_name": clip.name,
            "sha256": sha,
            "size_bytes": clip.stat().st_size,
            "uploaded_utc": uploaded_utc,
            "capture_fps": capture_fps,  # the user's value; None = phone metadata or assumed real-time
            "probe": {
                "stored_fps": info.stored_fps,
                "capture_fps": info.capture_fps,
                "capture_fps_source": info.capture_fps_source,
                "n_frames": info.n_frames,
                "width_px": info.width_px,
                "height_px": info.height_px,
                "rotation_deg": info.rotation_deg,
                "codec": info.codec,
                "duration_s": info.duration_s,
            },
        }

    try:
        dest = _file_atomic(clip, dest_dir, name, make_meta)
    except OSError as exc:
        raise BadInputError(f"{dest_dir}: cannot copy {clip.name} into the library ({exc.strerror or exc})") from None
    return UploadResult(source=clip, status="uploaded", path=dest, sha256=sha)


def upload_and_analyze(
    clips: list[Path],
    *,
    athlete: str,
    library: Path,
    session: str | None = None,
    capture_fps: float | None = None,
    analyze: bool = True,
    show_progress: bool = True,
) -> int:
    """The ``gaitlab upload`` command: file each clip, then analyze it unless told not to.

    One line per clip on stdout. Every clip is tried even if one fails. Exit
    code: 2 if any clip was refused (bad input), else 3 if any analyzed clip
    holds no analyzable running, else 0. Analysis outputs go next to the clip
    in ``<clip stem>.gaitlab/``.
    """
    import sys

    from gaitlab.core.errors import GaitlabError

    codes = set()
    for clip in clips:
        try:
            done = upload_clip(clip, athlete=athlete, library=library, session=session, capture_fps=capture_fps)
            if done.status == "duplicate":
                print(f"{clip}: skipped, the same clip is already in the library as {done.path}")
                continue
            print(f"{clip}: uploaded to {done.path}")
            if analyze:
                from gaitlab.pipeline import analyze_clip

                summary = analyze_clip(done.path, capture_fps=capture_fps, show_progress=show_progress).result.summary
                reason = f" ({summary['status_reason']})" if summary.get("status_reason") else ""
                print(f"{clip}: analysis {summary['status']}{reason}, {len(summary['flags'])} flag(s)")
                codes.add(0 if summary["status"] == "ok" else 3)
        except GaitlabError as exc:
            print(f"gaitlab: error: {exc}", file=sys.stderr)
            codes.add(exc.exit_code)
    for code in (2, 1, 3):
        if code in codes:
            return code
    return 0
