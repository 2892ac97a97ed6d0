"""The one decode loop (``video.iter_frames``): ranges, times, and damaged video data.

A range (seek to the keyframe before its start, decode forward) must hand on
the same frames, numbers, times and pixels as a whole-clip decode sliced. A
copy of a clip with a few flipped bits in its H.264 data must decode with the
damaged frames flagged (the same ones whichever range reads them, and the
same pixels outside them), every visibly changed frame inside ``damage_spans``; the pose stage leaves those
frames without a pose and records them on the track, through the pose cache;
the analysis says how many and when, and marks the rows they touch.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clipfactory import trim_clip
from gaitlab.analysis.damage import damage_note, mark_damaged
from gaitlab.core import columns as col
from gaitlab.core.landmarks import N_LANDMARKS
from gaitlab.core.types import PoseTrack
from gaitlab.io.video import DecodeStats, damage_spans, iter_frames, packet_pts, probe

REPO = Path(__file__).resolve().parents[1]
# Visible damage: a pixel channel off by more than this many levels (compression noise stays far below).
VISIBLE_LEVELS = 30


def flip_bits(src: Path, dst: Path, *, n_bits: int = 8, seed: int = 1) -> Path:
    """A copy of ``src`` with ``n_bits`` single bits flipped in the middle half of its mdat box (the coded video)."""
    data = bytearray(src.read_bytes())
    at, begin, end = 0, None, None
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        if kind == b"mdat":
            begin, end = at + header, at + size
            break
        at += size
    assert begin is not None, f"{src}: no mdat box"
    quarter = (end - begin) // 4
    rng = np.random.default_rng(seed)
    for _ in range(n_bits):
        data[int(rng.integers(begin + quarter, end - quarter))] ^= 1 << int(rng.integers(0, 8))
    dst.write_bytes(bytes(data))
    return dst


def decode_record(info, **kwargs) -> tuple[list[tuple], DecodeStats]:
    """(index, stored time, real time, damaged, pixel hash) per frame handed on, and the stats."""
    stats = DecodeStats()
    rows = [
        (f.index, f.stored_time_s, f.time_s, f.damaged, hashlib.blake2b(f.rgb.tobytes(), digest_size=16).digest())
        for f in iter_frames(info, stats=stats, **kwargs)
    ]
    return rows, stats


@pytest.fixture(scope="module")
def sample_full(sample_clip):
    info = probe(sample_clip)
    rows, stats = decode_record(info)
    return info, rows, stats


@pytest.mark.integration
def test_range_decode_equals_full_decode_sliced(sample_full):
    info, full, stats = sample_full
    assert len(full) == info.n_frames == stats.frames and not stats.damaged and stats.bad_packets == 0
    assert [r[0] for r in full] == list(range(len(full)))
    assert full[0][1] == 0.0 and np.all(np.diff([r[1] for r in full]) > 0)
    np.testing.assert_allclose([r[2] for r in full], [r[1] / info.slowmo_factor for r in full], rtol=1e-12)
    keyframes = stats.keyframes
    assert len(keyframes) >= 2 and keyframes[0] == 0, "the sample must have keyframes to seek to"
    assert len(stats.anchors) < len(full), "the sample must have B-frames (decode order != display order)"
    positions = packet_pts(info)
    k = keyframes[1]
    ranges = [(0, 40), (k, k + 12), (k + 7, k + 50), (k - 10, k + 10), (len(full) - 10, None), (len(full) - 5, 10**6)]
    for start, stop in ranges:
        part, part_stats = decode_record(info, positions=positions, start=start, stop=stop)
        assert part == full[start:stop], (start, stop)
        assert part_stats.frames == len(part)
        assert part_stats.keyframes == [i for i in keyframes if start <= i < (stop or len(full))]


@pytest.fixture(scope="module")
def damaged_sample(sample_clip, sample_full, tmp_path_factory):
    clip = flip_bits(sample_clip, tmp_path_factory.mktemp("damaged") / "flipped.mp4")
    info = probe(clip)
    rows, stats = decode_record(info)
    return clip, info, rows, stats


@pytest.mark.integration
def test_flipped_bits_give_damaged_frames_counted_and_spanned(sample_full, damaged_sample):
    clean_info, clean, _ = sample_full
    _, info, rows, stats = damaged_sample
    flagged = [r[0] for r in rows if r[3]]
    assert len(rows) == len(clean), "flipped bits cost no frame, they damage them"
    assert flagged and stats.damaged == flagged
    spans = damage_spans(stats.damaged, stats.anchors, stats.keyframes, len(rows) - 1)
    in_span = np.zeros(len(rows), bool)
    for a, b in spans:
        in_span[a : b + 1] = True
    assert in_span[flagged].all()
    # every visibly changed picture is one the spans name; the spans are not the whole clip
    changed = []
    for clean_frame, frame in zip(iter_frames(clean_info), iter_frames(info)):
        if np.abs(clean_frame.rgb.astype(np.int16) - frame.rgb).max() > VISIBLE_LEVELS:
            changed.append(frame.index)
    assert changed and in_span[changed].all(), sorted(set(changed) - set(np.flatnonzero(in_span)))
    assert set(flagged) <= set(changed)
    assert in_span.mean() < 0.6
    # a range flags the same frames as the whole-clip decode, seeking or not, with the same pixels
    # except in the damaged frames themselves (FFmpeg conceals them from what it decoded before)
    positions = packet_pts(info)
    for start, stop in [(0, len(rows) // 2), (stats.keyframes[1] + 3, None)]:
        part, part_stats = decode_record(info, positions=positions, start=start, stop=stop)
        assert [r[:4] for r in part] == [r[:4] for r in rows[start:stop]]
        assert [r for r in part if not r[3]] == [r for r in rows[start:stop] if not r[3]]
        assert part_stats.damaged == [i for i in flagged if start <= i < (stop or len(rows))]


@pytest.fixture(scope="module")
def damaged_short(sample_clip, tmp_path_factory):
    """160 frames of the sample, re-encoded, with 8 flipped bits: long enough to split over 2 workers."""
    d = tmp_path_factory.mktemp("damaged_short")
    return flip_bits(trim_clip(sample_clip, d / "short.mp4", start=200, n_frames=160), d / "short_flipped.mp4", seed=1)


@pytest.mark.integration
@pytest.mark.slow
def test_damaged_frames_are_left_out_of_pose_and_survive_the_cache(damaged_short, full_model):
    from gaitlab.io.cache import load_pose, save_pose
    from gaitlab.pose.extract import extract_clip_pose
    from gaitlab.pose.landmarker import PoseSettings

    info = probe(damaged_short)
    _, stats = decode_record(info)
    assert stats.damaged, "the flipped bits must damage some frames"
    tracks = [
        extract_clip_pose(info, full_model, PoseSettings(model="full"), show_progress=False, workers=w) for w in (1, 2)
    ]
    for track in tracks:
        meta = track.meta
        assert meta["damaged_frames"] == stats.damaged and meta["damaged_frame_count"] == len(stats.damaged)
        want = damage_spans(stats.damaged, stats.anchors, stats.keyframes, stats.frames - 1)
        assert meta["damaged_spans"] == [list(s) for s in want]
        rows = np.isin(track.frame_index, stats.damaged)
        assert rows.any() and not track.detected[rows].any() and (track.visibility[rows] == 0).all()
        assert track.detected[~rows].mean() > 0.9, "only the damaged frames lose their pose"
    save_pose("damaged-test", tracks[1], info)
    cached = load_pose("damaged-test", info)
    assert cached is not None
    for key in ("damaged_frames", "damaged_frame_count", "damaged_spans"):
        assert cached.meta[key] == tracks[1].meta[key], key


@pytest.mark.integration
@pytest.mark.slow
def test_analysis_of_a_damaged_clip_says_how_many_and_when(damaged_short, full_model, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "gaitlab", "analyze", damaged_short, "--out", out, "--model", "full", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert "Traceback" not in r.stderr + r.stdout
    summary = json.loads((out / "summary.json").read_text())
    notes = [q for q in summary["quality"] if q.startswith("Damaged video data")]
    assert len(notes) == 1, summary["quality"]
    _, stats = decode_record(probe(damaged_short))
    assert f"errors in {len(stats.damaged)} frame(s)" in notes[0] and " s" in notes[0]
    for table in ("contacts", "steps"):
        df = pd.read_csv(out / f"{table}.csv")
        assert col.SPANS_DAMAGED_FRAME in df.columns, table


def _track(n: int, fps: float, meta: dict) -> PoseTrack:
    return PoseTrack(
        xy_px=np.zeros((n, N_LANDMARKS, 2), np.float32),
        z=np.zeros((n, N_LANDMARKS), np.float32),
        visibility=np.ones((n, N_LANDMARKS), np.float32),
        time_s=np.arange(n) / fps,
        frame_index=np.arange(n) * 2,  # every other decoded frame kept (repeats dropped)
        frame_size_px=(64, 64),
        meta=meta,
    )


def test_damage_note_and_marked_rows_use_real_time():
    track = _track(100, 100.0, {"damaged_frames": [101], "damaged_frame_count": 1, "damaged_spans": [[100, 120]]})
    note = damage_note(track)
    assert note is not None and "1 frame(s)" in note and "0.50-0.60 s" in note
    contacts = pd.DataFrame(
        {col.SIDE: ["left", "right", "left"], col.TOUCHDOWN_S: [0.1, 0.58, 0.8], col.TOE_OFF_S: [0.2, 0.68, 0.9]}
    )
    marked = mark_damaged(contacts, track)
    assert marked[col.SPANS_DAMAGED_FRAME].tolist() == [False, True, False]
    steps = contacts.assign(**{col.STEP_TIME_S: [0.25, 0.2, np.nan], col.SWING_TIME_S: [0.3, np.nan, np.nan]})
    # the first step's swing runs to 0.2 + 0.3 = 0.5 s: it reaches the damage
    assert mark_damaged(steps, track)[col.SPANS_DAMAGED_FRAME].tolist() == [True, True, False]
    clean = _track(100, 100.0, {})
    assert damage_note(clean) is None and list(mark_damaged(contacts, clean).columns) == list(contacts.columns)
