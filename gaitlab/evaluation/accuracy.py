"""Run gaitlab on mocap-derived inputs and score it against force-plate truth.

Sources: ``markers`` (the joint centres projected as perfect 2D landmarks at a
given fps: the algorithm alone) and ``video`` (a rendered side-view clip of the
trial through the full pipeline, see ``gaitlab.evaluation.accuracy_video``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.analysis.analyze import AnalysisResult, analyze_track
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.evaluation import mocap, mocap_camera
from gaitlab.evaluation.scoring import evaluate


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
    return Truth(
        trial=trial,
        contacts=contacts,
        frames=frames,
        steps=steps,
        lab_contacts=mocap.lab_event_contacts(trial),
        joints=mocap.joint_centres(trial),
        forward=forward,
        plates_m=mocap.plate_intervals_m(trial, forward),
    )


def score(
    truth: Truth, result: AnalysisResult, *, trial: str, source: str, fps: float, time_offset_s: float = 0.0
) -> dict:
    """Error row of one analysis; ``time_offset_s`` maps analysis time to mocap time."""
    found = result.contacts.copy()
    found[[col.TOUCHDOWN_S, col.TOE_OFF_S]] += time_offset_s
    steps = result.steps.copy()
    frames = result.frames.copy()
    frames[col.TIME_S] += time_offset_s
    return evaluate(
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
    return analyze_track(track, config=config, stored_fps=fps, capture_fps=fps, clip=str(truth.trial.path))


def evaluate_markers(truth: Truth, fps: float, *, trial: str, config: AnalysisConfig = AnalysisConfig()) -> dict:
    return score(truth, analyze_markers(truth, fps, config=config), trial=trial, source="markers", fps=fps)
