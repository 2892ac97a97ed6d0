"""How fast is gaitlab on this machine? One clip, every stage, against the loop a user would write.

    python scripts/benchmark.py [CLIP] [--workers N] [--json out.json] [--only baseline,pose1,...]

Each measurement runs in its own fresh Python process, so its peak RSS
(``resource.getrusage``: the process, and its largest worker process) is its
own. Measurements (all on the same clip):

- ``baseline``: decode (PyAV), convert to RGB, ``detect_for_video`` with the full
  model and MediaPipe's default options (one pose), in one process;
- ``pose1`` / ``poseN``: gaitlab's pose stage (scan + landmarker, ``num_poses`` 3)
  with 1 and N worker processes; ``poseN_1p``: the same with ``num_poses`` 1 (what
  the parallel machinery gives when the landmarker does the baseline's work: asking
  for 3 poses makes MediaPipe run its person detector on every frame);
- ``cold``: the whole ``analyze`` with N workers and an empty pose cache;
  ``cached``: again with the pose on disk; ``annotate``: cached + ``--annotate``;
- ``lite``: the whole ``analyze`` (cold) with the lite model.
Where the clip has a ``.truth.json`` (the sample clip), ``cold`` and ``lite``
also report accuracy against it: touchdown/toe-off mean absolute error in
capture frames and peak swing hip-flexion velocity error.

Overhead share (``cold``): the part of the wall time in which the cores were
not running the landmarker: 1 - (landmarker seconds summed over processes) /
(processes x wall). It includes decoding, colour conversion, the scan, worker
start-up and imbalance, person selection, analysis, outputs and the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gaitlab.core import columns as col

KINDS = ("baseline", "pose1", "poseN", "poseN_1p", "cold", "cached", "annotate", "lite")
REPO = Path(__file__).resolve().parents[2]
DEFAULT_CLIP = REPO / "sample_videos" / "sprint_240fps_capture.mp4"


def _usage() -> dict:
    """Peak RSS (this process; its largest child) and CPU seconds (this process + its children)."""
    kb = 1024.0  # Linux reports ru_maxrss in KiB
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "rss_self_mb": me.ru_maxrss / kb,
        "rss_largest_child_mb": kids.ru_maxrss / kb,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    }


def _baseline(clip: Path, model_path: Path) -> dict:
    """The plain loop: decode, convert, detect_for_video (MediaPipe defaults), one process."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    from gaitlab.pose.landmarker import quiet_native_stderr

    t0 = time.perf_counter()
    n = 0
    with quiet_native_stderr():
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)), running_mode=vision.RunningMode.VIDEO
        )
        with vision.PoseLandmarker.create_from_options(options) as landmarker, av.open(str(clip)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), n * 33 + 1)
                n += 1
    return {"frames": n, "wall_s": time.perf_counter() - t0}


def _pose_stage(clip: Path, model: str, workers: int, num_poses: int = 3) -> dict:
    from gaitlab.io.video import probe
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.pose.models.provision import ensure_model
    from gaitlab.pose.parallel import scan_and_pose

    t0 = time.perf_counter()
    info = probe(clip)
    done = scan_and_pose(
        info, ensure_model(model), PoseSettings(model=model, num_poses=num_poses), workers=workers, show_progress=False
    )
    return {
        "frames": done.scan.n_frames,
        "wall_s": time.perf_counter() - t0,
        "workers_used": done.workers_used,
        "processes": done.timings_s["processes"],
    }


def _accuracy(clip: Path, out_dir: Path) -> dict | None:
    """Event and velocity errors against the clip's truth file (the synthetic sample has one)."""
    import numpy as np
    import pandas as pd

    from gaitlab.evaluation.scoring import nearest_contacts

    truth_path = clip.with_suffix(".truth.json")
    if not truth_path.exists():
        return None
    truth = json.loads(truth_path.read_text())
    frame_s = 1.0 / truth["capture_fps"]
    found = pd.read_csv(out_dir / "contacts.csv")
    pairs = nearest_contacts(found, truth["contacts"], tol_s=0.03)
    missed = len(truth["contacts"]) - len(pairs)
    td = [abs(f[col.TOUCHDOWN_S] - c[col.TOUCHDOWN_S]) / frame_s for c, f in pairs]
    to = [abs(f[col.TOE_OFF_S] - c[col.TOE_OFF_S]) / frame_s for c, f in pairs]
    steps = pd.read_csv(out_dir / "steps.csv")
    vel = []
    for sw in truth.get("swings", []):
        same = steps[steps["side"] == sw["side"]]
        if len(same):
            k = (same[col.TOE_OFF_S] - sw[col.TOE_OFF_S]).abs().idxmin()
            v = same.loc[k, col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S]
            if np.isfinite(v):
                vel.append(abs(v / sw["peak_hip_flexion_velocity_deg_s"] - 1.0) * 100)
    return {
        "contacts_true": len(truth["contacts"]),
        "contacts_found": int(len(found)),
        "missed": missed,
        "touchdown_mae_frames": float(np.mean(td)) if td else None,
        "toe_off_mae_frames": float(np.mean(to)) if to else None,
        "peak_velocity_abs_err_pct": float(np.mean(vel)) if vel else None,
    }


def _analyze(clip: Path, model: str, workers: int, *, annotate: bool, out_dir: Path) -> dict:
    """``analyze_clip``, recording the pose stage's own timings (the cache decides cold or cached)."""
    from gaitlab.io.video import probe
    from gaitlab.pipeline import analyze_clip
    from gaitlab.pose import extract
    from gaitlab.pose.landmarker import PoseSettings

    seen = {}
    real = extract.scan_and_pose

    def recording(*args, **kwargs):
        done = real(*args, **kwargs)
        seen.update(done.timings_s, workers_used=done.workers_used)
        return done

    extract.scan_and_pose = recording
    t0 = time.perf_counter()
    done = analyze_clip(
        clip,
        out_dir=out_dir,
        settings=PoseSettings(model=model),
        show_progress=False,
        workers=workers,
        annotate=annotate,
    )
    wall = time.perf_counter() - t0
    out = {
        "frames": probe(clip).n_frames,
        "wall_s": wall,
        "pose_from_cache": done.pose_from_cache,
        "stages_s": done.timings_s,
        "status": done.result.summary.status.status,
    }
    if seen:
        procs = seen["processes"]
        landmarker_s = sum(p["pose_s"] for p in procs)
        out.update(
            workers_used=seen["workers_used"],
            processes=procs,
            overhead_share=1.0 - landmarker_s / (len(procs) * wall),
            decode_s=sum(p["decode_s"] for p in procs),
            scan_s=sum(p["scan_s"] for p in procs),
        )
    acc = _accuracy(clip, out_dir)
    if acc is not None:
        out["accuracy"] = acc
    return out


def measure_one(kind: str, clip: Path, workers: int, cache_dir: Path, out_dir: Path) -> dict:
    """Run one measurement in this process (called in a fresh subprocess by ``run``)."""
    from gaitlab.pose.models.provision import ensure_model

    os.environ["GAITLAB_CACHE_DIR"] = str(cache_dir)
    if kind == "baseline":
        res = _baseline(clip, ensure_model("full"))
    elif kind == "pose1":
        res = _pose_stage(clip, "full", 1)
    elif kind == "poseN":
        res = _pose_stage(clip, "full", workers)
    elif kind == "poseN_1p":
        res = _pose_stage(clip, "full", workers, num_poses=1)
    elif kind in ("cold", "cached", "annotate"):
        res = _analyze(clip, "full", workers, annotate=kind == "annotate", out_dir=out_dir / kind)
    elif kind == "lite":
        res = _analyze(clip, "lite", workers, annotate=False, out_dir=out_dir / kind)
    else:
        raise ValueError(kind)
    res.update(_usage())
    return res


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from gaitlab.core.cpu import default_workers

    return {
        "cpu": cpu,
        "cores": default_workers(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_avg_1_5_15": list(os.getloadavg()),
    }


def run(clip: Path, kinds: list[str], workers: int, *, log=print) -> dict:
    """Every measurement in ``kinds``, each in a fresh subprocess; a shared private pose cache."""
    import shutil

    from gaitlab.io.video import probe

    info = probe(clip)
    kinds = [k for k in KINDS if k in kinds]  # KINDS order: "cold" runs on the empty cache, before "cached"
    tmp = Path(tempfile.mkdtemp(prefix="gaitlab-bench-"))
    try:
        return _run_in(tmp, clip, info, kinds, workers, log=log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # private cache and outputs (annotated videos) go again


def _run_in(tmp: Path, clip: Path, info, kinds: list[str], workers: int, *, log) -> dict:
    cache, outs = tmp / "cache", tmp / "out"
    results = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    filled = False  # the full model's pose of the clip is in the private cache

    def one(kind: str) -> list[str]:
        return [sys.executable, "-m", "gaitlab.evaluation.benchmark",
                "--one", kind, str(clip), "--workers", str(workers),
                "--cache-dir", str(cache), "--out-dir", str(outs)]  # fmt: skip

    for kind in kinds:
        if kind in ("cached", "annotate") and not filled:
            # needs the pose on disk: fill the cache first (not reported)
            subprocess.run(one("cold"), env=env, check=True, capture_output=True)
            filled = True
        log(f"benchmark: {kind} ...")
        t0 = time.perf_counter()
        r = subprocess.run(one(kind), env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"benchmark {kind} failed:\n{r.stderr[-3000:]}")
        results[kind] = json.loads(r.stdout.strip().splitlines()[-1])
        filled = filled or kind == "cold"
        # what a user waits for: interpreter start, imports and the work
        results[kind]["process_wall_s"] = time.perf_counter() - t0
        results[kind]["load_avg_1min_after"] = os.getloadavg()[0]
    base = results.get("baseline")
    for res in results.values():
        res["frames_per_s"] = res["frames"] / res["wall_s"] if res["wall_s"] > 0 else None
        if base and res["frames_per_s"]:
            res["ratio_to_baseline"] = res["frames_per_s"] / base["frames_per_s"]
    return {
        "clip": str(clip),
        "frames": info.n_frames,
        "size_px": list(info.upright_size_px),
        "workers": workers,
        "machine": machine(),
        "results": results,
    }


LABELS = {
    "baseline": "plain MediaPipe loop (1 process, full)",
    "pose1": "gaitlab pose stage, 1 worker",
    "poseN": "gaitlab pose stage, {n} workers",
    "poseN_1p": "gaitlab pose stage, {n} workers, num_poses=1",
    "cold": "gaitlab analyze, cold ({n} workers)",
    "cached": "gaitlab analyze, cached pose",
    "annotate": "gaitlab analyze --annotate, cached pose",
    "lite": "gaitlab analyze, cold, lite model",
}


def format_table(report: dict) -> str:
    n = report["workers"]
    m = report["machine"]
    lines = [
        f"clip: {report['clip']} ({report['frames']} frames, {report['size_px'][0]}x{report['size_px'][1]})",
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average at the end "
        f"{m['load_avg_1_5_15'][0]:.2f} / {m['load_avg_1_5_15'][1]:.2f} / {m['load_avg_1_5_15'][2]:.2f}",
        "",
        "| run | wall s (process s) | frames/s | x baseline | CPU s | overhead | "
        "peak RSS MB (main / largest worker) | accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, res in report["results"].items():
        ratio = f"{res['ratio_to_baseline']:.2f}" if res.get("ratio_to_baseline") else "-"
        over = f"{100 * res['overhead_share']:.1f} %" if res.get("overhead_share") is not None else "-"
        rss = f"{res['rss_self_mb']:.0f} / {res['rss_largest_child_mb']:.0f}"
        acc = res.get("accuracy")
        acc_text = "-"
        if acc and acc.get("touchdown_mae_frames") is not None:
            vel_err = acc["peak_velocity_abs_err_pct"]
            acc_text = (
                f"{acc['contacts_found']}/{acc['contacts_true']} contacts, TD {acc['touchdown_mae_frames']:.2f} "
                f"TO {acc['toe_off_mae_frames']:.2f} frames MAE, peak vel "
                f"{vel_err if vel_err is not None else float('nan'):.1f} % err"
            )
        fps = f"{res['frames_per_s']:.1f}" if res.get("frames_per_s") else "-"
        lines.append(
            f"| {LABELS[kind].format(n=n)} | {res['wall_s']:.2f} ({res['process_wall_s']:.2f}) | {fps} | "
            f"{ratio} | {res['cpu_s']:.1f} | {over} | {rss} | {acc_text} |"
        )
    cold = report["results"].get("cold")
    if cold and cold.get("processes"):
        parts = ", ".join(
            f"process {i}: landmarker {p['pose_s']:.1f} s, decode+convert {p['decode_s']:.1f} s, "
            f"scan {p['scan_s']:.1f} s, {p['owned_frames']} frames"
            for i, p in enumerate(cold["processes"])
        )
        lines += [
            "",
            f"cold run, per process: {parts}; stages: "
            + ", ".join(f"{k} {v:.2f}" for k, v in cold["stages_s"].items()),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from gaitlab.core.cpu import default_workers

    p = argparse.ArgumentParser(prog="gaitlab benchmark", description=__doc__.split("\n\n")[0])
    p.add_argument("clip", type=Path, nargs="?", default=DEFAULT_CLIP, help="video (default: the sample clip)")
    p.add_argument("--workers", type=int, default=default_workers(), help="N for the parallel runs (default: cores)")
    p.add_argument("--only", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)
    p.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        res = measure_one(args.one, args.clip, args.workers, args.cache_dir, args.out_dir)
        print(json.dumps(res, default=float))
        return 0
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        p.error(f"unknown measurement(s) {unknown}; choose from {', '.join(KINDS)}")
    report = run(args.clip, kinds, args.workers, log=lambda s: print(s, file=sys.stderr))
    print(format_table(report))
    if args.json:
        from gaitlab.io.atomic import write_text_atomic

        write_text_atomic(args.json, json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
