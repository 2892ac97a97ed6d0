"""The only place that chains stages: ``analyze_clip`` (video -> outputs)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitlab.analysis import hazards
from gaitlab.analysis.analyze import AnalysisResult, analyze_track
from gaitlab.analysis.uncertainty import status_label
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError
from gaitlab.core.types import PoseTrack, VideoInfo
from gaitlab.io.atomic import prepare_out_dir
from gaitlab.io.cache import load_pose, pose_cache_key, save_pose
from gaitlab.io.video import file_sha256, probe
from gaitlab.outputs.annotate_video import write_annotated_video
from gaitlab.outputs.overlay import load_overlay, overlay_from_tables
from gaitlab.outputs.report import write_report
from gaitlab.outputs.tables import frames_table, write_outputs
from gaitlab.pose.extract import EXTRACTION_VERSION, extract_clip_pose
from gaitlab.pose.landmarker import PoseSettings


@dataclass
class ClipAnalysis:
    info: VideoInfo
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
    from gaitlab.pose.models.provision import ensure_model, model_sha256

    model_path = model_path or ensure_model(settings.model)
    clip_sha256 = clip_sha256 or file_sha256(info.path)
    key = pose_cache_key(
        clip_sha256=clip_sha256,
        model_sha256=model_sha256(model_path),
        settings={
            **settings.to_dict(),
            "capture_fps": info.capture_fps,
            "rotation_deg": info.rotation_deg,
            "extraction": EXTRACTION_VERSION,
        },
    )
    if use_cache and (track := load_pose(key)) is not None:
        return track, True
    track = extract_clip_pose(info, model_path, settings, show_progress=show_progress, workers=workers)
    if use_cache:
        save_pose(key, track)
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
    analysed = int(max(overlay.frame_index)) + 1 if len(overlay.frame_index) else 0  # repeats are not rows
    if analysed and abs(analysed - info.n_frames) > max(2, 0.02 * info.n_frames):
        raise BadInputError(
            f"{clip}: has {info.n_frames} frames but the analysis in {out_dir} covers "
            f"{analysed}: not the same clip? Run 'gaitlab analyze' on it"
        )
    return write_annotated_video(
        info, overlay, out_dir / "annotated.mp4", slowmo_factor=slowmo_factor, crop=crop, show_progress=show_progress
    )


def capture_notes(info: VideoInfo, source: str = "") -> list[str]:
    notes = []
    if (source or info.capture_fps_source) == "assumed":
        notes.append(
            f"Capture rate unknown (no phone metadata, no --capture-fps): assumed real-time "
            f"{info.stored_fps:.3g} fps. For a slow-motion clip pass --capture-fps, or every time "
            f"is wrong by the slow-motion factor."
        )
    return notes


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _seen_s(track: PoseTrack) -> float:
    """Real time with the athlete in view: the frame intervals that start on a frame with a pose."""
    if track.n_frames < 2:
        return 0.0
    dt = np.diff(track.time_s)
    return float(np.sum(dt[track.detected[:-1]]))


def _analyze_with_hazards(
    info: VideoInfo, track: PoseTrack, *, config: AnalysisConfig, clip: Path, pose_model: str | None = None
) -> AnalysisResult:
    """Real time base, segments, analysis; redone once if the step rate shows a k-times slowed clip.

    ``pose_model`` selects the measures' known errors (``analyze_track``).
    """
    tb = hazards.time_base(info, track.meta)

    def run(tb: hazards.TimeBase) -> tuple[AnalysisResult, int]:
        timed = hazards.retime(track, info, tb)
        starts = hazards.segment_starts_s(timed)
        timed = hazards.split_segments(timed, starts, max_gap_fill_s=config.clean.max_gap_fill_s)
        notes = capture_notes(info, tb.source)
        bad = track.meta.get("bad_packets", 0)
        if bad:
            notes.append(f"{bad} damaged packet(s) could not be decoded and were skipped.")
        res = analyze_track(
            timed,
            config=config,
            stored_fps=info.stored_fps,
            capture_fps=tb.capture_fps,
            clip=str(clip),
            notes=notes,
            pose_model=pose_model,
        )
        return res, len(starts) + 1

    result, segments = run(tb)
    factor, step_hz = hazards.motion_slowmo_factor(result.summary, tb, result.steps, result.frames)
    if factor is not None:
        tb = hazards.with_slowmo(tb, factor)
        result, segments = run(tb)
        step_hz = None
    elif result.summary.get("status") != "ok":
        step_hz = None
    # else: the median step rate the slow-motion decision used, so the note and the decision agree
    if result.summary["status"] == "ok":
        status, why = hazards.running_rhythm(
            result.steps, result.contacts, seen_s=_seen_s(result.track), frame_s=1.0 / tb.capture_fps
        )
        if status != "ok":
            result.summary.update(
                status=status,
                status_reason=why,
                flags=[],
                flags_withheld=[],
                confidence="low",
                confidence_reason=f"status {status}",
            )
            result.summary["status_label"] = status_label(result.summary)
            result.summary["quality"].append(f"Status {status}: {why}.")
            step_hz = None
    extra = hazards.hazard_notes(info, track, tb, step_hz=step_hz, segments=segments)
    result.summary["quality"].extend(extra)
    result.summary.update(hazards.summary_fields(info, track, tb, segments))
    return result


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
) -> ClipAnalysis:
    """Probe, pose (or cache), analyse and write outputs (tables, summary, report; annotated video if asked).

    ``workers``: processes for this clip's pose pass (None = all cores). A batch that
    already runs one clip per core passes ``workers=1`` so the cores are not oversubscribed.
    ``clip_sha256``: the clip's hash if the caller computed it (keys the pose cache; else hashed here).
    """
    t0 = time.perf_counter()
    clip = Path(clip)
    info = probe(clip, capture_fps=capture_fps)
    out_dir = Path(out_dir) if out_dir else default_out_dir(clip)
    created = not out_dir.exists()
    out_dir = prepare_out_dir(out_dir)
    try:
        t_probe = time.perf_counter()
        track, cached = load_or_extract_pose(
            info,
            settings,
            model_path=model_path,
            show_progress=show_progress,
            use_cache=use_cache,
            workers=workers,
            clip_sha256=clip_sha256,
        )
        t_pose = time.perf_counter()
        result = _analyze_with_hazards(info, track, config=config, clip=clip, pose_model=settings.model)
        result.summary.update(
            {
                "rotation_deg": info.rotation_deg,
                "frame_size_px": list(info.upright_size_px),
                "pose_model": settings.model,
            }
        )
        t_analysis = time.perf_counter()
        frames = frames_table(result)
        paths = write_outputs(result, out_dir, frames=frames)
        t_write = time.perf_counter()
        paths.update(write_report(result.summary, frames, result.contacts, result.steps, out_dir))
        t_report = time.perf_counter()
        if annotate:
            overlay = overlay_from_tables(frames, result.contacts, result.steps, result.summary)
            paths["annotated.mp4"] = write_annotated_video(
                info,
                overlay,
                out_dir / "annotated.mp4",
                slowmo_factor=slowmo_factor,
                crop=crop,
                show_progress=show_progress,
            ).path
    except BaseException:
        if created:  # leave nothing behind: a folder we made and could not fill goes again
            _remove_if_empty(out_dir)
        raise
    t_end = time.perf_counter()
    timings = {
        "probe_s": t_probe - t0,
        "pose_s": t_pose - t_probe,
        "analysis_s": t_analysis - t_pose,
        "write_s": t_write - t_analysis,
        "report_s": t_report - t_write,
        "annotate_s": t_end - t_report,
        "total_s": t_end - t0,
    }
    return ClipAnalysis(
        info=info, result=result, out_dir=out_dir, paths=paths, pose_from_cache=cached, timings_s=timings
    )
