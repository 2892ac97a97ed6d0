"""FootNet's treadmill example as a ``markers`` truth source: real runners' foot kinematics with
force-labelled contacts.

The file (``shared/data/mocap/footnet_treadmill_example.mat``, from the FootNet release) holds, per
foot, 27 consecutive stride windows at 200 Hz (the last sample of one window and the first of the
next are consecutive, so each foot's windows join into one ~18 s series): segment end points in
metres (treadmill frame: x = right, y = forward, z = up; ``?tib_prox``, ``?tib_dist``,
``?foot_prox``, ``?foot_dist``), joint angles in degrees (``?hip``, ``?knee``, ``?ank``: flexion
first) and ``rlabels`` / ``llabels``, 0/1 per sample: foot on the ground by the force plate.

Landmarks of the PoseTrack (a side camera on the left, ~222 px/m like the other markers rows):

- **real**: knee = ``tib_prox``, ankle = ``tib_dist``, heel = ``foot_prox``, toe (``foot_index``) =
  ``foot_dist`` (the foot segment's proximal and distal points stand in for heel and toe: the
  lowest points of the rear and front foot; they are 0.13 m apart, so "toe" is nearer the
  metatarsal heads than the tip);
- **constructed**: the hip, because the file has no thigh or pelvis points: it lies one thigh
  length (= the shank length, as in Winter's proportions) from the knee along the thigh, whose
  sagittal angle is the shank's plus the knee flexion angle. The two legs' hips built this way
  agree (median height 0.833 / 0.832 m, forward 0.448 / 0.438 m). The shoulder sits 0.5 m straight
  above the hip (upright trunk): the file has no trunk, and gaitlab needs one for its angles;
- **time alignment of the legs**: each foot's series starts at its own stride, so their relative
  timing is not in the file. The left series is placed half a stride after the right one (a
  symmetric gait), the stride period and the two series' phase offset taken from the
  cross-correlation of the two feet's forward positions, never from the contact labels. Only the
  span where both legs have data is used.

The treadmill frame is kept: the stance foot moves back at belt speed as it does in a clip from a
camera panning with the runner. Only contact events are scored (``hip_flexion_rmse_deg`` and the
swing velocity are None: there is no truth trunk). Truth events from the labels: touchdown half a
sample before the first on-ground sample, toe-off half a sample after the last (the force crossing
lies in that sample interval, +-2.5 ms). Contacts not wholly inside the common span are not scored.
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
from gaitlab.core.landmarks import SIDES
from gaitlab.core.types import PoseTrack
from gaitlab.evaluation import mocap_camera
from gaitlab.evaluation.scoring import evaluate

MAT_REL = Path("data") / "mocap" / "footnet_treadmill_example.mat"
RATE_HZ = 200.0
TRUNK_LENGTH_M = 0.5
FORWARD, UP = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
DESCRIPTION = (
    "FootNet's treadmill example, 27 + 27 consecutive strides of real runners at 200 Hz with each "
    "foot's contact labelled from its force plate (`rlabels` / `llabels`; touchdown half a sample "
    "before the first on-ground sample, toe-off half a sample after the last). Knee, ankle and the "
    "foot's proximal/distal points (standing in for heel and toe) are measured; the hip is constructed "
    "from the knee, the shank and the knee angle, the trunk is upright, and the left leg's series is "
    "placed half a stride after the right one (from the feet's kinematics): see `gaitlab.evaluation.footnet`. "
    "The treadmill frame is kept (the stance foot moves back at belt speed, as under a panning "
    "camera). Only events are scored: no truth trunk, so no angle figures."
)
TOE_NOTE = (
    "FootNet's 'toe' is the foot segment's distal point, 0.13 m from its proximal ('heel') point, so "
    "nearer the metatarsal heads than the toe tip: like maxSprint's, its toe-off errors depend on that "
    "stand-in (the metatarsal heads rise before the tip leaves)."
)
_POINTS = {"knee": "tib_prox", "ankle": "tib_dist", "heel": "foot_prox", "foot_index": "foot_dist"}


@dataclass
class FootnetTrial:
    path: Path
    time_s: np.ndarray  # common 200 Hz grid where both legs have data
    joints: dict[str, np.ndarray]  # "left_hip" etc. -> (T, 3) metres, on ``time_s``
    contacts: pd.DataFrame  # side, touchdown_s, toe_off_s, contact_time_s, complete
    left_offset_s: float  # where the left series starts on the right series' clock


def _series(mat: dict, key: str) -> np.ndarray:
    windows = [np.asarray(w, dtype=float) for w in mat[key][0]]
    return np.concatenate([w.T if w.shape[0] == 1 else w for w in windows])  # labels are stored (1, T)


def _hip_m(knee: np.ndarray, ankle: np.ndarray, knee_flexion_deg: np.ndarray) -> np.ndarray:
    """Hip (T,3): one shank length from the knee along the thigh (sagittal angle = shank + knee flexion)."""
    d_fwd, d_up = (ankle - knee) @ FORWARD, (ankle - knee) @ UP
    shank_from_down = np.arctan2(d_fwd, -d_up)
    thigh_from_down = shank_from_down + np.radians(knee_flexion_deg)
    length = float(np.nanmedian(np.hypot(d_fwd, d_up)))
    hip = knee.copy()
    hip[:, 1] = knee @ FORWARD - length * np.sin(thigh_from_down)
    hip[:, 2] = knee @ UP + length * np.cos(thigh_from_down)
    return hip


def left_offset_samples(right_fwd: np.ndarray, left_fwd: np.ndarray) -> int:
    """Samples to delay the left series so it runs half a stride after the right one.

    Stride period: the first autocorrelation peak of the right foot's forward position; phase: the
    lag (within +-half a stride) best aligning the two feet's forward positions.
    """
    r = right_fwd - right_fwd.mean()
    ac = np.correlate(r, r, mode="full")[len(r) - 1 :]
    lo = int(0.4 * RATE_HZ)  # strides of running last 0.5-0.9 s: search past the zero-lag peak
    period = lo + int(np.argmax(ac[lo : int(1.2 * RATE_HZ)]))
    l_ = left_fwd - left_fwd.mean()
    n = min(len(r), len(l_)) - period
    lags = range(-period // 2, period // 2 + 1)
    corr = [np.dot(r[period : period + n - period], l_[period + lag : period + lag + n - period]) for lag in lags]
    in_phase = list(lags)[int(np.argmax(corr))]  # left(t + in_phase) ~ right(t)
    return -in_phase + period // 2


def _contacts(on: np.ndarray, time_s: np.ndarray, side: str, span: tuple[float, float]) -> list[dict]:
    dt = 1.0 / RATE_HZ
    edges = np.diff(np.r_[0, on.astype(np.int8), 0])
    rows = []
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        td, to = time_s[s] - dt / 2, time_s[e - 1] + dt / 2
        complete = bool(s > 0 and e < len(on) and span[0] <= td and to <= span[1])
        rows.append(
            {"side": side, col.TOUCHDOWN_S: td, col.TOE_OFF_S: to, col.CONTACT_TIME_S: to - td, "complete": complete}
        )
    return rows


def load_footnet(path: Path) -> FootnetTrial:
    from scipy.io import loadmat

    mat = loadmat(str(path))
    raw = {side: {p: _series(mat, f"{side[0]}{key}") for p, key in _POINTS.items()} for side in SIDES}
    flex = {side: _series(mat, f"{side[0]}knee")[:, 0] for side in SIDES}
    on = {side: _series(mat, f"{side[0]}labels").ravel() > 0.5 for side in SIDES}
    shift = left_offset_samples(raw["right"]["heel"] @ FORWARD, raw["left"]["heel"] @ FORWARD)
    n_r, n_l = len(on["right"]), len(on["left"])
    start = {"right": 0, "left": shift}  # first sample of each series on the right series' grid
    lo, hi = max(0, shift), min(n_r, shift + n_l)
    time_s = np.arange(lo, hi) / RATE_HZ
    span = (float(time_s[0]), float(time_s[-1]))
    joints, rows = {}, []
    for side in SIDES:
        k = slice(lo - start[side], hi - start[side])
        pts = {p: v[k] for p, v in raw[side].items()}
        pts["hip"] = _hip_m(pts["knee"], pts["ankle"], flex[side][k])
        pts["shoulder"] = pts["hip"] + TRUNK_LENGTH_M * UP
        joints.update({f"{side}_{p}": v for p, v in pts.items()})
        rows += _contacts(on[side], (np.arange(len(on[side])) + start[side]) / RATE_HZ, side, span)
    contacts = pd.DataFrame(rows).sort_values(col.TOUCHDOWN_S).reset_index(drop=True)
    return FootnetTrial(path=Path(path), time_s=time_s, joints=joints, contacts=contacts, left_offset_s=shift / RATE_HZ)


def footnet_track(trial: FootnetTrial, fps: float, *, phase_frames: float = 0.37) -> PoseTrack:
    """Perfect 2D landmarks of a left side camera at ``fps`` (cubic spline below 200 Hz, like the
    other markers rows, with the camera clock ``phase_frames`` off the mocap clock)."""
    t = trial.time_s
    times = t if fps == RATE_HZ else np.arange(t[0] + phase_frames / fps, t[-1], 1.0 / fps)
    hip_fwd = np.nanmean([trial.joints[f"{s}_hip"] @ FORWARD for s in SIDES])
    size = (1920, 1080)
    proj = mocap_camera.Projection(
        forward=FORWARD,
        up=UP,
        px_per_m=mocap_camera.PX_PER_M,
        origin_px=(size[0] / 2 - mocap_camera.PX_PER_M * hip_fwd, size[1] - 120.0),
    )
    return mocap_camera.projected_track(
        trial.joints, t, times, projection=proj, frame_size_px=size, meta={"path": str(trial.path), "fps": fps}
    )


def analyze_footnet(trial: FootnetTrial, fps: float, *, config: AnalysisConfig | None = None) -> AnalysisResult:
    return analyze_track(
        footnet_track(trial, fps),
        config=config or AnalysisConfig(),
        stored_fps=fps,
        capture_fps=fps,
        clip=str(trial.path),
    )


def evaluate_footnet(trial: FootnetTrial, fps: float, *, trial_name: str, config: AnalysisConfig | None = None) -> dict:
    """A ``markers`` row (``evaluation.evaluate``; every detection inside the span can be judged:
    the whole treadmill is instrumented)."""
    result = analyze_footnet(trial, fps, config=config)
    t0, t1 = float(trial.time_s[0]), float(trial.time_s[-1])
    row = evaluate(
        trial=trial_name,
        source="markers",
        fps=fps,
        truth=trial.contacts,
        truth_steps=None,
        truth_frames=None,
        found=result.contacts,
        steps=None,
        frames=None,
        on_plates=lambda side, time_s: t0 <= time_s <= t1,
        near_side=result.summary.near_side,
    )
    row["hip_flexion_rmse_deg"] = row["hip_flexion_rmse_near_deg"] = math.nan  # no truth trunk
    return row
