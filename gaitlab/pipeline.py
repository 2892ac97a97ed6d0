"""The only place that chains stages: ``analyze_clip`` (video -> outputs)."""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gaitlab.analysis import hazards
from gaitlab.analysis.analyze import AnalysisResult, Measured, measure_track, status_of, summarise
from gaitlab.analysis.clean import sample_rate_hz
from gaitlab.analysis.scale import check_athlete_height
from gaitlab.analysis.summary import QualityNote
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError
from gaitlab.core.logs import FILE_ONLY, log_timings
from gaitlab.core.types import PoseTrack, VideoInfo
from gaitlab.io.atomic import prepare_out_dir
from gaitlab.io.cache import load_pose, pose_cache_key, save_pose
from gaitlab.io.keypoints import read_keypoints
from gaitlab.io.run_log import RUN_LOG_NAME, run_log
from gaitlab.io.video import file_sha256, probe
from gaitlab.outputs.annotate_video import write_annotated_video
from gaitlab.outputs.overlay import load_overlay, overlay_from_tables, warn_other_capture_fps
from gaitlab.outputs.report import write_report
from gaitlab.outputs.tables import frames_table, write_outputs
from gaitlab.pose.extract import EXTRACTION_VERSION, extract_clip_pose
from gaitlab.pose.landmarker import PoseSettings

logger = logging.getLogger(__name__)


@dataclass
class ClipAnalysis:
    """One analysed clip (or landmark file: ``info`` None) and where its outputs went."""

    info: VideoInfo | None
    result: AnalysisResult
    out_dir: Path
    paths: dict
    pose_from_cache: bool
    timings_s: dict


def default_out_dir(clip: Path) -> Path:
    """``<clip folder>/<clip stem>.gaitlab``"""
    return clip.parent / f"{clip.stem}.gaitlab"


def load_or_extract_pose(
    info: VideoInfo,
    settings: PoseSettings,
    *,
    model_path: Path | None = None,
    show_progress: bool = True,
    use_cache: bool = True,
    workers: int | None = None,
    clip_sha256: str | None = None,
) -> tuple[PoseTrack, bool]:
    """The clip's pose track: from the cache when this clip, model and settings ran before.

    ``workers`` (processes for pose; None = all cores) is not part of the key: any count gives the same track.
    ``clip_sha256``: the clip's hash when the caller has it already (a batch worker), else it is computed.
    """
    from gaitlab.pose.models.files import check_model_file
    from gaitlab.pose.models.provision import ensure_model, model_sha256

    model_path = check_model_file(model_path) if model_path else ensure_model(settings.model)
    model_hash = model_sha256(model_path)
    logger.debug("pose model %s: %s sha256 %s", settings.model, model_path, model_hash)
    clip_sha256 = clip_sha256 or file_sha256(info.path)
    logger.debug("clip %s sha256 %s", info.path, clip_sha256)
    key = pose_cache_key(
        clip_sha256=clip_sha256,
        model_sha256=model_hash,
        settings={
            **settings.to_dict(),
            "capture_fps": info.capture_fps,
            "rotation_deg": info.rotation_deg,
            "extraction": EXTRACTION_VERSION,
        },
    )
    if use_cache and (track := load_pose(key, info)) is not None:
        logger.debug("pose from the cache (key %s)", key)
        return track, True
    track = extract_clip_pose(info, model_path, settings, show_progress=show_progress, workers=workers)
    if use_cache:
        save_pose(key, track, info)  # a cache that cannot be written only warns
    return track, False


def annotate_clip(
    clip: Path,
    *,
    out_dir: Path | None = None,
    capture_fps: float | None = None,
    slowmo_factor: float = 1.0,
    crop: bool = False,
    show_progress: bool = True,
):
    """annotated.mp4 for a clip analysed before: reads its output folder, never re-runs pose."""
    clip = Path(clip)
    info = probe(clip, capture_fps=capture_fps)
    out_dir = Path(out_dir) if out_dir else default_out_dir(clip)
    overlay = load_overlay(out_dir)
    warn_other_capture_fps(overlay, capture_fps, clip.name)
    analysed = int(max(overlay.frame_index)) + 1 if len(overlay.frame_index) else 0  # repeats are not rows
    if analysed and abs(analysed - info.n_frames) > max(2, 0.02 * info.n_frames):
        raise BadInputError(
            f"{clip}: has {info.n_frames} frames but the analysis in {out_dir} covers "
            f"{analysed}: not the same clip? Run 'gaitlab analyze' on it"
        )
    drawing = {"slowmo_factor": slowmo_factor, "crop": crop, "show_progress": show_progress, "capture_fps": capture_fps}
    return write_annotated_video(info, overlay, out_dir / "annotated.mp4", **drawing)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _analyze_with_hazards(
    info: VideoInfo, track: PoseTrack, *, config: AnalysisConfig, clip: Path, pose_model: str | None = None, **more
) -> AnalysisResult:
    """Real time base, segments, analysis; measured again once if the step rate shows a k-times slowed clip.

    ``pose_model`` selects the measures' known errors; ``more``: ``measure_track``'s ``athlete_height_m``.
    """
    tb = hazards.time_base(info, track.meta)

    def measure(tb: hazards.TimeBase) -> tuple[Measured, int]:
        timed = hazards.retime(track, info, tb)
        starts = hazards.segment_starts_s(timed)
        timed = hazards.split_segments(timed, starts, max_gap_fill_s=config.clean.max_gap_fill_s)
        segments = len(starts) + 1
        return measure_track(timed, config=config, capture_fps=tb.capture_fps, pose_model=pose_model, **more), segments

    measured, segments = measure(tb)
    before = status_of(measured, config, check_rhythm=False)
    factor, step_hz = hazards.motion_slowmo_factor(before.status, tb, measured.steps, measured.frames)
    if factor is not None:
        tb = hazards.with_slowmo(tb, factor)
        measured, segments = measure(tb)
    status = status_of(measured, config)
    if factor is not None or not status.ok:
        step_hz = None  # else: the step rate the slow-motion decision used, so the note and the decision agree
    notes = hazards.capture_notes(info, tb.source)
    bad = track.meta.get("bad_packets", 0)
    if bad:
        notes.append(QualityNote("bad_packets", f"{bad} damaged packet(s) could not be decoded and were skipped."))
    hazard = hazards.hazard_notes(info, track, tb, step_hz=step_hz, segments=segments)
    return summarise(
        measured,
        status=status,
        config=config,
        clip=str(clip),
        stored_fps=info.stored_fps,
        landmark_source=track.source,
        notes_before=notes,
        facts=hazards.clip_facts(info, track, tb, segments, pose_model),
        notes_after=[QualityNote("hazard", n) for n in hazard],
    )


def measure_clip(
    info: VideoInfo,
    settings: PoseSettings,
    *,
    config: AnalysisConfig,
    model_path: Path | None = None,
    show_progress: bool = True,
    use_cache: bool = True,
    workers: int | None = None,
    clip_sha256: str | None = None,
    athlete_height_m: float | None = None,
    marks: list[tuple[str, float]] | None = None,
) -> tuple[AnalysisResult, bool]:
    """(analysis, pose came from the cache) of a probed clip; writes no output (the pose cache only).
    ``marks``: gets ("pose_s", end time) and ("analysis_s", end time) appended (``_timings``)."""
    marks = [] if marks is None else marks
    check_athlete_height(athlete_height_m)  # before the pose work: speed and step length in metres
    track, cached = load_or_extract_pose(
        info,
        settings,
        model_path=model_path,
        show_progress=show_progress,
        use_cache=use_cache,
        workers=workers,
        clip_sha256=clip_sha256,
    )
    marks.append(("pose_s", time.perf_counter()))
    more = {"athlete_height_m": athlete_height_m}
    result = _analyze_with_hazards(info, track, config=config, clip=info.path, pose_model=settings.model, **more)
    marks.append(("analysis_s", time.perf_counter()))
    return result, cached


def measure_keypoints(
    source: Path,
    *,
    capture_fps: float | None = None,
    config: AnalysisConfig = AnalysisConfig(),
    athlete_height_m: float | None = None,
) -> AnalysisResult:
    """The analysis of a landmark file (OpenSim TRC, OpenPose JSON folder); writes nothing.

    The same stages after pose as a clip, pauses split into segments; without a video, whether the camera
    pans is judged from the stance foot (``metres.camera_motion``)."""
    check_athlete_height(athlete_height_m)
    track, notes = read_keypoints(source, fps=capture_fps)
    starts = hazards.segment_starts_s(track)
    timed = hazards.split_segments(track, starts, max_gap_fill_s=config.clean.max_gap_fill_s)
    fps = sample_rate_hz(track.time_s) if track.n_frames >= 2 else float(capture_fps or 0.0) or math.nan
    measured = measure_track(timed, config=config, capture_fps=fps, athlete_height_m=athlete_height_m)
    segment_notes = [f"Long pause(s) in the frames: analyzed as {len(starts) + 1} segments."] if starts else []
    return summarise(
        measured,
        status=status_of(measured, config),
        config=config,
        clip=str(source),
        stored_fps=fps,
        landmark_source=track.source,
        notes_before=[QualityNote("input", n) for n in notes],
        notes_after=[QualityNote("hazard", n) for n in segment_notes],
    )


def save_result(
    result: AnalysisResult,
    out_dir: Path,
    *,
    info: VideoInfo | None = None,
    annotate: bool = False,
    slowmo_factor: float = 1.0,
    crop: bool = False,
    show_progress: bool = True,
) -> dict[str, Path]:
    """Every output of one analysis into ``out_dir`` (made if needed); ``annotate`` needs the clip's ``info``."""
    if annotate and info is None:
        raise BadInputError(f"{result.summary.clip}: an annotated video needs a video clip, not a landmark file")
    with _output_folder(Path(out_dir)) as folder:
        paths, frames, document = write_all(result, folder)
        if annotate:
            overlay = overlay_from_tables(frames, result.contacts, result.steps, document)
            paths["annotated.mp4"] = write_annotated_video(
                info,
                overlay,
                folder / "annotated.mp4",
                slowmo_factor=slowmo_factor,
                crop=crop,
                show_progress=show_progress,
            ).path
    return paths


def write_all(result: AnalysisResult, out_dir: Path) -> tuple[dict[str, Path], pd.DataFrame, dict]:
    """Tables, summary.json, report.html and plots of one analysis; returns (paths, frames table, summary.json).

    An ``annotated.mp4`` of an earlier run is removed: it was drawn from the tables replaced here.
    """
    (out_dir / "annotated.mp4").unlink(missing_ok=True)
    frames = frames_table(result)
    paths = write_outputs(result, out_dir, frames=frames)
    document = result.summary.to_dict()
    logger.debug("status: %s", " - ".join(filter(None, (document["status"], document["status_reason"]))))
    for note in document["quality"]:  # the printed summary lists them: the log file only
        logger.warning("quality: %s", note, extra=FILE_ONLY)
    paths.update(write_report(document, frames, result.contacts, result.steps, out_dir))
    return paths, frames, document


@contextmanager
def _output_folder(out_dir: Path):
    """The output folder, made ready; a folder made here and left empty by a failure goes again."""
    created = not out_dir.exists()
    ready = prepare_out_dir(out_dir)
    try:
        yield ready
    except BaseException:
        if created:
            _remove_if_empty(ready)
        raise


def analyze_clip(
    clip: Path,
    *,
    out_dir: Path | None = None,
    capture_fps: float | None = None,
    settings: PoseSettings = PoseSettings(),
    config: AnalysisConfig = AnalysisConfig(),
    model_path: Path | None = None,
    show_progress: bool = True,
    use_cache: bool = True,
    annotate: bool = False,
    slowmo_factor: float = 1.0,
    crop: bool = False,
    workers: int | None = None,
    clip_sha256: str | None = None,
    athlete_height_m: float | None = None,
) -> ClipAnalysis:
    """Probe, pose (or cache), analyse and write outputs (tables, summary, report; annotated video if asked).

    ``workers``: processes for this clip's pose pass (None = all cores). A batch that
    already runs one clip per core passes ``workers=1`` so the cores are not oversubscribed.
    ``clip_sha256``: the clip's hash if the caller computed it (keys the pose cache; else hashed here).
    ``athlete_height_m``: the athlete's standing height, for speed and step length in metres (docs/metrics.md).
    """
    marks = [("start", time.perf_counter())]
    clip = Path(clip)
    check_athlete_height(athlete_height_m)  # before the pose work
    info = probe(clip, capture_fps=capture_fps)
    run_settings = {
        "clip": clip,
        "video": info,
        "pose": settings.to_dict(),
        "analysis": config.to_dict(),
        "model_path": model_path,
        "use_cache": use_cache,
        "workers": workers,
        "athlete_height_m": athlete_height_m,
        "annotate": annotate,
        "slowmo_factor": slowmo_factor,
        "crop": crop,
    }
    with (
        _output_folder(Path(out_dir) if out_dir else default_out_dir(clip)) as out_dir,
        run_log(out_dir / RUN_LOG_NAME, command="analyze", settings=run_settings),
    ):
        marks.append(("probe_s", time.perf_counter()))
        result, cached = measure_clip(
            info,
            settings,
            config=config,
            model_path=model_path,
            show_progress=show_progress,
            use_cache=use_cache,
            workers=workers,
            clip_sha256=clip_sha256,
            athlete_height_m=athlete_height_m,
            marks=marks,
        )
        paths = save_result(
            result,
            out_dir,
            info=info,
            annotate=annotate,
            slowmo_factor=slowmo_factor,
            crop=crop,
            show_progress=show_progress,
        )
        marks.append(("write_s", time.perf_counter()))
        log_timings(_timings(marks))
    return ClipAnalysis(
        info=info, result=result, out_dir=out_dir, paths=paths, pose_from_cache=cached, timings_s=_timings(marks)
    )


def _timings(marks: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds per stage from (stage, end time) marks; ``total_s`` from the first to the last."""
    out = {name: t - marks[i][1] for i, (name, t) in enumerate(marks[1:])}
    out["total_s"] = marks[-1][1] - marks[0][1]
    return out


def analyze_keypoints(
    source: Path,
    *,
    out_dir: Path | None = None,
    capture_fps: float | None = None,
    config: AnalysisConfig = AnalysisConfig(),
    athlete_height_m: float | None = None,
) -> ClipAnalysis:
    """The analysis of a landmark file (OpenSim TRC, OpenPose JSON folder) instead of a video: the same
    stages after pose, pauses split into segments as for a clip, and the same outputs and report."""
    marks = [("start", time.perf_counter())]
    source = Path(source)
    check_athlete_height(athlete_height_m)  # before the output folder is made
    run_settings = {"keypoints": source, "capture_fps": capture_fps, "analysis": config.to_dict()}
    run_settings["athlete_height_m"] = athlete_height_m
    with (
        _output_folder(Path(out_dir) if out_dir else default_out_dir(source)) as out_dir,
        run_log(out_dir / RUN_LOG_NAME, command="analyze --keypoints", settings=run_settings),
    ):
        result = measure_keypoints(source, capture_fps=capture_fps, config=config, athlete_height_m=athlete_height_m)
        marks.append(("analysis_s", time.perf_counter()))
        paths, _, _ = write_all(result, out_dir)
        marks.append(("write_s", time.perf_counter()))
        log_timings(_timings(marks))
    return ClipAnalysis(
        info=None, result=result, out_dir=out_dir, paths=paths, pose_from_cache=False, timings_s=_timings(marks)
    )
