#!/usr/bin/env python3
"""Measure the batch speedup of 2 workers over 1 on N distinct short clips (issue 5).

    GAITLAB_MODELS_DIR=... python scripts/measure_batch_speedup.py [--source CLIP] [--clips 4] [--frames N]

Makes N different clips from SOURCE (its first --frames frames, default all,
re-encoded at different quality, so each has its own sha256 and the pose cache
cannot share work) in a tmp folder, then runs ``gaitlab batch --workers 1`` and ``--workers 2``, each
with an empty pose cache and a fresh output folder, and prints the wall times,
the ratio, the CPU seconds used (batch process and its workers) and the load
average. Other users of the machine distort the wall times: with the kernel's
autogroup scheduling every terminal session gets an equal CPU share, so under
load a 2-worker batch gets no more CPU than a 1-worker one.
Default SOURCE: the bundled sample clip if present, else the shared test clip.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from clipfactory import trim_clip  # noqa: E402


def default_source() -> Path:
    sample = REPO / "sample_videos" / "sprint_240fps_capture.mp4"
    if sample.exists():
        return sample
    shared = Path(os.environ.get("GAITLAB_SHARED_DIR", REPO.parent / "shared"))
    return shared / "data" / "clips" / "track_run_pan_screenrec.mp4"


def timed_batch(lib: Path, work: Path, workers: int) -> float:
    out, cache = work / f"out{workers}", work / f"cache{workers}"
    env = dict(os.environ, GAITLAB_CACHE_DIR=str(cache), PYTHONPATH=str(REPO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gaitlab.cli",
            "batch",
            str(lib),
            "--out",
            str(out),
            "--quiet",
            "--workers",
            str(workers),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes the workers the batch waited for
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode not in (0, 4):
        sys.exit(f"batch failed ({r.returncode}): {r.stderr}")
    print(f"  workers={workers}: {elapsed:.1f} s wall, {cpu_s:.1f} s CPU  ({r.stdout.strip()})", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=0, help="frames per clip (default: the whole clip)")
    args = parser.parse_args()
    source = args.source or default_source()
    with tempfile.TemporaryDirectory(prefix="gaitlab-speedup-") as tmp:
        work = Path(tmp)
        lib = work / "lib" / "Athlete" / "2024-05-01"
        lib.mkdir(parents=True)
        for k in range(args.clips):
            trim_clip(source, lib / f"clip{k}.mp4", n_frames=args.frames or 10**9, crf=20 + k)
        frames = f"{args.frames} frames" if args.frames else "all frames"
        print(f"{args.clips} clips x {frames} of {source}; cores: {len(os.sched_getaffinity(0))}")
        print(f"  load average before: {os.getloadavg()}")
        t1 = timed_batch(work / "lib", work, 1)
        t2 = timed_batch(work / "lib", work, 2)
        print(f"  load average after: {os.getloadavg()}")
        print(f"speedup 2 workers vs 1: {t1 / t2:.2f}x")


if __name__ == "__main__":
    main()
