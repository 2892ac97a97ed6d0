"""The analysis result as typed, frozen values: built once by the analysis, read by everyone after.

``Summary.to_dict()`` is the one place that makes ``summary.json``; its keys are documented in
docs/outputs.md. Every nested value is frozen too (tuples and read-only mappings), so no
stage after the analysis can change a measure, a flag or the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType

from gaitlab.analysis.flags import Flag
from gaitlab.core.landmarks import SIDES


def _frozen_map(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


def _plain(obj):
    """Nested dataclasses, read-only mappings and tuples as plain dicts and lists (JSON-ready)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


class _Record:
    """``to_dict``: the fields in declaration order, nested values made plain."""

    def to_dict(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class MeasureStats(_Record):
    """One measure over one leg's steps (or both legs'): mean, SD, 95 % CI widened by the known error.

    ``ci95_low``/``ci95_high``: mean -/+ (Student-t half-width + ``known_error``); ``ci95_stat_*``:
    the scatter-only CI. ``known_error``: the measure's worst known error against ground truth in its
    unit (None when no accuracy row covers it). Fields are None when undefined (n < 2 for SD and CI).
    """

    mean: float | None
    sd: float | None
    ci95_low: float | None
    ci95_high: float | None
    n: int
    known_error: float | None = None
    ci95_stat_low: float | None = None
    ci95_stat_high: float | None = None

    @classmethod
    def from_dict(cls, d: Mapping) -> MeasureStats:
        return cls(**{f.name: d.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class MeasureQuality(_Record):
    """How far one leg's measure can be trusted: which leg it is, its time resolution, whether it may flag.

    ``resolution_ms``: SD of a two-event duration from frame rounding alone (time measures only).
    ``why_not``: why it is unreliable or may not flag ('' when it is fine). ``confidence``:
    high / medium / low from the known error relative to the value (docs/uncertainty.md).
    """

    leg: str
    resolution_ms: float | None
    reliable: bool
    may_flag: bool
    n_unreliable_steps: int
    why_not: str
    confidence: str
    confidence_reason: str
    known_error_text: str

    @classmethod
    def from_dict(cls, d: Mapping) -> MeasureQuality:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class WithheldFlag(_Record):
    """A flag the step-to-step scatter alone would raise but the measure's known error could explain."""

    code: str
    side: str
    measure: str
    value: float
    reference: float
    margin: float
    known_error: float | None
    why: str


@dataclass(frozen=True)
class QualityNote:
    """One sentence for the user about what limits the result; ``code`` names the kind (for programs)."""

    code: str
    text: str


@dataclass(frozen=True)
class Status(_Record):
    """Whether the clip holds analyzable running: ``ok``, ``insufficient_data`` or ``no_running_detected``."""

    status: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class ClipFacts(_Record):
    """What the video itself says about the clip: time base, repeats, camera, cuts, people, geometry."""

    capture_fps_source: str
    inferred_capture_fps: float
    slowmo_factor: float
    unique_frames_per_stored_s: float | None
    decoded_frames: int
    duplicate_frames: int
    camera: str
    scene_cuts_frames: tuple
    segments: int
    person_selection: Mapping
    speed_and_step_length: str
    rotation_deg: int
    frame_size_px: tuple
    pose_model: str | None


@dataclass(frozen=True)
class Metres(_Record):
    """Speed and step length in metres (``analysis.metres``; docs/metrics.md): measured only with the athlete's
    height and a scale that holds over the clip, with a fixed camera or one that pans with the runner.

    ``px_per_m``: the scale at the athlete's distance; ``scale_source``: ``athlete height`` or ``reference
    length`` (None: neither given); ``scale_segment``: what was measured; ``scale_error_pct``: its known error;
    ``height_vs_reference_pct``: with both, the height's scale against the reference's (a check on both);
    ``known_error_pct``: that of speed and step length with this camera, the worst of either on the
    accuracy table's video rows (the CIs in ``legs`` are widened by it; None: unknown);
    ``apparent_size_change_pct``: how much the athlete's size changes between parts of the clip;
    ``camera_speed_m_s``: the pan's mean speed (None for a fixed camera);
    ``stance_toe_drift_pct``: with a fixed camera, how fast the stance toe moves as % of the pelvis's speed
    (median over the contacts, + = forward): a foot on the ground stands still, so this is the pose
    model's drift of the foot (None with a panning camera or no usable contact);
    ``legs``: left / right / both -> ``speed_m_s`` / ``step_length_m`` -> statistics (empty when not measured).
    """

    measured: bool
    why_not: str
    athlete_height_m: float | None
    px_per_m: float | None
    scale_source: str | None
    scale_segment: str
    scale_error_pct: float
    height_vs_reference_pct: float | None
    known_error_pct: float | None
    apparent_size_change_pct: float | None
    camera: str
    camera_speed_m_s: float | None
    stance_toe_drift_pct: float | None
    legs: Mapping[str, Mapping[str, MeasureStats]]

    @property
    def fact(self) -> str:
        """The clip fact ``speed_and_step_length``: computed, or not and why."""
        return f"computed ({self.camera} camera)" if self.measured else f"not computed: {self.why_not}"


@dataclass(frozen=True)
class Summary:
    """Everything ``summary.json`` holds, typed. Build it with ``analysis.analyze`` only."""

    status: Status
    clip: str
    stored_fps: float
    capture_fps: float
    n_frames: int
    pose_detected_frac: float
    running_direction_in_image: str
    near_side: str
    near_side_source: str
    filter_cutoff_hz: float
    legs: Mapping[str, Mapping[str, MeasureStats]]  # left / right / both -> measure -> statistics
    asymmetry_pct: Mapping[str, float | None]
    leg_of_side: Mapping[str, str]
    n_contacts: int
    leg_swap_frames: int
    flags: tuple[Flag, ...]
    flags_withheld: tuple[WithheldFlag, ...]
    measure_quality: Mapping[str, Mapping[str, MeasureQuality]]
    far_leg_collapsed_frac: float
    quality: tuple[QualityNote, ...]
    config: Mapping
    confidence: str
    confidence_reason: str
    known_error_source: Mapping
    status_label: str
    landmark_source: str
    clip_facts: ClipFacts | None = None  # None for landmark files (no video)
    metres: Metres | None = None  # speed and step length

    def leg(self, side: str) -> Mapping[str, MeasureStats]:
        return self.legs[side]

    @property
    def quality_texts(self) -> list[str]:
        return [q.text for q in self.quality]

    def to_dict(self) -> dict:
        """The summary.json document (docs/outputs.md)."""
        out = {
            "status": self.status.status,
            "status_reason": self.status.reason,
            "clip": self.clip,
            "stored_fps": self.stored_fps,
            "capture_fps": self.capture_fps,
            "n_frames": self.n_frames,
            "pose_detected_frac": self.pose_detected_frac,
            "running_direction_in_image": self.running_direction_in_image,
            "near_side": self.near_side,
            "near_side_source": self.near_side_source,
            "filter_cutoff_hz": self.filter_cutoff_hz,
            "legs": {side: _plain(self.legs[side]) for side in SIDES},
            "both_legs": _plain(self.legs["both"]),
            "asymmetry_pct": dict(self.asymmetry_pct),
            "leg_of_side": dict(self.leg_of_side),
            "n_contacts": self.n_contacts,
            "leg_swap_frames": self.leg_swap_frames,
            "flags": [f.to_dict() for f in self.flags],
            "flags_withheld": [w.to_dict() for w in self.flags_withheld],
            "measure_quality": _plain(self.measure_quality),
            "far_leg_collapsed_frac": self.far_leg_collapsed_frac,
            "quality": self.quality_texts,
            "config": _plain(self.config),
            "confidence": self.confidence,
            "confidence_reason": self.confidence_reason,
            "known_error_source": _plain(self.known_error_source),
            "status_label": self.status_label,
            "landmark_source": self.landmark_source,
        }
        if self.clip_facts is not None:
            out.update(self.clip_facts.to_dict())
        if self.metres is not None:
            out["metres"] = self.metres.to_dict()
        return out


def frozen_legs(leg_stats: Mapping) -> Mapping[str, Mapping[str, MeasureStats]]:
    return _frozen_map(
        {leg: _frozen_map({m: MeasureStats.from_dict(s) for m, s in stats.items()}) for leg, stats in leg_stats.items()}
    )


def frozen_quality(measure_quality: Mapping) -> Mapping[str, Mapping[str, MeasureQuality]]:
    return _frozen_map(
        {
            side: _frozen_map({m: MeasureQuality.from_dict(q) for m, q in e.items()})
            for side, e in measure_quality.items()
        }
    )


def frozen_map(d: Mapping) -> Mapping:
    """A read-only copy of ``d``, nested mappings included."""
    return _frozen_map({k: frozen_map(v) if isinstance(v, Mapping) else v for k, v in d.items()})
