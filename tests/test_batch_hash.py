"""A batch hashes each clip once: the marker check's hash goes to the worker, the worker's to the pose cache.

No pose model runs here: the analysis is replaced by one that records what it was
given and fails like a bad clip (which still leaves a marker), so every hash of
the clip can be counted.
"""

import hashlib
import os
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from gaitlab import pipeline
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError
from gaitlab.io import video
from gaitlab.io.cache import pose_cache_key
from gaitlab.pose.landmarker import PoseSettings
from gaitlab.team.batch import ClipJob, cached_row, check_marker
from gaitlab.team.worker import process_clip, read_marker

KEY = "k" * 32  # any settings key: the marker key only hashes it


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(clip: Path, data: bytes, mtime_s: int) -> None:
    """New bytes and a modification time of our choosing (a same-second rewrite must still look changed)."""
    clip.write_bytes(data)
    os.utime(clip, ns=(mtime_s * 10**9, mtime_s * 10**9))


@pytest.fixture
def counted(monkeypatch):
    """(clip hashes made, keyword arguments the analysis got); the analysis rejects every clip."""
    hashes, seen = [], {}
    real = video.file_sha256
    monkeypatch.setattr(video, "file_sha256", lambda path, **kw: hashes.append(Path(path)) or real(path, **kw))

    def fake_analyze(clip, **kw):
        seen.update(kw)
        raise BadInputError(f"{clip}: not a video")

    monkeypatch.setattr(pipeline, "analyze_clip", fake_analyze)
    return hashes, seen


def _payload(job: ClipJob, clip_hash):
    return {
        "clip": str(job.clip),
        "rel": job.rel,
        "athlete": job.athlete,
        "session": job.session,
        "out_dir": str(job.out_dir),
        "batch_out_dir": str(job.out_dir.parent),
        "capture_fps": None,
        "settings": PoseSettings(),
        "config": AnalysisConfig(),
        "settings_key": KEY,
        "clip_hash": clip_hash,
    }


def test_changed_clip_is_hashed_once_and_touched_clip_still_reused(tmp_path, counted):
    hashes, seen = counted
    clip = tmp_path / "a.mp4"
    job = ClipJob(
        clip=clip, rel="a.mp4", athlete="A", session="2024-05-01", capture_fps=None, out_dir=tmp_path / "out" / "a"
    )
    _write(clip, b"one", 1_700_000_000)
    assert check_marker(job, KEY) == (None, None)  # no marker yet: nothing hashed
    process_clip(_payload(job, None))
    assert len(hashes) == 1 and seen["clip_sha256"] == _sha(b"one")
    assert read_marker(job.out_dir)["clip_sha256"] == _sha(b"one")

    # touched but unchanged: hashed once by the check, and reused
    hashes.clear()
    _write(clip, b"one", 1_700_000_100)
    row, clip_hash = check_marker(job, KEY)
    assert row is not None and clip_hash is None and len(hashes) == 1

    # changed: hashed by the check, and the worker (and the pose cache key) use that hash
    hashes.clear()
    _write(clip, b"two!", 1_700_000_200)
    row, clip_hash = check_marker(job, KEY)
    assert row is None and clip_hash["sha256"] == _sha(b"two!")
    process_clip(_payload(job, clip_hash))
    assert len(hashes) == 1 and seen["clip_sha256"] == _sha(b"two!")
    assert read_marker(job.out_dir)["clip_sha256"] == _sha(b"two!")
    assert cached_row(job, KEY) is not None  # the new marker holds

    # changed again between the check and the worker: the worker does not trust the stale hash
    _write(clip, b"three", 1_700_000_300)
    row, clip_hash = check_marker(job, KEY)
    assert row is None and clip_hash["sha256"] == _sha(b"three")
    _write(clip, b"four!!", 1_700_000_400)
    hashes.clear()
    process_clip(_payload(job, clip_hash))
    assert len(hashes) == 1 and seen["clip_sha256"] == _sha(b"four!!")
    assert read_marker(job.out_dir)["clip_sha256"] == _sha(b"four!!")


def test_pose_cache_key_uses_the_given_clip_hash(tmp_path, monkeypatch):
    model = tmp_path / "model.task"
    with zipfile.ZipFile(model, "w") as bundle:  # a model bundle's two members (the pipeline checks them)
        bundle.writestr("pose_detector.tflite", b"detector")
        bundle.writestr("pose_landmarks_detector.tflite", b"landmarker")
    info = SimpleNamespace(path=tmp_path / "clip.mp4", capture_fps=240.0, rotation_deg=0)
    monkeypatch.setattr(pipeline, "file_sha256", lambda path, **kw: pytest.fail("clip hashed again"))
    keys = []
    monkeypatch.setattr(pipeline, "load_pose", lambda key, clip: keys.append(key) or "cached track")
    track, cached = pipeline.load_or_extract_pose(info, PoseSettings(), model_path=model, clip_sha256="ab" * 32)
    assert (track, cached) == ("cached track", True)
    expected = pose_cache_key(
        clip_sha256="ab" * 32,
        model_sha256=_sha(model.read_bytes()),
        settings={
            **PoseSettings().to_dict(),
            "capture_fps": 240.0,
            "rotation_deg": 0,
            "extraction": pipeline.EXTRACTION_VERSION,
        },
    )
    assert keys == [expected]


def test_unchanged_clip_with_new_settings_is_not_hashed_again(tmp_path, counted):
    hashes, seen = counted
    clip = tmp_path / "a.mp4"
    job = ClipJob(
        clip=clip, rel="a.mp4", athlete="A", session="2024-05-01", capture_fps=None, out_dir=tmp_path / "out" / "a"
    )
    _write(clip, b"one", 1_700_000_000)
    process_clip(_payload(job, None))
    assert read_marker(job.out_dir)["clip_sha256"] == _sha(b"one")

    # same bytes, same size and time, other settings: the marker's hash holds, no row
    hashes.clear()
    row, clip_hash = check_marker(job, "s" * 32)
    assert row is None and clip_hash["sha256"] == _sha(b"one") and hashes == []
    process_clip(_payload(job, clip_hash))
    assert hashes == [] and seen["clip_sha256"] == _sha(b"one")
