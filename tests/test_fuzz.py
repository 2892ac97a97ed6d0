"""A short seeded run of scripts/fuzz.py: two cases of each kind (damaged clips, damaged pose-cache
entries, config files, batch folder trees, landmark files) through the real command line. None may
exit 1, hang, print a traceback or lie; the long run (--n 200) is in the script's own report."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.integration


def test_short_fuzz_run_breaks_nothing(tmp_path):
    from gaitlab.pose.models.provision import ensure_model

    ensure_model("lite")  # every case runs --model lite
    report = tmp_path / "fuzz.json"
    args = ["--n", "10", "--seed", "16", "--jobs", "2", "--bases", "1", "--workdir", tmp_path / "work"]
    r = subprocess.run(
        [sys.executable, "scripts/fuzz.py", *map(str, args), "--json", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
    assert sorted(c["category"] for c in cases) == sorted(["clip", "cache", "config", "batch", "keypoints"] * 2)
    assert [c["index"] for c in cases if c["exit"] == 1] == [], r.stdout[-4000:]
    assert [c["index"] for c in cases if c["hung"] or c["traceback"]] == [], r.stdout[-4000:]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_batch_killed_three_times_finishes_as_if_never_killed(tmp_path):
    """scripts/kill_test.py, short: 2 clips, SIGKILL at 3 random moments, then the same command again."""
    from gaitlab.pose.models.provision import ensure_model

    ensure_model("lite")
    report = tmp_path / "kill.json"
    args = ["--kills", "3", "--clips", "2", "--frames", "60", "--seed", "16", "--workdir", tmp_path / "work"]
    r = subprocess.run(
        [sys.executable, "scripts/kill_test.py", *map(str, args), "--json", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["kills"] == 3 and doc["complete"] and doc["identical"], r.stdout[-3000:]
    assert doc["half_written_files"] == [] and doc["temporary_files_left"] == [], r.stdout[-3000:]
    assert doc["clips_redone_after_finishing"] == 0 and doc["reference_rerun_rewrote"] == []
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
