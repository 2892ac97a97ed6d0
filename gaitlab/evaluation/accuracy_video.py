"""Pose + algorithm accuracy: render a mocap trial as a phone side-view clip and run ``gaitlab analyze``.

The figure (``gaitlab.evaluation.synth.render.render_figure``, the renderer of the sample
clip) is driven by the mocap joint centres, projected orthographically on the
sagittal plane. Points the marker sets do not have are synthesized: the head
and face (centre, top, nose, eyes, ears, mouth) sit on the neck line above the
shoulders, leaning 0.6 x the trunk lean like ``GaitModel`` does (neither trial
has head markers); hands continue the forearm (wrist + hand length). Arms come
from the elbow/wrist markers when the marker set has them, otherwise they swing
opposite the legs from the shoulder markers.

Two cameras (``CAMERAS``). ``fixed``: no pan, centred on the stretch where the
force-plate contacts happen, over an athletics-track background; the athlete
crosses the frame running towards +x, so the RIGHT side faces the camera. The
clip spans the time the hip is inside the frame. ``panning``: the camera follows
the pelvis, low-passed at ``PAN_CUTOFF_HZ`` as a person panning a phone would
(the speed changes within a stride are not followed), keeping the hip near
``PAN_HIP_X_FRAC`` of the width; the track background scrolls with perspective
parallax like the sample clip's (``TrackBackground``); the clip spans the whole trial.
Clips are stored as a phone stores them: 60 fps real time; 120 and 240 fps as slow motion stored at 30 fps with the
capture rate in the ``com.android.capture.fps`` metadata. The full pipeline
(probe, MediaPipe pose model of the row, analysis, default settings) then runs on the file.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import numpy as np

from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.evaluation import mocap, mocap_camera
from gaitlab.evaluation.accuracy import Truth, add_scale_errors, score
from gaitlab.evaluation.synth.geometry import _angle_from_down, hand_tip, head_points
from gaitlab.evaluation.synth.params import GaitParams
from gaitlab.io.atomic import write_text_atomic

FRAME_SIZE_PX = (1920, 1080)
PX_PER_M = 200.0  # a 1.8 m athlete ~360 px tall: 9.6 m of track in the 1920 px frame
GROUND_Y_FRAC = 0.85  # floor row as a share of the frame height
EDGE_MARGIN_FRAC = 0.03  # the clip runs while the hip is at least this far inside the frame
NEAR_SIDE = "right"  # running towards +x in the image: the athlete's right side faces the camera
SENSOR_NOISE_SD = 1.6  # grey levels, like the sample clip
X264_CRF, X264_PRESET = 23, "veryfast"
# Bump when the rendering changes in a way the cache key cannot see (the key already holds the render
# constants, the source of this module's frame functions and of the synth modules that draw and encode).
RENDER_VERSION = 2
CAMERAS = ("fixed", "panning")
PAN_HIP_X_FRAC = 0.45  # the panning camera keeps the hip near here (as in the sample clip)
PAN_CUTOFF_HZ = 1.0  # it follows the pelvis low-passed: slower than a stride (~2 Hz)

# Head and hand sizes as in the gait model of the sample clip.
_FIGURE = GaitParams()

DESCRIPTION = (
    "each trial rendered as a 1920x1080 side-view clip of the shaded human-like figure of the sample clip "
    "(`gaitlab.evaluation.synth.render`) driven by the mocap joint centres (head/face synthesized on the neck line, "
    "hands continuing the forearms), athlete running towards +x (right side facing the camera), either a fixed "
    "camera centred on the force-plate contacts (`fixed`, the athlete crosses the frame) or one that pans with "
    "the pelvis low-passed at 1 Hz over the whole trial (`panning`, the background scrolls with parallax), "
    "athletics-track background, ~200 px/m "
    "(~360 px athlete), H.264 with mild sensor noise; 60 fps stored real-time, 120/240 fps stored as "
    "30 fps slow motion with `com.android.capture.fps` metadata; then the full `gaitlab analyze` "
    "(the row's MediaPipe pose model, capture rate from the metadata, default settings)."
)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def figure_joints_m(truth: Truth) -> dict[str, np.ndarray]:
    """3D (T,3) positions of every point ``render_figure`` draws, from markers and joint centres."""
    trial, jc = truth.trial, dict(truth.joints)
    forward, up = mocap.lab_axes(trial)
    m = trial.markers_m
    sh_mid = (jc["left_shoulder"] + jc["right_shoulder"]) / 2
    hip_mid = (jc["left_hip"] + jc["right_hip"]) / 2
    trunk_up = _unit(sh_mid - hip_mid)
    lean = np.arctan2(trunk_up @ forward, trunk_up @ up)  # trunk lean from the vertical, + = forward
    jc.update(
        head_points(
            sh_mid,
            lean,
            centre_above_shoulder_m=_FIGURE.head_center_above_shoulder_m,
            radius_m=_FIGURE.head_radius_m,
            forward=forward,
            up=up,
        )
    )
    for side in ("left", "right"):
        s = side[0].upper()
        if f"{s}ELB" in m and f"{s}WR" in m:
            jc[f"{side}_elbow"], jc[f"{side}_wrist"] = m[f"{s}ELB"], m[f"{s}WR"]
        else:
            # No arm markers: the upper arm swings opposite this side's thigh, the forearm bent ~90 deg.
            thigh = _unit(jc[f"{side}_knee"] - jc[f"{side}_hip"])
            along_f, along_u = thigh @ forward, thigh @ up
            arm = _unit(np.outer(-along_f, forward) + np.outer(along_u, up))
            jc[f"{side}_elbow"] = jc[f"{side}_shoulder"] + 0.30 * arm
            # elbow flexed 90 deg: the upper arm's direction turned towards the front (a hanging arm's
            # forearm points forward)
            fore = _unit(np.outer(-(arm @ up), forward) + np.outer(arm @ forward, up))
            jc[f"{side}_wrist"] = jc[f"{side}_elbow"] + 0.27 * fore
        forearm = jc[f"{side}_wrist"] - jc[f"{side}_elbow"]
        jc[f"{side}_index"] = hand_tip(
            jc[f"{side}_wrist"],
            _angle_from_down(forearm @ forward, forearm @ up),
            hand_length_m=_FIGURE.hand_length_m,
            forward=forward,
            up=up,
        )
    return jc


def clip_projection(truth: Truth) -> mocap_camera.Projection:
    """Fixed camera: the plate contacts' hip span centred in the frame, floor at ``GROUND_Y_FRAC``."""
    forward, up = truth.forward, mocap.lab_axes(truth.trial)[1]
    hip = (truth.joints["left_hip"] + truth.joints["right_hip"]) / 2
    c = truth.contacts
    t_lo = float(c[col.TOUCHDOWN_S].min()) if len(c) else float(truth.trial.time_s[0])
    t_hi = float(c[col.TOE_OFF_S].max()) if len(c) else float(truth.trial.time_s[-1])
    span = [mocap_camera.resample(hip, truth.trial.time_s, np.array([t]))[0] @ forward for t in (t_lo, t_hi)]
    w, h = FRAME_SIZE_PX
    ox = w / 2 - PX_PER_M * (span[0] + span[1]) / 2
    floor_up = _floor_up_m(truth, up)
    oy = GROUND_Y_FRAC * h + PX_PER_M * floor_up  # lab height floor_up lands on the ground row
    return mocap_camera.Projection(forward=forward, up=up, px_per_m=PX_PER_M, origin_px=(ox, oy))


def _floor_up_m(truth: Truth, up: np.ndarray) -> float:
    """Floor height: where the lowest rendered sole point (heel or toe) gets to (1st percentile)."""
    low = np.concatenate([truth.joints[f"{s}_{p}"] @ up for s in ("left", "right") for p in ("heel", "foot_index")])
    return float(np.nanpercentile(low, 1.0))


def camera_path_m(truth: Truth, times: np.ndarray) -> np.ndarray:
    """Where the panning camera looks (m along the running axis) at ``times``: the pelvis, low-passed at
    ``PAN_CUTOFF_HZ`` around its straight-line trend (so the trial's ends do not bend the path)."""
    from scipy.signal import butter, filtfilt

    t = truth.trial.time_s
    along = ((truth.joints["left_hip"] + truth.joints["right_hip"]) / 2) @ truth.forward
    trend = np.polyfit(t, along, 1)
    b, a = butter(2, PAN_CUTOFF_HZ / (truth.trial.rate_hz / 2))
    smooth = np.polyval(trend, t) + filtfilt(b, a, along - np.polyval(trend, t))
    return np.interp(times, t, smooth)


def camera_offset_px(truth: Truth, projection: mocap_camera.Projection, times: np.ndarray, camera: str) -> np.ndarray:
    """Per frame x shift (px) from the fixed projection to the frame's camera (zeros when it is fixed)."""
    if camera == "fixed":
        return np.zeros(len(times))
    if camera != "panning":
        raise ValueError(f"camera must be one of {CAMERAS}, not {camera!r}")
    look = projection.origin_px[0] + projection.px_per_m * camera_path_m(truth, times)
    return PAN_HIP_X_FRAC * FRAME_SIZE_PX[0] - look


def clip_times(
    truth: Truth,
    projection: mocap_camera.Projection,
    fps: float,
    *,
    phase_frames: float = 0.37,
    camera: str = "fixed",
) -> np.ndarray:
    """Frame times (mocap clock) while the hip is inside the frame: the athlete crossing it (the whole
    trial for the panning camera)."""
    times = mocap_camera.sample_times(truth.trial, fps, phase_frames=phase_frames)
    if camera != "fixed":
        return times[times <= truth.trial.time_s[-1]]
    hip = (truth.joints["left_hip"] + truth.joints["right_hip"]) / 2
    x = projection(mocap_camera.resample(hip, truth.trial.time_s, times))[:, 0]
    w = FRAME_SIZE_PX[0]
    inside = (x >= EDGE_MARGIN_FRAC * w) & (x <= (1 - EDGE_MARGIN_FRAC) * w)
    if not inside.any():
        raise ValueError(f"{truth.trial.path}: the athlete never crosses the frame")
    k = np.flatnonzero(inside)
    return times[k[0] : k[-1] + 1]


def render_frames(truth: Truth, fps: float, *, phase_frames: float = 0.37, seed: int = 0, camera: str = "fixed"):
    """Yield (mocap time, BGR frame) of the rendered clip; also usable to inspect single frames."""
    from gaitlab.evaluation.synth.encode import SensorNoise, composite_frame
    from gaitlab.evaluation.synth.scene import TrackBackground

    projection = clip_projection(truth)
    times = clip_times(truth, projection, fps, phase_frames=phase_frames, camera=camera)
    shift = camera_offset_px(truth, projection, times, camera)
    joints = figure_joints_m(truth)
    px = {name: projection(mocap_camera.resample(v, truth.trial.time_s, times)) for name, v in joints.items()}
    for v in px.values():
        v[:, 0] += shift
    w, h = FRAME_SIZE_PX
    ground_y = GROUND_Y_FRAC * h
    pan_px = shift[0] - shift  # how far the camera has travelled (px at the runner's distance)
    scene = TrackBackground(w, h, px_per_m=PX_PER_M, ground_y=ground_y, max_pan_px=float(pan_px.max()), seed=seed)
    still = scene.frame(0.0) if camera == "fixed" else None
    noise = SensorNoise(w, h, sd=SENSOR_NOISE_SD, seed=seed)
    for k, t in enumerate(times):
        hip_x = 0.5 * (px["left_hip"][k][0] + px["right_hip"][k][0])
        yield (
            float(t),
            composite_frame(
                still.copy() if still is not None else scene.frame(pan_px[k]),
                px,
                k,
                hip_x_px=hip_x,
                ground_y_px=ground_y,
                px_per_m=PX_PER_M,
                near_side=NEAR_SIDE,
                noise=noise,
            ),
        )


# What draws and encodes the clips: an edit to any of these makes a new cache key.
_RENDER_SOURCES = ("synth/render.py", "synth/scene.py", "synth/encode.py", "synth/geometry.py")


def render_key(truth: Truth, fps: float, *, phase_frames: float = 0.37, camera: str = "fixed") -> dict:
    """Everything a rendered clip depends on (JSON-comparable): a cached clip is reused only on an equal key."""
    sources = hashlib.sha256()
    for rel in _RENDER_SOURCES:
        sources.update((Path(__file__).parent / rel).read_bytes())
    functions = (figure_joints_m, clip_projection, _floor_up_m, clip_times, render_frames, render_clip)
    for fn in functions + ((camera_path_m, camera_offset_px) if camera != "fixed" else ()):
        sources.update(inspect.getsource(fn).encode())
    return {
        "version": RENDER_VERSION,
        "camera": camera,
        "pan": [PAN_HIP_X_FRAC, PAN_CUTOFF_HZ] if camera != "fixed" else None,
        "trial": str(truth.trial.path),
        "fps": fps,
        "stored_fps": _stored_fps(fps),
        "phase_frames": phase_frames,
        "size": list(FRAME_SIZE_PX),
        "px_per_m": PX_PER_M,
        "ground_y_frac": GROUND_Y_FRAC,
        "edge_margin_frac": EDGE_MARGIN_FRAC,
        "near_side": NEAR_SIDE,
        "sensor_noise_sd": SENSOR_NOISE_SD,
        "x264": [X264_CRF, X264_PRESET],
        "figure_m": [_FIGURE.head_center_above_shoulder_m, _FIGURE.head_radius_m, _FIGURE.hand_length_m],
        "sources_sha256": sources.hexdigest(),
    }


def _stored_fps(fps: float) -> float:
    """A phone stores up to 60 fps in real time and slow motion at 30 fps."""
    return fps if fps <= 60 else 30.0


def render_clip(truth: Truth, fps: float, path: Path, *, phase_frames: float = 0.37, camera: str = "fixed") -> float:
    """Write the clip (reused when an identical render exists); returns the mocap time of its first frame."""
    from gaitlab.evaluation.synth.encode import write_mp4

    path = Path(path)
    stored_fps = _stored_fps(fps)
    key = render_key(truth, fps, phase_frames=phase_frames, camera=camera)
    sidecar = path.with_suffix(".render.json")
    if path.exists() and sidecar.exists():
        done = json.loads(sidecar.read_text())
        if done.get("key") == key:
            return float(done["t0_s"])
    path.parent.mkdir(parents=True, exist_ok=True)
    times = []

    def images():
        for t, img in render_frames(truth, fps, phase_frames=phase_frames, camera=camera):
            times.append(t)
            yield img

    write_mp4(
        path,
        images(),
        size_px=FRAME_SIZE_PX,
        stored_fps=stored_fps,
        capture_fps=fps if stored_fps != fps else None,
        crf=X264_CRF,
        preset=X264_PRESET,
    )
    write_text_atomic(sidecar, json.dumps({"key": key, "t0_s": times[0]}) + "\n")
    return float(times[0])


def evaluate_video(
    truth: Truth,
    fps: float,
    *,
    trial: str,
    work_dir: Path,
    model: str = "full",
    config: AnalysisConfig | None = None,
    camera: str = "fixed",
) -> dict:
    """Render (reused if already rendered) with the ``camera`` of ``CAMERAS``, run ``analyze_clip`` with pose
    ``model`` (analysis ``config``, default settings when None) and the trial's athlete height, and score it."""
    from gaitlab.pipeline import analyze_clip
    from gaitlab.pose.landmarker import PoseSettings

    stem = f"{truth.trial.path.stem}_{fps:.0f}fps" + ("" if camera == "fixed" else f"_{camera}")
    clip = Path(work_dir) / f"{stem}.mp4"
    t0 = render_clip(truth, fps, clip, camera=camera)
    done = analyze_clip(
        clip,
        out_dir=Path(work_dir) / f"{stem}_{model}.gaitlab",
        settings=PoseSettings(model=model),
        config=config or AnalysisConfig(),
        show_progress=False,
        athlete_height_m=truth.athlete_height_m,
    )
    row = score(truth, done.result, trial=trial, source="video", fps=fps, time_offset_s=t0, camera=camera)
    row["model"] = model
    row["pose_from_cache"] = done.pose_from_cache
    row["capture_fps_source"] = done.info.capture_fps_source
    row["pose_detected_frac"] = done.result.summary.pose_detected_frac
    roi = ((done.result.track.meta or {}).get("person") or {}).get("roi") or {}
    row["pose_crop_pass"] = bool(roi.get("used", False))  # gaitlab's crop-follow pose pass replaced the full frame
    row["athlete_height_px"] = roi.get("athlete_height_px")
    add_scale_errors(row, done.result, PX_PER_M)
    return row
