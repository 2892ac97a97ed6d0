"""On-disk cache of pose tracks, keyed by clip bytes + model + settings.

Re-analysing a clip with the same settings never re-runs pose: the key is the
SHA-256 of the clip file, of the model file and of the extraction settings.

The cache can only ever cost time, never change a result or stop a run. An
entry is used only if it reads back whole, names its own key and format, was
made from a clip that probes the same as this one (frame count, frame rates,
frame size, duration) and its track fits that clip (frame indices and times
inside it). Any other entry is a miss: pose runs again and the entry is
replaced, with a one-line note. A cache folder that cannot be written is a
one-line warning; the analysis and its outputs go on without it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gaitlab.core.types import PoseTrack, VideoInfo
from gaitlab.io.atomic import atomic_path

CACHE_FORMAT_VERSION = 2

# The track's arrays, stored one per archive member, with the dtype kind each must have.
_ARRAY_KINDS = {"xy_px": "f", "z": "f", "visibility": "f", "time_s": "f", "frame_index": "iu"}

Note = Callable[[str], None]


def _stderr_note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class UnusableEntry(Exception):
    """A cache entry that exists but must not be used; the message says why."""


def cache_dir() -> Path:
    """``$GAITLAB_CACHE_DIR`` if set, else ``~/.cache/gaitlab``."""
    env = os.environ.get("GAITLAB_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "gaitlab"


def pose_cache_key(*, clip_sha256: str, model_sha256: str, settings: dict) -> str:
    payload = json.dumps(
        {"clip": clip_sha256, "model": model_sha256, "settings": settings, "format": CACHE_FORMAT_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def entry_path(key: str) -> Path:
    """Where the entry for ``key`` lives."""
    return cache_dir() / "pose" / f"{key}.npz"


def clip_facts(clip: VideoInfo) -> dict:
    """What the probe says about a clip: stored in each entry and compared with the clip on load."""
    return {
        "n_frames": clip.n_frames,
        "stored_fps": clip.stored_fps,
        "capture_fps": clip.capture_fps,
        "frame_size_px": list(clip.upright_size_px),
        "duration_s": clip.duration_s,
    }


def frame_limit(clip: VideoInfo) -> int:
    """Highest frame count a track of ``clip`` may have: the probe's count can be estimated from the
    duration (containers without a frame count), so decoding may find a couple of percent more."""
    return clip.n_frames + max(2, int(0.02 * clip.n_frames))


def _one_line(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    text = " ".join(text.split()) or exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


def load_pose(key: str, clip: VideoInfo, *, note: Note = _stderr_note) -> PoseTrack | None:
    """The cached track for ``key`` made from ``clip``, or None (a miss).

    A missing entry, or a cache folder that cannot be reached, is a silent miss
    (``save_pose`` warns if it cannot write there). An entry that exists but is
    unusable (damaged, foreign, or not fitting ``clip``) is a miss with a one-line ``note``.
    """
    path = entry_path(key)
    if not os.path.lexists(path):  # False for any path that cannot be reached, too
        return None
    try:
        return _read_entry(path, key, clip)
    except Exception as exc:  # noqa: BLE001 - whatever stops an entry from being read or trusted makes it a miss
        note(f"gaitlab: note: pose cache entry {path} is unusable ({_one_line(exc)}); running pose again, replacing it")
        return None


def _read_entry(path: Path, key: str, clip: VideoInfo) -> PoseTrack:
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the read for ever, a device never end
        raise UnusableEntry("not a regular file")
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError:  # numpy's word for a file that is neither .npy nor .npz
        raise UnusableEntry("not an archive of arrays") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise UnusableEntry("not an archive of arrays")
    with data:
        missing = {"meta", *_ARRAY_KINDS} - set(data.files)
        if missing:
            raise UnusableEntry(f"no {', '.join(sorted(missing))}")
        record = json.loads(str(data["meta"][()]))
        arrays = {name: data[name] for name in _ARRAY_KINDS}
    _check_record(record, key, clip)
    for name, kinds in _ARRAY_KINDS.items():
        if arrays[name].dtype.kind not in kinds:
            raise UnusableEntry(f"{name} has dtype {arrays[name].dtype}")
    info = record["track"]
    track = PoseTrack(
        **arrays,
        frame_size_px=tuple(info["frame_size_px"]),
        source=str(info["source"]),
        meta=info["meta"],
    )
    _check_fits(track, clip)
    return track


def _check_record(record, key: str, clip: VideoInfo) -> None:
    """The entry's own description: this format, this key, made from a clip probing like ``clip``."""
    if not (
        isinstance(record, dict) and isinstance(record.get("cache"), dict) and isinstance(record.get("track"), dict)
    ):
        raise UnusableEntry("its meta is not a pose-cache record")
    own = record["cache"]
    if own.get("format") != CACHE_FORMAT_VERSION:
        raise UnusableEntry(f"format {own.get('format')!r}, this gaitlab reads {CACHE_FORMAT_VERSION}")
    if own.get("key") != key:
        raise UnusableEntry("it was stored under another key")
    made_from = own.get("clip")
    if not isinstance(made_from, dict):
        raise UnusableEntry("it does not say which clip it was made from")
    for name, now in clip_facts(clip).items():
        then = made_from.get(name)
        same = (
            isinstance(then, (int, float)) and math.isclose(then, now, rel_tol=1e-9)
            if isinstance(now, float)
            else then == now
        )
        if not same:
            raise UnusableEntry(f"made from a clip with {name} {then!r}, this clip has {now!r}")
    track = record["track"]
    if not isinstance(track.get("meta"), dict) or not isinstance(track.get("source"), str):
        raise UnusableEntry("its track description is incomplete")
    if track.get("frame_size_px") != list(clip.upright_size_px):
        raise UnusableEntry(f"frame size {track.get('frame_size_px')!r}, the clip's is {list(clip.upright_size_px)}")


def _check_fits(track: PoseTrack, clip: VideoInfo) -> None:
    """The track lies inside the clip: frame indices increase within its frame count, times within its duration."""
    limit = frame_limit(clip)
    fi = track.frame_index
    if np.any(np.diff(fi) <= 0) or (len(fi) and fi[0] < 0):
        raise UnusableEntry("its frame indices do not increase from 0")
    if track.n_frames > limit or (len(fi) and fi[-1] >= limit):
        last = int(fi[-1]) if len(fi) else -1
        raise UnusableEntry(f"a track of {track.n_frames} rows up to frame {last} for a clip of {clip.n_frames} frames")
    t = track.time_s
    if not np.all(np.isfinite(t)):
        raise UnusableEntry("its times are not all finite")
    # Times are stored time / slow-motion factor from the first frame; a frame period of slack per end.
    longest_s = (max(clip.duration_s, limit / clip.stored_fps) + 2.0 / clip.stored_fps) / clip.slowmo_factor
    if len(t) and (t[0] < 0 or t[-1] - t[0] > longest_s):
        raise UnusableEntry(f"its times span {t[-1] - t[0]:.3f} s, the clip lasts {longest_s:.3f} s")
    if np.any(track.visibility < 0) or np.any(track.visibility > 1):
        raise UnusableEntry("visibility outside [0, 1]")
    decoded = track.meta.get("decoded_frames")
    if decoded is not None and not (isinstance(decoded, int) and track.n_frames <= decoded <= limit):
        raise UnusableEntry(f"decoded_frames {decoded!r} does not fit a clip of {clip.n_frames} frames")


def save_pose(key: str, track: PoseTrack, clip: VideoInfo, *, note: Note = _stderr_note) -> Path | None:
    """Store ``track`` (made from ``clip``) as the entry for ``key``, replacing whatever is there.

    Returns the entry's path, or None with a one-line ``note`` when the cache cannot be written
    (read-only, a file in the way, another user's folder, disk full): the cache then only costs time.
    """
    path = entry_path(key)
    record = {
        "cache": {"format": CACHE_FORMAT_VERSION, "key": key, "clip": clip_facts(clip)},
        "track": {"frame_size_px": list(track.frame_size_px), "source": track.source, "meta": track.meta},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():  # a folder in the entry's place cannot be renamed over
            shutil.rmtree(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    **{name: getattr(track, name) for name in _ARRAY_KINDS},
                    meta=np.array(json.dumps(record)),
                )
    except OSError as exc:
        note(
            f"gaitlab: warning: cannot write the pose cache in {path.parent} ({exc.strerror or _one_line(exc)}); "
            f"results are unaffected, but the next run of this clip runs pose again"
        )
        return None
    return path
