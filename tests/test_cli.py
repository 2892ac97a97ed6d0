"""The command line as a user meets it: help, exit codes, one-line errors."""

import subprocess
import sys
import time

import pytest

from conftest import REPO


def run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def test_help_is_instant():
    t0 = time.perf_counter()
    r = run("--help")
    assert r.returncode == 0 and "analyze" in r.stdout
    assert time.perf_counter() - t0 < 2.0
    # no heavy imports behind --help
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gaitlab.cli as c\n"
            "try:\n c.main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('mediapipe','cv2','av','pandas','scipy','matplotlib') "
            "if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert probe.stdout.strip().endswith("[]")


def _write(name, data):
    def make(folder):
        path = folder / name
        path.write_bytes(data)
        return path

    return make


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: p / "missing.mp4", "file not found"),
        (_write("empty.mp4", b""), "file is empty"),
        (_write("notes.mp4", b"this is not a video\n" * 50), "not a readable video"),
    ],
)
def test_bad_input_exit_2_one_line(tmp_path, make, problem):
    clip = make(tmp_path)
    r = run("analyze", clip, "--out", tmp_path / "out", "--quiet")
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert str(clip) in lines[0] and problem in lines[0]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_bad_capture_fps_is_a_usage_error(tmp_path):
    r = run("analyze", tmp_path / "x.mp4", "--capture-fps", "-5")
    assert r.returncode == 2 and "must be > 0" in r.stderr
