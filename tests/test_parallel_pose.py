"""Parallel pose extraction equals a single pass on the sample clip, landmark for landmark.

The clip is split into ranges posed by separate processes. The tracker restarts
on a fixed grid of the clip (``pose.tracking``) whatever the number of
processes, and ranges begin on that grid, so every frame is posed from the same
restart over the same frames: the same frames, the same scan numbers (each
frame's scan needs only its two predecessors), the same landmarks and so the
same contacts.
"""

from itertools import pairwise

import numpy as np
import pytest

from gaitlab.pose.parallel import grid_split, split_remaining
from gaitlab.pose.tracking import SEGMENT_FRAMES, snap_to_grid


def test_split_remaining_balances_landmarker_calls():
    bounds = split_remaining(10, 610, 3, 8)
    assert bounds[0] == 10 and bounds[-1] == 610
    # landmarker calls per process: the caller has no lock-on, the others pay the overlap
    calls = [bounds[1] - bounds[0]] + [b - a + 8 for a, b in pairwise(bounds[1:])]
    assert max(calls) - min(calls) <= 1
    assert split_remaining(600, 600, 2, 8) == [600, 600, 600]


def test_ranges_begin_where_the_tracker_restarts():
    for done_to, n, procs in [(10, 610, 2), (1, 600, 2), (30, 2400, 3), (500, 600, 2), (590, 600, 2), (5, 100, 4)]:
        bounds = grid_split(done_to, n, procs, 2)
        assert bounds[0] == done_to and bounds[-1] == n and len(bounds) == procs + 1
        assert all(a <= b for a, b in pairwise(bounds))
        # each inner bound is a segment start (or the clip end) after the frame the caller is at
        assert all(b % SEGMENT_FRAMES == 0 or b == n for b in bounds[1:-1])
        assert all(b >= done_to for b in bounds[1:-1])
    # balance: within half a segment of the unsnapped split
    plain, snapped = split_remaining(10, 2410, 2, 2), grid_split(10, 2410, 2, 2)
    assert abs(plain[1] - snapped[1]) <= SEGMENT_FRAMES // 2
    assert snap_to_grid(5, after=0) == SEGMENT_FRAMES  # never at or before the caller's frame


@pytest.fixture(scope="module", params=[False, True], ids=["default", "tracking"])
def single_and_parallel(request, sample_clip, full_model):
    """(info, 1-process track, 2-process track, what each scan_and_pose call reported), posing every
    frame afresh (the default) and tracking between restarts (``PoseSettings.tracking``)."""
    from contextlib import contextmanager

    from gaitlab.core import progress
    from gaitlab.io.video import probe
    from gaitlab.pose import extract
    from gaitlab.pose.extract import extract_clip_pose
    from gaitlab.pose.landmarker import PoseSettings

    calls = []
    real_scan, real_progress = extract.scan_and_pose, progress.progress

    @contextmanager
    def counting_progress(*args, **kwargs):
        with real_progress(*args, **kwargs) as bar:
            calls[-1]["bar"] = bar
            yield bar

    def recording(*args, **kwargs):
        calls.append({})
        done = real_scan(*args, **kwargs)
        calls[-1].update(workers_used=done.workers_used, bounds=done.timings_s["bounds"])
        return done

    info = probe(sample_clip)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(extract, "scan_and_pose", recording)
        mp.setattr(progress, "progress", counting_progress)
        settings = PoseSettings(model="full", tracking=request.param)
        one = extract_clip_pose(info, full_model, settings, show_progress=False, workers=1)
        two = extract_clip_pose(info, full_model, settings, show_progress=False, workers=2)
    return info, one, two, calls


@pytest.mark.integration
@pytest.mark.slow
def test_parallel_run_really_split_the_clip(single_and_parallel):
    info, _, _, calls = single_and_parallel
    assert [c["workers_used"] for c in calls] == [1, 2]
    assert calls[0]["bounds"] is None
    bounds = calls[1]["bounds"]
    assert len(bounds) == 3 and 0 < bounds[1] < bounds[2] == info.n_frames
    assert bounds[1] % SEGMENT_FRAMES == 0
    # progress: every decoded frame counted once, whichever process owned it (no lock-on frames)
    assert [c["bar"].done for c in calls] == [info.n_frames, info.n_frames]


@pytest.mark.integration
@pytest.mark.slow
def test_parallel_track_equals_single_pass(single_and_parallel):
    info, one, two, _ = single_and_parallel
    assert two.meta["decoded_frames"] == one.meta["decoded_frames"] == info.n_frames
    np.testing.assert_array_equal(one.frame_index, two.frame_index)
    np.testing.assert_allclose(one.time_s, two.time_s, atol=1e-9)
    assert one.meta["timing"] == two.meta["timing"]
    assert one.meta["camera"] == two.meta["camera"]
    assert one.meta["tracking"] == two.meta["tracking"]
    assert (one.visibility.mean(axis=1) > 0.5).mean() > 0.9
    # the same restarts over the same frames: the same landmarks (up to float noise across processes)
    np.testing.assert_allclose(one.xy_px, two.xy_px, rtol=0, atol=1e-3)
    np.testing.assert_allclose(one.visibility, two.visibility, rtol=0, atol=1e-4)


@pytest.mark.integration
@pytest.mark.slow
def test_parallel_events_within_one_capture_frame(single_and_parallel):
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.pipeline import _analyze_with_hazards

    info, one, two, _ = single_and_parallel
    a = _analyze_with_hazards(info, one, config=AnalysisConfig(), clip=info.path).contacts
    b = _analyze_with_hazards(info, two, config=AnalysisConfig(), clip=info.path).contacts
    assert len(a) > 0 and len(a) == len(b)
    frame_s = 1.0 / info.capture_fps
    for col in ("touchdown_s", "toe_off_s"):
        assert list(a["side"]) == list(b["side"])
        assert np.max(np.abs(a[col].to_numpy() - b[col].to_numpy())) <= frame_s + 1e-9, col


def test_workers_option_must_be_positive(capsys):
    from gaitlab.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["analyze", "clip.mp4", "--workers", "0"])
    assert "must be >= 1" in capsys.readouterr().err
    assert build_parser().parse_args(["analyze", "clip.mp4", "--workers", "3"]).workers == 3
