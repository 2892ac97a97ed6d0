"""Low frame rates and real-footage geometry: a drifting ground line, frame-resolution events, and the
running-rhythm verdict (ok / insufficient data / not running)."""

from dataclasses import replace

import numpy as np
import pandas as pd

from gaitlab.analysis import hazards
from gaitlab.analysis.analyze import analyze_track
from gaitlab.analysis.events import _lowest_y
from gaitlab.analysis.ground import ground_drift_px_s
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.landmarks import leg_length_px
from synthetic import running_track
from test_events import CONTACT_S, sprint_contacts


def _tilted(track, drift_px_s):
    """The same runner filmed by a camera whose ground rises in the image as the athlete crosses it."""
    xy = track.xy_px.copy()
    xy[..., 1] += drift_px_s * track.time_s[:, None]  # image y grows down
    return replace(track, xy_px=xy)


def _analyze(track, fps):
    return analyze_track(track, config=AnalysisConfig(), stored_fps=fps, capture_fps=fps, clip="synthetic")


def test_ground_drift_is_recovered_and_level_ground_stays_level():
    fps, drift = 60.0, -90.0  # px/s: the contacts rise 200 px over the 2.2 s clip (leg ~310 px)
    truth = sprint_contacts()
    level = running_track(truth, fps=fps, duration_s=2.2)
    lows = lambda tr: [_lowest_y(tr, s) for s in ("left", "right")]  # noqa: E731
    window = int(round(AnalysisConfig().events.ground_window_s * fps))
    assert (
        ground_drift_px_s(level.time_s, lows(level), window_frames=window, leg_length_px=leg_length_px(level.xy_px))
        == 0.0
    )
    tilted = _tilted(level, drift)
    found = ground_drift_px_s(
        tilted.time_s, lows(tilted), window_frames=window, leg_length_px=leg_length_px(tilted.xy_px)
    )
    assert abs(found - drift) <= 0.02 * leg_length_px(tilted.xy_px)  # two grid steps (DRIFT_STEP_LEG_PER_S)


def test_tilted_ground_at_30fps_finds_every_contact_within_a_frame():
    fps = 30.0
    truth = sprint_contacts()
    res = _analyze(_tilted(running_track(truth, fps=fps, duration_s=2.2), -90.0), fps)
    c = res.contacts
    assert len(c) == len(truth)
    assert list(c["side"]) == [s for s, _, _ in truth]
    # 3-4 frames on the ground: frame-resolution events, each within a frame of the truth
    assert np.abs(c["touchdown_s"].to_numpy() - [td for _, td, _ in truth]).max() < 1.0 / fps
    assert np.abs(c["toe_off_s"].to_numpy() - [to for _, _, to in truth]).max() < 1.0 / fps
    assert abs(c["contact_time_s"].mean() - CONTACT_S) < 0.5 / fps
    q = res.summary.to_dict()["measure_quality"]["left"]["contact_time_s"]
    assert not q["may_flag"] and q["resolution_ms"] > 10


def _contacts(rows):
    return pd.DataFrame(rows, columns=["side", "touchdown_s"])


def _steps(step_times):
    return pd.DataFrame({"step_time_s": step_times})


def test_rhythm_ok_for_alternating_running_steps():
    status, why = hazards.running_rhythm(
        _steps([0.22, 0.24, 0.23, np.nan]),
        _contacts([("left", 0.0), ("right", 0.22), ("left", 0.46), ("right", 0.69)]),
        seen_s=1.0,
        frame_s=1 / 30,
    )
    assert status == "ok" and why == ""


def test_rhythm_feet_landing_together_is_not_running():
    contacts = _contacts([("left", 1.00), ("right", 1.01), ("left", 2.40), ("right", 2.41), ("left", 3.5)])
    status, why = hazards.running_rhythm(_steps([0.01, 1.39, 0.01, 1.09, np.nan]), contacts, seen_s=4.0, frame_s=1 / 30)
    assert status == "no_running_detected" and "together 2 times" in why


def test_rhythm_too_few_steps_or_too_sparse_contacts_is_insufficient_data():
    # a short clip: two good steps only
    status, why = hazards.running_rhythm(
        _steps([0.30, 0.31, np.nan]),
        _contacts([("right", 0.2), ("left", 0.5), ("right", 0.81)]),
        seen_s=1.1,
        frame_s=1 / 30,
    )
    assert status == "insufficient_data" and "only 2 measurable step time(s)" in why
    # a long clip where the feet were seen on a few steps only (gaps of seconds between them)
    contacts = _contacts([("left", 2.6), ("right", 2.7), ("left", 6.5), ("right", 6.7), ("left", 9.8), ("right", 10.0)])
    status, why = hazards.running_rhythm(
        _steps([0.08, 3.8, 0.17, 3.1, 0.2, np.nan]), contacts, seen_s=11.4, frame_s=1 / 29
    )
    assert status == "insufficient_data" and "too poorly seen" in why


def test_rhythm_both_feet_down_together_is_walking():
    """Walking: each foot lands before the other leaves (double support); running never does."""
    walk = pd.DataFrame(
        {"side": ["left", "right"] * 4, "touchdown_s": 0.5 * np.arange(8), "toe_off_s": 0.5 * np.arange(8) + 0.65}
    )
    status, why = hazards.running_rhythm(_steps([0.5] * 7 + [np.nan]), walk, seen_s=4.0, frame_s=1 / 30)
    assert hazards.double_support(walk, frame_s=1 / 30) == 8
    assert status == "no_running_detected" and "both feet are on the ground together during 8 of 8" in why
    run = walk.assign(touchdown_s=0.25 * np.arange(8), toe_off_s=0.25 * np.arange(8) + 0.11)
    assert hazards.double_support(run, frame_s=1 / 30) == 0
    # a frame of overlap at a contact's edge (pose noise) is not double support
    run.loc[1, "touchdown_s"] = run.loc[0, "toe_off_s"] - 1 / 30
    assert hazards.double_support(run, frame_s=1 / 30) == 0


def test_rhythm_many_steps_outside_running_range_is_not_running():
    contacts = _contacts([("left" if k % 2 else "right", 0.7 * k) for k in range(8)])
    status, why = hazards.running_rhythm(_steps([0.7] * 7 + [np.nan]), contacts, seen_s=5.6, frame_s=1 / 30)
    assert status == "no_running_detected" and "0 of 7" in why


def _thighs(step_hz, fps, duration_s, *, noise_deg=0.0, seed=0):
    """Per-frame thigh angles of a runner: opposite-phase swings, one cycle per stride (two steps)."""
    t = np.arange(int(duration_s * fps)) / fps
    phase = 2 * np.pi * (step_hz / 2) * t
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "time_s": t,
            "thigh_angle_deg_left": 40 * np.sin(phase) + rng.normal(0, noise_deg, len(t)),
            "thigh_angle_deg_right": -40 * np.sin(phase) + rng.normal(0, noise_deg, len(t)),
        }
    )


def test_step_rate_from_the_legs_swing():
    # a grid of rates and frame rates, with pose-like noise: within one autocorrelation lag of the truth
    for step_hz, fps in ((4.4, 240.0), (2.7, 60.0), (1.4, 10.0)):
        got = hazards.leg_cycle_step_hz(_thighs(step_hz, fps, 3.0, noise_deg=4.0))
        lag_s = 2.0 / step_hz
        assert abs(2.0 / got - lag_s) <= 1.0 / fps + 1e-9, (step_hz, fps, got)
    # no rhythm (noise only) or too short: no answer
    rng = np.random.default_rng(1)
    flat = pd.DataFrame(
        {
            "time_s": np.arange(120) / 30,
            "thigh_angle_deg_left": rng.normal(0, 5, 120),
            "thigh_angle_deg_right": rng.normal(0, 5, 120),
        }
    )
    assert hazards.leg_cycle_step_hz(flat) is None
    assert hazards.leg_cycle_step_hz(_thighs(4.0, 30.0, 0.3)) is None


def test_slowmo_found_despite_spurious_contacts():
    """A 3x-repeated clip timed at 10 fps: the runner's 4.2 steps/s show as 1.4. Spurious short contacts
    make short steps and lift the median step frequency above running's floor; the legs' swing does not."""
    tb = hazards.TimeBase(capture_fps=10.0, source="repeated_frames", slowmo_factor=1.0, unique_fps=10.0, regular_k=3)
    steps = _steps([0.7, 0.75, 0.3, 0.35, 0.7, 0.3, 0.4])  # 1.43, 1.33, 3.33, 2.86, 1.43, 3.33, 2.5 Hz
    status = "ok"
    assert (
        hazards.motion_slowmo_factor(status, tb, steps.assign(step_frequency_hz=1 / steps["step_time_s"]))[0] is None
    )  # the median, 2.5 Hz, looks like running
    frames = _thighs(1.4, 10.0, 6.0, noise_deg=3.0)
    factor, step_hz = hazards.motion_slowmo_factor(
        status, tb, steps.assign(step_frequency_hz=1 / steps["step_time_s"]), frames
    )
    assert factor == 3.0 and abs(step_hz - 1.4) < 0.15
