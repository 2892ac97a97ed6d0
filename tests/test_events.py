"""Touchdown/toe-off timing on synthetic feet whose contact instants are known exactly."""

import numpy as np
import pytest

from gaitlab.analysis.analyze import analyze_track
from gaitlab.core.config import AnalysisConfig
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
    # it leaves gently (100 px/s + 20000 px/s^2, as a toe peels off): the bound is the time the foot
    # takes to rise two noise SDs above the ground (~10 ms here), a limit for simple thresholding; the
    # fit does better (2.6-5.3 ms mean error over seeds 1-5, 5.3 ms on this seed: over one frame)
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
    assert res.summary.status.ok


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
    res = analyze_track(
        running_track(truth, fps=fps, duration_s=2.6), config=cfg, stored_fps=fps, capture_fps=fps, clip="walk"
    )
    assert res.summary.status.status == "no_running_detected"
    assert "walking" in res.summary.status.reason


def _rollover_foot(fps, *, tip_off_s=0.3, roll_start_s=0.22, behind_px=12.0, above_px=6.0, foot_px=50.0):
    """A foot rolling over its tip: flat on the ground, then rotating about the tip from ``roll_start_s``
    (the heel rising ever faster, to ~54 deg at toe-off), the tip leaving the ground at ``tip_off_s`` and
    rising (600 px/s + 30000 px/s^2).
    The "toe landmark" sits ``behind_px`` behind and ``above_px`` above the tip along the foot, as
    MediaPipe's foot index sits on the toes rather than at the shoe tip. Image y grows down; ground y = 400."""
    from gaitlab.analysis.events import FootSignal

    t = np.arange(int(0.45 * fps)) / fps
    dt = np.clip(t - roll_start_s, 0, None)
    angle = np.radians(200.0 * dt + 6000.0 * dt * dt)  # foot pitch, heel up: the heel rises ever faster
    lift = np.where(t > tip_off_s, 600.0 * (t - tip_off_s) + 30000.0 * (t - tip_off_s) ** 2, 0.0)
    tip = np.stack([np.full_like(t, 300.0), 400.0 - lift], axis=1)
    back = np.stack([-np.cos(angle), -np.sin(angle)], axis=1)  # unit vector tip -> heel (y down: up is -)
    up = np.stack([-np.sin(angle), np.cos(angle)], axis=1) * -1.0  # foot's "up" normal
    toe = tip + behind_px * back + above_px * up
    heel = tip + foot_px * back + above_px * up
    low = np.fmax(toe[:, 1], heel[:, 1])
    ground = np.full_like(t, 400.0)
    return t, FootSignal(
        time_s=t,
        height_px=ground - low,
        visibility=np.ones_like(t),
        threshold_px=15.0,
        ground_px=ground,
        toe_px=toe,
        heel_px=heel,
    )


@pytest.mark.parametrize("fps", [240.0, 120.0])
def test_rollover_pivot_stays_on_the_ground_until_toe_off(fps):
    """The pivot found from a toe landmark that sits behind/above the shoe tip stays put while the
    foot rolls (the landmark itself rises), and toe-off fitted on it lands at the tip's lift-off.
    (On clean geometry the plain hinge fit is right too; on MediaPipe's sample-clip feet it was
    ~4-12 ms early, see ``pivot_height_px``.)"""
    from gaitlab.analysis.events import pivot_height_px, refine_contact
    from gaitlab.core.config import EventConfig

    tip_off_s = 0.3
    t, sig = _rollover_foot(fps, tip_off_s=tip_off_s)
    on = np.flatnonzero(sig.height_px < sig.threshold_px)
    first, last = int(on[0]) + 1, int(on[-1])  # the run starts after the clip's first frame
    # the toe landmark alone rises well before the tip leaves (the hazard being fixed)
    toe_h = 400.0 - sig.toe_px[:, 1]
    assert toe_h[t < tip_off_s].max() - toe_h[t < 0.2].min() > 3.0
    pivot_h, offset_px = pivot_height_px(sig, first, last, fs_hz=fps)
    assert offset_px > 0
    rolling = (t > 0.2) & (t < tip_off_s)
    assert np.ptp(pivot_h[rolling]) < 1.0 < np.ptp(toe_h[rolling])  # the pivot stays put, the toe point rises
    ev = refine_contact(sig, first, last, config=EventConfig(), fs_hz=fps)
    assert abs(ev["toe_off_s"] - tip_off_s) < 0.5 / fps


def _hovering_foot(fps, *, toe_off_s=0.3, threshold_px=15.0):
    """A foot on the ground until ``toe_off_s`` whose landmarks the pose model draws too high for the last
    60 ms of the contact: creeping up to 1.2x the contact threshold by 30 ms before toe-off, then hovering
    there until the foot really leaves (600 px/s + 30000 px/s^2), as MediaPipe's foot did on a re-rendered
    sample sprinter (branch `pelvis`: toe-offs 45 and 62 ms early). Image y grows down; ground y = 400; the
    foot does not roll."""
    from gaitlab.analysis.events import FootSignal

    t = np.arange(int(0.45 * fps)) / fps
    t_ramp, t_hover = toe_off_s - 0.06, toe_off_s - 0.03
    drawn_up = 1.2 * threshold_px * np.clip((t - t_ramp) / (t_hover - t_ramp), 0.0, 1.0)
    s = np.clip(t - toe_off_s, 0.0, None)
    height = np.where(t < 0.05, 400.0 * (0.05 - t), 0.0) + drawn_up + 600.0 * s + 30000.0 * s * s
    toe = np.stack([np.full_like(t, 300.0), 400.0 - height], axis=1)
    heel = toe + np.array([-50.0, 0.0])
    ground = np.full_like(t, 400.0)
    return t, FootSignal(
        time_s=t,
        height_px=height,
        visibility=np.ones_like(t),
        threshold_px=threshold_px,
        ground_px=ground,
        toe_px=toe,
        heel_px=heel,
    )


@pytest.mark.parametrize("fps", [240.0, 120.0])
def test_toe_off_found_when_the_foot_hovers_above_the_threshold_before_leaving(fps):
    """Hysteresis: the contact lasts until the foot rises clearly above the threshold, so the toe-off
    fit can reach the real lift-off instead of stopping where the drawn foot first crossed the threshold."""
    from gaitlab.analysis.events import candidate_contacts, refine_contact
    from gaitlab.core.config import EventConfig

    toe_off_s = 0.3
    t, sig = _hovering_foot(fps, toe_off_s=toe_off_s)
    ((first, last, exit_last),) = candidate_contacts(sig, config=EventConfig())
    assert t[last] < toe_off_s - 0.03 < toe_off_s <= t[exit_last]  # the plain threshold ends it >= 30 ms early
    ev = refine_contact(sig, first, last, config=EventConfig(), fs_hz=fps, exit_last=exit_last)
    # the drawn ramp and hover bend the ground part of the hinge model: within 1.5 frames (6.25 ms at
    # 240 fps; measured 5.6 ms there, 3.1 ms at 120 fps)
    assert abs(ev["toe_off_s"] - toe_off_s) < 1.5 / fps
    plain = refine_contact(sig, first, last, config=EventConfig(), fs_hz=fps)  # without the hysteresis exit
    assert plain["toe_off_s"] < toe_off_s - 0.05  # 67-68 ms early
