"""The overlay draws what the tables say, where the athlete is, and nothing when there is no pose.

Expected images are built independently with the drawing primitives (or with
plain OpenCV calls) on a blank frame and compared pixel for pixel.
"""

import numpy as np
import pandas as pd
import pytest

from gaitlab.outputs.annotate import FrameAnnotator, ViewTransform
from gaitlab.outputs.draw import (
    FAR_RGB,
    FLAG_RGB,
    NEAR_RGB,
    TEXT_RGB,
    TIMELINE_BG_RGB,
    draw_angle_arc,
    draw_contact_indicator,
    draw_segment,
    timeline_x,
)
from gaitlab.outputs.overlay import overlay_from_tables

W, H = 640, 360
# A side-view runner in oriented pixels (+x forward): near (left) thigh forward, far (right) thigh back.
POSE = {
    "left_shoulder": (300, 80),
    "right_shoulder": (304, 80),
    "left_hip": (300, 180),
    "right_hip": (304, 180),
    "left_knee": (360, 230),
    "right_knee": (270, 260),
    "left_ankle": (350, 300),
    "right_ankle": (240, 320),
    "left_heel": (340, 305),
    "right_heel": (230, 325),
    "left_foot_index": (370, 305),
    "right_foot_index": (255, 330),
}


def tables(n=10, fps=100.0, detected=True, contacts=(), flags=(), direction="+x (left-to-right)"):
    t = np.arange(n) / fps
    frames = {"frame_index": np.arange(n), "time_s": t, "pose_detected": [detected] * n}
    for name, (x, y) in POSE.items():
        frames[f"{name}_x_px"] = np.full(n, float(x))
        frames[f"{name}_y_px"] = np.full(n, float(y))
    for side in ("left", "right"):
        frames[f"hip_flexion_deg_{side}"] = np.full(n, 42.0 if side == "left" else -20.0)
        frames[f"hip_flexion_velocity_deg_s_{side}"] = np.full(n, 650.0 if side == "left" else -120.0)
    contacts_df = pd.DataFrame(list(contacts), columns=["side", "touchdown_s", "toe_off_s", "contact_time_s"])
    steps = pd.DataFrame(
        {
            "side": ["left"],
            "peak_swing_hip_flexion_velocity_s": [0.05],
            "peak_swing_hip_flexion_velocity_deg_s": [712.0],
        }
    )
    summary = {
        "frame_size_px": [W, H],
        "running_direction_in_image": direction,
        "leg_of_side": {"left": "near", "right": "far"},
        "flags": list(flags),
    }
    return pd.DataFrame(frames), contacts_df, steps, summary


def blank():
    return np.zeros((H, W, 3), np.uint8)


def has_color(img, color, region=None):
    sub = img if region is None else img[region[1] : region[3], region[0] : region[2]]
    return bool(np.any(np.all(sub == np.array(color, np.uint8), axis=-1)))


def test_skeleton_equals_primitives_and_colours_legs():
    ov = overlay_from_tables(*tables())
    ann = FrameAnnotator(ov, out_size_px=(W, H))
    got = blank()
    ann.draw_skeleton(got, 0, ViewTransform())
    # independent expectation: near leg in NEAR colour, far in FAR colour, thighs at the table's points
    expected = blank()
    t = ann.thick
    for a, b in (
        ("left_shoulder", "right_shoulder"),
        ("left_hip", "right_hip"),
        ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"),
    ):
        draw_segment(expected, POSE[a], POSE[b], (235, 235, 235), t)
    for side, color in (("right", FAR_RGB), ("left", NEAR_RGB)):
        for a, b in (
            ("hip", "knee"),
            ("knee", "ankle"),
            ("ankle", "heel"),
            ("heel", "foot_index"),
            ("ankle", "foot_index"),
        ):
            draw_segment(expected, POSE[f"{side}_{a}"], POSE[f"{side}_{b}"], color, ann.leg_thick)
        from gaitlab.outputs.draw import draw_joint

        for p in ("hip", "knee", "ankle"):
            draw_joint(expected, POSE[f"{side}_{p}"], color, ann.leg_thick + 1)
    assert np.array_equal(got, expected)
    mid_near = ((300 + 360) // 2, (180 + 230) // 2)
    assert tuple(got[mid_near[1], mid_near[0]]) == NEAR_RGB
    mid_far = ((304 + 270) // 2, (180 + 260) // 2)
    assert tuple(got[mid_far[1], mid_far[0]]) == FAR_RGB


def test_right_to_left_clip_is_drawn_unmirrored():
    ov = overlay_from_tables(*tables(direction="-x (right-to-left)"))
    img = blank()
    FrameAnnotator(ov, out_size_px=(W, H)).draw_skeleton(img, 0, ViewTransform())
    x_mid, y_mid = (300 + 360) // 2, (180 + 230) // 2
    assert tuple(img[y_mid, (W - 1) - x_mid]) == NEAR_RGB  # where the athlete really is in the image
    assert tuple(img[y_mid, x_mid]) == (0, 0, 0)


def test_hip_arc_matches_primitive():
    ov = overlay_from_tables(*tables())
    ann = FrameAnnotator(ov, out_size_px=(W, H))
    got = blank()
    ann.draw_hip_arcs(got, 0, ViewTransform())
    # near leg arc: from the trunk-down direction (straight down, 90 deg in image angles) to the thigh
    trunk_down = np.array([302.0, 180.0]) - np.array([302.0, 80.0])
    thigh = np.array(POSE["left_knee"], float) - np.array(POSE["left_hip"], float)
    radius = int(np.clip(0.5 * np.linalg.norm(thigh), 10 * ann.s, 90 * ann.s))
    expected = blank()
    draw_angle_arc(
        expected,
        POSE["left_hip"],
        np.degrees(np.arctan2(trunk_down[1], trunk_down[0])),
        np.degrees(np.arctan2(thigh[1], thigh[0])),
        radius,
        NEAR_RGB,
        ann.thick,
    )
    # compare where only this arc is drawn: between 50 and 80 deg (clear of the trunk ray and the far leg's arc)
    yy, xx = np.mgrid[0:H, 0:W]
    ang = np.degrees(np.arctan2(yy - POSE["left_hip"][1], xx - POSE["left_hip"][0]))
    drawn = expected.any(axis=-1) & (ang > 50) & (ang < 80)
    assert drawn.sum() > 10
    assert np.array_equal(got[drawn], expected[drawn])
    # the live value and velocity printed for the near leg come from the table (42 deg, +650 deg/s)
    text = "hip 42 deg +650 deg/s"
    assert text in _labels_drawn(ann, 0)


def _labels_drawn(ann, row):
    """Texts that draw_hip_arcs and draw_panel pass to draw_text (spied)."""
    import gaitlab.outputs.annotate as mod

    seen = []
    original = mod.draw_text

    def spy(img, text, *a, **k):
        seen.append(text)
        return original(img, text, *a, **k)

    mod.draw_text = spy
    try:
        ann.draw_hip_arcs(blank(), row, ViewTransform())
        ann.draw_panel(blank(), float(ann.ov.time_s[row]))
    finally:
        mod.draw_text = original
    return seen


def test_no_pose_frame_draws_no_stale_skeleton():
    ov = overlay_from_tables(*tables(detected=False))  # landmarks present (interpolated) but no pose detected
    ann = FrameAnnotator(ov, out_size_px=(W, H))
    img = ann.annotate(blank(), 3)
    body = (200, 70, 420, 340)  # around every landmark
    assert not has_color(img, NEAR_RGB, body) and not has_color(img, FAR_RGB, body)
    # the "no pose" label is drawn exactly as the primitive draws it, centred under the top panels
    expected = blank()
    from gaitlab.outputs.draw import draw_text, text_ink

    text, font = "NO POSE in this frame", 1.2 * ann.font
    w, cap, desc = text_ink(text, font, ann.text_thick)
    x0, top = (W - w - 2 * ann.pad) // 2, ann.top_bottom + ann.margin
    draw_text(expected, text, (x0 + ann.pad, top + ann.pad), font, color=(230, 60, 60), thickness=ann.text_thick)
    box = np.s_[top + ann.pad : top + ann.pad + cap + desc, x0 + ann.pad : x0 + ann.pad + w]
    core = np.all(expected[box] == (230, 60, 60), axis=-1)  # the strokes' cores (edges blend with the backdrop)
    assert core.sum() > 50 and np.array_equal(np.all(img[box] == (230, 60, 60), axis=-1), core)
    # a frame the analysis has no row for is treated the same
    img2 = ann.annotate(blank(), 999, time_s=0.0)
    assert not has_color(img2, NEAR_RGB, body)


def test_contact_indicator_and_timeline_follow_contacts():
    contacts = [("left", 0.02, 0.06, 0.04)]
    ov = overlay_from_tables(*tables(n=10, fps=100.0, contacts=contacts))
    ann = FrameAnnotator(ov, out_size_px=(W, H))
    center, r = ann.indicator(0)  # first panel line: the near (left) foot

    on = ann.annotate(blank(), 3)  # t = 0.03 s: left foot on the ground
    air = ann.annotate(blank(), 8)  # t = 0.08 s: in the air
    exp_on = blank()
    draw_contact_indicator(exp_on, center, r, NEAR_RGB, True)
    assert tuple(on[center[1], center[0]]) == tuple(exp_on[center[1], center[0]]) == NEAR_RGB
    assert max(air[center[1], center[0]]) < 30  # ring: the centre stays the dark backdrop
    exp_air = blank()
    draw_contact_indicator(exp_air, center, r, NEAR_RGB, False)
    ring = np.all(exp_air == NEAR_RGB, axis=-1)
    assert ring.sum() > 4 and np.all(air[ring] == NEAR_RGB)  # ... inside the ring
    # timeline: the left row has a bar over the contact, the playhead sits at the frame's time
    y_row = H - ann.strip_h + ann.strip_h // 4
    x_bar = timeline_x(0.04, 0.0, 0.09, ann.label_w, W)
    x_free = timeline_x(0.085, 0.0, 0.09, ann.label_w, W)
    assert tuple(on[y_row, x_bar]) == NEAR_RGB
    assert tuple(air[y_row, x_free]) in (TIMELINE_BG_RGB, TEXT_RGB)
    x_play = timeline_x(0.08, 0.0, 0.09, ann.label_w, W)
    assert tuple(air[H - 2, x_play]) == TEXT_RGB
    # per leg: the current (else last) contact time in ms and the last swing peak, the tables' values
    labels = _labels_drawn(ann, 3)
    assert labels[-6:] == ["L near leg", "40 ms", "- deg/s", "R far leg", "- ms", "- deg/s"]  # peak at 0.05 s ahead
    assert _labels_drawn(ann, 8)[-6:] == ["L near leg", "40 ms", "712 deg/s", "R far leg", "- ms", "- deg/s"]


def test_flag_lines_only_when_flagged():
    flag = {"code": "slow_swing_velocity", "side": "right", "message": "..."}
    flagged_ann = FrameAnnotator(overlay_from_tables(*tables(flags=[flag])), out_size_px=(W, H))
    flagged = flagged_ann.annotate(blank(), 0)
    clean = FrameAnnotator(overlay_from_tables(*tables()), out_size_px=(W, H)).annotate(blank(), 0)
    assert flagged_ann.flag_lines == [("right", "FLAG right leg: slow swing velocity")]
    y, x = flagged_ann.counter_box.y1 + 3, flagged_ann.margin + 1  # under the counters
    red = (np.array(FLAG_RGB) * 0.9).astype(np.uint8)  # the flag backdrop blended over black
    assert np.abs(flagged[y, x].astype(int) - red).max() <= 1
    assert max(clean[y, x]) < 30


def test_crop_view_moves_and_scales_points():
    ov = overlay_from_tables(*tables())
    img = blank()
    view = ViewTransform(x0_px=200, y0_px=50, scale=2.0)
    FrameAnnotator(ov, out_size_px=(W, H)).draw_skeleton(img, 0, view)
    thigh_dir = np.array([60.0, 50.0]) / np.hypot(60, 50)
    p = np.array([(300 - 200) * 2, (180 - 50) * 2]) + thigh_dir * 40
    assert tuple(img[int(round(p[1])), int(round(p[0]))]) == NEAR_RGB


@pytest.mark.parametrize("missing", ["frames.csv", "summary.json"])
def test_load_overlay_names_missing_outputs(tmp_path, missing):
    from gaitlab.core.errors import BadInputError
    from gaitlab.outputs.overlay import load_overlay

    frames, contacts, steps, summary = tables()
    import json

    (tmp_path / "summary.json").write_text(json.dumps(summary))
    frames.to_csv(tmp_path / "frames.csv", index=False)
    contacts.to_csv(tmp_path / "contacts.csv", index=False)
    steps.to_csv(tmp_path / "steps.csv", index=False)
    load_overlay(tmp_path)  # complete: loads
    (tmp_path / missing).unlink()
    with pytest.raises(BadInputError, match=missing):
        load_overlay(tmp_path)


def test_repeated_frames_take_the_row_of_the_last_analyzed_frame_before_them():
    from gaitlab.outputs.overlay import OverlayData

    empty = pd.DataFrame(
        columns=["side", "touchdown_s", "toe_off_s", "contact_time_s", "peak_swing_hip_flexion_velocity_s"]
    )
    data = OverlayData(
        frame_size_px=(64, 48),
        frame_index=np.array([3, 0, 5]),
        time_s=np.zeros(3),
        detected=np.ones(3, bool),
        points={},
        hip_flexion_deg={},
        hip_flexion_velocity_deg_s={},
        contacts=empty,
        swing_peaks=empty,
        leg_of_side={},
    )
    # rows are in table order (frame 3 is row 0); 1-2 repeat frame 0, 4 repeats frame 3
    assert [data.row(f) for f in range(7)] == [1, 1, 1, 0, 0, 2, None]
    assert data.row(-1) is None


@pytest.mark.parametrize(
    ("analysis", "given", "text"),
    [
        # the analysis's own time base is shown, whatever the clip's probe says (here: a 25 fps screen
        # recording stored at 30 fps, timed from its repeated frames; a 240 fps clip stored at 30 fps)
        ({"capture_fps": 25.0, "slowmo_factor": 1.0}, None, "0.900 s   frame 9"),
        ({"capture_fps": 240.0, "slowmo_factor": 8.0}, None, "0.900 s   frame 9   8x slow-mo"),
        # gaitlab annotate --capture-fps: the same frames counted at another rate
        ({"capture_fps": 25.0, "slowmo_factor": 1.0}, 250.0, "0.090 s   frame 9   10x slow-mo"),
        ({"capture_fps": 240.0, "slowmo_factor": 8.0}, 240.0, "0.900 s   frame 9   8x slow-mo"),
    ],
)
def test_time_counter_shows_the_analysis_time_base(analysis, given, text):
    frames, contacts, steps, summary = tables(n=10, fps=10.0)
    summary.update(analysis)
    ann = FrameAnnotator(overlay_from_tables(frames, contacts, steps, summary), out_size_px=(W, H), capture_fps=given)
    assert ann.counter_text(9, 0.9) == text
    # a frame the analysis has no row for is timed on the clip's clock (stored time / clock_slowmo)
    clocked = FrameAnnotator(
        overlay_from_tables(frames, contacts, steps, summary), out_size_px=(W, H), clock_slowmo=1.0
    )
    seen = []
    clocked.draw_counters = lambda img, index, t: seen.append(clocked.counter_text(index, t))
    clocked.annotate(blank(), 999, time_s=2.0)
    assert seen == [f"{2.0 / analysis['slowmo_factor']:.3f} s   frame 999" + clocked.slow_text]
