"""How fast is gaitlab on this machine? One clip, every stage, against the loop a user would write.

    python scripts/benchmark.py [CLIP] [--workers N] [--rounds R] [--json out.json] [--only baseline,cold,...]

Each measurement runs in its own fresh Python process, so its peak RSS
(``resource.getrusage``: the process, and its largest worker process) is its
own. With ``--rounds R`` every kind runs R times, the kinds alternating within
each round, so a machine that gets busier or quieter affects them alike; the
table shows medians, and each ratio to the plain loop is the median of the
per-round ratios. Measurements (all on the same clip):

- ``baseline``: decode (PyAV), convert to RGB, ``detect_for_video`` with the full
  model and MediaPipe's default options (one pose, tracking), in one process;
  ``baselineN`` (``_heavy``): N such loops at once, one process each, wall / N:
  what N cores give the plain loop, the ceiling for any split of the clip;
- ``pose1`` / ``poseN``: gaitlab's pose stage (scan + landmarker, every frame
  posed afresh with up to 3 people, restarts on a fixed grid: ``pose.tracking``)
  with 1 and N worker processes; ``poseN_track``: the same with
  ``PoseSettings.tracking`` (the athlete tracked, other people probed);
  ``poseN_1p``: with ``--single-person`` (tracked, no probes);
- ``cold1`` / ``cold``: the whole ``analyze`` with 1 and N workers and an empty
  pose cache (full model); ``cold1_track`` / ``cold_track``: the same with
  tracking; ``heavy1`` / ``heavy`` / ``heavy_track``: the heavy model;
  ``lite``: N workers, the lite model;
- ``cached``: the whole ``gaitlab analyze`` command (interpreter start and
  imports included) with the pose on disk; ``annotate``: cached + ``--annotate``.
Where the clip has a ``.truth.json`` (the sample clip), every ``analyze`` run
also reports its accuracy against it: touchdown/toe-off mean absolute error in
capture frames and peak swing hip-flexion velocity error.

Non-landmarker share (``analyze`` runs): 1 - (landmarker seconds summed over
processes) / (processes x wall): decoding, colour conversion, the scan, worker
start-up and imbalance, person selection, analysis, outputs and the report."""

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
from gaitlab.evaluation.benchmark_table import format_table

KINDS = ("baseline", "baselineN", "baselineN_heavy", "pose1", "poseN", "poseN_track", "poseN_1p", "cold1", "cold")
KINDS += ("cold1_track", "cold_track", "cached", "heavy1", "heavy", "heavy_track", "annotate", "lite")
# analyze kinds: (model, workers (None: N), PoseSettings.tracking)
ANALYZE = {"cold1": ("full", 1, False), "cold": ("full", None, False), "cold1_track": ("full", 1, True)}
ANALYZE |= {"cold_track": ("full", None, True), "heavy1": ("heavy", 1, False), "heavy": ("heavy", None, False)}
ANALYZE |= {"heavy_track": ("heavy", None, True), "lite": ("lite", None, False)}
CACHED = ("cached", "annotate")  # need the full model's pose on disk
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


def _baseline_n(clip: Path, model_path: Path, n: int) -> dict:
    """``n`` plain loops at once (``_baseline``, one process each); ``wall_s`` = the slowest's over n."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        loops = list(pool.map(_baseline, [clip] * n, [model_path] * n))
    wall = max(r["wall_s"] for r in loops)
    return {"frames": loops[0]["frames"], "wall_s": wall / n, "loops_wall_s": [r["wall_s"] for r in loops]}


def _pose_stage(clip: Path, model: str, workers: int, num_poses: int = 3, tracking: bool = False) -> dict:
    from gaitlab.io.video import probe
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.pose.models.provision import ensure_model
    from gaitlab.pose.parallel import scan_and_pose

    t0 = time.perf_counter()
    info = probe(clip)
    settings = PoseSettings(model=model, num_poses=num_poses, tracking=tracking)
    done = scan_and_pose(info, ensure_model(model), settings, workers=workers, show_progress=False)
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


def _analyze(clip: Path, model: str, workers: int, *, annotate: bool, out_dir: Path, tracking: bool = False) -> dict:
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
        settings=PoseSettings(model=model, tracking=tracking),
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
    elif kind.startswith("baselineN"):
        res = _baseline_n(clip, ensure_model("heavy" if kind.endswith("heavy") else "full"), workers)
    elif kind == "pose1":
        res = _pose_stage(clip, "full", 1)
    elif kind == "poseN":
        res = _pose_stage(clip, "full", workers)
    elif kind == "poseN_track":
        res = _pose_stage(clip, "full", workers, tracking=True)
    elif kind == "poseN_1p":
        res = _pose_stage(clip, "full", workers, num_poses=1)
    elif kind in ANALYZE:
        model, n, tracking = ANALYZE[kind]
        res = _analyze(clip, model, n or workers, annotate=False, out_dir=out_dir, tracking=tracking)
    elif kind == "annotate":
        res = _analyze(clip, "full", workers, annotate=True, out_dir=out_dir)
    else:
        raise ValueError(kind)
    res.update(_usage())
    return res


def _command(kind: str, clip: Path, workers: int, cache_dir: Path, out_dir: Path, env: dict) -> dict:
    """The whole ``gaitlab analyze`` command as a user runs it (pose cached), timed from outside."""
    cmd = [sys.executable, "-m", "gaitlab", "analyze", str(clip), "--out", str(out_dir), "--model", "full"]
    cmd += ["--workers", str(workers), "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=dict(env, GAITLAB_CACHE_DIR=str(cache_dir)), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark {kind}: gaitlab analyze exited with {proc.returncode}")
    from gaitlab.io.video import probe

    res = {
        "frames": probe(clip).n_frames,
        "wall_s": wall,
        "command": " ".join(["gaitlab"] + cmd[3:]),
        "rss_self_mb": usage.ru_maxrss / 1024.0,
        "rss_largest_child_mb": 0.0,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }
    acc = _accuracy(clip, out_dir)
    if acc is not None:
        res["accuracy"] = acc
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


def run(clip: Path, kinds: list[str], workers: int, *, rounds: int = 1, log=print) -> dict:
    """Every measurement in ``kinds``, ``rounds`` times alternating, each in a fresh subprocess."""
    import shutil

    from gaitlab.io.video import probe

    info = probe(clip)
    kinds = [k for k in KINDS if k in kinds]
    tmp = Path(tempfile.mkdtemp(prefix="gaitlab-bench-"))
    try:
        load_before = list(os.getloadavg())
        runs = _run_in(tmp, clip, kinds, workers, rounds, log=log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # private caches and outputs (annotated videos) go again
    return {
        "clip": str(clip),
        "frames": info.n_frames,
        "size_px": list(info.upright_size_px),
        "workers": workers,
        "rounds": rounds,
        "load_avg_before": load_before,
        "machine": machine(),
        "results": _medians(runs),
        "runs": runs,
    }


def _run_in(tmp: Path, clip: Path, kinds: list[str], workers: int, rounds: int, *, log) -> dict[str, list[dict]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    filled = tmp / "cache-filled"  # the full model's pose of the clip, for the cached kinds

    def one(kind: str, cache: Path, out: Path) -> list[str]:
        return [sys.executable, "-m", "gaitlab.evaluation.benchmark",
                "--one", kind, str(clip), "--workers", str(workers),
                "--cache-dir", str(cache), "--out-dir", str(out)]  # fmt: skip

    if any(k in CACHED for k in kinds):  # fill the cache first (not reported)
        subprocess.run(one("cold", filled, tmp / "fill"), env=env, check=True, capture_output=True)
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for r in range(rounds):
        for kind in kinds:
            log(f"benchmark: round {r + 1}/{rounds}: {kind} ...")
            cache = filled if kind in CACHED else tmp / f"cache-{kind}-{r}"  # cold kinds: an empty cache each
            out = tmp / f"out-{kind}-{r}"
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            if kind == "cached":
                res = _command(kind, clip, workers, cache, out, env)
            else:
                p = subprocess.run(one(kind, cache, out), env=env, capture_output=True, text=True)
                if p.returncode != 0:
                    raise RuntimeError(f"benchmark {kind} failed:\n{p.stderr[-3000:]}")
                res = json.loads(p.stdout.strip().splitlines()[-1])
            # what a user waits for: interpreter start, imports and the work
            res["process_wall_s"] = time.perf_counter() - t0
            res["load_avg_1min_before"] = load
            runs[kind].append(res)
    return runs


def _medians(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Per kind: its median-wall run (every field of that run), medians of times and of per-round ratios."""
    import statistics

    base = runs.get("baseline")
    out = {}
    for kind, rs in runs.items():
        for i, res in enumerate(rs):
            res["frames_per_s"] = res["frames"] / res["wall_s"] if res["wall_s"] > 0 else None
            if base and res["frames_per_s"]:
                res["ratio_to_baseline"] = base[i]["wall_s"] / res["wall_s"]
        summary = dict(sorted(rs, key=lambda x: x["wall_s"])[(len(rs) - 1) // 2])
        for key in ("wall_s", "process_wall_s", "cpu_s"):
            summary[key] = statistics.median(x[key] for x in rs)
        summary["frames_per_s"] = summary["frames"] / summary["wall_s"]
        if base:
            summary["ratio_to_baseline"] = statistics.median(x["ratio_to_baseline"] for x in rs)
        summary["wall_s_runs"] = [x["wall_s"] for x in rs]
        out[kind] = summary
    return out


def main(argv: list[str] | None = None) -> int:
    from gaitlab.core.cpu import default_workers

    p = argparse.ArgumentParser(prog="gaitlab benchmark", description=__doc__.split("\n\n")[0])
    p.add_argument("clip", type=Path, nargs="?", default=DEFAULT_CLIP, help="video (default: the sample clip)")
    p.add_argument("--workers", type=int, default=default_workers(), help="N for the parallel runs (default: cores)")
    p.add_argument("--only", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    p.add_argument("--rounds", type=int, default=1, help="run every kind this many times, alternating (medians)")
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
    report = run(args.clip, kinds, args.workers, rounds=max(1, args.rounds), log=lambda s: print(s, file=sys.stderr))
    report["command"] = "python scripts/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(format_table(report))
    if args.json:
        from gaitlab.io.atomic import write_text_atomic

        write_text_atomic(args.json, json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
