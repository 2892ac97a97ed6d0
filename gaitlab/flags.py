"""The slow swing-leg recovery flags (METRICS.md), worded for a coach.

A flag is raised for a leg only when: the leg has at least ``min_steps``
values of the measure; the capture rate is high enough for that measure; the
leg's values are reliable (not from a collapsed/occluded far leg); and the
mean (or, by default, its whole 95 % CI) is on the wrong side of the reference.
Flags say "below/later than reference", never "this is why you are slow".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .config import FlagConfig
from .landmarks import OTHER_SIDE, SIDES


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
    return (f"{stat['mean']:{fmt}} {unit} (95% CI {stat['ci95_low']:{fmt}} to "
            f"{stat['ci95_high']:{fmt}}, {stat['n']} steps)")


def _flag(code: str, side: str, measure: str, stat: dict, reference: float, message: str) -> Flag:
    return Flag(code, side, measure, stat["mean"], stat["ci95_low"], stat["ci95_high"], stat["n"], reference, message)


def _below(stat: dict, ref: float, cfg: FlagConfig) -> bool:
    bound = stat["ci95_high"] if cfg.require_ci_beyond_reference else stat["mean"]
    return bound is not None and bound < ref


def _above(stat: dict, ref: float, cfg: FlagConfig) -> bool:
    bound = stat["ci95_low"] if cfg.require_ci_beyond_reference else stat["mean"]
    return bound is not None and bound > ref


def compute_flags(leg_stats: dict, *, cfg: FlagConfig, usable: dict[str, set[str]]) -> list[Flag]:
    """Flags per leg. ``usable[side]`` holds the measures allowed to raise a flag on that side."""
    flags: list[Flag] = []
    for side in SIDES:
        st = leg_stats[side]

        def ok(measure: str) -> bool:
            return measure in usable.get(side, set()) and st[measure]["n"] >= cfg.min_steps

        m = "peak_swing_hip_flexion_velocity_deg_s"
        ref = cfg.peak_swing_hip_flexion_velocity_ref_deg_s
        if ok(m) and _below(st[m], ref, cfg):
            flags.append(_flag("slow_swing_velocity", side, m, st[m], ref,
                               f"{side.capitalize()} leg: the swing leg is driven forward more slowly than the "
                               f"reference: peak swing hip-flexion velocity {_ci_text(st[m], 'deg/s', '.0f')} "
                               f"vs reference {ref:.0f} deg/s."))
        other = leg_stats[OTHER_SIDE[side]][m]
        # both legs must be allowed to flag: comparing a near leg with a (biased) far leg says little
        if ok(m) and other["n"] >= cfg.min_steps and m in usable.get(OTHER_SIDE[side], set()):
            ref_asym = other["mean"] * (1 - cfg.swing_velocity_asymmetry_pct / 100.0)
            if _below(st[m], ref_asym, cfg):
                flags.append(_flag("swing_velocity_asymmetry", side, m, st[m], ref_asym,
                                   f"{side.capitalize()} leg recovers more slowly than the "
                                   f"{OTHER_SIDE[side]}: peak swing hip-flexion velocity "
                                   f"{_ci_text(st[m], 'deg/s', '.0f')} is more than "
                                   f"{cfg.swing_velocity_asymmetry_pct:.0f}% below the {OTHER_SIDE[side]} leg's "
                                   f"{other['mean']:.0f} deg/s."))
        m = "time_to_peak_knee_drive_pct_swing"
        ref = cfg.time_to_peak_knee_drive_max_pct_swing
        if ok(m) and _above(st[m], ref, cfg):
            flags.append(_flag("late_knee_drive", side, m, st[m], ref,
                               f"{side.capitalize()} leg: the knee reaches its highest point late in the swing: "
                               f"time to peak knee drive {_ci_text(st[m], '% of swing', '.0f')} vs reference "
                               f"at most {ref:.0f}%."))
        m = "thigh_angle_at_contralateral_touchdown_deg"
        ref = cfg.thigh_angle_at_contralateral_touchdown_min_deg
        if ok(m) and _below(st[m], ref, cfg):
            flags.append(_flag("leg_lag", side, m, st[m], ref,
                               f"{side.capitalize()} leg: the swing thigh is still behind when the other foot "
                               f"lands (backside mechanics): thigh angle {_ci_text(st[m], 'deg', '.1f')} vs "
                               f"reference at least {ref:.0f} deg."))
    return flags
