"""Every real clip in ../shared/data/clips ends cleanly (exit 0 or 3, never a traceback), and its
quality notes name the hazards the clip really has (see ../shared/data/README.md).

Runs the real MediaPipe full model on each clip (a minute or two in all on 2 cores).
"""

import json
import subprocess
import sys

import pytest

from conftest import REPO, SHARED_DATA

pytestmark = pytest.mark.integration

CLIPS = sorted((SHARED_DATA / "clips").glob("*.mp4")) if (SHARED_DATA / "clips").is_dir() else []

# Words the quality notes must contain for the hazards each clip has (from the data README).
HAZARD_NOTES = {
    "track_sprint_side_repeatedframes": ["Repeated frames", "Capture rate 30 fps is low"],
    "jogger_side_short": ["is low for contact timing"],
    "race_100m_pan_zoom_multi": ["Camera moves", "Several people"],
    "track_run_pan_screenrec": ["Camera moves", "Repeated frames"],
    "silhouette_run_pan": ["Camera moves", "Repeated frames", "Scene cut"],
    "not_running_walk_and_jump": [],
}
_RUNS: dict = {}


def analyze(clip, tmp_path_factory):
    if clip.stem not in _RUNS:
        out = tmp_path_factory.mktemp(clip.stem) / "out"
        r = subprocess.run(
            [sys.executable, "-m", "gaitlab.cli", "analyze", str(clip), "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=REPO,
        )
        summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
        _RUNS[clip.stem] = (r, summary)
    return _RUNS[clip.stem]


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=[c.stem for c in CLIPS])
def test_real_clip_ends_with_0_or_3(clip, tmp_path_factory, shared_data):
    r, summary = analyze(clip, tmp_path_factory)
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode in (0, 3), r.stderr
    assert summary["status"] in ("ok", "no_running_detected", "insufficient_data")
    assert (r.returncode == 0) == (summary["status"] == "ok")
    if summary["status"] != "ok":
        assert summary["status_reason"], "a non-ok status must say why"
    if clip.stem.startswith("not_running"):
        assert r.returncode == 3 and summary["status"] == "no_running_detected"


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=[c.stem for c in CLIPS])
def test_quality_notes_name_the_clips_hazards(clip, tmp_path_factory, shared_data):
    _, summary = analyze(clip, tmp_path_factory)
    notes = " ".join(summary["quality"])
    for words in HAZARD_NOTES.get(clip.stem, []):
        assert words in notes, f"{clip.stem}: expected a note about {words!r}; notes: {summary['quality']}"
    fixed = clip.stem in ("track_sprint_side_repeatedframes", "jogger_side_short", "not_running_walk_and_jump")
    assert summary["camera"] == ("fixed" if fixed else "moving")


@pytest.mark.slow
def test_repeated_frames_clip_found_deduplicated_and_rate_inferred(shared_data, tmp_path_factory):
    clip = shared_data / "clips" / "track_sprint_side_repeatedframes.mp4"
    _, summary = analyze(clip, tmp_path_factory)
    assert summary["duplicate_frames"] >= 0.6 * summary["decoded_frames"]  # ~2 of 3 frames repeat
    assert summary["unique_frames_per_stored_s"] == pytest.approx(10.0, rel=0.05)
    assert summary["inferred_capture_fps"] in (pytest.approx(10.0, rel=0.05), pytest.approx(30.0, rel=0.05))
    assert summary["pose_detected_frac"] >= 0.8  # found on most frames (small athlete: crop-follow)


@pytest.mark.slow
def test_repeated_frames_clip_is_analyzed_with_6_contacts(shared_data, tmp_path_factory):
    clip = shared_data / "clips" / "track_sprint_side_repeatedframes.mp4"
    r, summary = analyze(clip, tmp_path_factory)
    assert r.returncode == 0 and summary["status"] == "ok" and summary["n_contacts"] >= 6
    # at 30 fps contact measures are shown with their resolution and raise no flag
    assert summary["flags"] == []
    for side in ("left", "right"):
        q = summary["measure_quality"][side]["contact_time_s"]
        assert q["resolution_ms"] > 10 and not q["may_flag"]


def test_shared_clips_present(shared_data):
    assert CLIPS, "expected clips under ../shared/data/clips"
