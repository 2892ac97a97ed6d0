"""Every real clip in ../shared/data/clips ends cleanly: exit 0 or 3, never a traceback.

Runs the real MediaPipe full model on each clip (about a minute in all on 2 cores).
"""

import json
import subprocess
import sys

import pytest

from conftest import REPO, SHARED_DATA

CLIPS = sorted((SHARED_DATA / "clips").glob("*.mp4")) if (SHARED_DATA / "clips").is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=[c.stem for c in CLIPS])
def test_real_clip_ends_with_0_or_3(clip, tmp_path, shared_data):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "gaitlab.cli", "analyze", str(clip), "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=900, cwd=REPO)
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode in (0, 3), r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("ok", "no_running_detected", "insufficient_data")
    assert (r.returncode == 0) == (summary["status"] == "ok")
    if summary["status"] != "ok":
        assert summary["status_reason"], "a non-ok status must say why"
    if clip.stem.startswith("not_running"):
        assert r.returncode == 3 and summary["status"] == "no_running_detected"


def test_shared_clips_present(shared_data):
    assert CLIPS, "expected clips under ../shared/data/clips"
