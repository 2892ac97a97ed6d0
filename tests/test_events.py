"""Touchdown/toe-off timing on synthetic feet whose contact instants are known exactly."""

import numpy as np
import pytest

from gaitlab.analysis import analyze_track
from gaitlab.config import AnalysisConfig
from synthetic import running_track

# Alternating contacts of a sprinter: 0.110 s contacts, 0.125 s flights (step 0.235 s).
CONTACT_S, FLIGHT_S = 0.110, 0.125


def sprint_contacts(n=8, start_s=0.1013, first="left"):
    out, side, t = [], first, start_s
    for _ in range(n):
        out.append((side, t, t + CONTACT_S))
        t += CONTACT_S + FLIGHT_S
        side = "right" if side == "left" else "left"
    return out


def _analyze(track, fps):
    return analyze_track(track, config=AnalysisConfig(), stored_fps=fps, capture_fps=fps, clip="synthetic")


@pytest.mark.parametrize("fps", [240.0, 120.0])
def test_events_exact_without_noise(fps):
    truth = sprint_contacts()
    res = _analyze(running_track(truth, fps=fps, duration_s=2.2), fps)
    c = res.contacts
    assert len(c) == len(truth)
    for (side, td, to), (_, row) in zip(truth, c.iterrows()):
        assert row["side"] == side
        # sub-frame: within 0.15 frame of the constructed instant
        assert abs(row["touchdown_s"] - td) < 0.15 / fps
        assert abs(row["toe_off_s"] - to) < 0.15 / fps
    assert np.allclose(c["contact_time_s"], CONTACT_S, atol=0.2 / fps)


def test_events_with_landmark_noise_240fps():
    truth = sprint_contacts()
    fps, noise_px = 240.0, 1.5
    res = _analyze(running_track(truth, fps=fps, duration_s=2.2, noise_px=noise_px, seed=3), fps)
    c = res.contacts
    assert len(c) == len(truth)
    td_err = np.abs(c["touchdown_s"].to_numpy() - [td for _, td, _ in truth])
    to_err = np.abs(c["toe_off_s"].to_numpy() - [to for _, _, to in truth])
    # the foot lands fast (600 px/s): touchdown within one frame despite the noise
    assert td_err.mean() < 1.0 / fps
    # it leaves gently (100 px/s + 20000 px/s^2, as a toe peels off): no method can place toe-off
    # closer than the time the foot takes to rise two noise SDs above the ground (~10 ms here)
    s = np.linspace(0, 0.05, 5001)
    detectable_s = s[np.argmax(100 * s + 20000 * s * s >= 2 * noise_px)]
    assert to_err.mean() < detectable_s
    assert (c["confidence"] > 0.5).all()


def test_step_measures_from_contacts():
    truth = sprint_contacts()
    fps = 240.0
    res = _analyze(running_track(truth, fps=fps, duration_s=2.2), fps)
    s = res.steps
    flights = s["flight_time_s"].dropna()
    steps = s["step_time_s"].dropna()
    swings = s["swing_time_s"].dropna()
    assert len(flights) == len(truth) - 1
    assert np.allclose(flights, FLIGHT_S, atol=0.2 / fps)
    assert np.allclose(steps, CONTACT_S + FLIGHT_S, atol=0.2 / fps)
    assert np.allclose(swings, CONTACT_S + 2 * FLIGHT_S, atol=0.2 / fps)
    assert np.allclose(s["step_frequency_hz"].dropna(), 1 / (CONTACT_S + FLIGHT_S), rtol=0.01)
    assert res.summary["status"] == "ok"


def test_contacts_cut_by_clip_edges_are_not_counted():
    # the first contact is already under way at frame 0, the last one not finished at the end
    truth = [("left", -0.05, 0.06), ("right", 0.185, 0.295), ("left", 0.42, 0.53), ("right", 0.655, 0.8)]
    fps = 240.0
    res = _analyze(running_track(truth, fps=fps, duration_s=0.75), fps)
    assert len(res.contacts) == 2


def test_walking_is_not_running():
    # double support: the next foot lands before the other leaves
    truth = [("left", 0.1, 0.75), ("right", 0.65, 1.3), ("left", 1.2, 1.85), ("right", 1.75, 2.4)]
    fps = 60.0
    cfg = AnalysisConfig()
    cfg = type(cfg)(events=type(cfg.events)(max_contact_s=1.0))
    res = analyze_track(running_track(truth, fps=fps, duration_s=2.6), config=cfg, stored_fps=fps,
                        capture_fps=fps, clip="walk")
    assert res.summary["status"] == "no_running_detected"
    assert "walking" in res.summary["status_reason"]
