"""The slow swing-leg recovery flags (METRICS.md), worded for a coach.

A flag is raised for a leg only when: the leg has at least ``min_steps``
values of the measure; the capture rate is high enough for that measure; the
leg's values are reliable (not from a collapsed/occluded far leg); the
mean (or, by default, its whole 95 % CI) is on the wrong side of the reference;
and, for statistics that carry a ``known_error`` (``metrics.with_known_error``),
that error is known, smaller than the margin to the reference and, by default,
the CI widened by it is still beyond the reference (``known_error_veto``).
Flags say "below/later than reference", never "this is why you are slow".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from gaitlab.core import columns as col
from gaitlab.core.config import FlagConfig
from gaitlab.core.landmarks import OTHER_SIDE, SIDES


@dataclass(frozen=True)
class Flag:
    code: str
    side: str
    measure: str
    value: float
    ci95_low: float | None
    ci95_high: float | None
    n: int
    reference: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def _ci_text(stat: dict, unit: str, fmt: str) -> str:
    if stat["ci95_low"] is None:
        return f"{stat['mean']:{fmt}} {unit}"
    known = f" incl. known error {stat['known_error']:{fmt}} {unit}" if stat.get("known_error") is not None else ""
    return (
        f"{stat['mean']:{fmt}} {unit} (95% CI {stat['ci95_low']:{fmt}} to "
        f"{stat['ci95_high']:{fmt}}{known}, {stat['n']} steps)"
    )


def _flag(code: str, side: str, measure: str, stat: dict, reference: float, message: str) -> Flag:
    return Flag(code, side, measure, stat["mean"], stat["ci95_low"], stat["ci95_high"], stat["n"], reference, message)


def _scatter_bound(stat: dict, end: str) -> float | None:
    """The CI end from the step-to-step scatter alone (stats widened by a known error keep it apart)."""
    return stat.get(f"ci95_stat_{end}", stat[f"ci95_{end}"])


def _below(stat: dict, ref: float, cfg: FlagConfig) -> bool:
    bound = _scatter_bound(stat, "high") if cfg.require_ci_beyond_reference else stat["mean"]
    return bound is not None and bound < ref


def _above(stat: dict, ref: float, cfg: FlagConfig) -> bool:
    bound = _scatter_bound(stat, "low") if cfg.require_ci_beyond_reference else stat["mean"]
    return bound is not None and bound > ref


def known_error_veto(stat: dict, ref: float, cfg: FlagConfig, *, extra_error: float | None = 0.0) -> str:
    """Why a flag the scatter alone would raise is withheld for the known error ('' = raise it).

    Statistics without a ``known_error`` field (no accuracy lookup) are judged on scatter alone.
    Withheld when the known error (plus ``extra_error``, the error of a reference that is itself
    measured) is unknown, or at least the margin |mean - reference|, or (with
    ``require_ci_beyond_reference``) when the CI widened by it reaches the reference.
    ``extra_error`` None: the reference's own error is unknown.
    """
    if "known_error" not in stat:
        return ""
    if stat["known_error"] is None or extra_error is None:
        return "its known error is unknown for this pose model and capture rate"
    known = abs(stat["known_error"]) + abs(extra_error)
    margin = abs(stat["mean"] - ref)
    if known >= margin:
        return f"known error {known:.3g} is at least its margin {margin:.3g} to the reference"
    half = stat["ci95_stat_high"] - stat["mean"] if stat.get("ci95_stat_high") is not None else None
    if cfg.require_ci_beyond_reference and half is not None and half + known >= margin:
        return f"its 95% CI widened by the known error {known:.3g} reaches the reference"
    return ""


def _reference_error(other: dict, keep: float) -> float | None:
    """Known error of ``keep`` x the other leg's mean (0 for plain statistics, None when unknown)."""
    if "known_error" not in other:
        return 0.0
    return None if other["known_error"] is None else keep * abs(other["known_error"])


class _Collector:
    """Raised flags and, for the flags the known error vetoes, why each was withheld."""

    def __init__(self, cfg: FlagConfig):
        self.cfg, self.flags, self.withheld = cfg, [], []

    def add(
        self, code: str, side: str, measure: str, stat: dict, ref: float, message: str, extra_error: float | None = 0.0
    ) -> None:
        why = known_error_veto(stat, ref, self.cfg, extra_error=extra_error)
        if not why:
            self.flags.append(_flag(code, side, measure, stat, ref, message))
            return
        self.withheld.append(
            {
                "code": code,
                "side": side,
                "measure": measure,
                "value": stat["mean"],
                "reference": ref,
                "margin": abs(stat["mean"] - ref),
                "known_error": stat["known_error"],
                "why": why,
            }
        )


def compute_flags(
    leg_stats: dict, *, cfg: FlagConfig, usable: dict[str, set[str]], withheld: list | None = None
) -> list[Flag]:
    """Flags per leg. ``usable[side]`` holds the measures allowed to raise a flag on that side.

    ``withheld``, if given, receives one dict per flag the scatter alone would raise but the known
    error vetoes (``known_error_veto``): code, side, measure, value, reference, margin (|value -
    reference|), known_error and why.
    """
    out = _Collector(cfg)
    for side in SIDES:
        st = leg_stats[side]

        def ok(measure: str, side: str = side, st: dict = st) -> bool:
            return measure in usable.get(side, set()) and st[measure]["n"] >= cfg.min_steps

        m = col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S
        ref = cfg.peak_swing_hip_flexion_velocity_ref_deg_s
        if ok(m) and _below(st[m], ref, cfg):
            out.add(
                "slow_swing_velocity",
                side,
                m,
                st[m],
                ref,
                f"{side.capitalize()} leg: the swing leg is driven forward more slowly than the "
                f"reference: peak swing hip-flexion velocity {_ci_text(st[m], 'deg/s', '.0f')} "
                f"vs reference {ref:.0f} deg/s.",
            )
        other = leg_stats[OTHER_SIDE[side]][m]
        # both legs must be allowed to flag: comparing a near leg with a (biased) far leg says little
        if ok(m) and other["n"] >= cfg.min_steps and m in usable.get(OTHER_SIDE[side], set()):
            keep = 1 - cfg.swing_velocity_asymmetry_pct / 100.0
            ref_asym = other["mean"] * keep
            if _below(st[m], ref_asym, cfg):
                # the reference moves with the other leg's own error
                out.add(
                    "swing_velocity_asymmetry",
                    side,
                    m,
                    st[m],
                    ref_asym,
                    f"{side.capitalize()} leg recovers more slowly than the "
                    f"{OTHER_SIDE[side]}: peak swing hip-flexion velocity "
                    f"{_ci_text(st[m], 'deg/s', '.0f')} is more than "
                    f"{cfg.swing_velocity_asymmetry_pct:.0f}% below the {OTHER_SIDE[side]} leg's "
                    f"{other['mean']:.0f} deg/s.",
                    extra_error=_reference_error(other, keep),
                )
        m = col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING
        ref = cfg.time_to_peak_knee_drive_max_pct_swing
        if ok(m) and _above(st[m], ref, cfg):
            out.add(
                "late_knee_drive",
                side,
                m,
                st[m],
                ref,
                f"{side.capitalize()} leg: the knee reaches its highest point late in the swing: "
                f"time to peak knee drive {_ci_text(st[m], '% of swing', '.0f')} vs reference "
                f"at most {ref:.0f}%.",
            )
        m = col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG
        ref = cfg.thigh_angle_at_contralateral_touchdown_min_deg
        if ok(m) and _below(st[m], ref, cfg):
            out.add(
                "leg_lag",
                side,
                m,
                st[m],
                ref,
                f"{side.capitalize()} leg: the swing thigh is still behind when the other foot "
                f"lands (backside mechanics): thigh angle {_ci_text(st[m], 'deg', '.1f')} vs "
                f"reference at least {ref:.0f} deg.",
            )
    if withheld is not None:
        withheld.extend(out.withheld)
    return out.flags
