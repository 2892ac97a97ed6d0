"""The Python API: gaitlab.analyze / analyze_keypoints return the typed summary and tables in memory,
write nothing but the pose cache (nothing at all with cache=False), and save() writes what the CLI writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gaitlab
from clipfactory import trim_clip


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


def test_import_is_light_and_public_names_resolve():
    code = (
        "import sys, gaitlab; assert gaitlab.__version__; "
        "heavy = [m for m in ('mediapipe', 'ray', 'matplotlib', 'cv2') if m in sys.modules]; "
        "assert not heavy, heavy; print(sorted(gaitlab.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in eval(out):
        assert getattr(gaitlab, name) is not None


@pytest.mark.integration
def test_analyze_in_memory_then_save(sample_clip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = Path(os.environ["GAITLAB_CACHE_DIR"])
    before_clip_dir, before_cache = _files(sample_clip.parent), _files(cache)
    a = gaitlab.analyze(sample_clip, model="full")
    assert _files(sample_clip.parent) == before_clip_dir and not _files(tmp_path)
    assert set(_files(cache)) - set(before_cache) <= {p for p in _files(cache) if p.startswith("pose")}
    assert a.summary.status.ok and a.summary.clip_facts.pose_model == "full"
    assert a.summary.legs["right"]["contact_time_s"].n == len(a.contacts[a.contacts["side"] == "right"])
    assert {"touchdown_s", "toe_off_s", "contact_time_s"} <= set(a.contacts)
    assert "hip_flexion_velocity_deg_s_left" in a.frames and "right_heel_x_px" in a.frames
    with pytest.raises(AttributeError):
        a.summary.n_contacts = 0  # frozen: nobody changes the result after the analysis

    paths = a.save(tmp_path / "out")
    assert json.loads(paths["summary.json"].read_text()) == json.loads(json.dumps(a.summary.to_dict()))
    assert {"contacts.csv", "steps.csv", "frames.csv", "report.html"} <= set(paths)
    assert not a.summary.metres.measured  # no height given
    tall = gaitlab.analyze(sample_clip, model="full", athlete_height_m=1.8)  # the pose from the cache
    assert tall.summary.metres.measured and tall.summary.metres.athlete_height_m == 1.8
    assert tall.steps["speed_m_s"].notna().sum() >= 8 and tall.contacts.equals(a.contacts)
    # a 4 m reference marked at the runner's distance (820.8 px at the render's 205.2 px/m) sets the scale
    truth = json.loads(sample_clip.with_suffix(".truth.json").read_text())
    cones = tmp_path / "cones.toml"
    cones.write_text("[metres]\nreference_px = [60, 480, 880.8, 480]\nreference_m = 4.0\n")
    marked = gaitlab.analyze(sample_clip, model="full", athlete_height_m=1.8, config=cones)
    m = marked.summary.metres
    true_px_per_m = truth["camera"]["px_per_m"]
    assert m.scale_source == "reference length" and m.px_per_m == pytest.approx(true_px_per_m, rel=1e-3)
    assert m.height_vs_reference_pct == pytest.approx(100 * (tall.summary.metres.px_per_m / m.px_per_m - 1))
    assert m.legs["both"]["speed_m_s"].mean == pytest.approx(truth["params"]["speed_m_s"], rel=0.05)


@pytest.mark.integration
def test_analyze_without_cache_writes_nothing(sample_clip, tmp_path, monkeypatch):
    (tmp_path / "clip").mkdir()
    clip = trim_clip(sample_clip, tmp_path / "clip" / "short.mp4", n_frames=40)
    cache = tmp_path / "cache"
    monkeypatch.setenv("GAITLAB_CACHE_DIR", str(cache))
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    a = gaitlab.analyze(clip, model="lite", cache=False)
    assert _files(tmp_path) == before
    assert a.summary.n_frames > 0 and not a.pose_from_cache


def test_bad_clip_raises_the_named_error(tmp_path):
    bad = tmp_path / "empty.mp4"
    bad.write_bytes(b"")
    with pytest.raises(gaitlab.BadInputError, match=r"empty\.mp4"):
        gaitlab.analyze(bad)
