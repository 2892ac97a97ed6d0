"""The pose cache can only cost time: any damaged, foreign or misfitting entry is a miss (with one
note) that the next save replaces, and a cache that cannot be written is a warning, never a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SAMPLE_CLIP
from gaitlab.core.landmarks import N_LANDMARKS
from gaitlab.core.types import PoseTrack, VideoInfo
from gaitlab.io.cache import entry_path, load_pose, save_pose

KEY = "0123456789abcdef0123456789abcdef"


def clip_info(n_frames: int = 60, *, stored_fps: float = 30.0, capture_fps: float = 240.0) -> VideoInfo:
    return VideoInfo(
        path=Path("clip.mp4"),
        stored_fps=stored_fps,
        capture_fps=capture_fps,
        capture_fps_source="metadata",
        n_frames=n_frames,
        width_px=320,
        height_px=180,
        rotation_deg=0,
        codec="h264",
        duration_s=n_frames / stored_fps,
    )


def track_for(clip: VideoInfo, n_rows: int | None = None, seed: int = 0) -> PoseTrack:
    """A track with a row per frame (or ``n_rows``), at the times the extractor gives those frames."""
    n = clip.n_frames if n_rows is None else n_rows
    rng = np.random.default_rng(seed)
    return PoseTrack(
        xy_px=rng.uniform(0, 180, (n, N_LANDMARKS, 2)).astype(np.float32),
        z=rng.normal(0, 0.1, (n, N_LANDMARKS)).astype(np.float32),
        visibility=rng.uniform(0, 1, (n, N_LANDMARKS)).astype(np.float32),
        time_s=np.arange(n) / clip.capture_fps,
        frame_index=np.arange(n, dtype=np.int64),
        frame_size_px=clip.upright_size_px,
        meta={"decoded_frames": n, "timing": None, "camera": {"cuts": []}},
    )


def same_track(a: PoseTrack, b: PoseTrack) -> bool:
    arrays = ("xy_px", "z", "visibility", "time_s", "frame_index")
    return (
        all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in arrays)
        and a.frame_size_px == b.frame_size_px
        and a.source == b.source
        and a.meta == b.meta
    )


@pytest.fixture
def cache_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GAITLAB_CACHE_DIR", str(root))
    return root


@pytest.fixture
def notes() -> list[str]:
    return []


def test_saved_track_comes_back_whole_and_silently(cache_root, notes):
    clip = clip_info()
    track = track_for(clip)
    assert load_pose(KEY, clip, note=notes.append) is None  # nothing stored yet: a silent miss
    assert save_pose(KEY, track, clip, note=notes.append) == entry_path(KEY)
    got = load_pose(KEY, clip, note=notes.append)
    assert got is not None and same_track(got, track)
    assert notes == []


# Each way an entry can be damaged or foreign, applied to a good entry of a 60-frame clip.
def truncate_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def flip_byte_in_data(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x40  # inside xy_px, the largest member
    path.write_bytes(bytes(raw))


def _rewrite(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files}
    members.update(changes)
    with open(path, "wb") as fh:
        np.savez(fh, **members)


def meta_is_a_json_list(path: Path) -> None:
    _rewrite(path, meta=np.array(json.dumps([1, 2, 3])))


def meta_is_not_json(path: Path) -> None:
    _rewrite(path, meta=np.array("{not json"))


def folder(path: Path) -> None:
    path.unlink()
    (path / "inside").mkdir(parents=True)


def plain_npy_array(path: Path) -> None:
    with open(path, "wb") as fh:
        np.save(fh, np.arange(10))


def text_junk(path: Path) -> None:
    path.write_text("not a cache entry\n")


def foreign_track_600_frames(path: Path) -> None:
    """A 600-frame track, stored with this key and this 60-frame clip's description."""
    clip = clip_info(60)
    save_pose(KEY, track_for(clip_info(600)), clip)


def made_from_another_clip(path: Path) -> None:
    """A whole, consistent entry of a 600-frame clip under this key."""
    other = clip_info(600)
    save_pose(KEY, track_for(other), other)


def stored_under_another_key(path: Path) -> None:
    clip = clip_info(60)
    other = save_pose("f" * 32, track_for(clip, seed=1), clip)
    shutil.copyfile(other, path)


def other_frame_rate(path: Path) -> None:
    other = clip_info(60, stored_fps=60.0)
    save_pose(KEY, track_for(other), other)


def times_not_finite(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        t = data["time_s"].copy()
    t[5] = np.nan
    _rewrite(path, time_s=t)


def times_beyond_the_clip(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        t = data["time_s"] * 10.0
    _rewrite(path, time_s=t)


def frame_index_repeats(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        fi = data["frame_index"].copy()
    fi[10] = fi[9]
    _rewrite(path, frame_index=fi)


def array_missing(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        members = {k: data[k] for k in data.files if k != "z"}
    with open(path, "wb") as fh:
        np.savez(fh, **members)


def older_format(path: Path) -> None:
    with np.load(path, allow_pickle=False) as data:
        record = json.loads(str(data["meta"][()]))
    record["cache"]["format"] = 1
    _rewrite(path, meta=np.array(json.dumps(record)))


DAMAGE = [
    truncate_half,
    empty,
    flip_byte_in_data,
    meta_is_a_json_list,
    meta_is_not_json,
    folder,
    plain_npy_array,
    text_junk,
    foreign_track_600_frames,
    made_from_another_clip,
    stored_under_another_key,
    other_frame_rate,
    times_not_finite,
    times_beyond_the_clip,
    frame_index_repeats,
    array_missing,
    older_format,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_unusable_entry_is_a_noted_miss_and_gets_replaced(cache_root, notes, damage):
    clip = clip_info(60)
    track = track_for(clip)
    path = save_pose(KEY, track, clip)
    damage(path)
    assert os.path.lexists(path)
    assert load_pose(KEY, clip, note=notes.append) is None
    assert len(notes) == 1 and "\n" not in notes[0], notes
    assert str(path) in notes[0] and "running pose again" in notes[0]
    # the run that follows a miss saves its track over whatever was there
    assert save_pose(KEY, track, clip, note=notes.append) == path
    got = load_pose(KEY, clip, note=notes.append)
    assert got is not None and same_track(got, track)
    assert len(notes) == 1


def test_any_single_flipped_byte_is_a_miss_or_changes_nothing(cache_root):
    """The archive's checksums cover every member: a flip anywhere is caught or falls in bytes that do not
    matter (zip timestamps, padding), so no flip ever gives back a different track."""
    clip = clip_info(20)
    track = track_for(clip)
    path = save_pose(KEY, track, clip)
    good = path.read_bytes()
    outcomes = {"miss": 0, "same": 0}
    for i in range(0, len(good), 3):
        raw = bytearray(good)
        raw[i] ^= 0x01
        path.write_bytes(bytes(raw))
        got = load_pose(KEY, clip, note=lambda _: None)
        if got is None:
            outcomes["miss"] += 1
        else:
            assert same_track(got, track), f"byte {i} flipped gave a different track"
            outcomes["same"] += 1
    assert outcomes["miss"] > 0.9 * sum(outcomes.values()), outcomes


def test_track_of_another_length_for_this_clip_is_refused(cache_root, notes):
    clip = clip_info(60)
    save_pose(KEY, track_for(clip_info(600)), clip)
    assert load_pose(KEY, clip, note=notes.append) is None
    assert "600 rows" in notes[0] and "60 frames" in notes[0]


def test_track_with_fewer_rows_than_frames_is_used(cache_root, notes):
    """Repeated frames are dropped before pose, so a track may have fewer rows than the clip has frames."""
    clip = clip_info(60)
    track = track_for(clip, n_rows=20)
    track = PoseTrack(**{**track.__dict__, "frame_index": np.arange(0, 60, 3), "time_s": np.arange(0, 60, 3) / 240})
    save_pose(KEY, track, clip)
    got = load_pose(KEY, clip, note=notes.append)
    assert got is not None and same_track(got, track) and notes == []


@pytest.mark.parametrize("block", ["cache_is_a_file", "cache_under_a_file", "pose_folder_is_a_file"])
def test_unwritable_cache_is_one_warning(tmp_path, monkeypatch, notes, block):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    root = {"cache_is_a_file": blocker, "cache_under_a_file": blocker / "cache"}.get(block, tmp_path / "cache")
    if block == "pose_folder_is_a_file":
        root.mkdir()
        (root / "pose").write_text("x")
    monkeypatch.setenv("GAITLAB_CACHE_DIR", str(root))
    clip = clip_info()
    assert load_pose(KEY, clip, note=notes.append) is None and notes == []
    assert save_pose(KEY, track_for(clip), clip, note=notes.append) is None
    assert len(notes) == 1 and "\n" not in notes[0] and "cannot write the pose cache" in notes[0], notes


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_is_one_warning(tmp_path, monkeypatch, notes):
    root = tmp_path / "cache"
    (root / "pose").mkdir(parents=True)
    (root / "pose").chmod(0o500)
    monkeypatch.setenv("GAITLAB_CACHE_DIR", str(root))
    try:
        clip = clip_info()
        assert save_pose(KEY, track_for(clip), clip, note=notes.append) is None
        assert len(notes) == 1 and "cannot write the pose cache" in notes[0]
    finally:
        (root / "pose").chmod(0o700)


# --- the CLI with a damaged entry and with an unwritable cache ---------------------------------------------


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> Path:
    """240 stored frames (1 s of real time at 240 fps, about four steps) of the sample, at half size."""
    from clipfactory import trim_clip

    if not SAMPLE_CLIP.exists():
        pytest.fail(f"sample clip missing: {SAMPLE_CLIP}")
    return trim_clip(SAMPLE_CLIP, tmp_path_factory.mktemp("clip") / "short.mp4", n_frames=240, scale=0.5)


def analyze(clip: Path, out: Path, cache_root: Path) -> subprocess.CompletedProcess:
    # lite: the cache does not depend on the model, and lite is the quickest pose pass
    return subprocess.run(
        [sys.executable, "-m", "gaitlab", "analyze", str(clip), "--out", str(out), "--quiet", "--model", "lite"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=dict(os.environ, GAITLAB_CACHE_DIR=str(cache_root)),
    )


def cache_notes(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "pose cache" in ln]


@pytest.mark.integration
def test_cli_replaces_a_damaged_entry(short_clip, tmp_path):
    root = tmp_path / "cache"
    first = analyze(short_clip, tmp_path / "out1", root)
    assert first.returncode == 0, first.stderr
    assert cache_notes(first.stderr) == []
    (entry,) = (root / "pose").glob("*.npz")
    truncate_half(entry)

    again = analyze(short_clip, tmp_path / "out2", root)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    (note,) = cache_notes(again.stderr)
    assert str(entry) in note and "running pose again" in note
    assert (tmp_path / "out2" / "summary.json").exists()
    with np.load(entry, allow_pickle=False) as data:  # replaced by a whole entry
        assert all(data[k].size for k in data.files)
    replaced = entry.stat()

    # a third run uses it: no note, and the entry is not written again
    third = analyze(short_clip, tmp_path / "out3", root)
    assert third.returncode == 0, third.stderr
    assert cache_notes(third.stderr) == []
    assert (entry.stat().st_ino, entry.stat().st_mtime_ns) == (replaced.st_ino, replaced.st_mtime_ns)


@pytest.mark.integration
def test_cli_with_an_unwritable_cache_warns_and_writes_the_outputs(short_clip, tmp_path):
    blocker = tmp_path / "cache_is_a_file"
    blocker.write_text("x")
    out = tmp_path / "out"
    r = analyze(short_clip, out, blocker)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    (warning,) = cache_notes(r.stderr)
    assert "cannot write the pose cache" in warning
    assert (out / "summary.json").exists() and (out / "report.html").exists()
