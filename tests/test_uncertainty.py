"""Known errors: the table from accuracy rows, the widened CI, confidence and flags in an analysis."""

import json
import math

import numpy as np
import pytest

from gaitlab.analysis import known_error, uncertainty
from gaitlab.analysis.analyze import analyze_track
from gaitlab.analysis.metrics import MEASURES, describe
from gaitlab.core.config import AnalysisConfig
from synthetic import running_track
from test_events import sprint_contacts

CT = "contact_time_s"
V = "peak_swing_hip_flexion_velocity_deg_s"

ROWS = [  # two rendered-video rows in the 90-180 fps band, one of another model, one marker row
    {
        "trial": "sprint",
        "source": "video",
        "model": "full",
        "fps": 120.0,
        "contact_time_mae_ms": 10.0,
        "trial_mean_contact_time_error_ms": -25.0,
        "flight_time_mae_ms": 12.0,
        "step_frequency_error_pct": -2.0,
        "peak_swing_velocity_error_near_pct": 8.0,
        "peak_swing_velocity_error_far_pct": 14.0,
        "toe_off_mae_ms": 9.0,
        "hip_flexion_rmse_deg": 5.0,
        "hip_flexion_rmse_near_deg": 3.0,
    },
    {
        "trial": "jog",
        "source": "video",
        "model": None,
        "fps": 100.0,
        "contact_time_mae_ms": 20.0,
        "trial_mean_contact_time_error_ms": 5.0,
        "flight_time_mae_ms": float("nan"),
        "step_frequency_error_pct": 3.0,
        "peak_swing_velocity_error_near_pct": None,
        "peak_swing_velocity_error_far_pct": None,
        "peak_swing_velocity_error_pct": 11.0,
        "toe_off_mae_ms": 30.0,
    },
    {"trial": "sprint", "source": "video", "model": "heavy", "fps": 240.0, "contact_time_mae_ms": 7.0},
    {
        "trial": "sprint",
        "source": "markers",
        "model": None,
        "fps": 30.0,
        "contact_time_mae_ms": 15.4,
        "trial_mean_contact_time_error_ms": 15.4,
    },
    {"trial": "clip", "source": "real", "model": "full", "fps": None, "contact_time_mean_error_ms": 99.0},
]


def test_table_takes_the_worst_row_of_each_band():
    t = known_error.known_error_table(ROWS)
    near, far = t["errors"]["full"]["90-180"]["near"], t["errors"]["full"]["90-180"]["far"]
    # contact: max(|10|, |-25|) of the 120 fps row vs max(20, 5) of the 100 fps row (no model = full)
    assert near[CT]["error"] == 25.0 and near[CT]["n_rows"] == 2 and "sprint at 120 fps" in near[CT]["worst_row"]
    assert near["swing_time_s"]["error"] == 25.0 and near[CT]["unit"] == "ms"
    assert near["flight_time_s"]["error"] == 12.0 and near["flight_time_s"]["n_rows"] == 1  # NaN is no value
    assert near["step_frequency_hz"]["error"] == 3.0 and near["step_time_s"]["unit"] == "pct"
    # swing velocity by leg; the 100 fps row has only the pooled error, for both legs
    assert near[V]["error"] == 11.0 and far[V]["error"] == 14.0
    assert near["time_to_peak_knee_drive_s"]["error"] == 30.0
    # thigh angle: near RMSE 3; far from the pooled RMSE 5: sqrt(2 * 25 - 9)
    assert near["thigh_angle_at_contralateral_touchdown_deg"]["error"] == 3.0
    assert far["thigh_angle_at_contralateral_touchdown_deg"]["error"] == pytest.approx(math.sqrt(41), abs=1e-3)
    assert t["errors"]["heavy"][">=180"]["near"][CT]["error"] == 7.0
    assert t["errors"]["markers"]["<45"]["far"][CT]["error"] == 15.4
    # a row without a capture rate cannot be placed in a band
    assert set(t["errors"]["full"]) == {"90-180"}
    assert t["measures"]["time_to_peak_knee_drive_s"]["partial"]


def test_json_round_trip_and_uncovered_band_is_unknown(tmp_path):
    path = tmp_path / "known_error.json"
    written = known_error.write_known_error_json(ROWS, path)
    table = known_error.load_table(path)
    assert table == json.loads(json.dumps(written))
    assert known_error.lookup(table, "full", 120.0, "near", CT)["error"] == 25.0
    assert known_error.lookup(table, "full", 30.0, "near", CT) is None  # no video row below 45 fps
    assert known_error.lookup(table, "lite", 120.0, "near", CT) is None
    assert [known_error.band_of(f) for f in (30, 45, 60, 120, 180, 240)] == [
        "<45",
        "45-90",
        "45-90",
        "90-180",
        ">=180",
        ">=180",
    ]


def test_committed_table_has_the_documented_sources():
    t = known_error.load_table()
    assert t["schema"] == known_error.SCHEMA
    for band in ("45-90", "90-180", ">=180"):  # docs/accuracy.md: video at 60 / 120 / 240 fps, full model
        for leg in ("near", "far"):
            assert set(t["errors"]["full"][band][leg]) == set(known_error.BASIS)
    # below 45 fps only the real labelled clips (~30 fps) say anything, and only about contact timing
    for model in ("full", "heavy"):
        for leg in ("near", "far"):
            assert set(t["errors"][model]["<45"][leg]) == {"contact_time_s", "swing_time_s"}
    assert set(t["errors"]["markers"]) == {"<45", "45-90", "90-180", ">=180"}


def _stats(values):
    return {side: {m: describe(values.get(m, [])) for m in MEASURES} for side in ("left", "right", "both")}


def test_known_errors_in_the_measures_units():
    table = known_error.known_error_table(ROWS)
    stats = _stats(
        {
            CT: [0.10, 0.11, 0.12],
            V: [700.0, 690.0, 710.0],
            "swing_time_s": [0.35] * 3,
            "time_to_peak_knee_drive_pct_swing": [70.0] * 3,
        }
    )
    errs = uncertainty.leg_known_errors(
        stats, {"left": "near", "right": "far"}, key="full", capture_fps=120.0, table=table
    )
    assert errs["left"][CT]["value"] == pytest.approx(0.025)  # 25 ms in seconds
    assert errs["left"][V]["value"] == pytest.approx(0.11 * 700.0)  # 11 % of the near leg's 700 deg/s
    assert errs["right"][V]["value"] == pytest.approx(0.14 * 700.0)
    assert errs["both"][V]["value"] == pytest.approx(0.14 * 700.0)  # the worse leg
    # % of swing: 100 * (30 ms + 0.70 * 25 ms) / 350 ms
    assert errs["left"]["time_to_peak_knee_drive_pct_swing"]["value"] == pytest.approx(100 * 0.0475 / 0.35)
    assert "known error 25 ms at 120 fps, full model" in errs["left"][CT]["text"]
    unknown = uncertainty.leg_known_errors(
        stats, {"left": "near", "right": "far"}, key="full", capture_fps=30.0, table=table
    )
    assert unknown["left"][CT]["value"] is None and "unknown" in unknown["left"][CT]["text"]


def test_confidence_levels_from_the_share_of_the_value():
    q = {"why_not": "", "n_unreliable_steps": 0}
    stat = describe([0.10, 0.10, 0.10])
    err = {"value": 0.009, "partial": None, "text": "e", "worst_row": None}
    assert uncertainty.confidence(stat, q, err)[0] == "high"  # 9 %
    assert uncertainty.confidence(stat, q, {**err, "value": 0.02})[0] == "medium"  # 20 %
    assert uncertainty.confidence(stat, q, {**err, "value": 0.04})[0] == "low"  # 40 %
    assert uncertainty.confidence(stat, q, {**err, "partial": "not all"})[0] == "medium"
    assert uncertainty.confidence(stat, q, {**err, "value": None}) == ("low", "e")
    assert uncertainty.confidence(stat, {**q, "why_not": "capture rate below 100 fps"}, err)[0] == "low"


def _run(fps, *, source="synthetic", pose_model=None):
    from dataclasses import replace

    def thigh(side, t):  # thigh swing of a sprint, as in the report test
        return 35.0 * np.sin(2 * np.pi * t / 0.47 + (0.0 if side == "left" else np.pi))

    track = replace(running_track(sprint_contacts(), fps=fps, duration_s=2.2, thigh_deg=thigh), source=source)
    return analyze_track(
        track, config=AnalysisConfig(), stored_fps=fps, capture_fps=fps, clip="synthetic", pose_model=pose_model
    ).summary.to_dict()


def test_video_clip_ci_widened_by_the_committed_known_error():
    s = _run(240.0, source="mediapipe", pose_model="full")
    table = known_error.load_table()
    near = s["near_side"]
    expected_s = table["errors"]["full"][">=180"]["near"][CT]["error"] / 1000.0
    st = s["legs"][near][CT]
    assert st["known_error"] == pytest.approx(expected_s)
    assert st["ci95_high"] - st["ci95_stat_high"] == pytest.approx(expected_s)
    assert st["ci95_stat_low"] - st["ci95_low"] == pytest.approx(expected_s)
    assert s["known_error_source"]["key"] == "full" and s["known_error_source"]["band"] == ">=180"
    # a known error of half the ~0.11 s contact is low confidence, and the status says so in words
    q = s["measure_quality"][near][CT]
    assert expected_s / st["mean"] > uncertainty.MEDIUM_MAX_REL and q["confidence"] == "low"
    assert s["status"] == "ok" and s["confidence"] == "low"
    assert s["status_label"].startswith("analyzed \u2014 low confidence: ") and "contact time" in s["status_label"]


def test_low_fps_video_is_low_confidence_and_raises_no_flag():
    s = _run(30.0, source="mediapipe", pose_model="full")
    near = s["near_side"]
    for m in (CT, V):
        q = s["measure_quality"][near][m]
        assert q["confidence"] == "low", (m, q)
    # contact time at 30 fps: the real labelled clips give its known error; swing velocity: nothing does
    table = known_error.load_table()
    expected_s = table["errors"]["full"]["<45"]["near"][CT]["error"] / 1000.0
    assert s["legs"][near][CT]["known_error"] == pytest.approx(expected_s)
    assert s["legs"][near][V]["known_error"] is None  # unknown, not zero
    assert "unknown" in s["measure_quality"][near][V]["known_error_text"]
    assert s["flags"] == [] and s["confidence"] == "low" and "low confidence" in s["status_label"]
    # a pose model no accuracy row covers is unknown at any rate
    lite = _run(240.0, source="mediapipe", pose_model="lite")
    assert lite["confidence"] == "low" and lite["legs"][lite["near_side"]][CT]["known_error"] is None


def test_markers_use_the_algorithm_rows():
    s = _run(240.0)
    table = known_error.load_table()
    st = s["legs"][s["near_side"]][CT]
    assert st["known_error"] == pytest.approx(table["errors"]["markers"][">=180"]["near"][CT]["error"] / 1000.0)
    assert s["known_error_source"]["key"] == "markers"
