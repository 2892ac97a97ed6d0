"""Team trends compare like with like: a leg with itself filmed from the same side (near with near).

The far leg's swing velocity reads 6-10 % low, so an athlete filmed from the
left in one session and from the right in the next would show a false drop on
one leg and a false rise on the other if the sessions were joined. Summaries
here are synthetic summary.json documents (no video, no pose).
"""

import json
import re

from gaitlab.team.batch import settings_key
from gaitlab.team.report import team_report_html, trend_filming
from gaitlab.team.table import COLUMNS, failure_row, summary_row, table_csv_text, with_side_columns
from gaitlab.team.worker import VideoOptions

VEL = "peak_swing_hip_flexion_velocity_deg_s"
TRUE_VELOCITY = 800.0  # both legs, every session: nothing changes
FAR_READS = 0.93  # the far leg reads 7 % low


def _stat(mean, half=20.0, n=6):
    return {"mean": mean, "ci95_low": mean - half, "ci95_high": mean + half, "n": n}


def _summary(near, *, flags=()):
    """A summary.json of a clip filmed with ``near`` nearer the camera: the far leg reads low."""
    legs = {}
    for leg in ("left", "right"):
        v = TRUE_VELOCITY * (1.0 if leg == near else FAR_READS)
        legs[leg] = {VEL: _stat(v), "contact_time_s": _stat(0.105, half=0.007)}
    return {
        "status": "ok",
        "status_reason": "",
        "flags": [{"side": s, "code": c} for s, c in flags],
        "capture_fps": 240.0,
        "n_contacts": 8,
        "near_side": near,
        "leg_of_side": {near: "near", ("right" if near == "left" else "left"): "far"},
        "legs": legs,
    }


def _row(tmp_path, session, near, **kw):
    return summary_row(
        _summary(near, **kw),
        athlete="Ann",
        session=session,
        clip=f"{session}.mp4",
        clip_sha256="0" * 64,
        clip_out_dir=tmp_path / session,
        batch_out_dir=tmp_path,
    )


def _trend_lines(page):
    """leg -> (title of its trend line, the line's y values) for the swing-velocity chart."""
    chart = page[page.index("Peak swing hip-flexion velocity [deg/s]") :].split("</svg>")[0]
    out = {}
    for points, leg, title in re.findall(r'<polyline points="([^"]*)"[^>]*data-leg="(\w+)"><title>([^<]*)', chart):
        out[leg] = (title, [float(p.split(",")[1]) for p in points.split()])
    return out


def test_table_says_which_leg_was_near(tmp_path):
    row = _row(tmp_path, "2024-05-01", "left")
    assert (row["near_side"], row["left_filmed_as"], row["right_filmed_as"]) == ("left", "near", "far")
    header, line = table_csv_text([row]).splitlines()
    cells = dict(zip(header.split(","), line.split(",")))
    assert (cells["near_side"], cells["left_filmed_as"], cells["right_filmed_as"]) == ("left", "near", "far")
    assert {"near_side", "left_filmed_as", "right_filmed_as"} <= set(COLUMNS)
    failed = failure_row(athlete="Ann", session="2024-05-01", clip="x.mp4", reason="not a video")
    assert failed["near_side"] is None and failed["left_filmed_as"] is None


def test_two_sessions_filmed_from_opposite_sides_make_no_false_trend(tmp_path):
    rows = [_row(tmp_path, "2024-05-01", "left"), _row(tmp_path, "2024-05-08", "right")]
    # Joined naively, the left leg would "drop" 800 -> 744 deg/s and the right "rise" 744 -> 800.
    assert rows[0][f"left_{VEL}"] > rows[1][f"left_{VEL}"] * 1.05
    page = team_report_html(rows)
    assert "<polyline" not in page, "no line joins a leg filmed near with the same leg filmed far"
    for leg in ("Left", "Right"):
        assert (
            f"{leg} leg filmed as near leg on 1 session and as far leg on 1 session: trend uses the 1 near session."
            in page
        )
    assert trend_filming(rows, "left")[0] == "near" and trend_filming(rows, "right")[0] == "near"


def test_trend_uses_the_sessions_filmed_alike_and_flags_are_counted_per_side(tmp_path):
    # Left near twice, then far once (its velocity reads 7 % low there and a flag is raised on it).
    rows = [
        _row(tmp_path, "2024-05-01", "left"),
        _row(tmp_path, "2024-05-08", "left"),
        _row(tmp_path, "2024-05-15", "right", flags=[("left", "slow_swing_velocity")]),
    ]
    page = team_report_html(rows)
    left, right = "Left leg filmed as near leg on 2 sessions", "Right leg filmed as near leg on 1 session"
    assert f"{left} and as far leg on 1 session: trend uses the 2 near sessions." in page
    assert f"{right} and as far leg on 2 sessions: trend uses the 2 far sessions." in page
    lines = _trend_lines(page)
    left_title, left_y = lines["left"]
    right_title, right_y = lines["right"]
    assert left_title == "left leg as near leg: session means 800 to 800 deg/s"
    assert right_title == "right leg as far leg: session means 744 to 744 deg/s"
    assert len(left_y) == len(right_y) == 2 and len(set(left_y)) == len(set(right_y)) == 1, "flat: no false trend"
    assert "left as far leg: slow_swing_velocity in 1 of 1 session" in page
    # per chart with values (swing velocity, contact time): the left leg far once, the right leg near once
    assert page.count("(not in the line)") == 2 * 2


def test_contact_times_are_shown_in_ms(tmp_path):
    page = team_report_html([_row(tmp_path, "2024-05-01", "left")])
    assert "Ground contact time L [ms] (95% CI)" in page and "Ground contact time [ms]" in page
    assert ">105 [98, 112]</td>" in page
    assert 'data-v="0.105"' in page, "the sort key keeps the CSV's seconds"
    assert "[s]" not in page


def test_a_row_stored_before_the_side_columns_gets_them_from_its_summary(tmp_path):
    old = {k: v for k, v in _row(tmp_path, "2024-05-01", "right").items() if "near" not in k and "filmed" not in k}
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "summary.json").write_text(json.dumps(_summary("right")))
    row = with_side_columns(old, tmp_path / "clip")
    assert (row["near_side"], row["left_filmed_as"], row["right_filmed_as"]) == ("right", "far", "near")
    failed = {k: v for k, v in failure_row(athlete="A", session="s", clip="c", reason="r").items() if k != "near_side"}
    assert with_side_columns(failed, tmp_path / "clip")["near_side"] is None, "a failed clip's folder is not read"


def test_settings_key_counts_the_annotated_video_only_when_made():
    from gaitlab.core.config import AnalysisConfig
    from gaitlab.pose.landmarker import PoseSettings

    base = settings_key(PoseSettings(), AnalysisConfig())
    assert settings_key(PoseSettings(), AnalysisConfig(), video=VideoOptions()) == base, "finished batches stay done"
    assert settings_key(PoseSettings(), AnalysisConfig(), video=VideoOptions(slowmo_factor=4.0)) == base
    annotated = settings_key(PoseSettings(), AnalysisConfig(), video=VideoOptions(annotate=True))
    assert annotated != base
    assert settings_key(PoseSettings(), AnalysisConfig(), video=VideoOptions(annotate=True, crop=True)) != annotated
