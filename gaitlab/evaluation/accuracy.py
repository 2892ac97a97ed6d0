"""Run gaitlab on mocap-derived inputs and score it against force-plate truth.

Sources: ``markers`` (the joint centres projected as perfect 2D landmarks at a
given fps: the algorithm alone) and ``video`` (a rendered side-view clip of the
trial through the full pipeline, see ``gaitlab.evaluation.accuracy_video``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.analysis.analyze import AnalysisResult, analyze_track
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.evaluation import mocap, mocap_camera
from gaitlab.evaluation.scoring import evaluate, match_contacts


@dataclass
class Truth:
    trial: mocap.MocapTrial
    contacts: pd.DataFrame  # force-plate contacts (all, with ``complete``)
    frames: pd.DataFrame
    steps: pd.DataFrame
    lab_contacts: pd.DataFrame
    joints: dict
    forward: np.ndarray
    plates_m: list[tuple[float, float]]  # instrumented stretches along the running axis (mocap.plate_intervals_m)
    athlete_height_m: float | None = None  # standing height (mocap.standing_height_m), for metres
    athlete_height_source: str = ""

    def on_plates(self, side: str, time_s: float) -> bool:
        """Was this foot over the instrumented floor at ``time_s`` (so a real contact would show)?"""
        k = int(np.clip(np.searchsorted(self.trial.time_s, time_s), 0, len(self.trial.time_s) - 1))
        x = [self.joints[f"{side}_{p}"][k] @ self.forward for p in ("heel", "foot_index")]
        return mocap.within_plates(np.array(x), self.plates_m)


def load_truth(c3d_path: Path) -> Truth:
    trial = mocap.read_c3d(c3d_path)
    contacts = mocap.force_contacts(trial)
    frames, steps = mocap_camera.truth_kinematics(trial, contacts)
    forward, _ = mocap.lab_axes(trial)
    height, height_source = mocap.standing_height_m(trial)
    return Truth(
        trial=trial,
        contacts=contacts,
        frames=frames,
        steps=steps,
        lab_contacts=mocap.lab_event_contacts(trial),
        joints=mocap.joint_centres(trial),
        forward=forward,
        plates_m=mocap.plate_intervals_m(trial, forward),
        athlete_height_m=height,
        athlete_height_source=height_source,
    )


def score(
    truth: Truth,
    result: AnalysisResult,
    *,
    trial: str,
    source: str,
    fps: float,
    time_offset_s: float = 0.0,
    camera: str = "fixed",
) -> dict:
    """Error row of one analysis; ``time_offset_s`` maps analysis time to mocap time; ``camera``: fixed or
    panning (the row's ``camera`` key)."""
    found = result.contacts.copy()
    found[[col.TOUCHDOWN_S, col.TOE_OFF_S]] += time_offset_s
    steps = result.steps.copy()
    frames = result.frames.copy()
    frames[col.TIME_S] += time_offset_s
    row = evaluate(
        trial=trial,
        source=source,
        fps=fps,
        truth=truth.contacts,
        truth_steps=truth.steps,
        truth_frames=truth.frames,
        found=found,
        steps=steps,
        frames=frames,
        on_plates=truth.on_plates,
        near_side=result.summary.near_side,
    )
    row["camera"] = camera
    row["stance_toe_drift_pct"] = result.summary.metres.stance_toe_drift_pct
    row.update(metre_errors(truth, found, steps))
    return row


def pelvis_along_m(truth: Truth, time_s) -> np.ndarray:
    """The pelvis (mid-hip joint centres) along the running axis at mocap times (m, linear between samples)."""
    along = ((truth.joints["left_hip"] + truth.joints["right_hip"]) / 2) @ truth.forward
    return np.interp(time_s, truth.trial.time_s, along)


def foot_along_m(truth: Truth, side: str, touchdown_s: float, toe_off_s: float) -> float:
    """A contact's foot position along the running axis: the heel-toe mid-point, mean over the contact's middle
    60 % (as ``analysis.metres`` places a contact's foot)."""
    d = toe_off_s - touchdown_s
    t = truth.trial.time_s
    rows = (t >= touchdown_s + 0.2 * d) & (t <= toe_off_s - 0.2 * d)
    mid = (truth.joints[f"{side}_heel"][rows] + truth.joints[f"{side}_foot_index"][rows]) / 2
    return float(np.nanmean(mid @ truth.forward))


def metre_errors(truth: Truth, found: pd.DataFrame, steps: pd.DataFrame) -> dict:
    """Speed and step-length errors (error of the mean, % of the true mean; NaN when not measured).

    Speed: each measured step (touchdown to the other foot's next touchdown, ``found`` on the mocap clock)
    against the pelvis's travel over the same span. Step length: consecutive complete force-plate
    contacts of alternate feet both matched by consecutive detections, against the distance between the
    two contacts' mocap foot positions (``foot_along_m``).
    """
    nan = {"true_speed_m_s": math.nan, "speed_m_s": math.nan, "speed_error_pct": math.nan, "n_speed_steps": 0}
    nan.update({"true_step_length_m": math.nan, "step_length_m": math.nan, "step_length_error_pct": math.nan})
    nan["n_step_lengths"] = 0
    if not len(steps) or col.SPEED_M_S not in steps or not np.isfinite(steps[col.SPEED_M_S]).any():
        return nan
    found = found.reset_index(drop=True)
    steps = steps.reset_index(drop=True)
    ok = np.isfinite(steps[col.SPEED_M_S].to_numpy(float))
    t0 = found[col.TOUCHDOWN_S].to_numpy(float)[ok]
    t1 = t0 + steps[col.STEP_TIME_S].to_numpy(float)[ok]
    true_speed = (pelvis_along_m(truth, t1) - pelvis_along_m(truth, t0)) / (t1 - t0)
    out = dict(nan, true_speed_m_s=float(true_speed.mean()), speed_m_s=float(steps[col.SPEED_M_S][ok].mean()))
    out["speed_error_pct"] = 100.0 * (out["speed_m_s"] - out["true_speed_m_s"]) / out["true_speed_m_s"]
    out["n_speed_steps"] = int(ok.sum())
    contacts = truth.contacts.reset_index(drop=True)
    pairs = match_contacts(contacts, found)
    true_len, found_len = [], []
    for a in range(len(contacts) - 1):
        b = a + 1
        ca, cb = contacts.loc[a], contacts.loc[b]
        if not (ca["complete"] and cb["complete"] and ca[col.SIDE] != cb[col.SIDE] and a in pairs and b in pairs):
            continue
        measured = steps.loc[pairs[a], col.STEP_LENGTH_M]
        if pairs[b] != pairs[a] + 1 or not np.isfinite(measured):
            continue
        positions = [foot_along_m(truth, c[col.SIDE], c[col.TOUCHDOWN_S], c[col.TOE_OFF_S]) for c in (ca, cb)]
        true_len.append(positions[1] - positions[0])
        found_len.append(float(measured))
    if true_len:
        out["true_step_length_m"], out["step_length_m"] = float(np.mean(true_len)), float(np.mean(found_len))
        out["step_length_error_pct"] = (
            100.0 * (out["step_length_m"] - out["true_step_length_m"]) / out["true_step_length_m"]
        )
        out["n_step_lengths"] = len(true_len)
    return out


def analyze_markers(
    truth: Truth, fps: float, *, config: AnalysisConfig = AnalysisConfig(), phase_frames: float = 0.37
) -> AnalysisResult:
    """gaitlab's analysis of the projected markers sampled at ``fps``.

    ``phase_frames`` offsets the camera clock from the mocap clock so frames do not
    fall on the mocap samples (a real camera is not synchronised with anything).
    """
    projection, frame = mocap_camera.default_projection(truth.trial)
    track = mocap_camera.sagittal_track(
        truth.trial, fps=fps, projection=projection, frame_size_px=frame, phase_frames=phase_frames
    )
    return analyze_track(
        track,
        config=config,
        stored_fps=fps,
        capture_fps=fps,
        clip=str(truth.trial.path),
        athlete_height_m=truth.athlete_height_m,
    )


def evaluate_markers(truth: Truth, fps: float, *, trial: str, config: AnalysisConfig = AnalysisConfig()) -> dict:
    result = analyze_markers(truth, fps, config=config)
    row = score(truth, result, trial=trial, source="markers", fps=fps)
    add_scale_errors(row, result, mocap_camera.PX_PER_M)
    return row


def add_scale_errors(row: dict, result: AnalysisResult, true_px_per_m: float) -> None:
    """``scale_error_pct``: how far the analysis's pixels per metre (from the athlete's height) are from the
    camera's, %; ``speed_exact_scale_error_pct`` and ``step_length_exact_scale_error_pct``: the errors the
    same run gives with the camera's exact scale (a reference length's), every distance being pixels over
    the scale: (1 + error) x (1 + scale error) - 1."""
    m = result.summary.metres
    scale = m.px_per_m / true_px_per_m - 1.0 if m is not None and m.px_per_m else math.nan
    row["scale_error_pct"] = 100.0 * scale
    for key in ("speed", "step_length"):
        error = row.get(f"{key}_error_pct")
        exact = 100.0 * ((1 + error / 100.0) * (1 + scale) - 1.0) if error is not None else math.nan
        row[f"{key}_exact_scale_error_pct"] = exact
