"""How far each measure can be trusted: unreliable contacts and steps, which measures may raise a flag,
and the quality notes that tell the user why."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gaitlab.analysis.metrics import MEASURES
from gaitlab.analysis.summary import QualityNote, Status
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.landmarks import SIDES

CONTACT_MEASURES = {
    col.CONTACT_TIME_S,
    col.FLIGHT_TIME_S,
    col.STEP_TIME_S,
    col.STEP_FREQUENCY_HZ,
    col.SWING_TIME_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING,
}
# Far-leg measures that the pose model biases (measured on the sample clip): no flags from them.
FAR_LEG_BIASED_MEASURES = {col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S}
SWING_MEASURES = {
    col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING,
    col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG,
}
TIME_MEASURES = {
    col.CONTACT_TIME_S,
    col.FLIGHT_TIME_S,
    col.STEP_TIME_S,
    col.SWING_TIME_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_S,
}
# Share of pose frames with a collapsed far leg above which the far leg raises no flag at all.
COLLAPSE_NO_FLAG_FRAC = 0.10
# Confidence multiplier of a contact whose frames include a collapsed far leg.
COLLAPSE_CONFIDENCE_FACTOR = 0.3


def mark_collapse(contacts: pd.DataFrame, collapsed: np.ndarray, time_s: np.ndarray, far: str) -> pd.DataFrame:
    """``reliable`` column: False for far-leg contacts during collapse (confidence lowered too)."""
    contacts = contacts.copy()
    reliable = []
    for _, c in contacts.iterrows():
        window = (time_s >= c[col.TOUCHDOWN_S] - 0.05) & (time_s <= c[col.TOE_OFF_S] + 0.05)
        reliable.append(not (c[col.SIDE] == far and collapsed[window].any()))
    contacts[col.RELIABLE] = np.asarray(reliable, bool)
    contacts.loc[~contacts[col.RELIABLE], "confidence"] *= COLLAPSE_CONFIDENCE_FACTOR
    return contacts


def mark_steps(steps: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """A step is reliable when its own contact and the next contacts it uses are."""
    steps = steps.copy()
    if not len(steps) or "reliable" not in contacts:
        steps[col.RELIABLE] = pd.Series(dtype=bool)
        return steps
    ok = contacts[col.RELIABLE].to_numpy()
    # a step uses its contact and the next one of each foot
    rel = (
        [bool(ok[i] and ok[i + 1 : i + 3].all()) for i in range(len(steps))]
        if len(steps) == len(contacts)
        else [True] * len(steps)
    )
    steps[col.RELIABLE] = rel
    return steps


def resolution_ms(fps: float) -> float:
    """SD of a two-event duration from frame rounding alone: sqrt(2) * frame / sqrt(12)."""
    return 1000.0 / fps * math.sqrt(2.0 / 12.0)


def measure_quality(
    steps: pd.DataFrame, usable: dict, leg_of_side: dict, capture_fps: float, config: AnalysisConfig
) -> dict:
    """Per side and measure: which leg (near/far), time resolution, whether it may raise a flag, and why not."""
    out = {}
    for side in SIDES:
        sub = steps[steps[col.SIDE] == side] if len(steps) else steps
        n_bad = int((~sub[col.RELIABLE].astype(bool)).sum()) if len(sub) and "reliable" in sub else 0
        out[side] = {}
        for m in MEASURES:
            reasons = []
            if m in CONTACT_MEASURES and capture_fps < config.quality.min_fps_contact_time:
                reasons.append(f"capture rate below {config.quality.min_fps_contact_time:.0f} fps")
            if m in SWING_MEASURES and capture_fps < config.quality.min_fps_swing_velocity:
                reasons.append(f"capture rate below {config.quality.min_fps_swing_velocity:.0f} fps")
            if m not in usable.get(side, set()) and not reasons:
                far_only = leg_of_side.get(side) == "far" and m in FAR_LEG_BIASED_MEASURES
                reasons.append(
                    "far (occluded) leg: the pose model sees it only partly"
                    if far_only
                    else "leg unreliable (collapsed or swapped far leg)"
                )
            out[side][m] = {
                "leg": leg_of_side.get(side, "unknown"),
                "resolution_ms": resolution_ms(capture_fps) if m in TIME_MEASURES else None,
                "reliable": not reasons and n_bad == 0,
                "may_flag": m in usable.get(side, set()),
                "n_unreliable_steps": n_bad,
                "why_not": "; ".join(reasons),
            }
    return out


def _capture_rate_notes(capture_fps: float, config: AnalysisConfig, usable: dict) -> list[QualityNote]:
    notes = []
    if capture_fps < config.quality.min_fps_contact_time:
        notes.append(
            QualityNote(
                "low_fps_contact",
                f"Capture rate {capture_fps:.0f} fps is low for contact timing: each contact/flight time "
                f"has a rounding error of about ±{resolution_ms(capture_fps):.0f} ms (SD); "
                f"contact-based measures are shown but raise no flag. Film at 120-240 fps.",
            )
        )
        for side in SIDES:
            usable[side] -= CONTACT_MEASURES
    if capture_fps < config.quality.min_fps_swing_velocity:
        notes.append(
            QualityNote(
                "low_fps_swing",
                f"Capture rate {capture_fps:.0f} fps is too low to resolve the swing velocity peak; "
                f"swing measures raise no flag.",
            )
        )
        for side in SIDES:
            usable[side] -= SWING_MEASURES
    return notes


def _far_leg_notes(m, usable: dict) -> list[QualityNote]:
    """Collapse of the far leg onto the near one, unreliable steps, and the far leg's damped swing."""
    notes = []
    near, far = m.near_side, m.far_side
    if m.collapsed_frac > 0:
        no_flag = m.collapsed_frac > COLLAPSE_NO_FLAG_FRAC
        notes.append(
            QualityNote(
                "far_leg_collapse",
                f"Far-leg collapse: on {int(m.collapsed.sum())} frame(s) ({m.collapsed_frac:.0%}) the pose model "
                f"drew the far ({far}) leg on top of the near ({near}) leg; far-leg measures that use those "
                f"frames are marked unreliable" + (" and the far leg raises no flag." if no_flag else "."),
            )
        )
        if no_flag:
            usable[far] = set()
    steps = m.steps
    if len(steps) and "reliable" in steps and (~steps[col.RELIABLE].astype(bool)).any():
        for side in SIDES:
            if (~steps.loc[steps[col.SIDE] == side, "reliable"].astype(bool)).any():
                usable[side] = set()
    # The pose model damps the occluded far leg: on the sample clip its peak swing velocity reads
    # 6.5-9.6 % low per swing with 'full', 5.1-14.8 % with 'heavy' (docs/real-footage.md).
    usable[far] -= FAR_LEG_BIASED_MEASURES
    if len(steps) and m.leg_stats[far][col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S]["n"]:
        notes.append(
            QualityNote(
                "far_leg_swing_biased",
                f"The {far} leg is the far leg: its swing velocity is shown but raises no flag (on the "
                f"sample clip the pose model reads the occluded leg's swing 5-15 % slow); film the other "
                f"side to assess it.",
            )
        )
    return notes


def quality_notes(m, status: Status, config: AnalysisConfig) -> tuple[list[QualityNote], dict[str, set[str]]]:
    """(notes, usable): the notes on what limits this analysis, and per side the measures that may flag.

    ``m``: the ``analyze.Measured`` of the clip.
    """
    notes = [QualityNote("status", f"Status {status.status}: {status.reason}.")] if status.reason else []
    usable = {side: set(MEASURES) for side in SIDES}
    notes += _capture_rate_notes(m.capture_fps, config, usable)
    if 0 < m.detected_frac < 0.9:
        notes.append(
            QualityNote(
                "pose_partial",
                f"Pose found on {m.detected_frac:.0%} of frames only; measures use the frames with a pose.",
            )
        )
    for side in SIDES:
        n_steps = m.leg_stats[side][col.CONTACT_TIME_S]["n"]
        if status.ok and n_steps < config.flags.min_steps:
            notes.append(
                QualityNote(
                    "few_steps",
                    f"Only {n_steps} contact(s) of the {side} foot: fewer than "
                    f"{config.flags.min_steps}, so no flag is raised for the {side} leg.",
                )
            )
    if len(m.contacts):
        low = m.contacts[m.contacts[col.CONFIDENCE] < 0.5]
        if len(low):
            notes.append(
                QualityNote(
                    "low_confidence_contacts",
                    f"{len(low)} of {len(m.contacts)} contacts have low timing confidence (< 0.5).",
                )
            )
    notes += _far_leg_notes(m, usable)
    if m.direction_method == "default":
        notes.append(
            QualityNote(
                "direction_unclear",
                "Running direction unclear (feet and hips disagree or are missing); assumed left-to-right.",
            )
        )
    return notes, usable
