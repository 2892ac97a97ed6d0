"""Everything after pose: PoseTrack -> contacts, steps, per-frame table, typed summary.

Pure (no file or video access), so landmark tracks from any source (MediaPipe,
TRC, OpenPose, projected motion capture) go through exactly the same analysis:
``measure_track`` measures, ``decide_status`` (status.py) judges, ``summarise`` builds
the one ``Summary``; ``analyze_track`` runs the three.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gaitlab.analysis import clean, legs, metres, uncertainty
from gaitlab.analysis.damage import mark_damaged
from gaitlab.analysis.events import CONTACT_COLUMNS, detect_contacts
from gaitlab.analysis.flags import compute_flags
from gaitlab.analysis.kinematics import compute_kinematics
from gaitlab.analysis.metrics import MEASURES, asymmetry_pct, compute_steps, leg_statistics
from gaitlab.analysis.quality import mark_collapse, mark_steps, measure_quality, quality_notes
from gaitlab.analysis.status import decide_status
from gaitlab.analysis.summary import (
    ClipFacts,
    Metres,
    QualityNote,
    Status,
    Summary,
    WithheldFlag,
    frozen_legs,
    frozen_map,
    frozen_quality,
)
from gaitlab.analysis.swaps import repair_leg_swaps
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.landmarks import OTHER_SIDE, idx
from gaitlab.core.types import PoseTrack


@dataclass(frozen=True)
class AnalysisResult:
    """The analysis of one track: its typed summary and the three tables."""

    summary: Summary
    contacts: pd.DataFrame
    steps: pd.DataFrame
    frames: pd.DataFrame
    track: PoseTrack  # cleaned, oriented (+x forward) track


@dataclass(frozen=True)
class Measured:
    """What one track measures, before the status is decided and the summary built."""

    track: PoseTrack  # cleaned, oriented (+x forward), low-passed
    contacts: pd.DataFrame
    steps: pd.DataFrame
    frames: pd.DataFrame
    n_frames: int
    detected_frac: float
    capture_fps: float
    swapped: np.ndarray  # per frame: left/right labels were swapped by the pose model
    collapsed: np.ndarray  # per frame: the far leg was drawn on top of the near leg
    collapsed_frac: float  # of the frames with a pose
    near_side: str
    far_side: str
    near_side_source: str  # depth / direction
    mirrored: bool  # runs right-to-left in the image
    direction_method: str
    used_cutoff_hz: float
    leg_of_side: dict
    error_key: str
    leg_stats: dict  # left/right/both -> measure -> statistics, CI widened by the known error
    known_errors: dict
    notes: tuple[QualityNote, ...]  # notes made while measuring (leg swaps)
    metres: Metres | None = None  # speed and step length (``analysis.metres``)
    metres_notes: tuple[QualityNote, ...] = ()


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


def measure_track(
    track: PoseTrack,
    *,
    config: AnalysisConfig,
    capture_fps: float,
    pose_model: str | None = None,
    athlete_height_m: float | None = None,
) -> Measured:
    """Clean the track, find the contacts, measure every step and the legs' statistics.

    ``pose_model``: the MediaPipe model that made a ``mediapipe`` track (``full``, ``heavy``...),
    which selects the known errors (``gaitlab.analysis.uncertainty``); None for other sources or unknown.
    ``athlete_height_m``: standing height, for speed and step length in metres (``analysis.metres``;
    the camera's motion comes from ``track.meta["camera"]``, else from the stance foot: a landmark file).
    """
    # All-NaN stretches (no pose) are expected; they are reported as quality notes, not numpy warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _measure(
            track, config=config, capture_fps=capture_fps, pose_model=pose_model, athlete_height_m=athlete_height_m
        )


def _measure(
    track: PoseTrack, *, config: AnalysisConfig, capture_fps: float, pose_model: str | None, athlete_height_m
) -> Measured:
    n = track.n_frames
    fs = clean.sample_rate_hz(track.time_s) if n >= 2 else capture_fps
    depth_near = near_side_from_depth(track)
    # leg identity first: swapped labels would break every later step (swaps.py)
    repaired, swapped = repair_leg_swaps(track)
    notes = []
    if swapped.any():
        notes.append(
            QualityNote(
                "leg_swaps",
                f"Left/right leg labels were swapped by the pose model on {int(swapped.sum())} frames "
                f"({swapped.mean():.0%}); repaired from motion continuity.",
            )
        )
    masked = clean.mask_low_visibility(repaired, min_visibility=config.clean.min_visibility)
    collapsed = legs.collapsed_frames(masked)
    orientation = clean.detect_orientation(masked)
    oriented = clean.orient_running_direction(masked, orientation)
    raw = clean.fill_short_gaps(oriented, max_gap_s=config.clean.max_gap_fill_s)
    smooth = clean.lowpass(raw, cutoff_hz=config.clean.cutoff_hz, order=config.clean.filter_order)

    near = depth_near or orientation.near_side
    far = OTHER_SIDE[near]
    leg_of_side = {near: "near", far: "far"}
    # The hard trunk filter mitigates a MediaPipe artefact (shoulders dragged by arm swing); on
    # markers it only removes real trunk motion (hip RMSE 0.5 -> 2.5 deg on the JA1 sprint).
    trunk_cutoff = config.clean.trunk_cutoff_hz if track.source == "mediapipe" else None
    frames = compute_kinematics(smooth, trunk_cutoff_hz=trunk_cutoff)
    frames[col.LEG_LABELS_SWAPPED] = swapped
    frames[col.FAR_LEG_COLLAPSED] = collapsed
    if n >= 4:
        contacts = detect_contacts(smooth, raw, config=config.events, fs_hz=fs, leg_of_side=leg_of_side)
    else:
        contacts = pd.DataFrame(columns=CONTACT_COLUMNS)
    contacts = mark_collapse(contacts, collapsed, smooth.time_s, far)
    steps = compute_steps(contacts, frames) if len(contacts) else pd.DataFrame(columns=["side", *MEASURES])
    steps = mark_steps(steps, contacts)
    moving, foot_share = metres.camera_motion(track.meta, smooth, raw, contacts)
    error_key = uncertainty.source_key(track.source, pose_model)
    steps, in_metres, metre_notes = metres.measure_metres(
        smooth, contacts, steps, athlete_height_m=athlete_height_m, camera_moving=moving, feet=raw,
        error_key=error_key, foot_share=foot_share, reference=config.metres,
    )  # fmt: skip
    contacts, steps = mark_damaged(contacts, track), mark_damaged(steps, track)
    scatter_stats = leg_statistics(steps)
    known_errors = uncertainty.leg_known_errors(scatter_stats, leg_of_side, key=error_key, capture_fps=capture_fps)
    return Measured(
        track=smooth,
        contacts=contacts,
        steps=steps,
        frames=frames,
        n_frames=int(n),
        detected_frac=float(track.detected.mean()) if n else 0.0,
        capture_fps=capture_fps,
        swapped=swapped,
        collapsed=collapsed,
        collapsed_frac=float(collapsed.sum()) / max(1, int(track.detected.sum())),
        near_side=near,
        far_side=far,
        near_side_source="depth" if depth_near else "direction",
        mirrored=orientation.mirrored,
        direction_method=orientation.method,
        used_cutoff_hz=clean.effective_cutoff_hz(config.clean.cutoff_hz, fs) if np.isfinite(fs) else math.nan,
        leg_of_side=leg_of_side,
        error_key=error_key,
        leg_stats=uncertainty.widen(scatter_stats, known_errors),
        known_errors=known_errors,
        notes=tuple(notes),
        metres=in_metres,
        metres_notes=tuple(metre_notes),
    )


def status_of(m: Measured, config: AnalysisConfig, *, check_rhythm: bool = True) -> Status:
    """``decide_status`` for a measured track."""
    return decide_status(
        n_frames=m.n_frames,
        detected_frac=m.detected_frac,
        track=m.track,
        contacts=m.contacts,
        steps=m.steps,
        config=config,
        capture_fps=m.capture_fps,
        check_rhythm=check_rhythm,
    )


def summarise(
    m: Measured,
    *,
    status: Status,
    config: AnalysisConfig,
    clip: str,
    stored_fps: float,
    landmark_source: str,
    notes_before: list[QualityNote] = (),
    facts: ClipFacts | None = None,
    notes_after: list[QualityNote] = (),
) -> AnalysisResult:
    """The one ``Summary`` of a measured track, with its status and the notes of the stages around it.

    ``notes_before``: the capture's notes (time base, damaged packets); ``notes_after``: the clip's
    hazards (repeats, camera, cuts, people); ``facts``: what the video says (None for landmark files).
    """
    notes, usable = quality_notes(m, status, config)
    withheld: list[dict] = []
    flags = compute_flags(m.leg_stats, cfg=config.flags, usable=usable, withheld=withheld) if status.ok else []
    mq = uncertainty.add_confidence(
        measure_quality(m.steps, usable, m.leg_of_side, m.capture_fps, config), m.leg_stats, m.known_errors
    )
    judged = uncertainty.summary_fields(
        {"status": status.status, "status_reason": status.reason, "measure_quality": mq, "leg_of_side": m.leg_of_side},
        key=m.error_key,
        capture_fps=m.capture_fps,
    )
    summary = Summary(
        status=status,
        clip=clip,
        stored_fps=stored_fps,
        capture_fps=m.capture_fps,
        n_frames=m.n_frames,
        pose_detected_frac=m.detected_frac,
        running_direction_in_image="-x (right-to-left)" if m.mirrored else "+x (left-to-right)",
        near_side=m.near_side,
        near_side_source=m.near_side_source,
        filter_cutoff_hz=m.used_cutoff_hz,
        legs=frozen_legs(m.leg_stats),
        asymmetry_pct=frozen_map(
            {k: asymmetry_pct(m.leg_stats["left"][k]["mean"], m.leg_stats["right"][k]["mean"]) for k in MEASURES}
        ),
        leg_of_side=frozen_map(m.leg_of_side),
        n_contacts=int(len(m.contacts)),
        leg_swap_frames=int(m.swapped.sum()),
        flags=tuple(flags),
        flags_withheld=tuple(WithheldFlag(**w) for w in withheld),
        measure_quality=frozen_quality(mq),
        far_leg_collapsed_frac=m.collapsed_frac,
        quality=(*notes_before, *m.notes, *notes, *notes_after, *m.metres_notes),
        config=frozen_map(config.to_dict()),
        confidence=judged["confidence"],
        confidence_reason=judged["confidence_reason"],
        known_error_source=frozen_map(judged["known_error_source"]),
        status_label=judged["status_label"],
        landmark_source=landmark_source,
        clip_facts=facts if facts is None or m.metres is None else replace(facts, speed_and_step_length=m.metres.fact),
        metres=m.metres,
    )
    return AnalysisResult(summary=summary, contacts=m.contacts, steps=m.steps, frames=m.frames, track=m.track)


def analyze_track(
    track: PoseTrack,
    *,
    config: AnalysisConfig,
    stored_fps: float,
    capture_fps: float,
    clip: str,
    notes: list[str] | None = None,
    pose_model: str | None = None,
    athlete_height_m: float | None = None,
) -> AnalysisResult:
    """Measure, judge and summarise one landmark track with a known time base (landmark files, mocap, tests).

    ``notes``: sentences for the user from the stages before (e.g. how the capture rate was found).
    Video clips go through ``gaitlab.pipeline``, which settles the time base first.
    """
    m = measure_track(
        track, config=config, capture_fps=capture_fps, pose_model=pose_model, athlete_height_m=athlete_height_m
    )
    return summarise(
        m,
        status=status_of(m, config),
        config=config,
        clip=clip,
        stored_fps=stored_fps,
        landmark_source=track.source,
        notes_before=[QualityNote("input", n) for n in notes or ()],
    )
