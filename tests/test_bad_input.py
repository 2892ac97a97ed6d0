"""Broken or odd user files: exit 2 with one line naming the file and the problem, or (partly
readable clips) an analysis of what could be read; never a traceback, never a hang, nothing left behind.

Every bad file is made here in tmp_path with PyAV/numpy (no shared data).
"""

import json
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import REPO

pytestmark = pytest.mark.integration


def run(*args, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def encode_all(out, stream, frames=()) -> None:
    """Encode the frames, flush the encoder, mux every packet."""
    for frame in [*frames, None]:
        for packet in stream.encode(frame):
            out.mux(packet)


def write_clip(path: Path, *, n_frames: int = 30, fps: int = 30, size=(96, 64), seed: int = 0) -> Path:
    """A small real H.264 MP4: a moving bright block on noise (no person)."""
    rng = np.random.default_rng(seed)
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"g": "5"}  # several keyframes, so damage in the middle leaves readable parts
        frames = []
        for i in range(n_frames):
            img = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
            x = (i * 3) % (w - 16)
            img[20:40, x : x + 16] = 230
            frames.append(av.VideoFrame.from_ndarray(img, format="rgb24"))
        encode_all(out, stream, frames)
    return path


def make_missing(d):
    return d / "missing.mp4"


def make_empty(d):
    p = d / "empty.mp4"
    p.write_bytes(b"")
    return p


def make_text(d):
    p = d / "notes.mp4"
    p.write_text("this is not a video\n" * 50)
    return p


def make_truncated(d):
    full = write_clip(d / "full.mp4").read_bytes()
    p = d / "truncated.mp4"
    p.write_bytes(full[: len(full) // 2])  # the index (moov) is at the end: cut off
    full_path = d / "full.mp4"
    full_path.unlink()
    return p


def make_corrupt_middle(d):
    data = bytearray(write_clip(d / "c.mp4", n_frames=60).read_bytes())
    (d / "c.mp4").unlink()
    rng = random.Random(1)
    mid = len(data) // 2
    for i in range(mid - 400, mid + 400):
        data[i] = rng.randrange(256)
    p = d / "corrupt_middle.mp4"
    p.write_bytes(bytes(data))
    return p


def make_audio_only(d):
    p = d / "audio.mp4"
    with av.open(str(p), "w") as out:
        stream = out.add_stream("aac", rate=44100)
        stream.layout = "mono"
        t = np.arange(1024 * 20) / 44100
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        frames = []
        for k in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, k : k + 1024], format="fltp", layout="mono")
            frame.sample_rate = 44100
            frame.pts = k
            frame.time_base = Fraction(1, 44100)
            frames.append(frame)
        encode_all(out, stream, frames)
    return p


def make_image(d):
    p = d / "photo.png"
    with av.open(str(p), "w", format="image2") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "rgb24"
        encode_all(out, stream, [av.VideoFrame.from_ndarray(np.full((48, 64, 3), 128, np.uint8), format="rgb24")])
    return p


def make_zero_frames(d):
    p = d / "zero.mp4"
    with av.open(str(p), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()  # header written, no frame ever encoded
        encode_all(out, stream)
    return p


# (maker, expected problem text). Exit 2, one line naming the file.
BAD = [
    (make_missing, "file not found"),
    (make_empty, "file is empty"),
    (make_text, "not a readable video"),
    (make_truncated, "not a readable video"),
    (make_audio_only, "no video stream"),
    (make_image, "single image"),
    # FFmpeg cannot even describe a stream that never got a frame: either wording is right
    (make_zero_frames, ("no decodable frames", "no video stream")),
]


@pytest.mark.parametrize("make, problem", BAD, ids=[m.__name__[5:] for m, _ in BAD])
def test_bad_file_exit_2_one_line(tmp_path, make, problem):
    clip = make(tmp_path)
    out = tmp_path / "out"
    r = run("analyze", clip, "--out", out, "--quiet")
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    problems = (problem,) if isinstance(problem, str) else problem
    assert str(clip) in lines[0] and any(p in lines[0] for p in problems), lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert not out.exists(), "no partial output for a bad input"


@pytest.mark.slow
def test_partly_damaged_clip_is_analyzed_and_says_what_was_skipped(tmp_path):
    clip = make_corrupt_middle(tmp_path)
    out = tmp_path / "out"
    r = run("analyze", clip, "--out", out, "--quiet", "--json")
    assert "Traceback" not in r.stderr + r.stdout
    # 3, not 2: the file is readable (the damage costs one packet; the other 59 of its 60 frames
    # decode), so it is analyzed, and as it holds no person (a block on noise) the verdict is
    # "no running". Exit 2 is for a file that cannot be read at all (test_bad_file_exit_2_one_line).
    assert r.returncode == 3, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "no_running_detected"
    assert summary["decoded_frames"] < 60 or any("skipped" in q or "damaged" in q for q in summary["quality"])


@pytest.mark.slow
def test_path_with_spaces_and_non_ascii(tmp_path):
    folder = tmp_path / "my clips ü 跑"
    folder.mkdir()
    clip = write_clip(folder / "sprint é 1.mp4")
    r = run("analyze", clip, "--quiet", "--json")
    assert "Traceback" not in r.stderr + r.stdout
    assert r.returncode == 3, r.stderr  # readable; no person in it
    assert (folder / "sprint é 1.gaitlab" / "summary.json").exists()


def test_output_folder_not_writable(tmp_path):
    clip = write_clip(tmp_path / "ok.mp4")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "out"  # a folder cannot live under a file (works even as root)
    r = run("analyze", clip, "--out", out, "--quiet")
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(out) in lines[0] and "cannot write" in lines[0]
    assert "Traceback" not in r.stderr


FUZZ_DRIVER = r"""
import io, os, signal, sys, contextlib
from pathlib import Path
from gaitlab.cli import main
signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("hang")))
codes = []
for path in sys.argv[2:]:
    err = io.StringIO()
    signal.alarm(int(sys.argv[1]))
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["analyze", path, "--out", path + ".out", "--quiet", "--no-cache"])
    signal.alarm(0)
    text = err.getvalue()
    print(code, "TRACEBACK" if ("Traceback" in text or "internal error" in text) else "clean",
          text.strip().splitlines()[-1] if text.strip() else "", sep="\t", flush=True)
"""


@pytest.mark.slow
def test_fuzz_corrupted_clips_never_traceback_or_hang(tmp_path):
    """24 seeded corruptions of a 1 s clip (overwritten bytes, cut tails, zeroed blocks), one process."""
    base = write_clip(tmp_path / "base.mp4", n_frames=30).read_bytes()
    rng = random.Random(2024)
    paths = []
    for k in range(24):
        data = bytearray(base)
        kind = k % 3
        if kind == 0:
            for _ in range(rng.randint(1, 40)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            data = data[: rng.randrange(8, len(data))]
        else:
            start = rng.randrange(len(data))
            data[start : start + rng.randint(16, 2000)] = bytes(min(len(data) - start, 2000))
        p = tmp_path / f"fuzz_{k:02d}.mp4"
        p.write_bytes(bytes(data))
        paths.append(str(p))
    r = subprocess.run(
        [sys.executable, "-c", FUZZ_DRIVER, "20", *paths], capture_output=True, text=True, timeout=240, cwd=REPO
    )
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    assert len(rows) == len(paths), r.stdout + r.stderr[-2000:]
    for path, row in zip(paths, rows):
        code, verdict = int(row[0]), row[1]
        assert verdict == "clean" and code in (0, 2, 3), (path, row)
        if code == 2:
            assert Path(path).name in row[2] or path in row[2], row
            assert not Path(path + ".out").exists()
