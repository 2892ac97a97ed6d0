"""On-disk cache of pose tracks, keyed by clip bytes + model + settings.

Re-analysing a clip with the same settings never re-runs pose: the key is the
SHA-256 of the clip file, of the model file and of the extraction settings.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from gaitlab.core.types import PoseTrack
from gaitlab.io.atomic import atomic_path

CACHE_FORMAT_VERSION = 1


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


def _path(key: str) -> Path:
    return cache_dir() / "pose" / f"{key}.npz"


def load_pose(key: str) -> PoseTrack | None:
    """The cached track for ``key``, or None (also when the file is damaged)."""
    path = _path(key)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return PoseTrack(
                xy_px=data["xy_px"],
                z=data["z"],
                visibility=data["visibility"],
                time_s=data["time_s"],
                frame_index=data["frame_index"],
                frame_size_px=tuple(meta.pop("frame_size_px")),
                source=meta.pop("source"),
                meta=meta,
            )
    except (OSError, ValueError, KeyError):
        return None


def save_pose(key: str, track: PoseTrack) -> Path:
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(track.meta, frame_size_px=list(track.frame_size_px), source=track.source)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                xy_px=track.xy_px,
                z=track.z,
                visibility=track.visibility,
                time_s=track.time_s,
                frame_index=track.frame_index,
                meta=np.array(json.dumps(meta)),
            )
    return path
