"""Compare an analysis with ground truth: contact matching and one row of errors.

Definitions (errors are measured - truth):

- A detected contact *matches* a truth contact of the same foot when their
  [touchdown, toe-off] intervals overlap. Truth contacts that are only partly
  on the force plates (``complete`` False) are not scored, and a detection
  over them is neither missed nor extra.
- ``missed``: complete truth contacts without a match. ``extra``: detections
  that match nothing although the foot was over the plates at mid-contact
  (there the plates would have seen a real contact). Detections off the plates
  cannot be judged and are not counted.
- Touchdown / toe-off / contact-time errors: over matched complete contacts.
- Flight time and step frequency: over consecutive complete truth contacts
  (toe-off of one foot -> touchdown of the other) whose both ends matched.
  ``step_frequency_error_pct`` is the error of the mean step frequency.
- ``hip_flexion_rmse_deg``: RMS difference of the measured and the truth
  hip-flexion angle of both legs at the measured frame times, inside the time
  span of the scored contacts (+-0.3 s). ``hip_flexion_rmse_near_deg``: the
  leg facing the camera only.
- ``peak_swing_velocity_error_pct``: mean |measured - truth| / truth of the
  peak swing hip-flexion velocity, per swing after a matched complete contact
  where both have a value.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.landmarks import SIDES

ROW_KEYS = (
    "trial",
    "source",
    "model",
    "fps",
    "contacts_true",
    "contacts_found",
    "missed",
    "extra",
    "true_contact_time_mean_ms",
    "touchdown_mae_ms",
    "toe_off_mae_ms",
    "contact_time_mae_ms",
    "flight_time_mae_ms",
    "step_frequency_error_pct",
    "hip_flexion_rmse_deg",
    "peak_swing_velocity_error_pct",
)


def match_contacts(truth: pd.DataFrame, found: pd.DataFrame) -> dict[int, int]:
    """{truth row -> found row} for same-foot overlapping intervals (largest overlap wins)."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for i, tc in truth.iterrows():
        best, best_overlap = None, 0.0
        for j, fc in found.iterrows():
            if j in used or fc[col.SIDE] != tc[col.SIDE]:
                continue
            overlap = min(tc[col.TOE_OFF_S], fc[col.TOE_OFF_S]) - max(tc[col.TOUCHDOWN_S], fc[col.TOUCHDOWN_S])
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        if best is not None:
            pairs[int(i)] = int(best)
            used.add(best)
    return pairs


def nearest_contacts(found: pd.DataFrame, truth: list[dict], tol_s: float) -> list[tuple[dict, pd.Series]]:
    """Pair each true contact with the found contact of the same foot nearest in touchdown time.

    ``truth``: dicts with ``side`` and ``touchdown_s`` (a ``.truth.json``'s
    ``contacts``); ``found``: a ``contacts.csv`` table. A true contact whose
    nearest found touchdown is more than ``tol_s`` away (or whose foot has no
    contact at all) is left out; a found contact may pair with several true ones.
    Pairs are in the order of ``truth``.
    """
    pairs = []
    for c in truth:
        same = found[found[col.SIDE] == c[col.SIDE]]
        if len(same) == 0:
            continue
        k = (same[col.TOUCHDOWN_S] - c[col.TOUCHDOWN_S]).abs().idxmin()
        if abs(same.loc[k, col.TOUCHDOWN_S] - c[col.TOUCHDOWN_S]) <= tol_s:
            pairs.append((c, same.loc[k]))
    return pairs


def _stats_ms(errors_s: list[float]) -> dict:
    e = np.asarray(errors_s, dtype=float) * 1000.0
    if not e.size:
        return {"mean": math.nan, "sd": math.nan, "mae": math.nan, "n": 0}
    return {
        "mean": float(e.mean()),
        "sd": float(e.std(ddof=1)) if e.size > 1 else math.nan,
        "mae": float(np.abs(e).mean()),
        "n": int(e.size),
    }


def _rmse_on(frames: pd.DataFrame, truth_frames: pd.DataFrame, sides, t_lo: float, t_hi: float) -> float:
    sq = []
    t = frames[col.TIME_S].to_numpy()
    keep = (t >= t_lo) & (t <= t_hi)
    for side in sides:
        flexion = col.per_side(col.HIP_FLEXION_DEG, side)
        meas = frames[flexion].to_numpy()
        tt, tv = truth_frames[col.TIME_S].to_numpy(), truth_frames[flexion].to_numpy()
        ok = np.isfinite(tv)
        truth_at = np.interp(t, tt[ok], tv[ok], left=np.nan, right=np.nan)
        d = (meas - truth_at)[keep]
        sq.append(d[np.isfinite(d)] ** 2)
    allsq = np.concatenate(sq) if sq else np.zeros(0)
    return float(np.sqrt(allsq.mean())) if allsq.size else math.nan


def _extra_detections(found: pd.DataFrame, matched_found: set[int], on_plates) -> int:
    """Detections that match no truth contact although the foot was over the plates at mid-contact."""
    extra = 0
    for j, fc in found.iterrows():
        if j not in matched_found and on_plates(fc[col.SIDE], 0.5 * (fc[col.TOUCHDOWN_S] + fc[col.TOE_OFF_S])):
            extra += 1
    return extra


def _contact_errors_s(
    truth: pd.DataFrame, found: pd.DataFrame, pairs: dict[int, int], complete: list[int]
) -> tuple[list[float], list[float], list[float]]:
    """(touchdown, toe-off, contact-time) errors in seconds (found - truth) over matched complete contacts."""
    td_err, to_err, ct_err = [], [], []
    for i in complete:
        if i in pairs:
            tc, fc = truth.loc[i], found.loc[pairs[i]]
            td_err.append(fc[col.TOUCHDOWN_S] - tc[col.TOUCHDOWN_S])
            to_err.append(fc[col.TOE_OFF_S] - tc[col.TOE_OFF_S])
            ct_err.append((fc[col.TOE_OFF_S] - fc[col.TOUCHDOWN_S]) - (tc[col.TOE_OFF_S] - tc[col.TOUCHDOWN_S]))
    return td_err, to_err, ct_err


def _step_errors(
    truth: pd.DataFrame, found: pd.DataFrame, pairs: dict[int, int], complete: list[int]
) -> tuple[list[float], list[float], list[float]]:
    """(flight-time errors s, true step frequencies Hz, found step frequencies Hz) over consecutive
    complete truth contacts of alternate feet whose both ends matched."""
    fl_err, sf_true, sf_found = [], [], []
    for a, b in pairwise(complete):
        ta, tb = truth.loc[a], truth.loc[b]
        if b != a + 1 or ta[col.SIDE] == tb[col.SIDE] or a not in pairs or b not in pairs:
            continue
        fa, fb = found.loc[pairs[a]], found.loc[pairs[b]]
        fl_err.append((fb[col.TOUCHDOWN_S] - fa[col.TOE_OFF_S]) - (tb[col.TOUCHDOWN_S] - ta[col.TOE_OFF_S]))
        sf_true.append(1.0 / (tb[col.TOUCHDOWN_S] - ta[col.TOUCHDOWN_S]))
        sf_found.append(1.0 / (fb[col.TOUCHDOWN_S] - fa[col.TOUCHDOWN_S]))
    return fl_err, sf_true, sf_found


def _step_frequency_error_pct(sf_true: list[float], sf_found: list[float]):
    """Error of the mean found step frequency relative to the mean true one (NaN without steps)."""
    return 100.0 * (np.mean(sf_found) - np.mean(sf_true)) / np.mean(sf_true) if sf_true else math.nan


def _swing_velocity_errors_pct(
    truth: pd.DataFrame,
    truth_steps: pd.DataFrame | None,
    steps: pd.DataFrame | None,
    pairs: dict[int, int],
    complete: list[int],
    near_side: str | None,
) -> tuple[list[float], dict[str, list[float]]]:
    """Per-swing peak hip-flexion velocity errors in % of truth, all and by leg (near/far, only with
    ``near_side``), for the swings after matched complete contacts where both have a value."""
    vel_err, vel_err_leg = [], {"near": [], "far": []}
    if truth_steps is not None and steps is not None and len(steps):
        for i in complete:
            if i not in pairs:
                continue
            v_true = truth_steps.loc[i, col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S]
            v_meas = steps.loc[pairs[i], col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S]
            if np.isfinite(v_true) and np.isfinite(v_meas) and v_true > 0:
                vel_err.append(100.0 * (v_meas - v_true) / v_true)
                if near_side:
                    vel_err_leg["near" if truth.loc[i, "side"] == near_side else "far"].append(vel_err[-1])
    return vel_err, vel_err_leg


def _hip_flexion_rmse_deg(
    truth: pd.DataFrame,
    truth_frames: pd.DataFrame | None,
    frames: pd.DataFrame | None,
    complete: list[int],
    near_side: str | None,
) -> tuple[float, float]:
    """(both legs, near leg) hip-flexion RMSE over the scored contacts' time span +-0.3 s (NaN if unknown)."""
    rmse = rmse_near = math.nan
    if truth_frames is not None and frames is not None and len(truth):
        sub = truth.loc[complete] if complete else truth
        t_lo, t_hi = float(sub[col.TOUCHDOWN_S].min()) - 0.3, float(sub[col.TOE_OFF_S].max()) + 0.3
        rmse = _rmse_on(frames, truth_frames, SIDES, t_lo, t_hi)
        if near_side:
            rmse_near = _rmse_on(frames, truth_frames, (near_side,), t_lo, t_hi)
    return rmse, rmse_near


def _contact_time_means_ms(
    truth: pd.DataFrame, found: pd.DataFrame, pairs: dict[int, int], complete: list[int]
) -> tuple[float, float, float]:
    """(true mean, found mean, found mean - true mean) contact time in ms: complete truth contacts,
    and the detections matched to them."""
    true_ct = truth.loc[complete, col.CONTACT_TIME_S] if complete else pd.Series(dtype=float)
    found_ct = [found.loc[pairs[i], col.CONTACT_TIME_S] for i in complete if i in pairs]
    true_mean_ms = float(true_ct.mean() * 1000) if len(true_ct) else math.nan
    found_mean_ms = float(np.mean(found_ct) * 1000) if found_ct else math.nan
    error_ms = float((np.mean(found_ct) - true_ct.mean()) * 1000) if found_ct else math.nan
    return true_mean_ms, found_mean_ms, error_ms


def _swing_velocity_details(vel_err: list[float], vel_err_leg: dict[str, list[float]]) -> dict:
    """Detail columns of the swing-velocity errors: bias, and per leg (near = facing the camera) the mean
    absolute per-swing error, the per-swing range and the number of swings; then the number of swings."""
    return {
        "peak_swing_velocity_bias_pct": float(np.mean(vel_err)) if vel_err else math.nan,
        **{
            f"peak_swing_velocity_error_{leg}_pct": float(np.mean(np.abs(e))) if e else math.nan
            for leg, e in vel_err_leg.items()
        },
        **{
            f"peak_swing_velocity_range_{leg}_pct": [float(min(e)), float(max(e))] if e else None
            for leg, e in vel_err_leg.items()
        },
        **{f"n_swings_scored_{leg}": len(e) for leg, e in vel_err_leg.items()},
        "n_swings_scored": len(vel_err),
    }


def evaluate(
    *,
    trial: str,
    source: str,
    fps: float,
    truth: pd.DataFrame,
    truth_steps: pd.DataFrame | None,
    truth_frames: pd.DataFrame | None,
    found: pd.DataFrame,
    steps: pd.DataFrame | None,
    frames: pd.DataFrame | None,
    on_plates,
    near_side: str | None = None,
    model: str | None = None,
) -> dict:
    """One row of errors (keys ``ROW_KEYS`` plus details) for one analysis against truth.

    ``truth``: side, touchdown_s, toe_off_s, complete; ``found``: gaitlab contacts
    on the same time axis; ``on_plates(side, time_s) -> bool`` says whether a
    detection there could have been seen by the plates; ``truth_steps`` /
    ``steps``: per-contact rows with ``peak_swing_hip_flexion_velocity_deg_s``;
    ``truth_frames`` / ``frames``: per-frame ``hip_flexion_deg_<side>``; ``model``: the pose model
    (None for landmarks that come from no pose model).
    """
    truth = truth.reset_index(drop=True)
    found = found.reset_index(drop=True)
    pairs = match_contacts(truth, found)
    complete = truth.index[truth["complete"]].tolist()
    extra = _extra_detections(found, set(pairs.values()), on_plates)
    td_err, to_err, ct_err = _contact_errors_s(truth, found, pairs, complete)
    fl_err, sf_true, sf_found = _step_errors(truth, found, pairs, complete)
    vel_err, vel_err_leg = _swing_velocity_errors_pct(truth, truth_steps, steps, pairs, complete, near_side)
    rmse, rmse_near = _hip_flexion_rmse_deg(truth, truth_frames, frames, complete, near_side)
    td, to, ct, fl = _stats_ms(td_err), _stats_ms(to_err), _stats_ms(ct_err), _stats_ms(fl_err)
    true_ct_mean_ms, found_ct_mean_ms, ct_mean_error_ms = _contact_time_means_ms(truth, found, pairs, complete)
    return {
        "trial": trial,
        "source": source,
        "model": model,
        "fps": fps,
        "contacts_true": len(complete),
        "contacts_found": sum(1 for i in complete if i in pairs),
        "missed": sum(1 for i in complete if i not in pairs),
        "extra": extra,
        "true_contact_time_mean_ms": true_ct_mean_ms,
        "touchdown_mae_ms": td["mae"],
        "toe_off_mae_ms": to["mae"],
        "contact_time_mae_ms": ct["mae"],
        "flight_time_mae_ms": fl["mae"],
        "step_frequency_error_pct": _step_frequency_error_pct(sf_true, sf_found),
        "hip_flexion_rmse_deg": rmse,
        "peak_swing_velocity_error_pct": float(np.mean(np.abs(vel_err))) if vel_err else math.nan,
        # details
        "touchdown_mean_ms": td["mean"],
        "touchdown_sd_ms": td["sd"],
        "toe_off_mean_ms": to["mean"],
        "toe_off_sd_ms": to["sd"],
        "contact_time_mean_err_ms": ct["mean"],
        "contact_time_sd_ms": ct["sd"],
        "flight_time_mean_err_ms": fl["mean"],
        "found_contact_time_mean_ms": found_ct_mean_ms,
        "trial_mean_contact_time_error_ms": ct_mean_error_ms,
        "hip_flexion_rmse_near_deg": rmse_near,
        **_swing_velocity_details(vel_err, vel_err_leg),
    }
