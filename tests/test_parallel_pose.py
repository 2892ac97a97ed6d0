"""Parallel pose extraction equals a single pass (within landmark noise) on the sample clip.

The clip is split into ranges posed by separate processes; the tracker locks on
over a few overlap frames that are then dropped. Expected: the same frames, the
same scan numbers (each frame's scan needs only its two predecessors), and the
same contacts with touchdown/toe-off within one capture frame.
"""

from itertools import pairwise

import numpy as np
import pytest

from gaitlab.pose.parallel import split_remaining


def test_split_remaining_balances_landmarker_calls():
    bounds = split_remaining(10, 610, 3, 8)
    assert bounds[0] == 10 and bounds[-1] == 610
    # landmarker calls per process: the caller has no lock-on, the others pay the overlap
    calls = [bounds[1] - bounds[0]] + [b - a + 8 for a, b in pairwise(bounds[1:])]
    assert max(calls) - min(calls) <= 1
    assert split_remaining(600, 600, 2, 8) == [600, 600, 600]


@pytest.fixture(scope="module")
def single_and_parallel(sample_clip, full_model):
    """(info, 1-process track, 2-process track, what each scan_and_pose call reported)."""
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
        one = extract_clip_pose(info, full_model, PoseSettings(model="full"), show_progress=False, workers=1)
        two = extract_clip_pose(info, full_model, PoseSettings(model="full"), show_progress=False, workers=2)
    return info, one, two, calls


@pytest.mark.integration
@pytest.mark.slow
def test_parallel_run_really_split_the_clip(single_and_parallel):
    info, _, _, calls = single_and_parallel
    assert [c["workers_used"] for c in calls] == [1, 2]
    assert calls[0]["bounds"] is None
    bounds = calls[1]["bounds"]
    assert len(bounds) == 3 and 0 < bounds[1] < bounds[2] == info.n_frames
    # progress: every decoded frame counted once, whichever process owned it (no lock-on frames)
    assert [c["bar"].done for c in calls] == [info.n_frames, info.n_frames]


@pytest.mark.integration
@pytest.mark.slow
def test_parallel_track_matches_single_pass(single_and_parallel):
    info, one, two, _ = single_and_parallel
    assert two.meta["decoded_frames"] == one.meta["decoded_frames"] == info.n_frames
    np.testing.assert_array_equal(one.frame_index, two.frame_index)
    np.testing.assert_allclose(one.time_s, two.time_s, atol=1e-9)
    assert one.meta["timing"] == two.meta["timing"]
    assert one.meta["camera"] == two.meta["camera"]
    seen = (one.visibility.mean(axis=1) > 0.5) & (two.visibility.mean(axis=1) > 0.5)
    assert seen.mean() > 0.9
    # landmark noise: the median landmark differs by a fraction of a pixel, none by much
    diff = np.linalg.norm(one.xy_px[seen] - two.xy_px[seen], axis=-1)
    assert np.median(diff) < 1.0, np.median(diff)
    assert np.percentile(diff, 99) < 15.0, np.percentile(diff, 99)


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
