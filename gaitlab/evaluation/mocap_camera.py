"""A virtual side camera over motion capture: lab metres -> image pixels, and mocap joints as the
perfect 2D landmarks (``PoseTrack``) of that camera at any frame rate (the ``markers`` rows)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from gaitlab.core.landmarks import INDEX, N_LANDMARKS
from gaitlab.core.types import PoseTrack
from gaitlab.evaluation.mocap import MocapTrial, joint_centres, lab_axes

PX_PER_M = 400.0 / 1.8


@dataclass(frozen=True)
class Projection:
    """Lab metres -> image pixels of a fixed side camera."""

    forward: np.ndarray
    up: np.ndarray
    px_per_m: float
    origin_px: tuple[float, float]  # image position of the lab point (0 forward, 0 up)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        x = self.origin_px[0] + self.px_per_m * (p @ self.forward)
        y = self.origin_px[1] - self.px_per_m * (p @ self.up)  # image y grows downward
        return np.stack([x, y], axis=-1)

    def depth_m(self, p: np.ndarray) -> np.ndarray:
        """Distance along the athlete's right: smaller = nearer a camera on the left side."""
        right = np.cross(self.forward, self.up)
        return p @ right


def default_projection(trial: MocapTrial, *, px_per_m: float = PX_PER_M) -> tuple[Projection, tuple[int, int]]:
    """A projection that keeps the whole trial in view, and that frame's size."""
    forward, up = lab_axes(trial)
    jc = joint_centres(trial)
    along = np.concatenate([v @ forward for v in jc.values()])
    lo, hi = float(np.nanmin(along)), float(np.nanmax(along))
    frame = (int(np.ceil((hi - lo) * px_per_m)) + 200, 1080)
    ox = 100 - lo * px_per_m
    return Projection(forward=forward, up=up, px_per_m=px_per_m, origin_px=(ox, frame[1] - 120.0)), frame


def resample(values: np.ndarray, time_s: np.ndarray, new_time_s: np.ndarray) -> np.ndarray:
    """Cubic-spline resampling of (T, ...) values along axis 0."""
    return CubicSpline(time_s, values, axis=0)(new_time_s)


def sample_times(trial: MocapTrial, fps: float, *, phase_frames: float = 0.0) -> np.ndarray:
    """Frame times of a camera at ``fps`` running over the trial (optionally offset by a frame fraction)."""
    t0 = phase_frames / fps
    return np.arange(t0, trial.time_s[-1] + 1e-9, 1.0 / fps)


def sagittal_track(
    trial: MocapTrial, *, fps: float, projection: Projection, frame_size_px: tuple[int, int], phase_frames: float = 0.0
) -> PoseTrack:
    """The joint centres as perfect 2D landmarks of a side camera at ``fps`` (time 0 = first mocap frame)."""
    times = sample_times(trial, fps, phase_frames=phase_frames)
    return projected_track(
        joint_centres(trial),
        trial.time_s,
        times,
        projection=projection,
        frame_size_px=frame_size_px,
        meta={"path": str(trial.path), "fps": fps},
    )


def projected_track(
    joints: dict[str, np.ndarray],
    time_s: np.ndarray,
    times: np.ndarray,
    *,
    projection: Projection,
    frame_size_px: tuple[int, int],
    meta: dict,
) -> PoseTrack:
    """3D joint positions (name -> (T, 3) m at ``time_s``) as perfect 2D landmarks at ``times``:
    cubic spline in time (none when the times are the samples), then ``projection``."""
    n = len(times)
    xy = np.full((n, N_LANDMARKS, 2), np.nan)
    z = np.full((n, N_LANDMARKS), np.nan)
    vis = np.zeros((n, N_LANDMARKS))
    same = len(times) == len(time_s) and np.array_equal(times, time_s)
    for name, p in joints.items():
        ps = p if same else resample(p, time_s, times)
        xy[:, INDEX[name]] = projection(ps)
        z[:, INDEX[name]] = projection.depth_m(ps)
        vis[:, INDEX[name]] = 1.0
    return PoseTrack(
        xy_px=xy,
        z=z,
        visibility=vis,
        time_s=times,
        frame_index=np.arange(n),
        frame_size_px=frame_size_px,
        source="mocap-projection",
        meta=meta,
    )


# Marker data are filtered far less than video: 20 Hz keeps the sprint swing's
# velocity peak (energy below ~10 Hz) and removes marker jitter.
TRUTH_CUTOFF_HZ = 20.0


def truth_kinematics(trial: MocapTrial, contacts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Truth per-frame kinematics (250 Hz, METRICS.md definitions) and per-contact swing measures.

    The markers are projected onto the sagittal plane at their own rate, low-passed
    at ``TRUTH_CUTOFF_HZ`` and measured by the same definitions as gaitlab
    (hip flexion = thigh vs trunk); the swing measures use the truth contacts.
    """
    from gaitlab.analysis.clean import lowpass
    from gaitlab.analysis.kinematics import compute_kinematics
    from gaitlab.analysis.metrics import compute_steps

    projection, frame = default_projection(trial)
    track = sagittal_track(trial, fps=trial.rate_hz, projection=projection, frame_size_px=frame)
    track = lowpass(track, cutoff_hz=TRUTH_CUTOFF_HZ, order=4)
    frames = compute_kinematics(track)
    c = contacts.assign(leg="truth", confidence=1.0).reset_index(drop=True)
    steps = compute_steps(c, frames) if len(c) else pd.DataFrame()
    return frames, steps
