"""Algorithm-only accuracy on real sprint kinematics (mocap markers as perfect 2D landmarks at 120 Hz).

Truth: force-plate contacts (Fz > 30 N) of the Dorn et al. 2012 sprint trial
JA1Gait35 (~9.5 m/s). Targets from the accuracy issue; see docs/accuracy.md.
"""

import math

import pytest

from gaitlab.evaluation import accuracy

pytestmark = pytest.mark.integration

TRIAL = "mocap/dorn2012_JA1/JA1Gait35.c3d"


@pytest.fixture(scope="module")
def sprint_row(shared_data):
    truth = accuracy.load_truth(shared_data / TRIAL)
    result = accuracy.analyze_markers(truth, 120.0)
    return truth, accuracy.score(truth, result, trial="JA1Gait35", source="markers", fps=120.0), result


def test_truth_is_force_plate_contacts(sprint_row):
    truth, _, _ = sprint_row
    complete = truth.contacts[truth.contacts["complete"]]
    assert len(complete) == 4
    assert complete["contact_time_s"].between(0.110, 0.125).all()
    assert complete["side"].tolist() == ["right", "left", "right", "left"]


def test_algorithm_only_120hz_counts_and_angles(sprint_row):
    _, row, _ = sprint_row
    assert row["contacts_true"] == 4
    assert row["missed"] == 0 and row["extra"] == 0
    assert row["hip_flexion_rmse_deg"] <= 5.0
    assert row["peak_swing_velocity_error_pct"] <= 10.0


def test_peak_swing_velocity_error_is_split_by_leg(sprint_row):
    """Every scored swing belongs to the near or the far leg, and each leg's figures match the swings
    recomputed here: each complete force contact paired with the detection of the same foot nearest in
    touchdown, error = measured / truth - 1 of the swing that follows it."""
    truth, row, result = sprint_row
    n_near, n_far = row["n_swings_scored_near"], row["n_swings_scored_far"]
    assert n_near > 0 and n_far > 0 and n_near + n_far == row["n_swings_scored"]
    found, steps = result.contacts.reset_index(drop=True), result.steps.reset_index(drop=True)
    errors = {"near": [], "far": []}
    for i, tc in truth.contacts[truth.contacts["complete"]].iterrows():
        same = found[found["side"] == tc["side"]]
        k = (same["touchdown_s"] - tc["touchdown_s"]).abs().idxmin()
        v_true = truth.steps.loc[i, "peak_swing_hip_flexion_velocity_deg_s"]
        v_meas = steps.loc[k, "peak_swing_hip_flexion_velocity_deg_s"]
        if math.isfinite(v_true) and math.isfinite(v_meas):
            errors["near" if tc["side"] == result.summary.near_side else "far"].append(100 * (v_meas / v_true - 1))
    for leg, e in errors.items():
        assert len(e) == row[f"n_swings_scored_{leg}"]
        assert row[f"peak_swing_velocity_error_{leg}_pct"] == pytest.approx(sum(map(abs, e)) / len(e))
        assert row[f"peak_swing_velocity_range_{leg}_pct"] == pytest.approx([min(e), max(e)])


def test_algorithm_only_120hz_no_regression(sprint_row):
    # Guard at today's measured level plus a small margin: it must not get worse.
    _, row, _ = sprint_row
    assert math.isfinite(row["contact_time_mae_ms"]) and row["contact_time_mae_ms"] <= 10.0  # measured 8.7
    assert row["touchdown_mae_ms"] <= 9.0  # measured 7.3 (late: the landing points settle after force onset)
    assert row["toe_off_mae_ms"] <= 3.0  # measured 1.4


@pytest.mark.xfail(
    strict=True,
    reason="target missed: contact-time MAE 8.7 ms at 120 Hz (touchdown 7 ms late "
    "on forefoot landings, see docs/accuracy.md); tighten when fixed",
)
def test_algorithm_only_120hz_contact_time_target(sprint_row):
    _, row, _ = sprint_row
    assert row["contact_time_mae_ms"] <= 3.0


def test_a_landing_between_plates_is_not_an_extra_detection(shared_data):
    """JA1's floor has no plate at 2.71-3.61 m along the runway; the jogger's right foot lands there at
    ~2.44 s. That real step makes no force, so a detection of it is neither a match nor an 'extra'."""
    from gaitlab.evaluation import mocap

    truth = accuracy.load_truth(shared_data / "mocap/dorn2012_JA1/JA1Gait21_jog3.5ms.c3d")
    assert len(truth.plates_m) == 2 and truth.plates_m[0][1] < 2.75 < 3.55 < truth.plates_m[1][0]
    assert not truth.on_plates("right", 2.5)  # the foot in the gap
    assert truth.on_plates("left", 1.4)  # the foot on a plate in mid-contact
    row = accuracy.evaluate_markers(truth, 120.0, trial="JA1Gait21 jog")
    assert row["missed"] == 0 and row["extra"] == 0
    assert mocap.within_plates([0.5, 0.7], truth.plates_m) and not mocap.within_plates([2.6, 2.8], truth.plates_m)
