"""Analysis settings: frozen dataclasses with units in every name.

Defaults are the documented, justified values (docs/configuration.md).
A TOML file passed with ``--config`` may override any field; unknown keys are
an error so a typo never silently falls back to a default. Each number's
allowed range is declared beside its field (``setting``) and checked on load,
as is its type: a wrong value is a ``BadInputError`` naming the file, the key,
the value and the range.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli is the same parser under its PyPI name
    import tomli as tomllib

from gaitlab.core.errors import BadInputError


@dataclass(frozen=True)
class Range:
    """The values a number setting may take: ``lo`` to ``hi``, each end included unless open."""

    lo: float
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open or math.isinf(self.hi) else value <= self.hi
        return above and below

    def __str__(self) -> str:
        """``in (0, 50]``, or ``>= 2`` when there is no upper end."""
        if math.isinf(self.hi):
            return f"{'>' if self.lo_open else '>='} {self.lo:g}"
        return f"in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"


def setting(default, lo: float, hi: float = math.inf, *, lo_open: bool = False, hi_open: bool = False):
    """A settings field whose value (each element, for a tuple) must lie in ``Range(lo, hi, ...)``."""
    return field(default=default, metadata={"range": Range(lo, hi, lo_open, hi_open)})


@dataclass(frozen=True)
class CleanConfig:
    # 12 Hz keeps the hip-flexion velocity peak of a ~4.5 steps/s sprint (its
    # energy sits below ~10 Hz) while removing pose jitter; Sports2D's 6 Hz
    # blunts the peak. Applied in capture-time Hz, clamped below Nyquist. Above 50 Hz nothing of a
    # runner's limb motion is left to keep, only pose jitter; below 0.1 Hz nothing of the running either,
    # and far below it the filter's design fails numerically (5e-8 Hz: a singular matrix).
    cutoff_hz: float = setting(12.0, 0.1, 50.0)
    # Run forwards and backwards (twice the order in effect); higher orders ring, and a gap-free run
    # shorter than the filter's padding (3 x (order + 1) frames) is left unfiltered.
    filter_order: int = setting(4, 1, 8)
    # For MediaPipe tracks the trunk angle (shoulder midpoint -> hip midpoint) gets a much
    # lower cutoff: lean changes slowly, while arm swing drags the shoulder landmarks at the
    # stride rate (2.2 Hz in a sprint, 1.3 Hz in a jog), which adds to one leg's hip-flexion
    # velocity and subtracts from the other's. The cutoff must sit well below the stride rate:
    # forward-backward, this 2nd-order filter keeps 42 % of a 2.2 Hz oscillation at 2 Hz and 4 %
    # at 1 Hz. Any low-pass below the step rate also removes the trunk's real pitch oscillation
    # at the step rate. Measured effect on swing velocity: docs/accuracy.md.
    # Keypoints from other sources (TRC, OpenPose, markers) keep the limb cutoff.
    trunk_cutoff_hz: float = setting(1.0, 0.1, 50.0)
    # Gaps up to this long (capture time) are interpolated; longer stay NaN. More than a sprint
    # stride (0.45 s) would be invented motion.
    max_gap_fill_s: float = setting(0.05, 0.0, 0.5)
    # Landmarks below this visibility are treated as missing. MediaPipe's visibility is its
    # probability that the point is in view; below 0.5 it thinks the point more likely hidden.
    # Where the thighs cross it draws the hidden far knee on the near one with a low visibility:
    # masking those frames (filled from both sides) keeps them from dragging the far leg's angles.
    min_visibility: float = setting(0.5, 0.0, 1.0)


@dataclass(frozen=True)
class EventConfig:
    # A foot is a contact candidate when its lowest point is within this
    # fraction of the athlete's leg length (hip to ankle) of the local ground.
    contact_height_leg_frac: float = setting(0.06, 0.0, 0.5, lo_open=True)
    # ...and it lasts until the foot rises above this multiple of that height (hysteresis), so a
    # pose model's foot drawn hovering just above the threshold before it really leaves does not end
    # the contact early. Toe-off errors: docs/accuracy.md.
    # At least 1: the exit height cannot be below the entry height.
    contact_exit_factor: float = setting(1.5, 1.0, 5.0)
    # min_contact_s must be below max_contact_s (checked on load).
    min_contact_s: float = setting(0.04, 0.0, 1.0, lo_open=True)
    max_contact_s: float = setting(0.6, 0.0, 5.0, lo_open=True)
    # Half-width of the window in which the touchdown/toe-off instant is fitted.
    fit_half_window_s: float = setting(0.03, 0.0, 0.5, lo_open=True)
    # Touchdown: half-width of the data window (and twice the search range) around the frame
    # where a foot point comes within ``touchdown_anchor_frac`` of the contact threshold of its own
    # stance level, and the corner roundings tried (s). Anchoring below the threshold keeps the fit
    # off a slow approach that hovers near the threshold before the final drop (jog heel; table in
    # docs/how-it-works.md, "Ground and events").
    touchdown_span_s: float = setting(0.04, 0.0, 0.5, lo_open=True)
    touchdown_anchor_frac: float = setting(0.75, 0.0, 1.0, lo_open=True)
    touchdown_blur_s: tuple = setting((0.0, 0.004, 0.008, 0.012, 0.016, 0.024), 0.0, 0.1)
    # A contact seen on fewer frames than this (a sprint contact below ~45 fps) gets frame-resolution
    # events: the sub-frame fits need a few samples on each side of each corner.
    subframe_min_contact_frames: int = setting(5, 1)
    # Window of the rolling ground-level estimate; must cover at least one contact of each foot.
    ground_window_s: float = setting(1.2, 0.0, 60.0, lo_open=True)


@dataclass(frozen=True)
class FlagConfig:
    """Thresholds of the slow-swing-recovery flags (docs/configuration.md explains each)."""

    # At least 2: a 95 % CI needs two steps.
    min_steps: int = setting(3, 2)
    # Literature places peak swing hip-flexion velocity at 600-900 deg/s at top
    # speed (METRICS.md); the low end is the default reference. Set your cohort's (at most
    # twice the fastest published).
    peak_swing_hip_flexion_velocity_ref_deg_s: float = setting(600.0, 0.0, 2000.0, lo_open=True)
    # A leg whose peak swing velocity is this much below the other leg's is flagged.
    swing_velocity_asymmetry_pct: float = setting(10.0, 0.0, 100.0, lo_open=True, hi_open=True)
    # Max hip flexion normally comes around the other foot's toe-off, ~65-75 % of swing.
    time_to_peak_knee_drive_max_pct_swing: float = setting(80.0, 0.0, 100.0, lo_open=True)
    # "Leg lag": the swing thigh should be at or in front of vertical when the other foot lands.
    thigh_angle_at_contralateral_touchdown_min_deg: float = setting(5.0, -90.0, 90.0)
    # Flag only when the whole 95 % CI is on the wrong side of the reference.
    require_ci_beyond_reference: bool = True


@dataclass(frozen=True)
class QualityConfig:
    # Below these capture rates a measure is reported with a warning and never flags.
    # Up to 10 000 fps, the fastest high-speed cameras used in sprint research.
    min_fps_contact_time: float = setting(100.0, 0.0, 10_000.0, lo_open=True)
    min_fps_swing_velocity: float = setting(60.0, 0.0, 10_000.0, lo_open=True)
    # Fewer than this share of frames with a pose: no analyzable running.
    min_detected_frac: float = setting(0.2, 0.0, 1.0, lo_open=True)


# Shorter than this, a 2 px error at each end is over 4 % of the reference: not a scale worth giving.
MIN_REFERENCE_PX = 100


@dataclass(frozen=True)
class MetresConfig:
    # A known length on the ground in the runner's line (two cones, two marks), as its two ends in image
    # pixels of the upright frame, [x1, y1, x2, y2], and its length in metres; none by default. With it the
    # scale comes from that length rather than the athlete's height (docs/metrics.md): one tripod set-up,
    # one reference, for every clip filmed from it.
    reference_px: tuple = setting((), 0.0, 100_000.0)
    reference_m: float = setting(0.0, 0.0, 1_000.0)  # 0: no reference


@dataclass(frozen=True)
class AnalysisConfig:
    clean: CleanConfig = field(default_factory=CleanConfig)
    events: EventConfig = field(default_factory=EventConfig)
    flags: FlagConfig = field(default_factory=FlagConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    metres: MetresConfig = field(default_factory=MetresConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _toml(value) -> str:
    """``value`` as it reads in TOML, shortened to one line."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{...}"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value) -> bool:
    """A finite TOML integer or float (TOML booleans are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _checked(f: dataclasses.Field, value, where: str):
    """``value`` for field ``f`` as the dataclass holds it; BadInputError if its type or range is wrong."""
    default, allowed = f.default, f.metadata.get("range")
    if isinstance(default, bool):
        ok, wanted = isinstance(value, bool), "true or false (a TOML boolean, no quotes)"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value in allowed
        wanted = f"a whole number {allowed}"
    elif isinstance(default, float):
        ok, wanted = _is_number(value) and value in allowed, f"a number {allowed}"
        value = float(value) if ok else value
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and len(value) > 0 and all(_is_number(v) and v in allowed for v in value)
        wanted = f"a non-empty array of numbers, each {allowed}"
        value = tuple(float(v) for v in value) if ok else value
    else:  # a field type this loader does not know: a bug in this module, not in the file
        raise TypeError(f"setting {f.name}: no check for {type(default).__name__}")
    if not ok:
        raise BadInputError(f"{where}{f.name} = {_toml(value)}: must be {wanted}")
    return value


def _check_together(config, where: str) -> None:
    """Rules that tie two settings of one table."""
    if isinstance(config, EventConfig) and not config.min_contact_s < config.max_contact_s:
        raise BadInputError(
            f"{where}min_contact_s = {config.min_contact_s:g}: must be below max_contact_s = {config.max_contact_s:g}"
        )
    if isinstance(config, MetresConfig) and (config.reference_px or config.reference_m):
        p = config.reference_px
        if len(p) != 4 or not config.reference_m > 0:
            raise BadInputError(
                f"{where}reference_px = {_toml(list(p))}, reference_m = {config.reference_m:g}: give both, the "
                "two ends [x1, y1, x2, y2] in pixels and the length in metres (> 0)"
            )
        if math.hypot(p[2] - p[0], p[3] - p[1]) < MIN_REFERENCE_PX:
            raise BadInputError(
                f"{where}reference_px = {_toml(list(p))}: its ends are under {MIN_REFERENCE_PX} px apart; mark a "
                "longer length (a few metres along the run)"
            )


def _build(cls, values: dict, path: str, table: str = ""):
    """``cls`` from the TOML table ``values`` (``table``: its name, "" for the file's top level)."""
    where = f"{path}: [{table}] " if table else f"{path}: "
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise BadInputError(f"{where}unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        f = known[name]
        if f.default is dataclasses.MISSING:  # a table of settings (its default comes from a factory)
            if not isinstance(value, dict):
                raise BadInputError(f"{where}{name} = {_toml(value)}: must be a table ([{name}])")
            kwargs[name] = _build(f.default_factory, value, path, name)
        else:
            kwargs[name] = _checked(f, value, where)
    config = cls(**kwargs)
    _check_together(config, where)
    return config


_MAX_CONFIG_BYTES = 1 << 20  # a settings file is a few hundred bytes


def _check_config_file(path: Path) -> None:
    """Only a regular file of settings' size is read: a FIFO would block for ever, a device never end."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise BadInputError(f"{path}: cannot read config: not a regular file")
    if info.st_size > _MAX_CONFIG_BYTES:
        raise BadInputError(f"{path}: cannot read config: {info.st_size} bytes is not a settings file (at most 1 MiB)")


def load_config(path: Path | None) -> AnalysisConfig:
    """Defaults, overridden by the TOML file at ``path`` if given.

    Raises BadInputError (one line: file, key, value, allowed values) for an unreadable file,
    an unknown key, or a value of the wrong type or outside its range.
    """
    if path is None:
        return AnalysisConfig()
    try:
        _check_config_file(Path(path))
        values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read config: {' '.join(str(exc).split())}") from None
    except RecursionError:  # arrays or tables nested thousands deep: the parser recurses per level
        raise BadInputError(f"{path}: cannot read config: values nested too deeply") from None
    return _build(AnalysisConfig, values, str(path))
