"""The truth a gait model holds: every contact, and per swing the hip-flexion events (peak velocity,
maximal flexion, thigh angle at the other foot's touchdown), found to 1e-9 s on the analytic curves."""

from __future__ import annotations

import math

import numpy as np

from gaitlab.evaluation.synth.gait_model import SIDES, GaitModel


def swing_truth(model: GaitModel, side: str, t_to: float, fs: float = 10000.0) -> dict:
    """Truth of the swing starting with the toe-off at ``t_to`` (model time)."""
    from scipy.optimize import minimize_scalar

    t_td = t_to + model.S
    tt = np.arange(t_to, t_td, 1.0 / fs)
    hf = model.hip_flexion_deg(tt, side)
    i = int(np.argmax(hf))
    lo, hi = tt[max(i - 1, 0)], tt[min(i + 1, len(tt) - 1)]
    r = minimize_scalar(
        lambda x: -float(model.hip_flexion_deg(x, side)[0]), bounds=(lo, hi), method="bounded", options={"xatol": 1e-9}
    )
    t_max = float(r.x)
    tv = np.arange(t_to, t_max, 1.0 / fs)
    vel = model.hip_flexion_velocity_deg_s(tv, side)
    j = int(np.argmax(vel))
    lo, hi = tv[max(j - 1, 0)], tv[min(j + 1, len(tv) - 1)]
    r2 = minimize_scalar(
        lambda x: -float(model.hip_flexion_velocity_deg_s(x, side)[0]),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-9},
    )
    other = "right" if side == "left" else "left"
    # contralateral touchdown inside this swing
    t_ctd = t_to + np.mod(model.touchdown_offset_s(other) - t_to, model.T)
    return {
        "side": side,
        "toe_off_s": t_to,
        "next_touchdown_s": t_td,
        "swing_time_s": model.S,
        "peak_hip_flexion_velocity_deg_s": float(-r2.fun),
        "peak_hip_flexion_velocity_s": float(r2.x),
        "max_hip_flexion_s": t_max,
        "max_hip_flexion_deg": float(-r.fun),
        "time_to_max_hip_flexion_s": t_max - t_to,
        "thigh_angle_at_contralateral_touchdown_deg": float(model.thigh_angle_deg(t_ctd, side)[0]),
        "contralateral_touchdown_s": float(t_ctd),
    }


def gait_events(model: GaitModel, t_start: float, t_end: float) -> dict:
    """Contacts and swings whose events all lie in [t_start, t_end] (model time)."""
    contacts, swings = [], []
    eps = 1e-9
    for side in SIDES:
        off = model.touchdown_offset_s(side)
        k0 = math.floor((t_start - off) / model.T) - 1
        k1 = math.ceil((t_end - off) / model.T) + 1
        for k in range(k0, k1 + 1):
            td = off + k * model.T
            to = td + model.c
            if td >= t_start - eps and to <= t_end + eps:
                contacts.append({"side": side, "touchdown_s": td, "toe_off_s": to})
            if to >= t_start - eps and to + model.S <= t_end + eps:
                swings.append(swing_truth(model, side, to))
    contacts.sort(key=lambda e: e["touchdown_s"])
    swings.sort(key=lambda e: e["toe_off_s"])
    return {"contacts": contacts, "swings": swings}
