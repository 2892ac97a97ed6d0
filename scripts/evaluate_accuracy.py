"""Measure how accurate gaitlab is against three kinds of truth, and write docs/accuracy.md.

    python scripts/evaluate_accuracy.py --json accuracy.json
    python scripts/evaluate_accuracy.py --sources real --models full   # re-score one kind quickly

Needs ``../shared/data`` beside the repository (or ``GAITLAB_SHARED_DIR``).
Sources: ``markers`` (mocap joint centres projected as perfect 2D landmarks at 30/60/120/240 Hz,
and FootNet's force-labelled treadmill runners at 200/120/60 Hz: gaitlab's algorithm alone),
``video`` (a rendered side-view clip of each mocap trial at 60/120/240 fps capture through the
full ``gaitlab analyze``: pose model + algorithm) and ``real`` (the hand-labelled real clips
through ``gaitlab analyze``, scored by ``gaitlab.evaluation.real_labels``). ``video`` and ``real`` rows are
made for each pose model of ``--models``. Pose results come from the cache (~/.cache/gaitlab) and
renders from the work folder when they exist, so a warm re-run runs neither.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gaitlab.analysis import known_error  # noqa: E402
from gaitlab.core.config import AnalysisConfig, load_config  # noqa: E402
from gaitlab.evaluation import accuracy, footnet, real_labels  # noqa: E402
from gaitlab.evaluation.accuracy_doc import (  # noqa: E402
    DOC_HEAD,
    fixed_drifts,
    lab_vs_force,
    markdown_table,
    real_table,
    target_checks,
    toe_drift_notes,
    video_notes,
)
from gaitlab.evaluation.scoring import ROW_KEYS  # noqa: E402
from gaitlab.io.atomic import write_text_atomic  # noqa: E402

TRIALS = {  # name -> path under shared/data/mocap
    "JA1Gait35 sprint 9.5 m/s": "dorn2012_JA1/JA1Gait35.c3d",
    "maxSprint 6.6 m/s": "flashrunning_maxsprint/maxSprint.c3d",
    "JA1Gait21 jog 3.5 m/s": "dorn2012_JA1/JA1Gait21_jog3.5ms.c3d",
}
MARKER_FPS = (30.0, 60.0, 120.0, 240.0)
VIDEO_FPS = (60.0, 120.0, 240.0)
FOOTNET_NAME = "FootNet treadmill runners"
FOOTNET_FPS = (200.0, 120.0, 60.0)  # its own rate, then resampled like the mocap markers rows
SOURCES = ("markers", "video", "real")
CAMERAS = ("fixed", "panning")  # video rows: a camera that stands still, one that pans with the runner
MODELS = ("full", "heavy")


def _choice(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    picked = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in picked if x not in allowed]
    if bad or not picked:
        raise SystemExit(f"evaluate_accuracy: unknown {what} {bad or text!r} (choose from {', '.join(allowed)})")
    return picked


def usable_models(models: list[str], notes: list[str]) -> list[str]:
    """The requested pose models gaitlab can load (`gaitlab models NAME`); the others are noted and skipped."""
    from gaitlab.pose.models.provision import ensure_model

    usable = []
    for m in models:
        try:
            ensure_model(m)
            usable.append(m)
        except Exception as exc:  # noqa: BLE001 - any failure to provide the model means: no rows for it
            notes.append(f"pose model '{m}' is not available ({str(exc).splitlines()[0][:160]}): no rows for it.")
            print(f"evaluate_accuracy: {notes[-1]}", file=sys.stderr)
    return usable


def markers_rows(mocap_dir: Path, truths: dict, config: AnalysisConfig) -> list[dict]:
    rows = [
        accuracy.evaluate_markers(truth, fps, trial=name, config=config)
        for name, truth in truths.items()
        for fps in MARKER_FPS
    ]
    trial = footnet.load_footnet(mocap_dir.parent.parent / footnet.MAT_REL)
    rows += [footnet.evaluate_footnet(trial, fps, trial_name=FOOTNET_NAME, config=config) for fps in FOOTNET_FPS]
    return rows


def video_rows(
    truths: dict, models: list[str], work: Path, config: AnalysisConfig, cameras: list[str] = CAMERAS
) -> list[dict]:
    from gaitlab.evaluation import accuracy_video

    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for model in models:
        for camera in cameras:
            for name, truth in truths.items():
                for fps in VIDEO_FPS:
                    t0 = time.perf_counter()
                    rows.append(
                        accuracy_video.evaluate_video(
                            truth, fps, trial=name, work_dir=work, model=model, config=config, camera=camera
                        )
                    )
                    print(
                        f"{name} video {fps:.0f} fps {camera} camera {model} done in {time.perf_counter() - t0:.0f} s "
                        f"(pose {'cached' if rows[-1]['pose_from_cache'] else 'run'})",
                        file=sys.stderr,
                    )
    return rows


def real_rows(shared: Path, models: list[str], work: Path, notes: list[str], config: AnalysisConfig) -> list[dict]:
    labels = real_labels.load_labels(shared / real_labels.LABELS_REL)
    rows, legs, drifts = [], [], []
    for model in models:
        for clip in dict.fromkeys(labels["clip"]):
            t0 = time.perf_counter()
            score = real_labels.evaluate_clip(
                shared / real_labels.CLIPS_REL / clip,
                labels,
                model=model,
                config=config,
                out_dir=work / "real" / f"{Path(clip).stem}_{model}",
            )
            rows.append(score.row)
            d = score.details
            drifts.append((f"{clip} ({model})", d["stance_toe_drift_pct"]))
            legs.append(
                f"{clip} ({model}): {d['contacts_matched']} of {d['contacts_labelled']} labelled contacts "
                f"matched ({d['contacts_found']} found), near/far "
                + ("swapped against the labels" if d["legs_swapped"] else "as labelled")
                + (f", leg agreement {d['leg_agreement']:.0%}" if d["leg_agreement"] is not None else "")
            )
            print(
                f"{clip} real {model} done in {time.perf_counter() - t0:.0f} s "
                f"(pose {'cached' if d['pose_from_cache'] else 'run'})",
                file=sys.stderr,
            )
    if legs:
        notes.append("Real clips, contact matching and gaitlab's near/far: " + "; ".join(legs) + ".")
    notes.extend(toe_drift_notes(drifts, "the real fixed-camera clips"))
    return rows


def write_json(path: Path, rows: list[dict]) -> None:
    """Every row with every key any row has (None where a key does not apply)."""
    keys = list(dict.fromkeys(ROW_KEYS + real_labels.ROW_KEYS + tuple(k for r in rows for k in r)))

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        return v.item() if hasattr(v, "item") else v

    write_text_atomic(path, json.dumps([{k: clean(r.get(k)) for k in keys} for r in rows], indent=1) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, help="write the rows here (one object per row)")
    p.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("GAITLAB_SHARED_DIR", REPO.parent / "shared")),
        help="the shared folder holding data/ (default ../shared or $GAITLAB_SHARED_DIR)",
    )
    p.add_argument("--doc", type=Path, default=REPO / "docs" / "accuracy.md", help="markdown report to write")
    p.add_argument("--sources", default=",".join(SOURCES), help="which truth to score (default: markers,video,real)")
    p.add_argument(
        "--models", default=",".join(MODELS), help="pose models for video and real rows (default: full,heavy)"
    )
    p.add_argument("--no-video", action="store_true", help="same as leaving video out of --sources")
    p.add_argument("--cameras", default=",".join(CAMERAS), help="cameras of the video rows (default: fixed,panning)")
    p.add_argument(
        "--config",
        type=Path,
        help="analysis settings TOML (as for gaitlab analyze) to judge a change on the whole table; "
        "gaitlab/data/known_error.json is then left alone",
    )
    p.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("GAITLAB_ACCURACY_WORK", "/tmp/gaitlab-accuracy")),
        help="where rendered clips and analysis outputs go",
    )
    args = p.parse_args(argv)
    sources = [s for s in _choice(args.sources, SOURCES, "source") if not (args.no_video and s == "video")]
    t_start = time.perf_counter()
    shared = args.shared / "data"
    mocap_dir = shared / "mocap"
    if not mocap_dir.is_dir():
        print(f"evaluate_accuracy: {mocap_dir} not found (needs ../shared/data)", file=sys.stderr)
        return 2
    rows, notes = [], []
    config = load_config(args.config)
    models = usable_models(_choice(args.models, MODELS, "model"), notes) if {"video", "real"} & set(sources) else []
    truths = (
        {name: accuracy.load_truth(mocap_dir / rel) for name, rel in TRIALS.items()}
        if {"markers", "video"} & set(sources)
        else {}
    )
    if "markers" in sources:
        rows += markers_rows(mocap_dir, truths, config)
    video_note = "not run (not in --sources)."
    if "video" in sources:
        from gaitlab.evaluation import accuracy_video

        video_note = accuracy_video.DESCRIPTION
        rows += video_rows(truths, models, args.work, config, _choice(args.cameras, CAMERAS, "camera"))
    real_note = real_labels.DESCRIPTION if "real" in sources else "not run (not in --sources)."
    if "real" in sources:
        rows += real_rows(args.shared, models, args.work, notes, config)
    if truths:
        notes.append(
            "maxSprint has no toe marker: its toe tip is modelled from the heel and metatarsal-head "
            "markers (`gaitlab.evaluation.mocap.toe_tip_from_metatarsals`, anthropometric toe length, toes hinge "
            "flat on the floor at push-off). Its toe-off errors depend on that model: with the "
            "metatarsal heads themselves as the toe, toe-off came out ~25 ms early instead."
        )
        notes.append(
            "Landing feet keep settling after the force rises (JA1 sprint: toe and heel markers "
            "~30 mm over 20-30 ms; FootNet likewise): the landing corner gaitlab fits on each foot point "
            "lies inside that settling, hence touchdowns a few ms late on the markers rows."
        )
    if "markers" in sources:
        notes.append(footnet.TOE_NOTE)
    notes.extend(video_notes([r for r in rows if r["source"] == "video"]))
    for source in ("markers", "video"):
        notes.extend(toe_drift_notes(fixed_drifts(rows, source), f"the {source} rows"))
    runtime = time.perf_counter() - t_start
    mocap_rows = [r for r in rows if r["source"] != "real"]
    table = markdown_table(mocap_rows) if mocap_rows else "not run"
    checks = target_checks(rows)
    print(table + "\n\n" + real_table([r for r in rows if r["source"] == "real"]))
    print("\n".join(checks))
    scope = "" if sources == list(SOURCES) else f"; sources {', '.join(sources)} only"
    scope += f"; settings from {args.config}" if args.config else ""
    doc = DOC_HEAD.format(
        when=time.strftime("%Y-%m-%d"),
        runtime=runtime,
        scope=scope,
        footnet_name=FOOTNET_NAME,
        footnet_note=footnet.DESCRIPTION,
        video_note=video_note,
        real_note=real_note,
        table=table,
        real_table=real_table([r for r in rows if r["source"] == "real"]),
        checks="\n".join(checks),
        lab=lab_vs_force(truths) or "not run",
        notes="\n".join(f"- {n}" for n in notes),
    )
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.doc, doc)
    if args.json:
        write_json(args.json, rows)
    if sources == list(SOURCES) and not args.config:  # every analysis' known error: the default-settings table
        print(f"wrote {known_error.write_known_error_json(rows) and known_error.DATA_PATH}", file=sys.stderr)
    print(f"wrote {args.doc}" + (f" and {args.json}" if args.json else "") + f" in {runtime:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
