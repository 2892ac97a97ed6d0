#!/usr/bin/env python3
"""Render the synthetic sprint sample clip and its truth file.

A side-view sprinter (gaitlab.evaluation.synth.gait_model driving gaitlab.evaluation.synth.render),
running in +x (left to right on screen), so its RIGHT side faces the camera. The
camera PANS to follow the runner at the running speed (the hip stays near
45 % of the frame width, bobbing with the stride; the track scrolls with
perspective parallax), as a phone panned along at the trackside would.

Frames are "captured" at --capture-fps (240) and stored as H.264 at
--stored-fps (30): a slow-motion file, frame i is at i/30 s of file time and
i/capture_fps s of real time. The phone capture-rate tag is written the way
Android does (container metadata ``com.android.capture.fps``).

Output: <out> (MP4) and <out stem>.truth.json (times in seconds of capture time
from the first frame).

    python scripts/make_sample_video.py                      # the committed sample
    python scripts/make_sample_video.py --capture-fps 120 --duration-s 0.5 --size 320x180 --out /tmp/t.mp4
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaitlab.evaluation.synth.encode import SensorNoise, composite_frame, write_mp4
from gaitlab.evaluation.synth.gait_model import GaitModel
from gaitlab.evaluation.synth.params import GaitParams
from gaitlab.evaluation.synth.scene import TrackBackground
from gaitlab.evaluation.synth.truth import gait_events
from gaitlab.io.atomic import write_text_atomic

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "sample_videos" / "sprint_240fps_capture.mp4"
NEAR_SIDE = "right"  # running +x (to the right on screen): the athlete's right side faces the camera
MODEL_T0_S = 0.07  # model time of the first frame (mid left stance)


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    w, h = int(w), int(h)
    if w < 64 or h < 64 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError("size must be WxH, even, at least 64x64")
    return w, h


class Camera:
    """Orthographic side view panning with the runner (world m -> pixels)."""

    def __init__(self, model: GaitModel, size: tuple[int, int]):
        self.w, self.h = size
        self.px_per_m = 0.38 * self.h  # ~370 px athlete at 540 p
        self.ground_y = 0.875 * self.h
        self.hip_x = 0.45 * self.w
        self.v = model.p.speed_m_s

    def pan_px(self, t: float) -> float:
        return self.v * (t - MODEL_T0_S) * self.px_per_m

    def to_px(self, xy_m: np.ndarray, t) -> np.ndarray:
        """World points (N, 2) at model times t (N,) -> pixels (N, 2)."""
        x = self.hip_x + (xy_m[..., 0] - self.v * np.asarray(t)) * self.px_per_m
        y = self.ground_y - xy_m[..., 1] * self.px_per_m
        return np.stack([x, y], axis=-1)


def frame_joints_px(model: GaitModel, cam: Camera, times: np.ndarray) -> dict[str, np.ndarray]:
    """Pixel positions (N, 2) of every model point at the given model times."""
    return {k: cam.to_px(v, times) for k, v in model.joints(times).items()}


def build_truth(model: GaitModel, cam: Camera, n_frames: int, capture_fps: float, stored_fps: float) -> dict:
    t0 = MODEL_T0_S
    t1 = t0 + (n_frames - 1) / capture_fps
    ev = gait_events(model, t0, t1)

    time_keys = {
        "touchdown_s",
        "toe_off_s",
        "next_touchdown_s",
        "peak_hip_flexion_velocity_s",
        "max_hip_flexion_s",
        "contralateral_touchdown_s",
    }

    def rel(d):  # model time -> capture time since the first frame
        return {k: (round(v - t0, 9) if k in time_keys else v) for k, v in d.items()}

    p = model.p
    return {
        "capture_fps": float(capture_fps),
        "stored_fps": float(stored_fps),
        "n_frames": int(n_frames),
        "frame_size": [cam.w, cam.h],
        "running_direction": "+x",
        "near_side": NEAR_SIDE,
        "camera": {
            "kind": "panning: follows the runner at the running speed (orthographic side view)",
            "px_per_m": cam.px_per_m,
            "ground_y_px": cam.ground_y,
            "x_px_formula": "hip_x_px + (x_m - speed_m_s * (t_s + model_t0_s)) * px_per_m",
            "hip_x_px": cam.hip_x,
            "model_t0_s": t0,
        },
        "summary": {
            "contact_time_s": p.contact_time_s,
            "flight_time_s": p.flight_time_s,
            "step_time_s": p.step_time_s,
            "step_frequency_hz": p.step_frequency_hz,
            "swing_time_s": p.swing_time_s,
            "step_length_m": p.step_length_m,
            "athlete_height_m": 1.80,
        },
        "params": p.to_dict(),
        "contacts": [rel(c) for c in ev["contacts"]],
        "swings": [rel(s) for s in ev["swings"]],
        "notes": (
            "Times are seconds of capture time from the first frame (frame i at i/capture_fps). "
            "touchdown = first instant the toe (foot index) is on the ground; toe_off = last instant. "
            "hip flexion per METRICS.md (trunk reversed vs. thigh), truth from the model at 10 kHz. "
            "Left and right joints coincide in 2D where the body is symmetric (hips, shoulders, eyes, ears)."
        ),
    }


def make_video(
    out: Path,
    *,
    capture_fps: float = 240.0,
    stored_fps: float = 30.0,
    duration_s: float = 2.5,
    size: tuple[int, int] = (960, 540),
    seed: int = 0,
    crf: int = 23,
    preset: str = "medium",
    params: GaitParams | None = None,
    verbose: bool = False,
) -> dict:
    model = GaitModel(params)
    cam = Camera(model, size)
    n = int(round(duration_s * capture_fps))
    times = MODEL_T0_S + np.arange(n) / capture_fps
    bg = TrackBackground(
        cam.w, cam.h, px_per_m=cam.px_per_m, ground_y=cam.ground_y, max_pan_px=cam.pan_px(times[-1]) + 2, seed=seed
    )
    px = frame_joints_px(model, cam, times)
    noise = SensorNoise(cam.w, cam.h, sd=1.6, seed=seed)

    def frames():
        for i in range(n):
            yield composite_frame(
                bg.frame(cam.pan_px(times[i])),
                px,
                i,
                hip_x_px=px["left_hip"][i][0],
                ground_y_px=cam.ground_y,
                px_per_m=cam.px_per_m,
                near_side=NEAR_SIDE,
                noise=noise,
            )
            if verbose and i % 60 == 0:
                print(f"frame {i}/{n}", file=sys.stderr)

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # single-threaded x264: the committed sample is reproduced byte for byte
    write_mp4(
        out,
        frames(),
        size_px=(cam.w, cam.h),
        stored_fps=stored_fps,
        capture_fps=capture_fps,
        crf=crf,
        preset=preset,
        thread_count=1,
    )

    truth = build_truth(model, cam, n, capture_fps, stored_fps)
    write_text_atomic(out.with_name(out.stem + ".truth.json"), json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--capture-fps", type=float, default=240.0)
    ap.add_argument("--stored-fps", type=float, default=30.0)
    ap.add_argument("--duration-s", type=float, default=2.5)
    ap.add_argument("--size", type=parse_size, default=(960, 540))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--crf", type=int, default=23)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    truth = make_video(
        a.out,
        capture_fps=a.capture_fps,
        stored_fps=a.stored_fps,
        duration_s=a.duration_s,
        size=a.size,
        seed=a.seed,
        crf=a.crf,
        preset=a.preset,
        verbose=a.verbose,
    )
    print(
        f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB, {truth['n_frames']} frames, "
        f"{len(truth['contacts'])} contacts, {len(truth['swings'])} swings)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
