"""``gaitlab batch`` end to end with the real pose model on short real clips (issue 5 acceptance).

Good clips are copies of the bundled sample clip; the non-running clip is
random noise (no person); the corrupt one is a truncated copy. Batches run in
subprocesses with a pose cache of this module only (empty at the start), so the
first run really runs pose.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from clipfactory import corrupt_copy, noise_clip, trim_clip
from conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]
GOOD = [
    "Anna/2024-05-01/sprint1.mp4",
    "Anna/2024-05-08/sprint1.mp4",
    "Bob/2024-05-01/sprint1.mp4",
    "Bob/2024-05-08/sprint2.mp4",
]
CORRUPT, NOT_RUNNING = "Bob/2024-05-08/broken.mp4", "Cara/2024-05-08/noise.mp4"


def run_batch(source, out, *args, cache, timeout=600):
    env = dict(os.environ, GAITLAB_CACHE_DIR=str(cache))
    return subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", "batch", str(source), "--out", str(out), "--quiet", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def snapshot(out):
    """Bytes and modification times of every file under ``out``."""
    return {
        p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def team_lib(sample_clip, tmp_path_factory):
    """Copies of the sample clip under two athletes and two sessions, a corrupt file, a noise clip."""
    root = tmp_path_factory.mktemp("team")
    lib = root / "lib"
    good = sample_clip
    for rel in GOOD:
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        (lib / rel).write_bytes(good.read_bytes())
    corrupt_copy(good, lib / CORRUPT)
    (lib / NOT_RUNNING).parent.mkdir(parents=True)
    noise_clip(lib / NOT_RUNNING, n_frames=30)
    return {"lib": lib, "root": root, "cache": root / "pose-cache", "good": good}


@pytest.fixture(scope="module")
def first_run(team_lib):
    out = team_lib["root"] / "out"
    t0 = time.perf_counter()
    r = run_batch(team_lib["lib"], out, "--workers", 2, cache=team_lib["cache"])
    return {"out": out, "result": r, "elapsed_s": time.perf_counter() - t0}


def test_batch_team_table_and_failures(first_run, team_lib):
    r, out = first_run["result"], first_run["out"]
    assert r.returncode == 4, r.stderr  # some clips failed
    rows = {row["clip"]: row for row in read_csv(out / "team_summary.csv")}
    assert set(rows) == set(GOOD) | {CORRUPT, NOT_RUNNING}
    # Each good row must carry the numbers of an independent single-clip analysis of the same file.
    single = team_lib["root"] / "single"
    a = subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", "analyze", str(team_lib["good"]), "--out", str(single), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=dict(os.environ, GAITLAB_CACHE_DIR=str(team_lib["cache"])),
    )
    assert a.returncode == 0, a.stderr
    truth = json.loads((single / "summary.json").read_text())
    for rel in GOOD:
        row = rows[rel]
        assert row["status"] == "ok"
        assert (row["athlete"], row["session"]) == tuple(rel.split("/")[:2])
        for leg in ("left", "right"):
            for m in ("peak_swing_hip_flexion_velocity_deg_s", "contact_time_s"):
                stat = truth["legs"][leg][m]
                if stat["mean"] is None:
                    assert row[f"{leg}_{m}"] == ""
                else:
                    assert float(row[f"{leg}_{m}"]) == pytest.approx(stat["mean"], rel=1e-5)
                    assert int(row[f"{leg}_{m}_n"]) == stat["n"]
        assert (out / row["report"]).is_file() and row["report"].endswith(("report.html", "summary.json"))
    failures = {row["clip"]: row for row in read_csv(out / "failures.csv")}
    assert set(failures) == {CORRUPT, NOT_RUNNING}
    assert failures[CORRUPT]["status"] == "failed" and "not a readable video" in failures[CORRUPT]["reason"]
    assert failures[NOT_RUNNING]["status"] == "no_running_detected"
    assert "person was found on only 0%" in failures[NOT_RUNNING]["reason"]
    page = (out / "team_report.html").read_text()
    for rel in GOOD:
        assert rows[rel]["report"] in page


def test_rerun_is_fast_and_changes_nothing(first_run, team_lib):
    out = first_run["out"]
    before = snapshot(out)
    t0 = time.perf_counter()
    r = run_batch(team_lib["lib"], out, "--workers", 2, cache=team_lib["cache"])
    rerun_s = time.perf_counter() - t0
    assert r.returncode == 4
    assert "6 reused, 0 run" in r.stdout
    assert rerun_s < 0.1 * first_run["elapsed_s"], (rerun_s, first_run["elapsed_s"])
    assert snapshot(out) == before


def test_ray_executor_gives_the_same_table(first_run, team_lib):
    pytest.importorskip("ray")
    out = team_lib["root"] / "out_ray"
    r = run_batch(team_lib["lib"], out, "--executor", "ray", "--workers", 2, cache=team_lib["cache"], timeout=300)
    assert r.returncode == 4, r.stderr
    assert (out / "team_summary.csv").read_text() == (first_run["out"] / "team_summary.csv").read_text()
    assert (out / "failures.csv").read_text() == (first_run["out"] / "failures.csv").read_text()


def test_killed_batch_resumes_to_the_same_result(first_run, team_lib, tmp_path):
    """Kill -9 mid-batch, re-run: identical to an uninterrupted run.

    1 worker, 2 clips: the sample clip (pose cached by the first run, so it is
    done quickly) and a new 150-frame re-encoded stretch of it (pose runs); the
    batch is killed as soon as the first clip's marker appears.
    """
    lib = tmp_path / "lib"
    for k in (1, 2):
        (lib / "Dee" / f"2024-05-0{k}").mkdir(parents=True)
    (lib / "Dee" / "2024-05-01" / "s.mp4").write_bytes(team_lib["good"].read_bytes())
    trim_clip(team_lib["good"], lib / "Dee" / "2024-05-02" / "s.mp4", n_frames=150, crf=21)
    out, cache = tmp_path / "out", team_lib["cache"]
    env = dict(os.environ, GAITLAB_CACHE_DIR=str(cache))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gaitlab.cli", "batch", str(lib), "--out", str(out), "--quiet", "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.rglob("batch_done.json")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = list(out.rglob("batch_done.json"))
    assert len(done) == 1, "killed mid-way"
    assert not (out / "team_summary.csv").exists()
    r = run_batch(lib, out, "--workers", 1, cache=cache)
    assert "1 reused, 1 run" in r.stdout, r.stderr
    ref = tmp_path / "ref"
    r_ref = run_batch(lib, ref, "--workers", 1, cache=cache)
    assert r.returncode == r_ref.returncode and r.returncode in (0, 4), r.stderr
    assert (out / "team_summary.csv").read_text() == (ref / "team_summary.csv").read_text()
    assert (out / "failures.csv").read_text() == (ref / "failures.csv").read_text()
    assert (out / "team_report.html").read_text() == (ref / "team_report.html").read_text()
    for summary in ref.rglob("summary.json"):
        assert (out / summary.relative_to(ref)).read_text() == summary.read_text()
    assert not [p for p in out.rglob(".*.tmp")], "stale temporaries are cleaned on resume"


def test_annotate_adds_the_video_to_finished_clips_from_the_pose_cache(sample_clip, tmp_path):
    """A batch finished without --annotate, run again with it: the clip is done again for the video, its pose
    read from the pose cache; once more with it: reused. The team table says which leg was near the camera."""
    (tmp_path / "lib" / "Eve" / "2024-05-01").mkdir(parents=True)
    trim_clip(sample_clip, tmp_path / "lib" / "Eve" / "2024-05-01" / "s.mp4", n_frames=150, crf=23)
    out, cache = tmp_path / "out", os.environ["GAITLAB_CACHE_DIR"]  # shared with the upload test's same trim
    r = run_batch(tmp_path / "lib", out, "--workers", 1, "--model", "lite", cache=cache)
    assert "0 reused, 1 run" in r.stdout, r.stderr
    clip_out = next(out.rglob("batch_done.json")).parent
    assert not (clip_out / "annotated.mp4").exists()
    r = run_batch(tmp_path / "lib", out, "--workers", 1, "--model", "lite", "--annotate", cache=cache)
    assert "0 reused, 1 run" in r.stdout, r.stderr
    assert (clip_out / "annotated.mp4").stat().st_size > 0
    assert "pose from the cache" in (clip_out / "gaitlab.log").read_text()
    r = run_batch(tmp_path / "lib", out, "--workers", 1, "--model", "lite", "--annotate", cache=cache)
    assert "1 reused, 0 run" in r.stdout, r.stderr
    summary = json.loads((clip_out / "summary.json").read_text())
    (row,) = read_csv(out / "team_summary.csv")
    near, far = summary["near_side"], {"left": "right", "right": "left"}[summary["near_side"]]
    assert (row["near_side"], row[f"{near}_filmed_as"], row[f"{far}_filmed_as"]) == (near, "near", "far")
