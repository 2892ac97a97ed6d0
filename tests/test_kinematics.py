"""Angles and angular velocities on synthetic segments with known motion."""

import numpy as np
import pytest

from gaitlab.analysis import clean
from gaitlab.analysis.kinematics import compute_kinematics, inner_angle_deg
from synthetic import make_track


def _leg_track(thigh_deg, t, *, lean_deg=0.0, knee_deg=0.0):
    hip = np.column_stack([np.full_like(t, 500.0), np.full_like(t, 400.0)])
    a = np.radians(thigh_deg)
    knee = hip + 200 * np.column_stack([np.sin(a), np.cos(a)])
    shank = a - np.radians(knee_deg)  # knee flexion folds the shank backwards
    ankle = knee + 200 * np.column_stack([np.sin(shank), np.cos(shank)])
    lean = np.radians(lean_deg)
    shoulder = hip + 300 * np.column_stack([np.full_like(t, np.sin(lean)), np.full_like(t, -np.cos(lean))])
    pts = {}
    for side in ("left", "right"):
        pts.update({f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": ankle, f"{side}_shoulder": shoulder})
    return make_track(pts, t)


def test_thigh_swinging_at_known_velocity():
    fps, omega = 240.0, 700.0  # deg/s
    t = np.arange(100) / fps
    thigh = -30.0 + omega * t * 0.5  # 350 deg/s ramp from -30 deg
    kin = compute_kinematics(_leg_track(thigh, t))
    assert np.allclose(kin["thigh_angle_deg_left"], thigh, atol=1e-9)
    assert np.allclose(kin["hip_flexion_deg_left"], thigh, atol=1e-9)  # upright trunk: flexion = thigh angle
    assert np.allclose(kin["hip_flexion_velocity_deg_s_left"].iloc[1:-1], omega * 0.5, rtol=1e-9)
    assert np.allclose(kin["thigh_angular_velocity_deg_s_left"].iloc[1:-1], omega * 0.5, rtol=1e-9)


def test_trunk_lean_adds_to_hip_flexion():
    t = np.arange(10) / 120.0
    kin = compute_kinematics(_leg_track(np.full_like(t, 40.0), t, lean_deg=15.0))
    assert np.allclose(kin["thigh_angle_deg_left"], 40.0)
    assert np.allclose(kin["hip_flexion_deg_left"], 55.0)
    assert np.allclose(kin["trunk_lean_deg"], 15.0)


def test_knee_flexion():
    t = np.arange(5) / 60.0
    kin = compute_kinematics(_leg_track(np.full_like(t, 20.0), t, knee_deg=90.0))
    assert np.allclose(kin["knee_flexion_deg_left"], 90.0)
    assert inner_angle_deg(np.array([0.0, 1.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(90)


def test_sinusoidal_swing_peak_velocity_survives_the_filter():
    # hip flexion 50*sin(2*pi*2.2*t): peak velocity 50*2*pi*2.2 = 691 deg/s, a sprint-like swing
    fps = 240.0
    t = np.arange(480) / fps
    track = _leg_track(10 + 50 * np.sin(2 * np.pi * 2.2 * t), t)
    smooth = clean.lowpass(track, cutoff_hz=12.0, order=4)
    kin = compute_kinematics(smooth)
    peak = kin["hip_flexion_velocity_deg_s_left"].iloc[40:-40].max()
    assert peak == pytest.approx(50 * 2 * np.pi * 2.2, rel=0.01)


def test_orientation_mirrors_leftward_runner():
    t = np.arange(20) / 60.0
    pts = {
        "left_heel": np.column_stack([1000 - 300 * t, np.full_like(t, 900)]),
        "left_foot_index": np.column_stack([960 - 300 * t, np.full_like(t, 905)]),
        "right_heel": np.column_stack([1010 - 300 * t, np.full_like(t, 900)]),
        "right_foot_index": np.column_stack([970 - 300 * t, np.full_like(t, 905)]),
    }
    track = make_track(pts, t, frame_size_px=(1920, 1080))
    o = clean.detect_orientation(track)
    assert o.mirrored and o.method == "feet" and o.near_side == "left"
    flipped = clean.orient_running_direction(track, o)
    assert np.allclose(flipped.point("left_heel")[:, 0], 1919 - track.point("left_heel")[:, 0])


def test_gap_filling_only_short_interior_gaps():
    t = np.arange(10) / 100.0
    v = np.arange(10, dtype=float)
    v[[3, 4]] = np.nan  # 30 ms gap: filled
    v[7:] = np.nan  # trailing: never extrapolated
    out = clean.fill_gaps_1d(v, t, max_gap_s=0.05)
    assert np.allclose(out[:7], np.arange(7))
    assert np.isnan(out[7:]).all()
    v2 = np.arange(10, dtype=float)
    v2[2:8] = np.nan  # 70 ms gap: too long
    assert np.isnan(clean.fill_gaps_1d(v2, t, max_gap_s=0.05)[2:8]).all()
