"""Synthetic sprint model, renderer and sample-clip generator (gaitlab.evaluation.synth)."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from gaitlab.evaluation.synth.gait_model import SIDES, GaitModel
from gaitlab.evaluation.synth.geometry import hip_flexion_deg
from gaitlab.evaluation.synth.params import GaitParams
from gaitlab.evaluation.synth.truth import gait_events

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "sprint_240fps_capture.mp4"


def _cv2_usable() -> bool:
    try:
        import cv2
    except ImportError:
        return False
    return hasattr(cv2, "fillPoly")  # a broken install imports as an empty namespace package


needs_cv2 = pytest.mark.skipif(not _cv2_usable(), reason="OpenCV (cv2) is not usable in this environment")


@pytest.fixture(scope="module")
def model() -> GaitModel:
    return GaitModel()


def _other(side):
    return "right" if side == "left" else "left"


# --------------------------------------------------------------------------- gait model


def test_stance_foot_planted(model):
    p = model.p
    for side in SIDES:
        td = model.touchdown_offset_s(side) + model.T  # second stride
        t = np.linspace(td, td + p.contact_time_s, 501)
        leg = model.leg(t, side)
        toe, heel = leg["foot_index"], leg["heel"]
        assert np.allclose(toe[:, 1], 0.0, atol=1e-12)
        assert np.ptp(toe[:, 0]) < 1e-9  # fixed x
        assert heel[:, 1].min() >= -1e-12
        assert heel[:, 1].min() < 1e-9  # heel down at mid-stance
        # the knee is consistent with the segment lengths
        assert np.allclose(np.hypot(*(leg["knee"] - leg["hip"]).T), p.thigh_length_m, atol=1e-9)
        assert np.allclose(np.hypot(*(leg["ankle"] - leg["knee"]).T), p.shank_length_m, atol=1e-9)


def test_swing_foot_clearly_above_ground(model):
    for side in SIDES:
        to = model.touchdown_offset_s(side) + model.c
        t = np.linspace(to, to + model.S, 4001)[1:-1]
        leg = model.leg(t, side)
        assert leg["foot_index"][:, 1].min() > 0
        assert leg["heel"][:, 1].min() > 0
        mid = (t > to + 0.03) & (t < to + model.S - 0.03)
        assert leg["foot_index"][mid, 1].min() > 0.05  # clearly above ground away from the events
        # the toe reaches the ground moving down (it crosses y=0 at touchdown, not creeping)
        y = model.leg(np.array([to + model.S - 1e-4]), side)["foot_index"][0, 1]
        assert y > 0.5 * model.p.touchdown_toe_speed_m_s * 1e-4


def test_contact_and_flight_times_from_foot_height(model):
    """Contact = toe on the ground, measured from the sampled foot, equals the parameters."""
    p = model.p
    fs = 200_000.0
    t = np.arange(0.0, 2 * model.T, 1 / fs)
    on = {s: model.leg(t, s)["foot_index"][:, 1] <= 1e-12 for s in SIDES}
    events = []
    for s in SIDES:
        d = np.diff(on[s].astype(int))
        events += [(t[i + 1], s, "td") for i in np.where(d == 1)[0]]
        events += [(t[i + 1], s, "to") for i in np.where(d == -1)[0]]
    events.sort()
    contacts, flights = [], []
    for (ta, sa, ka), (tb, sb, kb) in pairwise(events):
        if ka == "td" and kb == "to" and sa == sb:
            contacts.append(tb - ta)
        if ka == "to" and kb == "td" and sa != sb:
            flights.append(tb - ta)
    assert len(contacts) >= 2 and len(flights) >= 2
    assert np.allclose(contacts, p.contact_time_s, atol=2 / fs)
    assert np.allclose(flights, p.flight_time_s, atol=2 / fs)
    assert p.step_frequency_hz == pytest.approx(1 / (p.contact_time_s + p.flight_time_s))


def test_events_schedule(model):
    ev = gait_events(model, 0.0, 1.5)
    p = model.p
    for c in ev["contacts"]:
        assert c["toe_off_s"] - c["touchdown_s"] == pytest.approx(p.contact_time_s)
        assert 0.0 <= c["touchdown_s"] and c["toe_off_s"] <= 1.5
    tds = sorted((c["touchdown_s"], c["side"]) for c in ev["contacts"])
    assert all(a[1] != b[1] for a, b in pairwise(tds))  # alternate feet
    assert np.allclose(np.diff([x[0] for x in tds]), p.step_time_s)


def _hip_flexion_from_points(model, t, side):
    j = model.joints(t)
    hip_mid = 0.5 * (j["left_hip"] + j["right_hip"])
    sh_mid = 0.5 * (j["left_shoulder"] + j["right_shoulder"])
    return hip_flexion_deg(hip_mid, sh_mid, j[f"{side}_knee"])


def test_truth_peak_velocity_matches_finite_differences(model):
    ev = gait_events(model, 0.0, 1.2)
    assert {s["side"] for s in ev["swings"]} == set(SIDES)
    h = 1e-5
    for sw in ev["swings"]:
        side, tp = sw["side"], sw["peak_hip_flexion_velocity_s"]
        fd = (
            _hip_flexion_from_points(model, np.array([tp + h]), side)
            - _hip_flexion_from_points(model, np.array([tp - h]), side)
        )[0] / (2 * h)
        assert fd == pytest.approx(sw["peak_hip_flexion_velocity_deg_s"], rel=1e-5)
        # it is the maximum between toe-off and maximal hip flexion (checked on a 10 kHz grid by FD)
        tt = np.arange(sw["toe_off_s"], sw["max_hip_flexion_s"], 1e-4)
        a = _hip_flexion_from_points(model, tt, side)
        v = np.gradient(a, tt)
        assert v.max() <= sw["peak_hip_flexion_velocity_deg_s"] * (1 + 1e-3)
        assert sw["toe_off_s"] < tp < sw["max_hip_flexion_s"] < sw["next_touchdown_s"]
        # maximal hip flexion is a maximum of the angle from points
        am = _hip_flexion_from_points(model, np.array([sw["max_hip_flexion_s"] + d for d in (-1e-3, 0, 1e-3)]), side)
        assert am[1] >= am[0] and am[1] >= am[2]
        assert am[1] == pytest.approx(sw["max_hip_flexion_deg"], abs=1e-6)
        assert 600 <= sw["peak_hip_flexion_velocity_deg_s"] <= 950
    by_side = {s["side"]: s["peak_hip_flexion_velocity_deg_s"] for s in ev["swings"]}
    assert by_side["right"] < by_side["left"]  # the default right swing is slower


def test_no_velocity_jumps_at_events(model):
    """Thigh angle and knee flexion rates are continuous at touchdown and toe-off."""
    eps, h = 2e-6, 1e-7
    for side in SIDES:
        td = model.touchdown_offset_s(side) + model.T
        for te in (td, td + model.c):
            for key in ("theta", "kappa"):

                def rate(t0, sign, side=side, key=key):
                    a = model.leg(np.array([t0, t0 + sign * h]), side)[key]
                    return sign * (a[1] - a[0]) / h

                before = rate(te - eps, -1)
                after = rate(te + eps, +1)
                assert np.degrees(abs(before - after)) < 5.0, (side, te, key)


def test_unreachable_stance_is_rejected():
    with pytest.raises(ValueError):
        GaitModel(GaitParams(touchdown_distance_m=0.9))


# --------------------------------------------------------------------------- renderer


@needs_cv2
def test_render_figure_draws_both_sides():
    from gaitlab.evaluation.synth.render import render_figure
    from gaitlab.evaluation.synth.scene import TrackBackground

    m = GaitModel()
    j = m.joints(np.array([0.3]))
    s, gy, hx = 100.0, 170.0, 120.0
    px = {k: (hx + (v[0, 0] - m.p.speed_m_s * 0.3) * s, gy - v[0, 1] * s) for k, v in j.items()}
    bg = TrackBackground(240, 200, px_per_m=s, ground_y=gy, max_pan_px=50)
    img0 = bg.frame(10.0)
    img = render_figure(img0, px, near_side="right", px_per_m=s)
    assert img.shape == img0.shape and img.dtype == np.uint8
    diff = np.abs(img.astype(int) - img0.astype(int)).sum(-1) > 30
    ys, _ = np.nonzero(diff)
    assert ys.min() < px["nose"][1] and ys.max() > gy - 5  # head to feet painted
    with pytest.raises(ValueError):
        render_figure(img0, px, near_side="front")


# --------------------------------------------------------------------------- sample clip


def _run_script(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_video.py"), *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.integration
@needs_cv2
def test_small_sample_clip_reads_back(tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "tiny.mp4"
    small = ["--capture-fps", "120", "--duration-s", "0.5", "--size", "320x180"]
    _run_script(*small, "--out", str(out))
    with av.open(str(out)) as c:
        assert c.metadata.get("com.android.capture.fps") == "120.000000"
        st = c.streams.video[0]
        assert st.codec_context.name == "h264"
        assert (st.width, st.height) == (320, 180)
        assert float(st.average_rate) == pytest.approx(30.0)
        frames = list(c.decode(video=0))
    assert len(frames) == 60
    assert frames[0].format.name == "yuv420p"
    assert [f.time for f in frames[:3]] == pytest.approx([0.0, 1 / 30, 2 / 30])
    truth = json.loads((tmp_path / "tiny.truth.json").read_text())
    assert truth["capture_fps"] == 120.0 and truth["stored_fps"] == 30.0
    assert truth["n_frames"] == 60 and truth["frame_size"] == [320, 180]
    t_end = (truth["n_frames"] - 1) / truth["capture_fps"]
    assert truth["contacts"], "0.5 s holds at least one full contact"
    for c in truth["contacts"]:
        assert 0 <= c["touchdown_s"] < c["toe_off_s"] <= t_end
        assert c["toe_off_s"] - c["touchdown_s"] == pytest.approx(truth["params"]["contact_time_s"], abs=1e-6)
    # reproducible: a rerun writes the same truth and (x264 being not quite bit-exact) nearly the same pixels
    out2 = tmp_path / "tiny2.mp4"
    _run_script(*small, "--out", str(out2))
    assert (tmp_path / "tiny2.truth.json").read_text() == (tmp_path / "tiny.truth.json").read_text()
    with av.open(str(out2)) as c:
        frames2 = list(c.decode(video=0))
    for a, b in zip(frames[::10], frames2[::10]):
        d = np.abs(a.to_ndarray(format="gray").astype(int) - b.to_ndarray(format="gray").astype(int))
        assert d.mean() < 3.0


@needs_cv2
def test_rendering_is_bit_exact():
    from gaitlab.evaluation.synth.render import render_figure
    from gaitlab.evaluation.synth.scene import TrackBackground

    m = GaitModel()
    j = m.joints(np.array([0.41]))
    px = {k: (150 + (v[0, 0] - m.p.speed_m_s * 0.41) * 90.0, 160 - v[0, 1] * 90.0) for k, v in j.items()}

    def draw():
        bg = TrackBackground(320, 180, px_per_m=90.0, ground_y=160.0, max_pan_px=40, seed=3)
        return render_figure(bg.frame(12.3), px, near_side="right", px_per_m=90.0)

    assert np.array_equal(draw(), draw())


@pytest.mark.integration
@pytest.mark.skipif(not SAMPLE.exists(), reason="committed sample not present")
def test_committed_sample_matches_its_truth():
    av = pytest.importorskip("av")
    truth = json.loads(SAMPLE.with_name(SAMPLE.stem + ".truth.json").read_text())
    with av.open(str(SAMPLE)) as c:
        assert c.metadata.get("com.android.capture.fps") == "240.000000"
        st = c.streams.video[0]
        assert [st.width, st.height] == truth["frame_size"]
        n = sum(1 for _ in c.demux(st) if _.size)
    assert n == truth["n_frames"]
    assert truth["capture_fps"] == 240.0 and truth["stored_fps"] == 30.0
    assert len(truth["contacts"]) >= 8
    sides = {s["side"] for s in truth["swings"]}
    assert sides == {"left", "right"}
    assert SAMPLE.stat().st_size < 8e6
