"""The team library: clips filed as ``LIB/<athlete>/<session>/<clip>`` with a metadata sidecar.

Uploading copies a clip in atomically (no reader ever sees a half-copied file),
writes ``<clip name>.meta.json`` beside it (sha256, probe info, capture fps,
upload time) and skips a clip whose exact bytes are already in the library.
Athlete, session and file names are sanitized so no name can leave the library.
Uploads running at the same time (several terminals, several machines on one
share) take turns on a lock file for the moment of filing, so the same clip is
never filed twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gaitlab.core.errors import BadInputError
from gaitlab.io.atomic import fsync_dir, temp_prefix
from gaitlab.io.locks import file_lock
from gaitlab.team.worker import NO_VIDEO, VideoOptions

if TYPE_CHECKING:  # light imports only: a batch's discovery reads this module
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.pose.landmarker import PoseSettings

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_FORMAT_VERSION = 1
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")
# A name's UTF-8 bytes: with a clip suffix, "-999", ".meta.json" and a temporary
# name's additions it stays well below the 255-byte file-name limit.
MAX_NAME_BYTES = 120
UPLOAD_LOCK_NAME = ".gaitlab-upload.lock"


def sanitize_name(text: str, *, what: str = "name") -> str:
    """A safe single path component: letters, digits, ``_ . -``; never ``.``/``..`` or hidden.

    The text is first put in Unicode NFC form, so one name typed with composed or
    decomposed accents (``é`` or ``e`` + combining accent) gives one folder.
    Spaces and any other character (``/``, ``\\``, ``:``, control characters)
    become ``_``; leading dots and dashes are dropped so the result can be neither
    a parent reference, a hidden file nor an option. At most ``MAX_NAME_BYTES``
    UTF-8 bytes are kept.
    """
    clean = unicodedata.normalize("NFC", str(text)).strip()
    clean = re.sub(r"[^\w.\-]", "_", clean, flags=re.UNICODE)
    clean = re.sub(r"_+", "_", clean).lstrip(".-_")
    clean = clean.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip("._ ")
    if not clean:
        raise BadInputError(f"{what} {text!r}: nothing usable left after removing unsafe characters")
    return clean


def name_or_fallback(text: str, *, fallback: str) -> str:
    """:func:`sanitize_name`, or ``<fallback>-<8 hex digits>`` when nothing usable is left.

    The digits are the start of the SHA-256 of the original text, so a name such
    as ``-`` or ``__`` still gets a folder of its own, the same on every run.
    """
    try:
        return sanitize_name(text)
    except BadInputError:
        return f"{fallback}-{hashlib.sha256(str(text).encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def clip_file_name(clip: Path) -> str:
    """A clip's file name in the library: its safe stem and its suffix in lower case."""
    suffix = clip.suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    return name_or_fallback(clip.stem, fallback="clip") + suffix


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


# A sidecar is a few hundred bytes; anything much larger is not one.
_MAX_SIDECAR_BYTES = 1 << 20


def read_sidecar(clip: Path) -> dict | None:
    """The clip's metadata sidecar, or None when absent, unreadable or not a regular file.

    Opened without blocking and read only if it is a regular file, so a FIFO
    named like a sidecar cannot stall a batch.
    """
    try:
        fd = os.open(sidecar_path(clip), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            meta = json.loads(fh.read(_MAX_SIDECAR_BYTES).decode("utf-8"))  # a longer one fails to parse
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
    """A hidden temporary file in ``dest_dir`` filled by ``write(file)`` and flushed to disk."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(name), suffix=".part", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _copy_checked(src: Path, sha256: str):
    """A writer for :func:`_temp_copy` that copies ``src`` and refuses bytes other than those hashed before."""

    def copy(out) -> None:
        h = hashlib.sha256()
        with open(src, "rb") as inp:
            while chunk := inp.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != sha256:
            raise BadInputError(f"{src}: the file changed while it was being copied; upload it again")

    return copy


def _link_free_name(clip_tmp: Path, dest_dir: Path, name: str, make_meta) -> Path:
    """Link ``clip_tmp`` as ``name`` (or ``stem-2.ext``...) with its sidecar, sidecar first; never overwrite."""
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
            fsync_dir(dest_dir)
            return dest
        sidecar_path(dest).unlink(missing_ok=True)  # ours: we just created it
    raise BadInputError(f"too many clips named {name!r} in {dest_dir}")


def _file_atomic(src: Path, library: Path, dest_dir: Path, name: str, sha256: str, make_meta) -> Path | None:
    """Copy ``src`` into ``dest_dir`` with its sidecar; None when the library holds these bytes by then.

    Bytes go to hidden temporary files first, are flushed to disk, and only then
    get their final names with ``os.link`` (which fails rather than replace an
    existing file). The duplicate check is repeated, and the names given, under
    the library's upload lock, so two uploads of one clip at the same time file it
    once. The sidecar is named first so a batch never sees the clip without its
    capture fps; a crash in between leaves only a clip-less sidecar, which
    everything ignores.
    """
    clip_tmp = _temp_copy(dest_dir, name, _copy_checked(src, sha256))
    try:
        with file_lock(library / UPLOAD_LOCK_NAME):
            if find_duplicate(library, sha256) is not None:
                return None
            return _link_free_name(clip_tmp, dest_dir, name, make_meta)
    finally:
        clip_tmp.unlink(missing_ok=True)


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir()
            made.append(path)
        except FileExistsError:
            pass  # another upload made it at the same moment: not ours to remove
    return made[::-1]


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (another upload filed a clip there) or gone


def _upload_meta(
    clip: Path, info, *, athlete: str, athlete_dir: str, session_dir: str, sha: str, capture_fps, athlete_height_m=None
):
    """The sidecar of ``clip`` filed as ``dest`` (a function of ``dest``: the free name is found last)."""
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
            "athlete_height_m": athlete_height_m,  # standing height for metres (docs/metrics.md); None = not given
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

    return make_meta


def upload_clip(
    clip: Path,
    *,
    athlete: str,
    library: Path,
    session: str | None = None,
    capture_fps: float | None = None,
    athlete_height_m: float | None = None,
) -> UploadResult:
    """File one clip into ``library/<athlete>/<session>/``; skip it if its bytes are already there.

    On any failure nothing is left behind: no temporary file and no folder this upload created.
    """
    from gaitlab.io.video import file_sha256, probe

    clip, library = Path(clip), Path(library)
    athlete_dir = sanitize_name(athlete, what="athlete")
    session_dir = sanitize_name(check_session(session), what="session")
    info = probe(clip, capture_fps=capture_fps)  # refuses missing, empty, corrupt and non-video files
    sha = file_sha256(clip)
    existing = find_duplicate(library, sha)
    if existing is not None:
        return UploadResult(source=clip, status="duplicate", path=existing, sha256=sha)
    dest_dir = library / athlete_dir / session_dir
    try:
        made = _make_folders(dest_dir)
    except OSError as exc:
        raise BadInputError(f"{dest_dir}: cannot create the library folder ({exc.strerror or exc})") from None
    make_meta = _upload_meta(
        clip,
        info,
        athlete=athlete,
        athlete_dir=athlete_dir,
        session_dir=session_dir,
        sha=sha,
        capture_fps=capture_fps,
        athlete_height_m=athlete_height_m,
    )
    try:
        dest = _file_atomic(clip, library, dest_dir, clip_file_name(clip), sha, make_meta)
    except OSError as exc:
        _remove_if_empty(made)
        raise BadInputError(f"{dest_dir}: cannot copy {clip.name} into the library ({exc.strerror or exc})") from None
    except BaseException:
        _remove_if_empty(made)
        raise
    if dest is None:  # another upload filed the same bytes while this one was copying
        _remove_if_empty(made)
        return UploadResult(source=clip, status="duplicate", path=find_duplicate(library, sha), sha256=sha)
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
    settings: PoseSettings | None = None,
    config: AnalysisConfig | None = None,
    video: VideoOptions = NO_VIDEO,
    athlete_height_m: float | None = None,
) -> int:
    """The ``gaitlab upload`` command: file each clip, then analyze it unless told not to.

    One line per clip on stdout. Every clip is tried even if one fails. Exit
    code: 2 if any clip was refused (bad input), else 3 if any analyzed clip
    holds no analyzable running, else 0. Analysis outputs go next to the clip
    in ``<clip stem>.gaitlab/``, made with ``settings`` (pose model), ``config``
    and ``video`` (annotated.mp4) as ``gaitlab analyze`` makes them (None: the defaults); ``athlete_height_m``
    (metres) goes in each clip's sidecar too.
    """
    import sys

    from gaitlab.analysis.scale import check_athlete_height
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.core.errors import GaitlabError
    from gaitlab.pose.landmarker import PoseSettings

    options = {"settings": settings or PoseSettings(), "config": config or AnalysisConfig(), **video.to_dict()}
    options["athlete_height_m"] = athlete_height_m
    check_athlete_height(athlete_height_m)  # before any clip is filed
    filing = {"athlete": athlete, "library": library, "session": session, "capture_fps": capture_fps}
    filing["athlete_height_m"] = athlete_height_m
    codes = set()
    for clip in clips:
        try:
            done = upload_clip(clip, **filing)
            if done.status == "duplicate":
                print(f"{clip}: skipped, the same clip is already in the library as {done.path}")
                continue
            print(f"{clip}: uploaded to {done.path}")
            if analyze:
                from gaitlab.pipeline import analyze_clip

                summary = analyze_clip(
                    done.path,
                    capture_fps=capture_fps,
                    show_progress=show_progress,
                    **options,
                ).result.summary
                reason = f" ({summary.status.reason})" if summary.status.reason else ""
                print(f"{clip}: analysis {summary.status.status}{reason}, {len(summary.flags)} flag(s)")
                codes.add(0 if summary.status.ok else 3)
        except GaitlabError as exc:
            print(f"gaitlab: error: {exc}", file=sys.stderr)
            codes.add(exc.exit_code)
    for code in (2, 1, 3):
        if code in codes:
            return code
    return 0
