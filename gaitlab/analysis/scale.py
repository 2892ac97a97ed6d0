"""Pixels per metre at the athlete's distance, for speed and step length (docs/metrics.md, "Scale").

- From the athlete's height: the shoulder -> hip -> knee path (trunk, mid-hip to mid-shoulder, plus the
  thigh, the mean of both legs) is ``SCALE_FRACTION_OF_HEIGHT`` of standing height (Winter 2009, after
  Drillis & Contini 1966: shoulder 0.818 H, knee 0.285 H). Its median over the frames in pixels, over that
  fraction of the athlete's height, is the clip's pixels per metre.
- From a reference length (``[metres]`` in the settings): a known length on the ground in the runner's
  line, its two ends marked in the image; it is exact but for the marking, so it replaces the height's
  scale, which is then only a check on both.
- The scale must hold over the clip: if the path's median length changes by more than
  ``MAX_SIZE_CHANGE`` between parts of the clip, the camera zooms or the athlete runs towards or away
  from it, and no metres are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from gaitlab.core.config import MetresConfig
from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import SIDES
from gaitlab.core.types import PoseTrack

# Standing height -> shoulder -> hip -> knee path: shoulder height 0.818 H minus knee height 0.285 H
# (Winter, Biomechanics and Motor Control of Human Movement, 2009, fig. 4.1, after Drillis & Contini 1966).
SCALE_FRACTION_OF_HEIGHT = 0.533
SCALE_SEGMENT = "shoulder -> hip -> knee (trunk + thigh) = 0.533 x standing height (Winter 2009)"
# Error of the scale: individual body proportions (about +-2 %) and where the pose model puts the joints;
# the worst scale error measured on the accuracy clips (docs/accuracy.md: -6.1 %, full model), rounded up.
SCALE_ERROR_PCT = 6.5
# The scale path's median in any part of the clip may differ from the whole clip's by this share at most
# (side views in the accuracy table and the real side-view clips: <= 5 %; zooming or oblique clips: 16-58 %).
MAX_SIZE_CHANGE = 0.10
SIZE_WINDOW_S = 0.5  # parts of the clip compared for the size change (2-8 of them)
HEIGHT_RANGE_M = (1.0, 2.5)  # an athlete's standing height
# How far a hand-marked end of a reference can be off, in pixels (a phone frame, marked on a still).
MARK_ERROR_PX = 2.0
# The height's scale and a reference's disagreeing by more than this: one of them is wrong (a mark off the
# runner's line, a wrong height); 2.5 x the height scale's known error.
MAX_HEIGHT_VS_REFERENCE_PCT = 15.0
# Where a scale comes from (``Scale.source``, summary.json ``metres.scale_source``).
FROM_HEIGHT = "athlete height"
FROM_REFERENCE = "reference length"


@dataclass(frozen=True)
class Scale:
    """Pixels per metre at the athlete's distance: ``source`` (``athlete height`` / ``reference length``),
    ``segment`` (what was measured), ``error_pct`` (its known error); with both a height and a reference,
    ``height_vs_reference_pct``: the height's scale against the reference's, % (else None)."""

    px_per_m: float
    source: str
    segment: str
    error_pct: float
    height_vs_reference_pct: float | None = None

    @property
    def from_reference(self) -> bool:
        return self.source == FROM_REFERENCE


def check_athlete_height(athlete_height_m: float | None) -> None:
    """A standing height in metres (``HEIGHT_RANGE_M``) or None; else ``BadInputError`` (centimetres, feet...)."""
    lo, hi = HEIGHT_RANGE_M
    if athlete_height_m is not None and not lo <= athlete_height_m <= hi:
        raise BadInputError(
            f"athlete height {athlete_height_m:g} m: give the standing height in metres ({lo:g}-{hi:g}), e.g. 1.80"
        )


def mid_point(track: PoseTrack, point: str) -> np.ndarray:
    """(T, 2) mid-point of the left and right ``point`` (e.g. ``hip``: the pelvis)."""
    return (track.point(f"left_{point}") + track.point(f"right_{point}")) / 2.0


def scale_path_px(track: PoseTrack) -> np.ndarray:
    """(T,) shoulder -> hip -> knee path length per frame: trunk (mid-points) + thigh (mean of both legs)."""
    trunk = np.linalg.norm(mid_point(track, "shoulder") - mid_point(track, "hip"), axis=1)
    thighs = np.stack([np.linalg.norm(track.point(f"{s}_hip") - track.point(f"{s}_knee"), axis=1) for s in SIDES])
    ok = np.isfinite(thighs)
    thigh = np.where(ok.any(axis=0), np.where(ok, thighs, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1), np.nan)
    return trunk + thigh


def size_change(track: PoseTrack, path_px: np.ndarray) -> float:
    """Largest difference between the path's medians over parts of the clip, as a share of its median."""
    t = track.time_s
    ok = np.isfinite(path_px)
    if ok.sum() < 2:
        return math.nan
    span = float(t[ok][-1] - t[ok][0])
    n = int(np.clip(span // SIZE_WINDOW_S, 2, 8))
    edges = np.linspace(t[ok][0], t[ok][-1], n + 1)
    parts = [path_px[ok & (t >= a) & (t <= b)] for a, b in pairwise(edges)]
    medians = [float(np.median(p)) for p in parts if p.size]
    return (max(medians) - min(medians)) / float(np.median(path_px[ok]))


def find_scale(path_px: np.ndarray, athlete_height_m: float | None, reference: MetresConfig) -> Scale | None:
    """The clip's scale from ``reference`` when it has one, else from the height and the scale path's median
    (``scale_path_px``; NaN frames left out); None when neither is given."""
    ok = np.isfinite(path_px)
    by_height = None
    if athlete_height_m is not None and ok.any():
        by_height = float(np.median(path_px[ok])) / (SCALE_FRACTION_OF_HEIGHT * athlete_height_m)
    if reference.reference_m > 0:
        x1, y1, x2, y2 = reference.reference_px
        length_px = math.hypot(x2 - x1, y2 - y1)
        px_per_m = length_px / reference.reference_m
        return Scale(
            px_per_m=px_per_m,
            source=FROM_REFERENCE,
            segment=f"reference: {reference.reference_m:g} m = {length_px:.0f} px, ({x1:g}, {y1:g}) to "
            f"({x2:g}, {y2:g})",
            error_pct=100.0 * 2 * MARK_ERROR_PX / length_px,
            height_vs_reference_pct=None if by_height is None else 100.0 * (by_height / px_per_m - 1.0),
        )
    if by_height is None:
        return None
    return Scale(by_height, FROM_HEIGHT, SCALE_SEGMENT, SCALE_ERROR_PCT)
