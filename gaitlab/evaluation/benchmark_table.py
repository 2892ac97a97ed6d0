"""The benchmark's printed table (``benchmark.format_table``): one row per measurement, medians over rounds."""

from __future__ import annotations

LABELS = {
    "baseline": "plain MediaPipe loop (1 process, full model)",
    "baselineN": "{n} plain loops at once (full model), per clip",
    "baselineN_heavy": "{n} plain loops at once (heavy model), per clip",
    "pose1": "gaitlab pose stage, 1 worker, full",
    "poseN": "gaitlab pose stage, {n} workers, full",
    "poseN_track": "gaitlab pose stage, {n} workers, full, tracking",
    "poseN_1p": "gaitlab pose stage, {n} workers, full, --single-person",
    "cold1": "gaitlab analyze, cold, 1 worker, full",
    "cold": "gaitlab analyze, cold, {n} workers, full",
    "cold1_track": "gaitlab analyze, cold, 1 worker, full, tracking",
    "cold_track": "gaitlab analyze, cold, {n} workers, full, tracking",
    "cached": "gaitlab analyze, pose cached (whole command)",
    "heavy1": "gaitlab analyze, cold, 1 worker, heavy",
    "heavy": "gaitlab analyze, cold, {n} workers, heavy",
    "heavy_track": "gaitlab analyze, cold, {n} workers, heavy, tracking",
    "annotate": "gaitlab analyze --annotate, pose cached",
    "lite": "gaitlab analyze, cold, {n} workers, lite",
}


def _accuracy_text(acc: dict | None) -> str:
    if not acc or acc.get("touchdown_mae_frames") is None:
        return "-"
    vel = acc["peak_velocity_abs_err_pct"]
    return (
        f"{acc['contacts_found']}/{acc['contacts_true']} contacts, TD {acc['touchdown_mae_frames']:.2f} "
        f"TO {acc['toe_off_mae_frames']:.2f} frames MAE, peak vel {vel if vel is not None else float('nan'):.1f} % err"
    )


def format_table(report: dict) -> str:
    n = report["workers"]
    m = report["machine"]
    lines = [
        f"clip: {report['clip']} ({report['frames']} frames, {report['size_px'][0]}x{report['size_px'][1]}); "
        f"{report['rounds']} round(s), kinds alternating within each round; medians shown",
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average before "
        + " / ".join(f"{x:.2f}" for x in report["load_avg_before"])
        + ", after "
        + " / ".join(f"{x:.2f}" for x in m["load_avg_1_5_15"]),
        "",
        "| run | wall s (process s) | frames/s | x plain loop | CPU s | non-landmarker share | "
        "peak RSS MB (main / largest worker) | accuracy (sample truth) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, res in report["results"].items():
        ratio = f"{res['ratio_to_baseline']:.2f}" if res.get("ratio_to_baseline") else "-"
        over = f"{100 * res['overhead_share']:.1f} %" if res.get("overhead_share") is not None else "-"
        rss = f"{res['rss_self_mb']:.0f} / {res['rss_largest_child_mb']:.0f}"
        fps = f"{res['frames_per_s']:.1f}" if res.get("frames_per_s") else "-"
        lines.append(
            f"| {LABELS[kind].format(n=n)} | {res['wall_s']:.2f} ({res['process_wall_s']:.2f}) | {fps} | "
            f"{ratio} | {res['cpu_s']:.1f} | {over} | {rss} | {_accuracy_text(res.get('accuracy'))} |"
        )
    for kind in ("cold", "cold_track", "heavy", "heavy_track"):
        res = report["results"].get(kind)
        if res and res.get("processes"):
            parts = ", ".join(
                f"process {i}: landmarker {p['pose_s']:.1f} s ({p.get('landmarker_calls', 0)} calls), "
                f"decode+convert {p['decode_s']:.1f} s, scan {p['scan_s']:.1f} s, {p['owned_frames']} frames"
                for i, p in enumerate(res["processes"])
            )
            stages = ", ".join(f"{k} {v:.2f}" for k, v in res["stages_s"].items())
            lines += ["", f"{kind} run, per process: {parts}; stages: {stages}"]
    return "\n".join(lines)
