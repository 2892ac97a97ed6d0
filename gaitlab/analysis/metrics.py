"""Per-step measures from contacts and kinematics, and their trial statistics.

Definitions (all times in seconds of real capture time, angles in degrees):

- ``contact_time_s``: touchdown -> toe-off of the same foot.
- ``flight_time_s``: this foot's toe-off -> the other foot's next touchdown.
- ``step_time_s``: this foot's touchdown -> the other foot's next touchdown;
  ``step_frequency_hz`` = 1 / ``step_time_s``.
- ``swing_time_s``: this foot's toe-off -> its own next touchdown.
- ``peak_swing_hip_flexion_velocity_deg_s``: maximum of the hip-flexion angular
  velocity of this leg between its toe-off and the following maximal hip
  flexion (the "knee drive").
- ``time_to_peak_knee_drive_s``: toe-off -> instant of maximal hip flexion in
  that swing; ``time_to_peak_knee_drive_pct_swing`` = that / swing time * 100.
- ``thigh_angle_at_contralateral_touchdown_deg``: this (swing) leg's thigh
  angle when the other foot next touches down after this foot's toe-off.

Each row of the steps table belongs to one contact of one foot (``side``) and
carries the measures of the stance and of the swing that follows it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from gaitlab.core import columns as col
from gaitlab.core.landmarks import OTHER_SIDE, SIDES

MEASURES = col.MEASURES

# Swing measures need this much hip-flexion fall after the maximum to call it a maximum.
_MIN_DROP_AFTER_MAX_DEG = 3.0
# Longest plausible swing (a jog's is ~0.5 s); bounds the knee-drive search when the next contact is unknown.
_MAX_SWING_S = 0.8


def _parabolic_peak(t: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float]:
    """Sub-sample time and value of the extremum at index k (3-point parabola)."""
    if 0 < k < len(y) - 1 and np.all(np.isfinite(y[k - 1 : k + 2])):
        y0, y1, y2 = y[k - 1], y[k], y[k + 1]
        denom = y0 - 2 * y1 + y2
        if denom != 0:
            delta = 0.5 * (y0 - y2) / denom
            if abs(delta) <= 1:
                dt = (t[k + 1] - t[k - 1]) / 2.0
                return float(t[k] + delta * dt), float(y1 - 0.25 * (y0 - y2) * delta)
    return float(t[k]), float(y[k])


def swing_peaks(kin: pd.DataFrame, side: str, toe_off_s: float, end_s: float) -> dict:
    """Maximal hip flexion after toe-off and the peak flexion velocity before it.

    ``end_s`` bounds the search (next touchdown of the same foot, or the data end).
    Returns NaNs when the maximum is not an interior maximum inside the data.
    """
    t = kin[col.TIME_S].to_numpy()
    flex = kin[col.per_side(col.HIP_FLEXION_DEG, side)].to_numpy()
    vel = kin[col.per_side(col.HIP_FLEXION_VELOCITY_DEG_S, side)].to_numpy()
    nan = {
        "max_hip_flexion_s": math.nan,
        col.MAX_HIP_FLEXION_DEG: math.nan,
        "peak_velocity_deg_s": math.nan,
        "peak_velocity_s": math.nan,
    }
    sel = np.flatnonzero((t >= toe_off_s) & (t <= end_s))
    if len(sel) < 3 or not np.all(np.isfinite(flex[sel])):
        return nan
    k_max = sel[int(np.argmax(flex[sel]))]
    after = flex[k_max : sel[-1] + 1]
    if k_max == sel[-1] or flex[k_max] - np.nanmin(after) < _MIN_DROP_AFTER_MAX_DEG:
        return nan  # still flexing when the data (or swing) ends: no knee-drive peak seen
    t_max, flex_max = _parabolic_peak(t, flex, k_max)
    rise = np.arange(sel[0], k_max + 1)
    if not np.all(np.isfinite(vel[rise])):
        return dict(nan, max_hip_flexion_s=t_max, max_hip_flexion_deg=flex_max)
    k_v = rise[int(np.argmax(vel[rise]))]
    t_v, v_max = _parabolic_peak(t, vel, k_v)
    return {
        "max_hip_flexion_s": t_max,
        col.MAX_HIP_FLEXION_DEG: flex_max,
        "peak_velocity_deg_s": v_max,
        "peak_velocity_s": t_v,
    }


def compute_steps(contacts: pd.DataFrame, kin: pd.DataFrame) -> pd.DataFrame:
    """One row per contact with the measures of that stance and the following swing."""
    rows = []
    t_end = float(kin[col.TIME_S].iloc[-1]) if len(kin) else 0.0
    t = kin[col.TIME_S].to_numpy()
    for _, c in contacts.iterrows():
        side = c[col.SIDE]
        other = contacts[(contacts[col.SIDE] == OTHER_SIDE[side]) & (contacts[col.TOUCHDOWN_S] > c[col.TOUCHDOWN_S])]
        same = contacts[(contacts[col.SIDE] == side) & (contacts[col.TOUCHDOWN_S] > c[col.TOUCHDOWN_S])]
        next_other_td = float(other[col.TOUCHDOWN_S].iloc[0]) if len(other) else math.nan
        next_same_td = float(same[col.TOUCHDOWN_S].iloc[0]) if len(same) else math.nan
        if np.isfinite(next_same_td):
            # exactly one contact of the other foot between two of this foot, or one was missed
            between = other[other[col.TOUCHDOWN_S] < next_same_td]
            if len(between) != 1:
                next_other_td = math.nan
                next_same_td = math.nan
        step_time = next_other_td - c[col.TOUCHDOWN_S]
        flight = next_other_td - c[col.TOE_OFF_S]
        swing_time = next_same_td - c[col.TOE_OFF_S]
        search_end = next_same_td if np.isfinite(next_same_td) else min(t_end, c[col.TOE_OFF_S] + _MAX_SWING_S)
        peaks = swing_peaks(kin, side, c[col.TOE_OFF_S], search_end)
        ttp = peaks["max_hip_flexion_s"] - c[col.TOE_OFF_S]
        thigh_at_ctd = math.nan
        if np.isfinite(next_other_td):
            thigh = kin[col.per_side(col.THIGH_ANGLE_DEG, side)].to_numpy()
            ok = np.isfinite(thigh)
            if ok.sum() >= 2 and t[ok][0] <= next_other_td <= t[ok][-1]:
                thigh_at_ctd = float(np.interp(next_other_td, t[ok], thigh[ok]))
        rows.append(
            {
                "side": side,
                "leg": c[col.LEG],
                col.TOUCHDOWN_S: c[col.TOUCHDOWN_S],
                col.TOE_OFF_S: c[col.TOE_OFF_S],
                "confidence": c[col.CONFIDENCE],
                col.CONTACT_TIME_S: c[col.CONTACT_TIME_S],
                col.FLIGHT_TIME_S: flight,
                col.STEP_TIME_S: step_time,
                col.STEP_FREQUENCY_HZ: 1.0 / step_time if step_time > 0 else math.nan,
                col.SWING_TIME_S: swing_time,
                col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S: peaks["peak_velocity_deg_s"],
                col.PEAK_SWING_HIP_FLEXION_VELOCITY_S: peaks["peak_velocity_s"],
                col.MAX_HIP_FLEXION_DEG: peaks[col.MAX_HIP_FLEXION_DEG],
                col.TIME_TO_PEAK_KNEE_DRIVE_S: ttp,
                col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING: 100.0 * ttp / swing_time if swing_time > 0 else math.nan,
                col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG: thigh_at_ctd,
            }
        )
    return pd.DataFrame(rows)


def describe(values) -> dict:
    """Mean, SD (n-1), 95 % CI of the mean (Student t) and n of the finite values.

    Fields are None when undefined (no values; SD and CI need n >= 2).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"mean": None, "sd": None, "ci95_low": None, "ci95_high": None, "n": 0}
    mean = float(v.mean())
    if n < 2:
        return {"mean": mean, "sd": None, "ci95_low": None, "ci95_high": None, "n": 1}
    sd = float(v.std(ddof=1))
    half = float(stdtrit(n - 1, 0.975) * sd / math.sqrt(n))
    return {"mean": mean, "sd": sd, "ci95_low": mean - half, "ci95_high": mean + half, "n": n}


def with_known_error(stat: dict, known_error: float | None) -> dict:
    """``stat`` (from ``describe``) with the 95 % CI widened by a known systematic error.

    Added fields: ``known_error`` (the measure's known error against ground truth, in its unit;
    None when no accuracy row covers it), ``ci95_stat_low`` / ``ci95_stat_high`` (the CI from the
    step-to-step scatter alone). ``ci95_low`` / ``ci95_high`` become mean -/+ (t half-width +
    known error): a bounded systematic error shifts every step alike, so only the linear sum keeps
    95 % coverage of the true value for any error up to the bound (a root-sum-square would treat it
    as random and under-cover). Unknown error: the CI stays the scatter-only one.
    """
    out = {**stat, "known_error": known_error, "ci95_stat_low": stat["ci95_low"], "ci95_stat_high": stat["ci95_high"]}
    if known_error is not None and stat["ci95_low"] is not None:
        half = (stat["ci95_high"] - stat["ci95_low"]) / 2.0 + abs(known_error)
        out["ci95_low"], out["ci95_high"] = stat["mean"] - half, stat["mean"] + half
    return out


def leg_statistics(steps: pd.DataFrame) -> dict:
    """``{left|right|both: {measure: describe(...)}}`` over the steps of the clip."""
    out = {}
    for key in (*SIDES, "both"):
        sub = steps if key == "both" else steps[steps[col.SIDE] == key] if len(steps) else steps
        out[key] = {m: describe(sub[m] if m in sub else []) for m in MEASURES}
    return out


def asymmetry_pct(left: float | None, right: float | None) -> float | None:
    """(left - right) / mean(left, right) * 100; None when either is missing."""
    if left is None or right is None or (left + right) == 0:
        return None
    return float(100.0 * (left - right) / ((left + right) / 2.0))
