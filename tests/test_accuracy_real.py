"""Accuracy on real truth, quickly: a real labelled clip through the full pipeline (pose 'full'), and
the markers check on FootNet's force-labelled treadmill runners and on JA1Gait35 at 120 Hz.

Bounds hold what is measured today with a margin (the measured figure beside each); they are to be
tightened after the event-detection rework (targets in docs/accuracy.md).
"""

import pytest

from gaitlab import accuracy, footnet
from gaitlab import real_labels as rl

REAL_CLIP = "jogger_side_short.mp4"  # 47 frames: pose takes seconds


@pytest.fixture(scope="module")
def labels(shared_data):
    return rl.load_labels(shared_data.parent / rl.LABELS_REL)


@pytest.mark.slow
def test_real_clip_through_the_pipeline(shared_data, labels, tmp_path, full_model):
    score = rl.evaluate_clip(shared_data.parent / rl.CLIPS_REL / REAL_CLIP, labels, model="full",
                             out_dir=tmp_path / "out")
    row = score.row
    assert tuple(row) == rl.ROW_KEYS and row["source"] == "real" and row["model"] == "full"
    assert row["events_labelled"] == 6
    assert row["events_within_3_frames"] >= 5  # measured 6
    assert row["events_within_1_frame"] >= 2  # measured 3
    assert row["extra"] <= 1  # measured 0
    assert row["event_mae_frames"] <= 1.6  # measured 1.12
    assert abs(row["contact_time_mean_error_frames"]) <= 3.0  # measured -2.01 (contacts too short)
    assert score.details["contacts_matched"] == 3  # measured 3 of 3


def test_footnet_markers_120hz(shared_data):
    trial = footnet.load_footnet(shared_data.parent / footnet.MAT_REL)
    assert len(trial.contacts) == 54  # 27 + 27 force-labelled contacts, 52 inside the span both legs cover
    row = footnet.evaluate_footnet(trial, 120.0, trial_name="FootNet")
    assert row["source"] == "markers" and row["model"] is None
    assert row["contacts_true"] == 52
    assert row["missed"] == 0 and row["extra"] == 0  # measured 0 and 0
    assert row["touchdown_mae_ms"] <= 25.0  # measured 16.4 (late)
    assert row["toe_off_mae_ms"] <= 25.0  # measured 16.0 (early)
    assert row["contact_time_mae_ms"] <= 45.0  # measured 32.4 (contacts too short)


def test_ja1_sprint_markers_120hz(shared_data):
    truth = accuracy.load_truth(shared_data / "mocap/dorn2012_JA1/JA1Gait35.c3d")
    row = accuracy.evaluate_markers(truth, 120.0, trial="JA1Gait35")
    assert row["contacts_true"] == 4 and row["missed"] == 0 and row["extra"] == 0  # measured 4, 0, 0
    assert row["contact_time_mae_ms"] <= 30.0  # measured 21.6
