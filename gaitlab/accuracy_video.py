"""Pose + algorithm accuracy: render a mocap trial as a phone side-view clip and run ``gaitlab analyze``.

The figure is driven by the mocap joint centres (projected like
``mocap.sagittal_track``), seen by a fixed camera centred on the force plates,
the athlete crossing the frame. Arms come from the elbow/wrist markers when the
marker set has them, otherwise they swing opposite the legs; the head sits on
the trunk line. Clips are stored as a phone stores them: 60 fps real time;
120 and 240 fps as slow motion stored at 30 fps with the capture rate in the
``com.android.capture.fps`` metadata. The full pipeline (probe, MediaPipe pose
"full", analysis) then runs on the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import mocap
from .accuracy import Truth, score

FRAME_SIZE_PX = (1920, 1080)
DESCRIPTION = ("each trial rendered as a 1920x1080 side-view clip of a shaded human-like figure driven by the "
               "mocap joint centres (fixed camera centred on the force plates, athlete crossing the frame, "
               "~222 px/m), H.264, 60 fps stored real-time, 120/240 fps stored as 30 fps slow motion with "
               "`com.android.capture.fps` metadata; then the full `gaitlab analyze` (MediaPipe pose 'full', "
               "capture rate from the metadata, default settings).")

_SKIN = (150, 175, 215)
_SHIRT = (60, 60, 170)
_SHORTS = (40, 40, 40)
_SHOE = (230, 230, 230)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def figure_joints_m(truth: Truth) -> dict[str, np.ndarray]:
    """3D (T,3) positions of every point the figure needs, from markers and joint centres."""
    trial, jc = truth.trial, dict(truth.joints)
    forward, up = mocap.lab_axes(trial)
    m = trial.markers_m
    sh_mid = (jc["left_shoulder"] + jc["right_shoulder"]) / 2
    hip_mid = (jc["left_hip"] + jc["right_hip"]) / 2
    trunk_up = _unit(sh_mid - hip_mid)
    jc["head_center"] = sh_mid + 0.24 * trunk_up
    jc["nose"] = jc["head_center"] + 0.09 * forward
    for side in ("left", "right"):
        s = side[0].upper()
        if f"{s}ELB" in m and f"{s}WR" in m:
            jc[f"{side}_elbow"], jc[f"{side}_wrist"] = m[f"{s}ELB"], m[f"{s}WR"]
            continue
        # No arm markers: the upper arm swings opposite this side's thigh, the forearm bent ~90 deg.
        thigh = _unit(jc[f"{side}_knee"] - jc[f"{side}_hip"])
        along_f, along_u = thigh @ forward, thigh @ up
        arm = _unit(np.outer(-along_f, forward) + np.outer(along_u, up))
        jc[f"{side}_elbow"] = jc[f"{side}_shoulder"] + 0.30 * arm
        fore = _unit(np.outer(arm @ up, forward) - np.outer(arm @ forward, up))  # arm rotated 90 deg forward
        jc[f"{side}_wrist"] = jc[f"{side}_elbow"] + 0.27 * fore
    return jc


def _fallback_render(img: np.ndarray, j: dict, *, near_side: str, px_per_m: float) -> None:
    """A plain shaded figure (used until ``gaitlab.synth.render`` is available)."""
    import cv2

    far = "right" if near_side == "left" else "left"
    w = lambda m: max(2, int(round(m * px_per_m)))  # noqa: E731  width in px from metres

    def p(name):
        return tuple(int(round(v)) for v in j[name])

    def limb(a, b, width_m, color):
        cv2.line(img, p(a), p(b), color, w(width_m), cv2.LINE_AA)
        cv2.circle(img, p(a), w(width_m) // 2, color, -1, cv2.LINE_AA)
        cv2.circle(img, p(b), w(width_m) // 2, color, -1, cv2.LINE_AA)

    def leg(side, k):
        shade = lambda c: tuple(int(v * k) for v in c)  # noqa: E731
        limb(f"{side}_hip", f"{side}_knee", 0.15, shade(_SKIN))
        limb(f"{side}_knee", f"{side}_ankle", 0.10, shade(_SKIN))
        foot = np.array([p(f"{side}_ankle"), p(f"{side}_heel"), p(f"{side}_foot_index")], np.int32)
        cv2.fillPoly(img, [foot], shade(_SHOE), cv2.LINE_AA)
        limb(f"{side}_heel", f"{side}_foot_index", 0.05, shade(_SHOE))

    def arm(side, k):
        shade = lambda c: tuple(int(v * k) for v in c)  # noqa: E731
        limb(f"{side}_shoulder", f"{side}_elbow", 0.09, shade(_SHIRT))
        limb(f"{side}_elbow", f"{side}_wrist", 0.07, shade(_SKIN))

    arm(far, 0.6)
    leg(far, 0.6)
    torso = np.array([p("left_shoulder"), p("right_shoulder"), p("right_hip"), p("left_hip")], np.int32)
    limb("left_shoulder", "left_hip", 0.30, _SHIRT)
    cv2.fillPoly(img, [torso], _SHIRT, cv2.LINE_AA)
    cv2.circle(img, p(f"{near_side}_hip"), w(0.09), _SHORTS, -1, cv2.LINE_AA)
    leg(near_side, 1.0)
    cv2.line(img, p(f"{near_side}_hip"), tuple(int(round(v)) for v in
             (0.6 * np.array(j[f"{near_side}_hip"]) + 0.4 * np.array(j[f"{near_side}_knee"]))),
             _SHORTS, w(0.17), cv2.LINE_AA)
    limb("head_center", "nose", 0.05, _SKIN)
    cv2.circle(img, p("head_center"), w(0.11), _SKIN, -1, cv2.LINE_AA)
    arm(near_side, 1.0)


def _background(frame: tuple[int, int], ground_y_px: float) -> np.ndarray:
    wdt, hgt = frame
    img = np.empty((hgt, wdt, 3), np.uint8)
    img[:] = (200, 190, 175)  # wall
    g = int(round(ground_y_px))
    img[g:] = (60, 80, 170)  # red-brown track surface (BGR)
    for x in range(0, wdt, 240):  # fixed marks, so the scene is not featureless
        img[g:g + 6, x:x + 120] = (235, 235, 235)
    return img


def project_renderer():
    """``gaitlab.synth.render.render_figure`` when the project has it, else None."""
    try:
        from .synth.render import render_figure
    except ImportError:
        return None
    return render_figure


def render_clip(truth: Truth, fps: float, path: Path, *, phase_frames: float = 0.37) -> float:
    """Write the clip; returns the mocap time of its first frame (add it to clip times)."""
    import av

    render_figure = project_renderer()
    projection, frame = mocap.default_projection(truth.trial, frame_size_px=FRAME_SIZE_PX)
    joints = figure_joints_m(truth)
    times = mocap.sample_times(truth.trial, fps, phase_frames=phase_frames)
    px = {name: projection(mocap.resample(v, truth.trial.time_s, times)) for name, v in joints.items()}
    floor_up = float(np.nanpercentile(np.concatenate([truth.joints[f"{s}_heel"] @ projection.up
                                                      for s in ("left", "right")]), 1.0)) - 0.03
    ground_y = projection.origin_px[1] - projection.px_per_m * floor_up
    bg = _background(frame, ground_y)
    stored_fps = fps if fps <= 60 else 30.0
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w", options={"movflags": "use_metadata_tags"}) as out:
        if stored_fps != fps:
            out.metadata["com.android.capture.fps"] = f"{fps:.1f}"
        stream = out.add_stream("libx264", rate=int(stored_fps))
        stream.width, stream.height = frame
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for k in range(len(times)):
            img = bg.copy()
            jk = {name: v[k] for name, v in px.items()}
            if render_figure is not None:
                res = render_figure(img, jk, near_side="left", px_per_m=projection.px_per_m)
                img = res if isinstance(res, np.ndarray) else img
            else:
                _fallback_render(img, jk, near_side="left", px_per_m=projection.px_per_m)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return float(times[0])


def evaluate_video(truth: Truth, fps: float, *, trial: str, work_dir: Path) -> dict:
    """Render (cached by name), run ``analyze_clip`` and score it."""
    from .pipeline import analyze_clip

    stem = f"{truth.trial.path.stem}_{fps:.0f}fps"
    clip = Path(work_dir) / f"{stem}.mp4"
    t0 = render_clip(truth, fps, clip)
    done = analyze_clip(clip, out_dir=Path(work_dir) / f"{stem}.gaitlab", show_progress=False)
    row = score(truth, done.result, trial=trial, source="video", fps=fps, time_offset_s=t0)
    row["capture_fps_source"] = done.info.capture_fps_source
    row["pose_detected_frac"] = done.result.summary["pose_detected_frac"]
    return row
