"""Pose extraction for real phone footage: pre-scan, drop repeats, pick one athlete.

1. ``scan`` the clip (cheap thumbnails): repeated frames, camera motion, cuts, and
2. run the landmarker (``num_poses`` people), in the same decode and over
   ``workers`` processes (``parallel_pose``); repeated frames' rows are dropped.
3. ``person`` links the poses over time and keeps one athlete (largest and most
   consistently tracked, or the ``athlete_hint``).
4. If that athlete is small in the frame or poorly seen, ``roi`` runs the
   landmarker again on a crop that follows them, and its result is used when
   it sees the athlete on more frames.
The scan, timing, camera and person decisions travel in ``PoseTrack.meta`` so a
cached track needs no re-scan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitlab.core.types import PoseTrack, VideoInfo
from gaitlab.io.video import damage_spans, iter_frames
from gaitlab.pose.camera import camera_motion
from gaitlab.pose.dedupe import frame_timing
from gaitlab.pose.landmarker import PoseRows, PoseSettings
from gaitlab.pose.parallel import scan_and_pose
from gaitlab.pose.person import CandidateRows, choose_target, link_tracklets, parse_hint, target_rows
from gaitlab.pose.roi import run_crop_follow, seed_path, tile_seed

EXTRACTION_VERSION = "tracked-8"
# Crop-follow when the athlete is shorter than this share of the frame height, or well seen on fewer frames.
SMALL_ATHLETE_HEIGHT_FRAC = 0.3
MIN_GOOD_FRAC = 0.85
GOOD_VISIBILITY = 0.5


def _good_frac(rows: PoseRows) -> float:
    """Share of frames with a pose whose mean landmark visibility is good."""
    if not rows.vis:
        return 0.0
    return float(np.mean([float(np.mean(v)) >= GOOD_VISIBILITY for v in rows.vis]))


def _median_height_px(rows: PoseRows) -> float:
    heights = [np.nanmax(xy[:, 1]) - np.nanmin(xy[:, 1]) for xy in rows.xy if np.isfinite(xy[:, 1]).any()]
    return float(np.median(heights)) if heights else 0.0


def _only(rows: CandidateRows, keep: set[int]) -> CandidateRows:
    out = CandidateRows()
    for poses, frame in zip(rows.poses, rows.frames):
        if frame[0] in keep:
            out.poses.append(poses)
            out.frames.append(frame)
    return out


def extract_clip_pose(
    info: VideoInfo, model_path: Path, settings: PoseSettings, *, show_progress: bool = True, workers: int | None = None
) -> PoseTrack:
    """The target athlete's pose track over the clip's new (non-repeated) frames.

    ``workers``: processes for the main landmarker pass (None: all cores); the
    result does not depend on it beyond landmark noise. Damaged video data goes
    in ``meta``: ``damaged_frames`` (decoded-frame indices the decoder flagged;
    not posed, so rows without a pose), ``damaged_frame_count`` and
    ``damaged_spans`` (inclusive index ranges whose pictures may carry the
    damage, ``video.damage_spans``).
    """
    hint = parse_hint(settings.athlete_hint)
    done = scan_and_pose(info, model_path, settings, workers=workers, show_progress=show_progress)
    scan, stats = done.scan, done.stats
    timing = frame_timing(scan)
    keep = set(timing.keep) if settings.drop_repeated_frames else set(range(scan.n_frames))
    keep_sorted = np.array(sorted(keep), dtype=np.int64)
    posable = keep - set(stats.damaged)  # damaged frames keep an empty row in the crop pass too
    camera = camera_motion(scan, keep_sorted)
    rows = _only(done.rows, keep)
    tracklets = link_tracklets(rows.poses)
    chain, person = choose_target(rows, tracklets, hint=hint)
    target = target_rows(rows, tracklets, chain)
    frame_h = info.upright_size_px[1]
    height = _median_height_px(target)
    good = _good_frac(target)
    roi = {"used": False, "athlete_height_px": height, "full_frame_good_frac": good}
    if height < SMALL_ATHLETE_HEIGHT_FRAC * frame_h or good < MIN_GOOD_FRAC:
        index = np.asarray(target.index, np.int64)
        # rough full-frame poses steer the crop only if some of them are clear; else search tiles
        seeds = seed_path(index, np.stack(target.xy), np.stack(target.vis)) if len(index) and good >= 0.2 else {}
        roi["seed"] = "full_frame_poses"
        if not seeds:
            found = tile_seed(
                (f for f in iter_frames(info) if f.index in posable and f.index % 5 == 0), model_path, settings
            )
            seeds = {i: next(iter(found.values())) for i in keep_sorted.tolist()} if found else {}
            roi["seed"] = "tiles" if found else "none"
        if seeds:
            crop = run_crop_follow(
                (f for f in iter_frames(info) if f.index in posable),
                seeds,
                model_path,
                settings,
                label=f"pose (crop) {info.path.name}",
                total=len(posable),
                show_progress=show_progress,
            )
            merged = _align(crop, target)
            roi["crop_good_frac"] = _good_frac(merged)
            if roi["crop_good_frac"] > good:
                target, roi["used"] = merged, True
                roi["athlete_height_px"] = _median_height_px(merged)
    person["roi"] = roi
    meta = {
        "decoded_frames": stats.frames,
        "bad_packets": stats.bad_packets,
        "damaged_frames": stats.damaged,
        "damaged_frame_count": len(stats.damaged),
        "damaged_spans": [
            [a, b] for a, b in damage_spans(stats.damaged, stats.anchors, stats.keyframes, stats.frames - 1)
        ],
        "settings": settings.to_dict(),
        "extraction": EXTRACTION_VERSION,
        "timing": timing.to_dict() if settings.drop_repeated_frames else None,
        "camera": camera.to_dict(),
        "person": person,
        "tracking": done.tracking,
    }
    return target.to_track(info.upright_size_px, meta)


def _align(crop: PoseRows, like: PoseRows) -> PoseRows:
    """Rows of ``crop`` on the frames of ``like`` (NaN where the crop pass skipped a frame)."""
    by_index = {i: k for k, i in enumerate(crop.index)}
    out = PoseRows()
    for k, i in enumerate(like.index):
        j = by_index.get(i)
        if j is None:
            out.xy.append(np.full_like(like.xy[k], np.nan))
            out.z.append(np.full_like(like.z[k], np.nan))
            out.vis.append(np.zeros_like(like.vis[k]))
        else:
            out.xy.append(crop.xy[j])
            out.z.append(crop.z[j])
            out.vis.append(crop.vis[j])
        out.times.append(like.times[k])
        out.index.append(i)
    return out
