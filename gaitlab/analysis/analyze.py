"""Everything after pose: PoseTrack -> contacts, steps, per-frame table, summary.

Pure (no file or video access), so landmark tracks from any source (MediaPipe,
TRC, OpenPose, projected motion capture) go through exactly the same analysis.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gaitlab.analysis import clean, legs, uncertainty
from gaitlab.analysis.events import CONTACT_COLUMNS, detect_contacts
from gaitlab.analysis.flags import compute_flags
from gaitlab.analysis.kinematics import compute_kinematics
from gaitlab.analysis.metrics import MEASURES, asymmetry_pct, compute_steps, leg_statistics
from gaitlab.analysis.swaps import repair_leg_swaps
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.landmarks import OTHER_SIDE, SIDES, idx
from gaitlab.core.types import PoseTrack

CONTACT_MEASURES = {
    "contact_time_s",
    "flight_time_s",
    "step_time_s",
    "step_frequency_hz",
    "swing_time_s",
    "time_to_peak_knee_drive_pct_swing",
}
# Far-leg measures that the pose model biases (measured on the sample clip): no flags from them.
FAR_LEG_BIASED_MEASURES = {"peak_swing_hip_flexion_velocity_deg_s"}
SWING_MEASURES = {
    "peak_swing_hip_flexion_velocity_deg_s",
    "time_to_peak_knee_drive_s",
    "time_to_peak_knee_drive_pct_swing",
    "thigh_angle_at_contralateral_touchdown_deg",
}


@dataclass
class AnalysisResult:
    summary: dict
    contacts: pd.DataFrame
    steps: pd.DataFrame
    frames: pd.DataFrame
    track: PoseTrack  # cleaned, oriented (+x forward) track
    quality: list[str] = field(default_factory=list)


def near_side_from_depth(track: PoseTrack) -> str | None:
    """The side MediaPipe places nearer the camera (smaller z), if clear."""
    diffs = []
    for point in ("hip", "knee", "ankle"):
        d = track.z[:, idx("left", point)] - track.z[:, idx("right", point)]
        diffs.append(d[np.isfinite(d)])
    d = np.concatenate(diffs)
    if d.size < 10:
        return None
    share_left_nearer = float(np.mean(d < 0))
    if share_left_nearer > 0.7:
        return "left"
    if share_left_nearer < 0.3:
        return "right"
    return None


# Share of pose frames with a collapsed far leg above which the far leg raises no flag at all.
COLLAPSE_NO_FLAG_FRAC = 0.10
# Confidence multiplier of a contact whose frames include a collapsed far leg.
COLLAPSE_CONFIDENCE_FACTOR = 0.3
TIME_MEASURES = {"contact_time_s", "flight_time_s", "step_time_s", "swing_time_s", "time_to_peak_knee_drive_s"}


def _mark_collapse(contacts: pd.DataFrame, collapsed: np.ndarray, time_s: np.ndarray, far: str) -> pd.DataFrame:
    """``reliable`` column: False for far-leg contacts during collapse (confidence lowered too)."""
    contacts = contacts.copy()
    reliable = []
    for _, c in contacts.iterrows():
        window = (time_s >= c["touchdown_s"] - 0.05) & (time_s <= c["toe_off_s"] + 0.05)
        reliable.append(not (c["side"] == far and collapsed[window].any()))
    contacts["reliable"] = np.asarray(reliable, bool)
    contacts.loc[~contacts["reliable"], "confidence"] *= COLLAPSE_CONFIDENCE_FACTOR
    return contacts


def _mark_steps(steps: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """A step is reliable when its own contact and the next contacts it uses are."""
    steps = steps.copy()
    if not len(steps) or "reliable" not in contacts:
        steps["reliable"] = pd.Series(dtype=bool)
        return steps
    ok = contacts["reliable"].to_numpy()
    # a step uses its contact and the next one of each foot
    rel = (
        [bool(ok[i] and ok[i + 1 : i + 3].all()) for i in range(len(steps))]
        if len(steps) == len(contacts)
        else [True] * len(steps)
    )
    steps["reliable"] = rel
    return steps


def measure_quality(
    steps: pd.DataFrame, usable: dict, leg_of_side: dict, capture_fps: float, config: AnalysisConfig
) -> dict:
    """Per side and measure: which leg (near/far), time resolution, whether it may raise a flag, and why not."""
    out = {}
    for side in SIDES:
        sub = steps[steps["side"] == side] if len(steps) else steps
        n_bad = int((~sub["reliable"].astype(bool)).sum()) if len(sub) and "reliable" in sub else 0
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
                "resolution_ms": _resolution_ms(capture_fps) if m in TIME_MEASURES else None,
                "reliable": not reasons and n_bad == 0,
                "may_flag": m in usable.get(side, set()),
                "n_unreliable_steps": n_bad,
                "why_not": "; ".join(reasons),
            }
    return out


def _resolution_ms(fps: float) -> float:
    """SD of a two-event duration from frame rounding alone: sqrt(2) * frame / sqrt(12)."""
    return 1000.0 / fps * math.sqrt(2.0 / 12.0)


def analyze_track(
    track: PoseTrack,
    *,
    config: AnalysisConfig,
    stored_fps: float,
    capture_fps: float,
    clip: str,
    notes: list[str] | None = None,
    pose_model: str | None = None,
) -> AnalysisResult:
    """Clean, measure and summarise one landmark track.

    ``pose_model``: the MediaPipe model that made a ``mediapipe`` track (``full``, ``heavy``...),
    which selects the known errors (``gaitlab.analysis.uncertainty``); None for other sources or unknown.
    """
    # All-NaN stretches (no pose) are expected; they are reported as quality notes, not numpy warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _analyze_track(
            track,
            config=config,
            stored_fps=stored_fps,
            capture_fps=capture_fps,
            clip=clip,
            notes=notes,
            pose_model=pose_model,
        )


def _analyze_track(
    track: PoseTrack,
    *,
    config: AnalysisConfig,
    stored_fps: float,
    capture_fps: float,
    clip: str,
    notes: list[str] | None,
    pose_model: str | None,
) -> AnalysisResult:
    quality = list(notes or [])
    n = track.n_frames
    detected_frac = float(track.detected.mean()) if n else 0.0
    fs = clean.sample_rate_hz(track.time_s) if n >= 2 else capture_fps

    depth_near = near_side_from_depth(track)
    # leg identity first: swapped labels would break every later step (swaps.py)
    repaired, swapped = repair_leg_swaps(track)
    if swapped.any():
        quality.append(
            f"Left/right leg labels were swapped by the pose model on {int(swapped.sum())} frames "
            f"({swapped.mean():.0%}); repaired from motion continuity."
        )
    masked = clean.mask_low_visibility(repaired, min_visibility=config.clean.min_visibility)
    collapsed = legs.collapsed_frames(masked)
    orientation = clean.detect_orientation(masked)
    oriented = clean.orient_running_direction(masked, orientation)
    raw = clean.fill_short_gaps(oriented, max_gap_s=config.clean.max_gap_fill_s)
    smooth = clean.lowpass(raw, cutoff_hz=config.clean.cutoff_hz, order=config.clean.filter_order)
    used_cutoff = clean.effective_cutoff_hz(config.clean.cutoff_hz, fs) if np.isfinite(fs) else math.nan

    near = depth_near or orientation.near_side
    leg_of_side = {near: "near", OTHER_SIDE[near]: "far"}

    # The hard trunk filter mitigates a MediaPipe artefact (shoulders dragged by arm swing); on
    # markers it only removes real trunk motion (hip RMSE 0.5 -> 2.5 deg on the JA1 sprint).
    trunk_cutoff = config.clean.trunk_cutoff_hz if track.source == "mediapipe" else None
    frames = compute_kinematics(smooth, trunk_cutoff_hz=trunk_cutoff)
    frames["leg_labels_swapped"] = swapped
    frames["far_leg_collapsed"] = collapsed
    if n >= 4:
        contacts = detect_contacts(smooth, raw, config=config.events, fs_hz=fs, leg_of_side=leg_of_side)
    else:
        contacts = pd.DataFrame(columns=CONTACT_COLUMNS)
    far = OTHER_SIDE[near]
    contacts = _mark_collapse(contacts, collapsed, smooth.time_s, far)
    steps = compute_steps(contacts, frames) if len(contacts) else pd.DataFrame(columns=["side", *MEASURES])
    steps = _mark_steps(steps, contacts)
    error_key = uncertainty.source_key(track.source, pose_model)
    scatter_stats = leg_statistics(steps)
    known_errors = uncertainty.leg_known_errors(scatter_stats, leg_of_side, key=error_key, capture_fps=capture_fps)
    leg_stats = uncertainty.widen(scatter_stats, known_errors)

    # --- status: is there analyzable running here? ---
    status, reason = "ok", ""
    flights = steps["flight_time_s"].dropna() if len(steps) else pd.Series(dtype=float)
    if n == 0 or detected_frac < config.quality.min_detected_frac:
        status, reason = "no_running_detected", f"a person was found on only {detected_frac:.0%} of frames"
    elif len(contacts) < 2:
        status, reason = (
            "no_running_detected",
            f"{len(contacts)} ground contact(s) found; running needs a series of steps",
        )
    elif len(flights) and float(flights.median()) < 0:
        status, reason = (
            "no_running_detected",
            "the feet overlap on the ground (walking), there is no flight phase as in running",
        )
    elif len(contacts) < 3 or contacts["side"].nunique() < 2:
        status, reason = (
            "insufficient_data",
            f"only {len(contacts)} ground contact(s) found; need at least 3 over both feet",
        )
    if reason:
        quality.append(f"Status {status}: {reason}.")

    # --- quality warnings and which measures may raise flags ---
    usable = {side: set(MEASURES) for side in SIDES}
    if capture_fps < config.quality.min_fps_contact_time:
        quality.append(
            f"Capture rate {capture_fps:.0f} fps is low for contact timing: each contact/flight time "
            f"has a rounding error of about ±{_resolution_ms(capture_fps):.0f} ms (SD); "
            f"contact-based measures are shown but raise no flag. Film at 120-240 fps."
        )
        for side in SIDES:
            usable[side] -= CONTACT_MEASURES
    if capture_fps < config.quality.min_fps_swing_velocity:
        quality.append(
            f"Capture rate {capture_fps:.0f} fps is too low to resolve the swing velocity peak; "
            f"swing measures raise no flag."
        )
        for side in SIDES:
            usable[side] -= SWING_MEASURES
    if 0 < detected_frac < 0.9:
        quality.append(f"Pose found on {detected_frac:.0%} of frames only; measures use the frames with a pose.")
    for side in SIDES:
        n_steps = leg_stats[side]["contact_time_s"]["n"]
        if status == "ok" and n_steps < config.flags.min_steps:
            quality.append(
                f"Only {n_steps} contact(s) of the {side} foot: fewer than "
                f"{config.flags.min_steps}, so no flag is raised for the {side} leg."
            )
    if len(contacts):
        low = contacts[contacts["confidence"] < 0.5]
        if len(low):
            quality.append(f"{len(low)} of {len(contacts)} contacts have low timing confidence (< 0.5).")
    n_seen = max(1, int(track.detected.sum()))
    collapsed_frac = float(collapsed.sum()) / n_seen
    if collapsed_frac > 0:
        quality.append(
            f"Far-leg collapse: on {int(collapsed.sum())} frame(s) ({collapsed_frac:.0%}) the pose model "
            f"drew the far ({far}) leg on top of the near ({near}) leg; far-leg measures that use those "
            f"frames are marked unreliable"
            + (" and the far leg raises no flag." if collapsed_frac > COLLAPSE_NO_FLAG_FRAC else ".")
        )
        if collapsed_frac > COLLAPSE_NO_FLAG_FRAC:
            usable[far] = set()
    if len(steps) and "reliable" in steps and (~steps["reliable"].astype(bool)).any():
        for side in SIDES:
            if (~steps.loc[steps["side"] == side, "reliable"].astype(bool)).any():
                usable[side] = set()
    # MediaPipe damps the occluded far leg's motion: on the sample clip its peak swing velocity
    # reads 6.5-9.6 % low per swing with 'full', 5.1-14.8 % with 'heavy' (against the truth file).
    # A far-leg "slow" or a near/far asymmetry flag would then mostly reflect the camera.
    usable[far] -= FAR_LEG_BIASED_MEASURES
    if len(steps) and leg_stats[far]["peak_swing_hip_flexion_velocity_deg_s"]["n"]:
        quality.append(
            f"The {far} leg is the far leg: its swing velocity is shown but raises no flag (on the "
            f"sample clip the pose model reads the occluded leg's swing 5-15 % slow); film the other "
            f"side to assess it."
        )
    if orientation.method == "default":
        quality.append("Running direction unclear (feet and hips disagree or are missing); assumed left-to-right.")

    withheld: list[dict] = []
    flags = compute_flags(leg_stats, cfg=config.flags, usable=usable, withheld=withheld) if status == "ok" else []
    summary = {
        "status": status,
        "status_reason": reason,
        "clip": clip,
        "stored_fps": stored_fps,
        "capture_fps": capture_fps,
        "n_frames": int(n),
        "pose_detected_frac": detected_frac,
        "running_direction_in_image": "-x (right-to-left)" if orientation.mirrored else "+x (left-to-right)",
        "near_side": near,
        "near_side_source": "depth" if depth_near else "direction",
        "filter_cutoff_hz": used_cutoff,
        "legs": {side: leg_stats[side] for side in SIDES},
        "both_legs": leg_stats["both"],
        "asymmetry_pct": {
            m: asymmetry_pct(leg_stats["left"][m]["mean"], leg_stats["right"][m]["mean"]) for m in MEASURES
        },
        "leg_of_side": leg_of_side,
        "n_contacts": int(len(contacts)),
        "leg_swap_frames": int(swapped.sum()),
        "flags": [f.to_dict() for f in flags],
        "flags_withheld": withheld,
        "measure_quality": uncertainty.add_confidence(
            measure_quality(steps, usable, leg_of_side, capture_fps, config), leg_stats, known_errors
        ),
        "far_leg_collapsed_frac": collapsed_frac,
        "quality": quality,
        "config": config.to_dict(),
    }
    summary.update(uncertainty.summary_fields(summary, key=error_key, capture_fps=capture_fps))
    return AnalysisResult(summary=summary, contacts=contacts, steps=steps, frames=frames, track=smooth, quality=quality)
