"""Trial statistics, swing peaks and flags against hand-computed answers."""

import math

import numpy as np
import pandas as pd
import pytest

from gaitlab.analysis.flags import compute_flags
from gaitlab.analysis.metrics import MEASURES, describe, swing_peaks
from gaitlab.core.config import FlagConfig


def test_describe_matches_hand_computation():
    d = describe([1.0, 2.0, 3.0, 4.0])
    sd = math.sqrt(((1.5**2) * 2 + (0.5**2) * 2) / 3)
    half = 3.182446305284263 * sd / 2.0  # t(0.975, 3) * sd / sqrt(4)
    assert d["mean"] == pytest.approx(2.5)
    assert d["sd"] == pytest.approx(sd)
    assert d["ci95_low"] == pytest.approx(2.5 - half)
    assert d["ci95_high"] == pytest.approx(2.5 + half)
    assert d["n"] == 4


def test_describe_edge_cases():
    assert describe([])["mean"] is None
    one = describe([np.nan, 5.0])
    assert one["mean"] == 5.0 and one["n"] == 1 and one["ci95_low"] is None


def test_swing_peaks_on_known_curve():
    # flexion 20 - 40*cos(2*pi*(t-t0)/0.6): minimum at toe-off t0, maximum at t0+0.3 s (60 deg),
    # peak velocity 40*2*pi/0.6 = 418.9 deg/s at t0+0.15 s
    fps = 240.0
    t = np.arange(300) / fps
    t0 = 0.2013
    flex = 20 - 40 * np.cos(2 * np.pi * (t - t0) / 0.6)
    vel = np.gradient(flex, t)
    kin = pd.DataFrame({"time_s": t, "hip_flexion_deg_left": flex, "hip_flexion_velocity_deg_s_left": vel})
    p = swing_peaks(kin, "left", t0, t0 + 0.45)
    assert p["max_hip_flexion_s"] == pytest.approx(t0 + 0.3, abs=0.1 / fps)
    assert p["max_hip_flexion_deg"] == pytest.approx(60, abs=0.01)
    assert p["peak_velocity_deg_s"] == pytest.approx(40 * 2 * np.pi / 0.6, rel=0.002)
    assert p["peak_velocity_s"] == pytest.approx(t0 + 0.15, abs=0.1 / fps)
    # still flexing when the search ends: no knee-drive maximum is claimed
    assert np.isnan(swing_peaks(kin, "left", t0, t0 + 0.25)["max_hip_flexion_s"])


def _stats(values_by_side):
    return {
        side: {m: describe(values_by_side.get(side, {}).get(m, [])) for m in MEASURES} for side in ("left", "right")
    }


def test_flags_need_enough_steps_and_a_clear_ci():
    v = "peak_swing_hip_flexion_velocity_deg_s"
    cfg = FlagConfig()
    usable = {"left": set(MEASURES), "right": set(MEASURES)}
    slow = {"left": {v: [500, 510, 490, 505]}, "right": {v: [700, 690, 710, 705]}}
    codes = {(f.code, f.side) for f in compute_flags(_stats(slow), cfg=cfg, usable=usable)}
    assert ("slow_swing_velocity", "left") in codes
    assert ("swing_velocity_asymmetry", "left") in codes
    assert not any(side == "right" for _, side in codes)
    # two steps only: no flag, however slow
    few = {"left": {v: [400, 410]}, "right": {v: [700, 690, 710]}}
    assert not compute_flags(_stats(few), cfg=cfg, usable=usable)
    # CI straddling the reference: no flag
    wide = {"left": {v: [300, 900, 560]}, "right": {v: [580, 600, 610]}}
    assert not [f for f in compute_flags(_stats(wide), cfg=cfg, usable=usable) if f.side == "left"]
    # measure not usable (e.g. frame rate too low): no flag
    assert not compute_flags(_stats(slow), cfg=cfg, usable={"left": set(), "right": set()})


def test_leg_lag_and_late_knee_drive():
    cfg = FlagConfig()
    usable = {"left": set(MEASURES), "right": set(MEASURES)}
    vals = {
        "right": {
            "thigh_angle_at_contralateral_touchdown_deg": [-8, -6, -7, -9],
            "time_to_peak_knee_drive_pct_swing": [88, 90, 86, 89],
        }
    }
    flags = compute_flags(_stats(vals), cfg=cfg, usable=usable)
    assert {(f.code, f.side) for f in flags} == {("leg_lag", "right"), ("late_knee_drive", "right")}
    assert all("right" in f.message.lower() and f.n == 4 for f in flags)


def test_known_error_widens_the_ci_by_exactly_its_size():
    from gaitlab.analysis.metrics import with_known_error

    d = with_known_error(describe([1.0, 2.0, 3.0, 4.0]), 0.5)
    sd = math.sqrt(((1.5**2) * 2 + (0.5**2) * 2) / 3)
    half = 3.182446305284263 * sd / 2.0  # the scatter-only half-width of the test above
    assert d["ci95_stat_low"] == pytest.approx(2.5 - half) and d["ci95_stat_high"] == pytest.approx(2.5 + half)
    assert d["ci95_low"] == pytest.approx(2.5 - half - 0.5)
    assert d["ci95_high"] == pytest.approx(2.5 + half + 0.5)
    assert d["known_error"] == 0.5 and d["mean"] == 2.5 and d["n"] == 4
    # unknown error: nothing to widen by, the scatter CI stays (the measure is low confidence instead)
    u = with_known_error(describe([1.0, 2.0, 3.0, 4.0]), None)
    assert u["known_error"] is None and u["ci95_high"] == pytest.approx(2.5 + half)


def _with_error(values_by_side, errors_by_side):
    from gaitlab.analysis.metrics import with_known_error

    stats = _stats(values_by_side)
    return {
        side: {m: with_known_error(st, errors_by_side.get(side, {}).get(m, 0.0)) for m, st in by.items()}
        for side, by in stats.items()
    }


def test_flag_withheld_when_known_error_reaches_its_margin():
    v = "peak_swing_hip_flexion_velocity_deg_s"
    cfg = FlagConfig()  # reference 600 deg/s
    usable = {"left": {v}, "right": set()}
    slow = {"left": {v: [540, 530, 550, 540]}}  # mean 540: margin 60 deg/s; scatter half-width 13.0
    half = 3.182446305284263 * math.sqrt(200 / 3) / 2.0
    # known error 30: 13.0 + 30 < 60, still clearly below: raised, its CI the widened one
    raised = compute_flags(_with_error(slow, {"left": {v: 30.0}}), cfg=cfg, usable=usable)
    assert [f.code for f in raised] == ["slow_swing_velocity"]
    assert raised[0].ci95_high == pytest.approx(540 + half + 30.0)
    assert "incl. known error 30 deg/s" in raised[0].message
    # known error 65 > margin 60: withheld, and said why
    withheld = []
    assert not compute_flags(_with_error(slow, {"left": {v: 65.0}}), cfg=cfg, usable=usable, withheld=withheld)
    assert [(w["code"], w["side"]) for w in withheld] == [("slow_swing_velocity", "left")]
    assert withheld[0]["margin"] == pytest.approx(60.0) and withheld[0]["known_error"] == 65.0
    assert "at least its margin" in withheld[0]["why"]
    # known error 55 < margin 60, but 13.0 + 55 >= 60: the widened CI reaches the reference
    withheld = []
    assert not compute_flags(_with_error(slow, {"left": {v: 55.0}}), cfg=cfg, usable=usable, withheld=withheld)
    assert "widened" in withheld[0]["why"]
    # ...which, judging the mean alone, is raised: 55 < 60
    mean_only = FlagConfig(require_ci_beyond_reference=False)
    assert compute_flags(_with_error(slow, {"left": {v: 55.0}}), cfg=mean_only, usable=usable)
    # unknown error: withheld (never treated as zero)
    withheld = []
    assert not compute_flags(_with_error(slow, {"left": {v: None}}), cfg=cfg, usable=usable, withheld=withheld)
    assert "unknown" in withheld[0]["why"]
