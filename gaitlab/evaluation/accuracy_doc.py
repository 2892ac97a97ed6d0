"""The accuracy report: tables, target checks and notes of docs/accuracy.md from the accuracy rows.

``scripts/evaluate_accuracy.py`` collects the rows (``gaitlab.evaluation.accuracy``, ``accuracy_video``,
``footnet``, ``real_labels``) and formats them with this module.
"""

from __future__ import annotations

import math

import numpy as np

from gaitlab.core import columns as col
from gaitlab.pose import extract

COLUMNS = [  # (key, header, format)
    ("trial", "trial", "{}"),
    ("source", "source", "{}"),
    ("model", "model", "{}"),
    ("camera", "camera", "{}"),
    ("fps", "fps", "{:.0f}"),
    ("contacts_true", "true", "{}"),
    ("contacts_found", "found", "{}"),
    ("missed", "missed", "{}"),
    ("extra", "extra", "{}"),
    ("true_contact_time_mean_ms", "true CT ms", "{:.1f}"),
    ("touchdown_mean_ms", "TD mean", "{:+.1f}"),
    ("touchdown_sd_ms", "TD SD", "{:.1f}"),
    ("touchdown_mae_ms", "TD MAE", "{:.1f}"),
    ("toe_off_mean_ms", "TO mean", "{:+.1f}"),
    ("toe_off_sd_ms", "TO SD", "{:.1f}"),
    ("toe_off_mae_ms", "TO MAE", "{:.1f}"),
    ("contact_time_mae_ms", "CT MAE", "{:.1f}"),
    ("trial_mean_contact_time_error_ms", "CT trial-mean err", "{:+.1f}"),
    ("flight_time_mae_ms", "FT MAE", "{:.1f}"),
    ("step_frequency_error_pct", "SF err %", "{:+.2f}"),
    ("hip_flexion_rmse_deg", "hip RMSE deg", "{:.1f}"),
    ("hip_flexion_rmse_near_deg", "near hip RMSE", "{:.1f}"),
    ("peak_swing_velocity_error_pct", "pk vel err %", "{:.1f}"),
    ("peak_swing_velocity_error_near_pct", "near", "{:.1f}"),
    ("peak_swing_velocity_error_far_pct", "far", "{:.1f}"),
    ("scale_error_pct", "scale err %", "{:+.1f}"),
    ("speed_error_pct", "speed err %", "{:+.1f}"),
    ("step_length_error_pct", "step len err %", "{:+.1f}"),
    ("speed_exact_scale_error_pct", "exact-scale speed %", "{:+.1f}"),
    ("step_length_exact_scale_error_pct", "step len %", "{:+.1f}"),
    ("pose_detected_frac", "pose found", "{:.0%}"),
]


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return fmt.format(value)


REAL_COLUMNS = [  # (key, header, format)
    ("trial", "clip", "{}"),
    ("model", "model", "{}"),
    ("fps", "fps", "{:.2f}"),
    ("events_labelled", "events", "{}"),
    ("events_within_1_frame", "within 1 frame", "{}"),
    ("within_1_frame_pct", "% within 1 frame", "{:.0f}"),
    ("events_within_3_frames", "within 3 frames", "{}"),
    ("extra", "extra", "{}"),
    ("event_mae_frames", "event MAE frames", "{:.2f}"),
    ("labelled_contact_time_mean_ms", "labelled CT ms", "{:.1f}"),
    ("contact_time_mean_error_ms", "CT mean err ms", "{:+.1f}"),
    ("contact_time_mean_error_frames", "CT mean err frames", "{:+.2f}"),
]


def markdown_table(rows: list[dict], columns=None) -> str:
    columns = columns or COLUMNS
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r.get(k), f) for k, _, f in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def real_table(rows: list[dict]) -> str:
    shown = [
        {**r, "within_1_frame_pct": 100.0 * r["events_within_1_frame"] / r["events_labelled"]}
        for r in rows
        if r["events_labelled"]
    ]
    return markdown_table(shown, REAL_COLUMNS) if shown else "not run"


def _label(r: dict) -> str:
    camera = f", {r['camera']} camera" if r.get("camera") == "panning" else ""
    return f"{r['trial']}" + (f" ({r['model']}{camera})" if r.get("model") else "") + f" at {r['fps']:.0f} fps"


def _check(name: str, rows: list[dict], key: str, limit: float, *, absolute: bool = False) -> str:
    vals = [(_label(r), r.get(key)) for r in rows]
    vals = [(label, v) for label, v in vals if v is not None and math.isfinite(v)]
    if not vals:
        return f"- {name}: " + ("**MISSED** (no value: no contacts matched)" if rows else "not measured")
    bad = [(label, v) for label, v in vals if (abs(v) if absolute else v) > limit]
    worst = max(vals, key=lambda x: abs(x[1]))
    if not bad:
        return f"- {name}: **met** (worst {worst[1]:.1f}, {worst[0]})"
    return f"- {name}: **MISSED** (" + "; ".join(f"{label}: {v:.1f}" for label, v in bad) + ")"


def real_checks(rows: list[dict]) -> list[str]:
    """The real-clip targets, per labelled clip and pose model."""
    real = [r for r in rows if r["source"] == "real" and r["events_labelled"]]
    if not real:
        return ["- real clips: not measured"]
    tests = [  # name, value of a row (None = no value), limit met
        (
            "real clips, >= 90 % of labelled events within 1 frame",
            "{:.0f} %",
            lambda r: 100.0 * r["events_within_1_frame"] / r["events_labelled"],
            lambda v: v >= 90.0,
        ),
        (
            "real clips, extra contacts <= 10 % of the labelled contacts",
            "{:.0f} %",
            lambda r: 100.0 * r["extra"] / (r["events_labelled"] / 2),
            lambda v: v <= 10.0,
        ),
        (
            "real clips, mean contact time within 1 frame of the labelled mean",
            "{:+.2f} frames",
            lambda r: r["contact_time_mean_error_frames"],
            lambda v: abs(v) <= 1.0,
        ),
    ]
    out = []
    for name, fmt, value, ok in tests:
        vals = [(f"{r['trial']} ({r['model']})", value(r)) for r in real]
        bad = [(label, v) for label, v in vals if v is None or not ok(v)]
        listed = "; ".join(f"{label}: {'no value' if v is None else fmt.format(v)}" for label, v in (bad or vals))
        out.append(f"- {name}: " + (f"**MISSED** ({listed})" if bad else f"**met** ({listed})"))
    return out


def target_checks(rows: list[dict]) -> list[str]:
    m = [r for r in rows if r["source"] == "markers"]
    v = [r for r in rows if r["source"] == "video"]
    out = [
        _check(
            "algorithm-only >=120 Hz, contact-time MAE <= 3 ms",
            [r for r in m if r["fps"] >= 120],
            "contact_time_mae_ms",
            3.0,
        ),
        _check("algorithm-only >=120 Hz, no missed contacts", [r for r in m if r["fps"] >= 120], "missed", 0),
        _check("algorithm-only >=120 Hz, no extra contacts", [r for r in m if r["fps"] >= 120], "extra", 0),
        _check(
            "algorithm-only 60 Hz, contact-time MAE <= 6 ms",
            [r for r in m if r["fps"] == 60],
            "contact_time_mae_ms",
            6.0,
        ),
    ]
    for fps, limit in ((240, 5.0), (120, 8.0), (60, 12.0)):
        out.append(
            _check(
                f"video {fps} fps, contact-time MAE <= {limit:.0f} ms",
                [r for r in v if r["fps"] == fps],
                "contact_time_mae_ms",
                limit,
            )
        )
    out.append(
        _check(
            "video 60 fps, trial-mean contact time within 5 ms",
            [r for r in v if r["fps"] == 60],
            "trial_mean_contact_time_error_ms",
            5.0,
            absolute=True,
        )
    )
    mocap_rows = [r for r in rows if r["source"] in ("markers", "video")]
    out.append(_check("hip-flexion angle RMSE <= 5 deg (all mocap rows)", mocap_rows, "hip_flexion_rmse_deg", 5.0))
    out.append(
        _check(
            "peak swing hip-flexion velocity within 10 % (all mocap rows, >= 60 fps)",
            [r for r in mocap_rows if r["fps"] >= 60],
            "peak_swing_velocity_error_pct",
            10.0,
        )
    )
    return out + metre_checks(rows) + real_checks(rows)


def metre_checks(rows: list[dict]) -> list[str]:
    """Speed and step length against the mocap truth: video rows, per camera (issue 15's targets)."""
    out = []
    for scale, how in (("", ""), ("_exact_scale", ", exact scale (a reference length)")):
        for camera, speed, length in (("fixed", 3.0, 5.0), ("panning", 5.0, 8.0)):
            v = [r for r in rows if r["source"] == "video" and r.get("camera") == camera]
            name = f"video, {camera} camera{how}"
            for what, key, limit in (("speed", "speed", speed), ("step length", "step_length", length)):
                check = f"{name}: {what} within {limit:.0f} %"
                out.append(_check(check, v, f"{key}{scale}_error_pct", limit, absolute=True))
    return out


DOC_HEAD = """# Accuracy of gaitlab against motion capture, force plates and hand-labelled real clips

Generated by `python scripts/evaluate_accuracy.py` ({when}, {runtime:.0f} s{scope}). Do not edit by hand.

## How it is measured

Three kinds of truth, each scored on every run: motion capture with force plates
(`markers`, `video`), force-labelled treadmill runners (`markers`, FootNet) and
hand-labelled real phone clips (`real`).

- **Truth events**: ground contacts where the summed vertical force of the force
  plates exceeds 30 N, crossing times interpolated between analog samples
  (1500-2000 Hz). Only contacts with the whole foot on the plates are scored
  (`true` column); the lab's marked Foot Strike/Foot Off events are listed below
  for comparison.
- **Truth angles**: the joint centres (hip: functional SCoRE centre of pelvis and
  thigh clusters; knee/ankle: lateral epicondyle/malleolus markers, or functional
  centres when the marker set has none; heel; toe) projected on the sagittal
  plane at 250 Hz, low-pass 20 Hz, measured with gaitlab's own definitions
  (hip flexion = thigh vs trunk). Peak swing hip-flexion velocity per swing uses
  the truth toe-offs.
- **markers** rows (algorithm only): the same projected joint centres, resampled
  by cubic spline to the camera rate (camera clock offset 0.37 frame from the
  mocap clock), as perfect 2D landmarks at ~222 px/m (a 1.8 m athlete ~400 px
  tall), then `analyze_track` with default settings.
- **{footnet_name}** (markers rows at 200 Hz and resampled to 120/60 Hz): {footnet_note}
- **video** rows (pose + algorithm): {video_note}
- Errors are measured - truth. TD/TO = touchdown/toe-off (mean, SD, MAE in ms),
  CT = contact time, FT = flight time, SF = mean step frequency, hip RMSE = both
  legs over the scored span (near = the leg facing the camera), pk vel err = mean
  absolute per-swing error of the peak swing hip-flexion velocity (near, far: of
  each leg's swings; the JSON has each leg's per-swing range). `model` = the pose
  model (`-`: landmarks from no pose model).
  `extra` counts detections that match no force contact although the foot was
  over the plates; detections off the plates cannot be judged and are not counted.
- **Speed and step length** (`speed err %`, `step len err %`: error of the mean, % of the truth;
  `scale err %`: the pixels per metre found from the athlete's height against the camera's;
  `exact-scale speed %` and its `step len %`: the same runs with the camera's own pixels per metre, what an
  exactly marked reference length gives, (1 + error) x (1 + scale error) - 1), with
  the athlete's standing height given (`--athlete-height-m`; maxSprint: the C3D's 1.865 m; JA1: 1.78 m
  estimated from its static trial, C7 marker + 0.21 m, about +-0.03 m): truth speed = the pelvis
  (mid-hip joint centres) travel over each measured step (touchdown to the other foot's next one); truth
  step length = the distance along the running axis between consecutive complete force-plate contacts'
  foot positions (heel-toe mid-point, mean over the contact's middle 60 %), scored where both contacts
  were found in a row. `camera`: the video rows' `fixed` camera, or `panning` (follows the pelvis
  low-passed at 1 Hz; the background scrolls).
- **real** rows (pose + algorithm on real footage): {real_note}

## Results: motion capture and force plates

{table}

## Results: hand-labelled real clips

{real_table}

## Targets

{checks}

## Lab-marked events vs force plates

{lab}

## Notes

{notes}
"""


def lab_vs_force(truths: dict) -> str:
    lines = []
    for name, truth in truths.items():
        lab = truth.lab_contacts
        if not len(lab):
            lines.append(f"- {name}: no lab-marked events in the C3D.")
            continue
        diffs = []
        for _, lc in lab.iterrows():
            fc = truth.contacts[(truth.contacts["side"] == lc["side"])]
            if not len(fc):
                continue
            k = (fc[col.TOUCHDOWN_S] - lc[col.TOUCHDOWN_S]).abs().idxmin()
            if abs(fc.loc[k, col.TOUCHDOWN_S] - lc[col.TOUCHDOWN_S]) < 0.05:
                diffs.append(
                    (
                        1000 * (lc[col.TOUCHDOWN_S] - fc.loc[k, col.TOUCHDOWN_S]),
                        1000 * (lc[col.TOE_OFF_S] - fc.loc[k, col.TOE_OFF_S]),
                        1000 * lc[col.CONTACT_TIME_S],
                    )
                )
        if diffs:
            d = np.array(diffs)
            lines.append(
                f"- {name}: {len(d)} marked contacts, {d[:, 2].mean():.0f} ms on average; marked strike "
                f"{d[:, 0].mean():+.1f} ms and marked foot-off {d[:, 1].mean():+.1f} ms from the 30 N "
                f"force events."
            )
    return "\n".join(lines)


def video_notes(video_rows: list[dict]) -> list[str]:
    """What the pose stage did on each clip: frames with a pose, and whether the crop-follow pass was used."""
    if not video_rows:
        return []
    parts = [
        f"{_label(r)}: pose on {r['pose_detected_frac']:.0%} of frames, "
        f"athlete {r.get('athlete_height_px') or float('nan'):.0f} px tall, crop-follow pass "
        f"{'used' if r.get('pose_crop_pass') else 'not used'}"
        for r in video_rows
    ]
    return [
        "Pose stage per clip (from the analysis summary and pose-track metadata): " + "; ".join(parts) + ". "
        f"gaitlab runs its crop-follow pose pass only when the athlete is under "
        f"{extract.SMALL_ATHLETE_HEIGHT_FRAC:.0%} of the frame height or well seen on under "
        f"{extract.MIN_GOOD_FRAC:.0%} of frames in the full-frame pass (`gaitlab.pose.extract`); frames without a "
        "pose leave gaps the events cannot bridge."
    ]


def fixed_drifts(rows: list[dict], source: str) -> list[tuple[str, float | None]]:
    """(row label, ``stance_toe_drift_pct``) of the ``source`` rows (None where not measured: a pan)."""
    return [(_label(r), r.get("stance_toe_drift_pct")) for r in rows if r["source"] == source]


def toe_drift_notes(items: list[tuple[str, float | None]], where: str) -> list[str]:
    """One note: how far the stance toe drifts with a fixed camera on ``where`` (``items``: label, % or None;
    the Nones, rows that did not measure it, are left out)."""
    items = [(label, v) for label, v in items if v is not None and math.isfinite(v)]
    if not items:
        return []
    values = [v for _, v in items]
    listed = "; ".join(f"{label}: {v:+.1f} %" for label, v in items)
    return [
        f"Stance toe drift with a fixed camera on {where} (`stance_toe_drift_pct`: the stance toe's image speed "
        f"as % of the pelvis's, median over the contacts; a foot on the ground stands still, and a panning "
        f"camera's speed is read off that toe, so it comes out slow by about this much): "
        f"{min(values):+.1f} to {max(values):+.1f} %. {listed}."
    ]
