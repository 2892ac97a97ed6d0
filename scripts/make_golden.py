"""Regenerate the golden test's stored track and golden tables (tests/data/).

    .venv/bin/python scripts/make_golden.py            # golden tables from the stored track (no MediaPipe)
    .venv/bin/python scripts/make_golden.py --track    # first re-run pose on the sample clip and store its track

When to run it: after an *intended* change to a measure (events, filters,
statistics, known errors, a new or renamed column), when ``tests/test_golden.py``
fails and the reported differences are the ones the change was meant to make.
Commit the regenerated files with the change, and review their diff in that
commit: every changed number in ``tests/data/golden/*.csv`` is a changed output.

``--track`` only when the pose stage itself changed on purpose (model, settings,
extraction): it runs ``gaitlab.pipeline.load_or_extract_pose`` with the default
``PoseSettings`` on ``sample_videos/sprint_240fps_capture.mp4`` (the pose cache
is used unless ``--no-cache``) and checks that the stored track gives exactly
the analysis of the track in memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CLIP = REPO / "sample_videos" / "sprint_240fps_capture.mp4"
sys.path.insert(0, str(REPO / "tests"))

import golden  # noqa: E402  (tests/golden.py: the format the test reads)


def store_track(*, use_cache: bool) -> None:
    from gaitlab.io.video import probe
    from gaitlab.pipeline import load_or_extract_pose
    from gaitlab.pose.landmarker import PoseSettings

    settings = PoseSettings()
    info = probe(SAMPLE_CLIP)
    track, cached = load_or_extract_pose(info, settings, use_cache=use_cache)
    args = {
        "stored_fps": info.stored_fps,
        "capture_fps": info.capture_fps,
        "clip": SAMPLE_CLIP.name,
        "pose_model": settings.model,
    }
    golden.save_track(track, golden.TRACK_NPZ, analysis_args=args)
    stored, stored_args = golden.load_track(golden.TRACK_NPZ)
    assert stored_args == args
    before = golden.tables(golden.analyze(track, args))
    after = golden.tables(golden.analyze(stored, stored_args))
    for name in golden.TABLES:  # the stored (float32, compressed) track analyses exactly like the original
        if golden.csv_text(before[name], float_format=None) != golden.csv_text(after[name], float_format=None):
            sys.exit(f"error: the stored track changes {name}; store it at full precision")
    size_kb = golden.TRACK_NPZ.stat().st_size / 1024
    print(
        f"{golden.TRACK_NPZ.relative_to(REPO)}: {track.n_frames} frames, {size_kb:.0f} KB"
        f" (pose {'from cache' if cached else 'run'}, model {settings.model})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--track", action="store_true", help="re-run pose on the sample clip and store the track")
    parser.add_argument("--no-cache", action="store_true", help="with --track: run pose even if it is cached")
    args = parser.parse_args(argv)
    if args.track:
        store_track(use_cache=not args.no_cache)
    track, analysis_args = golden.load_track(golden.TRACK_NPZ)
    for path in golden.write_golden(golden.analyze(track, analysis_args)).values():
        print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
