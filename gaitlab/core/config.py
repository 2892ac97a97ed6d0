"""Analysis settings: frozen dataclasses with units in every name.

Defaults are the documented, justified values (docs/configuration.md).
A TOML file passed with ``--config`` may override any field; unknown keys are
an error so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli is the same parser under its PyPI name
    import tomli as tomllib

from gaitlab.core.errors import BadInputError


@dataclass(frozen=True)
class CleanConfig:
    # 12 Hz keeps the hip-flexion velocity peak of a ~4.5 steps/s sprint (its
    # energy sits below ~10 Hz) while removing pose jitter; Sports2D's 6 Hz
    # blunts the peak. Applied in capture-time Hz, clamped below Nyquist.
    cutoff_hz: float = 12.0
    filter_order: int = 4
    # For MediaPipe tracks the trunk angle (shoulder midpoint -> hip midpoint) gets a much
    # lower cutoff: lean changes slowly, while arm swing drags the shoulder landmarks at the
    # stride rate (2.2 Hz in a sprint, 1.3 Hz in a jog), which adds to one leg's hip-flexion
    # velocity and subtracts from the other's. The cutoff must sit well below the stride rate:
    # forward-backward, this 2nd-order filter keeps 42 % of a 2.2 Hz oscillation at 2 Hz and 4 %
    # at 1 Hz. Any low-pass below the step rate also removes the trunk's real pitch oscillation
    # at the step rate. Measured effect on swing velocity: docs/accuracy.md.
    # Keypoints from other sources (TRC, OpenPose, markers) keep the limb cutoff.
    trunk_cutoff_hz: float = 1.0
    # Gaps up to this long (capture time) are interpolated; longer stay NaN.
    max_gap_fill_s: float = 0.05
    # Landmarks below this visibility are treated as missing. MediaPipe's visibility is its
    # probability that the point is in view; below 0.5 it thinks the point more likely hidden.
    # Where the thighs cross it draws the hidden far knee on the near one with a low visibility:
    # masking those frames (filled from both sides) keeps them from dragging the far leg's angles.
    min_visibility: float = 0.5


@dataclass(frozen=True)
class EventConfig:
    # A foot is a contact candidate when its lowest point is within this
    # fraction of the athlete's leg length (hip to ankle) of the local ground.
    contact_height_leg_frac: float = 0.06
    # ...and it lasts until the foot rises above this multiple of that height (hysteresis), so a
    # pose model's foot drawn hovering just above the threshold before it really leaves does not end
    # the contact early. Toe-off errors: docs/accuracy.md.
    contact_exit_factor: float = 1.5
    min_contact_s: float = 0.04
    max_contact_s: float = 0.6
    # Half-width of the window in which the touchdown/toe-off instant is fitted.
    fit_half_window_s: float = 0.03
    # Touchdown: half-width of the data window (and twice the search range) around the frame
    # where a foot point comes within ``touchdown_anchor_frac`` of the contact threshold of its own
    # stance level, and the corner roundings tried (s). Anchoring below the threshold keeps the fit
    # off a slow approach that hovers near the threshold before the final drop (jog heel; table in
    # docs/how-it-works.md, "Ground and events").
    touchdown_span_s: float = 0.04
    touchdown_anchor_frac: float = 0.75
    touchdown_blur_s: tuple = (0.0, 0.004, 0.008, 0.012, 0.016, 0.024)
    # A contact seen on fewer frames than this (a sprint contact below ~45 fps) gets frame-resolution
    # events: the sub-frame fits need a few samples on each side of each corner.
    subframe_min_contact_frames: int = 5
    # Window of the rolling ground-level estimate; must cover at least one contact of each foot.
    ground_window_s: float = 1.2


@dataclass(frozen=True)
class FlagConfig:
    """Thresholds of the slow-swing-recovery flags (docs/configuration.md explains each)."""

    min_steps: int = 3
    # Literature places peak swing hip-flexion velocity at 600-900 deg/s at top
    # speed (METRICS.md); the low end is the default reference. Set your cohort's.
    peak_swing_hip_flexion_velocity_ref_deg_s: float = 600.0
    # A leg whose peak swing velocity is this much below the other leg's is flagged.
    swing_velocity_asymmetry_pct: float = 10.0
    # Max hip flexion normally comes around the other foot's toe-off, ~65-75 % of swing.
    time_to_peak_knee_drive_max_pct_swing: float = 80.0
    # "Leg lag": the swing thigh should be at or in front of vertical when the other foot lands.
    thigh_angle_at_contralateral_touchdown_min_deg: float = 5.0
    # Flag only when the whole 95 % CI is on the wrong side of the reference.
    require_ci_beyond_reference: bool = True


@dataclass(frozen=True)
class QualityConfig:
    # Below these capture rates a measure is reported with a warning and never flags.
    min_fps_contact_time: float = 100.0
    min_fps_swing_velocity: float = 60.0
    # Fewer than this share of frames with a pose: no analyzable running.
    min_detected_frac: float = 0.2


@dataclass(frozen=True)
class AnalysisConfig:
    clean: CleanConfig = field(default_factory=CleanConfig)
    events: EventConfig = field(default_factory=EventConfig)
    flags: FlagConfig = field(default_factory=FlagConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls, values: dict, where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise BadInputError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise BadInputError(f"{where}: [{name}] must be a table")
            kwargs[name] = _build(type(default), value, f"{where} [{name}]")
        else:
            kwargs[name] = type(default)(value)
    return cls(**kwargs)


def load_config(path: Path | None) -> AnalysisConfig:
    """Defaults, overridden by the TOML file at ``path`` if given."""
    if path is None:
        return AnalysisConfig()
    try:
        values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read config: {exc}") from None
    return _build(AnalysisConfig, values, str(path))
