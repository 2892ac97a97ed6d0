"""Nothing a folder of clips can hold breaks a batch or makes it lie (issue 16).

Odd entries (broken links, FIFOs, names that sanitize to nothing, roster rows
without an athlete) are recorded in failures.csv, never opened, never hang;
text cells cannot become spreadsheet formulas; two batches on one output folder
share the clips through per-clip locks; a clip past its time limit is a failure
row; SIGTERM stops a batch or an analysis like Ctrl-C. Real files, FIFOs and
``python -m gaitlab.cli`` subprocesses throughout.
"""

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from clipfactory import noise_clip
from conftest import REPO
from gaitlab.io.locks import file_lock
from gaitlab.team.batch import ClipJob, discover
from gaitlab.team.table import COLUMNS, failure_row, table_csv_text
from gaitlab.team.worker import (
    MARKER_FORMAT_VERSION,
    MARKER_NAME,
    ClipTimeout,
    TimeLimit,
    clip_lock_path,
    marker_key,
    process_clip,
)


def cli(*args, env=None):
    """``gaitlab`` in a subprocess, running in the background (stdout and stderr piped as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gaitlab.cli", *map(str, args)],
        cwd=REPO,
        env=dict(os.environ, **(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@contextmanager
def no_hang(seconds):
    """Fail (instead of hanging the test run) if the block takes longer than ``seconds``."""

    def fail(signum, frame):
        raise AssertionError(f"hung for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def odd_source(tmp_path):
    """A folder tree of entries with video names that are no clips to open, plus two odd-named files."""
    src = tmp_path / "src"
    day = src / "Anna" / "2024-05-01"
    day.mkdir(parents=True)
    (day / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    os.mkfifo(day / "pipe.mp4")
    os.mkfifo(day / "real.mp4.meta.json")  # a FIFO where a sidecar would be: must not be read
    (day / "real.mp4").write_bytes(b"not really a video")
    (day / "-.mp4").write_bytes(b"x")
    (src / "__").mkdir()
    (src / "__" / "x.mp4").write_bytes(b"y")
    os.symlink(tmp_path / "nowhere-either.mp4", src / '=HYPERLINK("evil")&.mp4')
    (src / "loose.mp4").write_bytes(b"z")
    roster = tmp_path / "roster.csv"
    roster.write_text("clip,athlete\nloose.mp4,\n")
    return src, roster


def test_discovery_records_odd_entries_unopened_and_names_every_clip(odd_source, tmp_path):
    src, roster = odd_source
    with no_hang(20):
        jobs = {j.rel: j for j in discover(src, tmp_path / "out", roster=roster)}
    problems = {rel: j.problem for rel, j in jobs.items() if j.problem}
    assert "broken link" in problems["Anna/2024-05-01/gone.mp4"]
    assert "not a regular file" in problems["Anna/2024-05-01/pipe.mp4"]
    assert "broken link" in problems['=HYPERLINK("evil")&.mp4']
    assert "roster.csv line 2: no athlete given" in problems["loose.mp4"]
    assert all(jobs[rel].out_dir is None for rel in problems)
    runnable = {rel: j for rel, j in jobs.items() if not j.problem}
    assert set(runnable) == {"Anna/2024-05-01/real.mp4", "Anna/2024-05-01/-.mp4", "__/x.mp4"}
    dash, under = runnable["Anna/2024-05-01/-.mp4"], runnable["__/x.mp4"]
    assert dash.out_dir.name.startswith("clip-") and len(dash.out_dir.name) == len("clip-") + 8
    assert under.athlete.startswith("athlete-") and under.out_dir.parts[-3] == under.athlete
    again = {j.rel: j.out_dir for j in discover(src, tmp_path / "out", roster=roster)}
    assert again[dash.rel] == dash.out_dir, "the fallback name is the same on every run"


def test_roster_rows_are_checked(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.mp4").write_bytes(b"x")
    roster = tmp_path / "r.csv"
    for text, message in [
        ("clip,athlete,capture_fps\na.mp4,Ann,-240\n", "line 2: capture_fps '-240' is not a positive number"),
        ("clip,athlete,capture_fps\na.mp4,Ann,nan\n", "is not a positive number"),
        ("clip,athlete\n ,Ann\n", "line 2: no clip named"),
    ]:
        roster.write_text(text)
        with pytest.raises(Exception, match=message):
            discover(src, tmp_path / "out", roster=roster)


def test_csv_text_cells_cannot_be_formulas_and_numbers_stay_numbers():
    row = failure_row(athlete="=cmd|' /C calc'!A0", session="+1", clip="-2.mp4", reason="@SUM(A1)")
    row.update(capture_fps=-3.5, n_contacts=-1, flags="\tx", status_reason="\rboom")
    got = next(csv.DictReader(io.StringIO(table_csv_text([row]), newline="")))
    assert list(got) == list(COLUMNS)
    assert got["athlete"] == "'=cmd|' /C calc'!A0" and got["session"] == "'+1" and got["clip"] == "'-2.mp4"
    assert got["flags"] == "'\tx" and got["status_reason"] == "'\nboom", "a lone CR cannot end the row"
    assert got["capture_fps"] == "-3.5" and got["n_contacts"] == "-1", "numbers are written as numbers"


def test_batch_of_odd_entries_finishes_and_records_each(odd_source, tmp_path):
    """Only odd entries besides three unreadable small files: the real CLI ends, one row each, no hang."""
    src, roster = odd_source
    out = tmp_path / "out"
    proc = cli("batch", src, "--out", out, "--roster", roster, "--workers", 1, "--quiet")
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 4, stderr
    failures = {r["clip"]: r for r in read_csv(out / "failures.csv")}
    assert len(failures) == 7, failures
    assert "not a regular file" in failures["Anna/2024-05-01/pipe.mp4"]["reason"]
    assert failures['\'=HYPERLINK("evil")&.mp4']["reason"].startswith("broken link")
    assert "not a readable video" in failures["Anna/2024-05-01/real.mp4"]["reason"]
    assert "4 not opened" in stdout
    table = read_csv(out / "team_summary.csv")
    assert {r["athlete"] for r in table} >= {"Anna", next(a for a in (r["athlete"] for r in table) if "athlete-" in a)}
    assert all(r["athlete"] not in ("", "None") for r in table if r["clip"] != "loose.mp4")


def _clip_and_job(tmp_path):
    src = tmp_path / "src" / "Ann" / "2024-05-01"
    src.mkdir(parents=True)
    clip = src / "a.mp4"
    clip.write_bytes(b"clip bytes")
    out = tmp_path / "out"
    job = ClipJob(clip, "Ann/2024-05-01/a.mp4", "Ann", "2024-05-01", None, out / "clips/Ann/2024-05-01/a")
    return clip, out, job


def _payload(job, out, key):
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.pose.landmarker import PoseSettings

    return {
        "clip": str(job.clip),
        "rel": job.rel,
        "athlete": job.athlete,
        "session": job.session,
        "out_dir": str(job.out_dir),
        "batch_out_dir": str(out),
        "lock_path": str(clip_lock_path(out, job.out_dir)),
        "capture_fps": None,
        "settings": PoseSettings(),
        "config": AnalysisConfig(),
        "settings_key": key,
        "clip_hash": None,
    }


def _write_marker(job, key, row):
    sha = hashlib.sha256(job.clip.read_bytes()).hexdigest()
    st = job.clip.stat()
    marker = {
        "format": MARKER_FORMAT_VERSION,
        "key": marker_key(sha, key, None),
        "clip_sha256": sha,
        "size_bytes": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "row": row,
    }
    (job.out_dir / MARKER_NAME).write_text(json.dumps(marker))


def test_worker_leaves_a_locked_clip_and_its_temporaries_alone(tmp_path):
    _clip, out, job = _clip_and_job(tmp_path)
    job.out_dir.mkdir(parents=True)
    theirs = job.out_dir / ".summary.json.abc123.tmp"  # the other batch's write in progress
    theirs.write_text("{")
    lock = clip_lock_path(out, job.out_dir)
    lock.parent.mkdir(parents=True)
    with file_lock(lock) as held:
        assert held
        assert process_clip(_payload(job, out, "K")) == {"rel": job.rel, "busy": True}
        assert theirs.exists(), "another batch's temporary file is never deleted"
        row = dict(failure_row(athlete="x", session="y", clip="z", reason="theirs"), status="ok")
        _write_marker(job, "K", row)
    done = process_clip(_payload(job, out, "K"))
    assert done["reused"] and done["row"]["status_reason"] == "theirs" and done["row"]["athlete"] == "Ann"


def test_second_batch_waits_for_the_clip_the_first_holds_and_reuses_it(tmp_path):
    """The test plays the first batch: it holds the clip's lock, finishes it (a marker) and lets go."""
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.team.batch import settings_key

    _clip, out, job = _clip_and_job(tmp_path)
    key = settings_key(PoseSettings(), AnalysisConfig())
    job.out_dir.mkdir(parents=True)
    theirs = job.out_dir / ".frames.csv.abc123.tmp"
    theirs.write_text("half")
    lock = clip_lock_path(out, job.out_dir)
    lock.parent.mkdir(parents=True)
    with file_lock(lock):
        proc = cli("batch", tmp_path / "src", "--out", out, "--workers", 1, "--quiet")
        try:
            line = proc.stderr.readline()  # the first thing the second batch says
            assert "another batch is analyzing 1 clip(s)" in line and "waiting" in line, line
            assert proc.poll() is None, "it waits"
            row = dict(failure_row(athlete="Ann", session="2024-05-01", clip=job.rel, reason=""), status="ok")
            _write_marker(job, key, row)
        except BaseException:
            proc.kill()
            raise
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "1/1 clips analyzed (1 reused, 0 run)" in stdout
    assert theirs.read_text() == "half", "the other batch's temporary file is never deleted"
    assert [r["status"] for r in read_csv(out / "team_summary.csv")] == ["ok"]


def test_time_limit_interrupts_python_and_blocking_open(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for block in (lambda: time.sleep(30), lambda: open(fifo, "rb")):
        t0 = time.monotonic()
        with pytest.raises(ClipTimeout), TimeLimit(0.3):
            block()
        assert time.monotonic() - t0 < 5
    with TimeLimit(0.2) as limit:
        limit.extend_to(1.0)
        time.sleep(0.4)  # the deadline moved: no timeout
    time.sleep(1.0)  # and none once the block is left


@pytest.mark.integration
def test_clip_past_its_time_limit_is_a_failure_row(tmp_path):
    src = tmp_path / "src" / "Ann"
    src.mkdir(parents=True)
    noise_clip(src / "n.mp4", n_frames=10)
    out = tmp_path / "out"
    proc = cli("batch", tmp_path / "src", "--out", out, "--workers", 1, "--quiet", "--clip-timeout", 0.05)
    _stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 4, stderr
    (row,) = read_csv(out / "failures.csv")
    assert row["status"] == "failed" and "time limit of 0.05 s" in row["reason"] and "--clip-timeout" in row["reason"]
    assert not list(out.rglob(MARKER_NAME)), "not final: the next run tries again"


@pytest.mark.integration
def test_sigterm_stops_a_batch_cleanly(tmp_path):
    src = tmp_path / "src" / "Ann" / "2024-05-01"
    src.mkdir(parents=True)
    for k in range(2):
        noise_clip(src / f"n{k}.mp4", n_frames=300, seed=k)
    out = tmp_path / "out"
    proc = cli("batch", tmp_path / "src", "--out", out, "--workers", 1, "--quiet")
    lock = clip_lock_path(out.resolve(), (out / "clips/Ann/2024-05-01/n0").resolve())
    deadline = time.time() + 120
    while time.time() < deadline:  # until the worker holds the first clip
        if lock.exists():
            with file_lock(lock, wait=False) as free:
                if not free:
                    break
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "batch stopped: 0 of 2 clips are done" in stderr and stderr.rstrip().endswith("terminated")
    with file_lock(lock, wait=False) as free:
        assert free, "the worker was stopped with the batch"
    rows = read_csv(out / "team_summary.csv")
    assert [r["clip"] for r in rows] == ["Ann/2024-05-01/n0.mp4", "Ann/2024-05-01/n1.mp4"]
    assert all(r["status"] == "failed" and "batch was stopped" in r["status_reason"] for r in rows)


@pytest.mark.integration
def test_sigterm_stops_analyze_without_leaving_its_folder(tmp_path):
    clip = noise_clip(tmp_path / "n.mp4", n_frames=300)
    out = tmp_path / "n.out"
    proc = cli("analyze", clip, "--out", out, "--quiet", "--no-cache", "--workers", 1)
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert not out.exists(), "no empty output folder is left behind"


def test_batch_that_finds_nothing_to_do_leaves_no_output_folder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_text("no clips here")
    roster = tmp_path / "roster.csv"
    roster.write_text("clip,athlete\n,Ann\n")
    for extra, message in [((), "no video clips found"), (("--roster", roster), "line 2: no clip named")]:
        out = tmp_path / "out"
        proc = cli("batch", src, "--out", out, "--quiet", *extra)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 2 and message in stderr, stderr
        assert not out.exists()


def test_the_sidecar_height_reaches_the_job_and_its_marker_key(tmp_path):
    from gaitlab.team.library import sidecar_path
    from gaitlab.team.worker import marker_key

    src = tmp_path / "lib" / "ann" / "2026-01-02"
    src.mkdir(parents=True)
    for name, height in (("a.mp4", 1.8), ("b.mp4", 180), ("c.mp4", None)):
        (src / name).write_bytes(b"\0" * 64)
        meta = {"athlete": "ann", "session": "2026-01-02", "athlete_height_m": height}
        sidecar_path(src / name).write_text(json.dumps(meta))
    jobs = {j.rel.rsplit("/", 1)[-1]: j for j in discover(tmp_path / "lib", tmp_path / "out")}
    assert jobs["a.mp4"].athlete_height_m == 1.8 and jobs["a.mp4"].problem is None
    assert jobs["b.mp4"].athlete_height_m is None and "metres" in jobs["b.mp4"].problem  # 180: centimetres
    assert jobs["c.mp4"].athlete_height_m is None and jobs["c.mp4"].problem is None
    # a height changes the finished clip's key (metres differ); no height keeps the key of older batches
    assert marker_key("sha", "k", None, 1.8) != marker_key("sha", "k", None)
    assert marker_key("sha", "k", None, None) == marker_key("sha", "k", None)
