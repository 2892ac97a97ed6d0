"""Small athlete in a wide frame: run the landmarker on a crop that follows them.

MediaPipe's person detector sees the whole frame shrunk to 224 px; a 158 px tall
sprinter in a 1680 px wide frame becomes ~20 px and is missed or mislocated. We
find the athlete first (the full-frame pass's rough poses, or, if it found none,
the landmarker on overlapping tiles of a few frames), then feed the landmarker a
square crop around them, ``CROP_BODY_HEIGHTS`` body heights wide, resized to
``CROP_SIZE_PX``. The crop follows the athlete's own landmarks frame to frame
(falling back to the seed positions when lost) and landmarks are mapped back to
full-frame pixels, so everything downstream is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitlab.io.video import Frame
from gaitlab.pose.landmarker import PoseRows, PoseSettings, run_landmarker

CROP_SIZE_PX = 384
CROP_BODY_HEIGHTS = 2.2
MIN_CROP_PX = 160
# Landmarks trusted to steer the crop: mean visibility of the body above this.
FOLLOW_MIN_VISIBILITY = 0.5


@dataclass
class CropFrame(Frame):
    """A crop of a frame: full-frame px = (x0, y0) + crop px * scale."""

    x0: float = 0.0
    y0: float = 0.0
    scale: float = 1.0
    full_size: tuple[int, int] = (0, 0)  # (h, w)


def crop_square(rgb: np.ndarray, cx: float, cy: float, side_px: float) -> tuple[np.ndarray, float, float, float]:
    """A ``CROP_SIZE_PX`` square image of the region, padded black outside the frame; (img, x0, y0, scale)."""
    import cv2

    h, w = rgb.shape[:2]
    side = int(max(MIN_CROP_PX, min(side_px, 2 * max(h, w))))
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    pad = side
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    region = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    img = cv2.resize(region, (CROP_SIZE_PX, CROP_SIZE_PX), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(img), float(x0), float(y0), side / CROP_SIZE_PX


class CropRows(PoseRows):
    """``PoseRows`` whose landmarks are mapped from the crop back to full-frame pixels."""

    def image_to_px(self, frame: CropFrame) -> tuple[float, float, float, float]:
        side = CROP_SIZE_PX * frame.scale
        return frame.x0, frame.y0, side, side


def seed_path(index: np.ndarray, xy: np.ndarray, vis: np.ndarray) -> dict[int, tuple[float, float, float]]:
    """Per frame index: (centre x, centre y, body height px) from rough poses, interpolated over gaps."""
    ok = np.isfinite(xy[:, :, 0]).any(axis=1)
    if not ok.any():
        return {}
    box = []
    for t in np.flatnonzero(ok):
        p = xy[t][np.isfinite(xy[t, :, 0])]
        box.append(
            (
                (p[:, 0].min() + p[:, 0].max()) / 2,
                (p[:, 1].min() + p[:, 1].max()) / 2,
                max(20.0, p[:, 1].max() - p[:, 1].min()),
            )
        )
    box = np.asarray(box)
    t_ok = np.flatnonzero(ok)
    # a rough pose's size jitters: use the median height over the clip
    height = float(np.median(box[:, 2]))
    cx = np.interp(np.arange(len(index)), t_ok, box[:, 0])
    cy = np.interp(np.arange(len(index)), t_ok, box[:, 1])
    return {int(i): (float(x), float(y), height) for i, x, y in zip(index, cx, cy)}


def follow_frames(
    frames: Iterable[Frame], seeds: dict[int, tuple[float, float, float]], rows: CropRows
) -> Iterator[CropFrame]:
    """Crops that follow the athlete: their last good landmarks, else the seed position."""
    last = None  # (cx, cy, height) from our own landmarks
    for frame in frames:
        if rows.xy:
            xy, vis = rows.xy[-1], rows.vis[-1]
            good = np.isfinite(xy[:, 0]) & (vis > FOLLOW_MIN_VISIBILITY)
            if good.sum() >= 10:
                p = xy[good]
                last = (
                    (p[:, 0].min() + p[:, 0].max()) / 2,
                    (p[:, 1].min() + p[:, 1].max()) / 2,
                    max(20.0, p[:, 1].max() - p[:, 1].min()),
                )
            else:
                last = None
        seed = seeds.get(frame.index)
        if last is not None and seed is not None:
            cx, cy, height = last[0], last[1], max(last[2], 0.8 * seed[2])
        elif last is not None:
            cx, cy, height = last
        elif seed is not None:
            cx, cy, height = seed
        else:
            continue
        img, x0, y0, scale = crop_square(frame.rgb, cx, cy, CROP_BODY_HEIGHTS * height)
        yield CropFrame(
            index=frame.index,
            stored_time_s=frame.stored_time_s,
            time_s=frame.time_s,
            rgb=img,
            x0=x0,
            y0=y0,
            scale=scale,
            full_size=frame.rgb.shape[:2],
        )


def tile_seed(
    frames: Iterable[Frame],
    model_path: Path,
    settings: PoseSettings,
    *,
    tile_px: int = 400,
    max_frames: int = 8,
    stop_when_found: bool = True,
) -> dict[int, tuple[float, float, float]]:
    """Find the athlete on overlapping tiles of a few frames (IMAGE mode); seeds from the best hit."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    from gaitlab.pose.landmarker import quiet_native_stderr

    hits = []
    with quiet_native_stderr():
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            num_poses=1,
            min_pose_detection_confidence=settings.min_pose_detection_confidence,
        )
        with vision.PoseLandmarker.create_from_options(options) as lm:
            for n, frame in enumerate(frames):
                if n >= max_frames:
                    break
                h, w = frame.rgb.shape[:2]
                step = tile_px // 2
                for y0 in range(0, max(1, h - step), step):
                    for x0 in range(0, max(1, w - step), step):
                        tile = np.ascontiguousarray(frame.rgb[y0 : y0 + tile_px, x0 : x0 + tile_px])
                        res = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=tile))
                        if res.pose_landmarks:
                            p = res.pose_landmarks[0]
                            th, tw = tile.shape[:2]
                            xs = np.array([q.x * tw + x0 for q in p])
                            ys = np.array([q.y * th + y0 for q in p])
                            vis = float(np.mean([q.visibility or 0 for q in p]))
                            hits.append(
                                (
                                    vis,
                                    frame.index,
                                    (xs.min() + xs.max()) / 2,
                                    (ys.min() + ys.max()) / 2,
                                    ys.max() - ys.min(),
                                )
                            )
                if stop_when_found and any(hit[0] >= FOLLOW_MIN_VISIBILITY for hit in hits):
                    break
    if not hits:
        return {}
    # the earliest clear sighting lets the crop follow from there on; else the clearest one
    clear = [h for h in hits if h[0] >= FOLLOW_MIN_VISIBILITY]
    vis, index, cx, cy, height = min(clear, key=lambda h: h[1]) if clear else max(hits)
    return {index: (cx, cy, max(20.0, height))}


def run_crop_follow(
    frames: Iterable[Frame],
    seeds: dict[int, tuple[float, float, float]],
    model_path: Path,
    settings: PoseSettings,
    *,
    label: str,
    total: int,
    show_progress: bool,
) -> CropRows:
    rows = CropRows()
    single = PoseSettings(**{**settings.to_dict(), "num_poses": 1})
    return run_landmarker(
        follow_frames(frames, seeds, rows),
        model_path,
        single,
        label=label,
        total=total,
        show_progress=show_progress,
        rows=rows,
    )
