"""Pose + algorithm accuracy: render a mocap trial as a phone side-view clip and run ``gaitlab analyze``.

The figure (``gaitlab.synth.render.render_figure``, the renderer of the sample
clip) is driven by the mocap joint centres, projected orthographically on the
sagittal plane. Points the marker sets do not have are synthesized: the head
and face (centre, top, nose, eyes, ears, mouth) sit on the neck line above the
shoulders, leaning 0.6 x the trunk lean like ``GaitModel`` does (neither trial
has head markers); hands continue the forearm (wrist + hand length). Arms come
from the elbow/wrist markers when the marker set has them, otherwise they swing
opposite the legs from the shoulder markers.

The camera is fixed (no pan), centred on the stretch where the force-plate
contacts happen, over an athletics-track background; the athlete crosses the
frame running towards +x, so the RIGHT side faces the camera. The clip spans
the time the hip is inside the frame. Clips are stored as a phone stores them:
60 fps real time; 120 and 240 fps as slow motion stored at 30 fps with the
capture rate in the ``com.android.capture.fps`` metadata. The full pipeline
(probe, MediaPipe pose "full", analysis, default settings) then runs on the file.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import mocap
from .accuracy import Truth, score

FRAME_SIZE_PX = (1920, 1080)
PX_PER_M = 200.0  # a 1.8 m athlete ~360 px tall: 9.6 m of track in the 1920 px frame
GROUND_Y_FRAC = 0.85  # floor row as a share of the frame height
EDGE_MARGIN_FRAC = 0.03  # the clip runs while the hip is at least this far inside the frame
NEAR_SIDE = "right"  # running towards +x in the image: the athlete's right side faces the camera
SENSOR_NOISE_SD = 1.6  # grey levels, like the sample clip
RENDER_VERSION = 2  # bump when the rendering changes, so cached clips are redrawn

# Head and hand proportions (metres), as in ``gaitlab.synth.gait_model.GaitParams``.
HEAD_CENTRE_ABOVE_SHOULDER_M = 0.22
HEAD_RADIUS_M = 0.11
HAND_LENGTH_M = 0.09
HEAD_PITCH_DEG = 6.0  # looking slightly down the track
NECK_LEAN_SHARE = 0.6  # the head leans forward 0.6 x as much as the trunk

DESCRIPTION = ("each trial rendered as a 1920x1080 side-view clip of the shaded human-like figure of the sample clip "
               "(`gaitlab.synth.render`) driven by the mocap joint centres (head/face synthesized on the neck line, "
               "hands continuing the forearms), fixed camera centred on the force-plate contacts, athlete crossing "
               "the frame towards +x (right side facing the camera), athletics-track background, ~200 px/m "
               "(~360 px athlete), H.264 with mild sensor noise; 60 fps stored real-time, 120/240 fps stored as "
               "30 fps slow motion with `com.android.capture.fps` metadata; then the full `gaitlab analyze` "
               "(MediaPipe pose 'full', capture rate from the metadata, default settings).")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _sagittal(fwd: np.ndarray, up_: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """3D points from (T,) forward and up components."""
    return np.outer(fwd, forward) + np.outer(up_, up)


def _head_points(sh_mid: np.ndarray, trunk_up: np.ndarray, forward: np.ndarray, up: np.ndarray) -> dict:
    """Head centre/top, nose, eyes, ears, mouth (T,3), placed as ``GaitModel._head`` places them."""
    lean = np.arctan2(trunk_up @ forward, trunk_up @ up)  # trunk lean from the vertical, + = forward
    neck = NECK_LEAN_SHARE * lean
    c = sh_mid + HEAD_CENTRE_ABOVE_SHOULDER_M * _sagittal(np.sin(neck), np.cos(neck), forward, up)
    pitch = math.radians(HEAD_PITCH_DEG)
    f = math.cos(pitch) * forward - math.sin(pitch) * up  # face direction
    hup = math.sin(pitch) * forward + math.cos(pitch) * up
    r = HEAD_RADIUS_M
    eye = c + 0.72 * r * f + 0.22 * r * hup
    ear = c - 0.05 * r * f
    return {"head_center": c, "head_top": c + 1.05 * r * hup, "nose": c + 1.0 * r * f - 0.12 * r * hup,
            "left_eye": eye, "right_eye": eye.copy(), "left_ear": ear, "right_ear": ear.copy(),
            "mouth": c + 0.82 * r * f - 0.55 * r * hup}


def _hand_tip(elbow: np.ndarray, wrist: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Hand tip (T,3): the forearm direction turned 15 deg forward (a loose fist), hand length on."""
    d = wrist - elbow
    a = np.arctan2(d @ forward, -(d @ up)) + math.radians(15)  # angle from straight down, + = forward
    return wrist + HAND_LENGTH_M * _sagittal(np.sin(a), -np.cos(a), forward, up)


def figure_joints_m(truth: Truth) -> dict[str, np.ndarray]:
    """3D (T,3) positions of every point ``render_figure`` draws, from markers and joint centres."""
    trial, jc = truth.trial, dict(truth.joints)
    forward, up = mocap.lab_axes(trial)
    m = trial.markers_m
    sh_mid = (jc["left_shoulder"] + jc["right_shoulder"]) / 2
    hip_mid = (jc["left_hip"] + jc["right_hip"]) / 2
    jc.update(_head_points(sh_mid, _unit(sh_mid - hip_mid), forward, up))
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
        jc[f"{side}_index"] = _hand_tip(jc[f"{side}_elbow"], jc[f"{side}_wrist"], forward, up)
    return jc


def clip_projection(truth: Truth) -> mocap.Projection:
    """Fixed camera: the plate contacts' hip span centred in the frame, floor at ``GROUND_Y_FRAC``."""
    forward, up = truth.forward, mocap.lab_axes(truth.trial)[1]
    hip = (truth.joints["left_hip"] + truth.joints["right_hip"]) / 2
    c = truth.contacts
    t_lo = float(c["touchdown_s"].min()) if len(c) else float(truth.trial.time_s[0])
    t_hi = float(c["toe_off_s"].max()) if len(c) else float(truth.trial.time_s[-1])
    span = [mocap.resample(hip, truth.trial.time_s, np.array([t]))[0] @ forward for t in (t_lo, t_hi)]
    w, h = FRAME_SIZE_PX
    ox = w / 2 - PX_PER_M * (span[0] + span[1]) / 2
    floor_up = _floor_up_m(truth, up)
    oy = GROUND_Y_FRAC * h + PX_PER_M * floor_up  # lab height floor_up lands on the ground row
    return mocap.Projection(forward=forward, up=up, px_per_m=PX_PER_M, origin_px=(ox, oy))


def _floor_up_m(truth: Truth, up: np.ndarray) -> float:
    """Floor height: where the lowest rendered sole point (heel or toe) gets to (1st percentile)."""
    low = np.concatenate([truth.joints[f"{s}_{p}"] @ up for s in ("left", "right") for p in ("heel", "foot_index")])
    return float(np.nanpercentile(low, 1.0))


def clip_times(truth: Truth, projection: mocap.Projection, fps: float, *, phase_frames: float = 0.37) -> np.ndarray:
    """Frame times (mocap clock) while the hip is inside the frame: the athlete crossing it."""
    times = mocap.sample_times(truth.trial, fps, phase_frames=phase_frames)
    hip = (truth.joints["left_hip"] + truth.joints["right_hip"]) / 2
    x = projection(mocap.resample(hip, truth.trial.time_s, times))[:, 0]
    w = FRAME_SIZE_PX[0]
    inside = (x >= EDGE_MARGIN_FRAC * w) & (x <= (1 - EDGE_MARGIN_FRAC) * w)
    if not inside.any():
        raise ValueError(f"{truth.trial.path}: the athlete never crosses the frame")
    k = np.flatnonzero(inside)
    return times[k[0]:k[-1] + 1]


def render_frames(truth: Truth, fps: float, *, phase_frames: float = 0.37, seed: int = 0):
    """Yield (mocap time, BGR frame) of the rendered clip; also usable to inspect single frames."""
    from .synth.render import render_figure
    from .synth.scene import TrackBackground, draw_ground_shadow

    projection = clip_projection(truth)
    times = clip_times(truth, projection, fps, phase_frames=phase_frames)
    joints = figure_joints_m(truth)
    px = {name: projection(mocap.resample(v, truth.trial.time_s, times)) for name, v in joints.items()}
    w, h = FRAME_SIZE_PX
    ground_y = GROUND_Y_FRAC * h
    bg = TrackBackground(w, h, px_per_m=PX_PER_M, ground_y=ground_y, max_pan_px=0.0, seed=seed).frame(0.0)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, SENSOR_NOISE_SD, (8, h, w, 1)).astype(np.float32)  # recycled sensor noise
    for k, t in enumerate(times):
        img = bg.copy()
        hip_x = 0.5 * (px["left_hip"][k][0] + px["right_hip"][k][0])
        draw_ground_shadow(img, hip_x + 0.05 * PX_PER_M, ground_y + 2, PX_PER_M)
        img = render_figure(img, {name: v[k] for name, v in px.items()}, near_side=NEAR_SIDE, px_per_m=PX_PER_M)
        img = np.clip(img.astype(np.float32) + noise[k % len(noise)], 0, 255).astype(np.uint8)
        yield float(t), img


def render_clip(truth: Truth, fps: float, path: Path, *, phase_frames: float = 0.37) -> float:
    """Write the clip (reused when an identical render exists); returns the mocap time of its first frame."""
    import av

    path = Path(path)
    stored_fps = fps if fps <= 60 else 30.0
    key = {"version": RENDER_VERSION, "trial": str(truth.trial.path), "fps": fps, "stored_fps": stored_fps,
           "phase_frames": phase_frames, "size": list(FRAME_SIZE_PX), "px_per_m": PX_PER_M}
    sidecar = path.with_suffix(".render.json")
    if path.exists() and sidecar.exists():
        done = json.loads(sidecar.read_text())
        if done.get("key") == key:
            return float(done["t0_s"])
    path.parent.mkdir(parents=True, exist_ok=True)
    from .synth.encode import yuv420p_frame

    tmp = path.with_suffix(".part.mp4")
    t0 = None
    # use_metadata_tags: Android's capture-rate key in the MP4 'meta' box; track time base exactly 1/stored fps.
    with av.open(str(tmp), "w", format="mp4",
                 options={"movflags": "use_metadata_tags", "video_track_timescale": str(int(stored_fps))}) as out:
        if stored_fps != fps:
            out.metadata["com.android.capture.fps"] = f"{fps:.6f}"
        stream = out.add_stream("libx264", rate=Fraction(int(stored_fps)))
        stream.width, stream.height = FRAME_SIZE_PX
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, int(stored_fps))
        stream.options = {"crf": "23", "preset": "veryfast", "tune": "film"}
        for i, (t, img) in enumerate(render_frames(truth, fps, phase_frames=phase_frames)):
            if t0 is None:
                t0 = t
            frame = yuv420p_frame(img)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    sidecar.write_text(json.dumps({"key": key, "t0_s": t0}) + "\n")
    return float(t0)


def evaluate_video(truth: Truth, fps: float, *, trial: str, work_dir: Path) -> dict:
    """Render (reused if already rendered), run ``analyze_clip`` and score it."""
    from .pipeline import analyze_clip

    stem = f"{truth.trial.path.stem}_{fps:.0f}fps"
    clip = Path(work_dir) / f"{stem}.mp4"
    t0 = render_clip(truth, fps, clip)
    done = analyze_clip(clip, out_dir=Path(work_dir) / f"{stem}.gaitlab", show_progress=False)
    row = score(truth, done.result, trial=trial, source="video", fps=fps, time_offset_s=t0)
    row["capture_fps_source"] = done.info.capture_fps_source
    row["pose_detected_frac"] = done.result.summary["pose_detected_frac"]
    roi = ((done.result.track.meta or {}).get("person") or {}).get("roi") or {}
    row["pose_crop_pass"] = bool(roi.get("used", False))  # gaitlab's crop-follow pose pass replaced the full frame
    row["athlete_height_px"] = roi.get("athlete_height_px")
    return row
