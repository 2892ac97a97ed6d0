"""What the annotated video shows, read from a finished analysis: ``OverlayData`` per frame.

The analysis tables hold landmarks in *oriented* pixels (x mirrored when the athlete runs
right-to-left, so +x is forward); :func:`overlay_from_tables` turns them back into the pixels of
the upright frame. Nothing here computes a measure.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import SIDES
from gaitlab.outputs.draw import FAR_RGB, NEAR_RGB

logger = logging.getLogger(__name__)

POINTS = ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")


@dataclass
class OverlayData:
    """What the overlay shows, per analysis frame, in upright-frame pixels."""

    frame_size_px: tuple[int, int]
    frame_index: np.ndarray  # (T,) stored frame index of each row
    time_s: np.ndarray  # (T,) real capture time
    detected: np.ndarray  # (T,) a pose was found in this frame
    points: dict[str, np.ndarray]  # "left_hip" -> (T, 2), NaN where missing
    hip_flexion_deg: dict[str, np.ndarray]
    hip_flexion_velocity_deg_s: dict[str, np.ndarray]
    contacts: pd.DataFrame  # side, touchdown_s, toe_off_s, contact_time_s
    swing_peaks: pd.DataFrame  # side, peak_swing_hip_flexion_velocity_s, peak_swing_hip_flexion_velocity_deg_s
    leg_of_side: dict[str, str]
    flags: list[dict] = field(default_factory=list)
    mirrored: bool = False  # the athlete runs towards -x in the image
    capture_fps: float = float("nan")  # the analysis's capture rate (NaN: unknown)
    slowmo_factor: float = float("nan")  # the analysis's stored time / real time (NaN: unknown)

    def __post_init__(self) -> None:
        frames = np.asarray(self.frame_index, dtype=np.int64)
        self._frame_order = np.argsort(frames, kind="stable")
        self._sorted_frames = frames[self._frame_order]
        # numpy copies for per-frame look-ups (pandas filtering per frame would cost ~1 ms each)
        c = self.contacts.sort_values(col.TOUCHDOWN_S, ignore_index=True)
        self.contacts = c
        self._c_side = c[col.SIDE].to_numpy(str) if len(c) else np.zeros(0, str)
        self._c_td = c[col.TOUCHDOWN_S].to_numpy(np.float64)
        self._c_to = c[col.TOE_OFF_S].to_numpy(np.float64)
        self._c_ct = c[col.CONTACT_TIME_S].to_numpy(np.float64)
        self._p_t = self.swing_peaks[col.PEAK_SWING_HIP_FLEXION_VELOCITY_S].to_numpy(np.float64)
        self._p_side = self.swing_peaks[col.SIDE].to_numpy(str) if len(self.swing_peaks) else np.zeros(0, str)

    def row(self, frame_index: int) -> int | None:
        """Row of a stored frame in the tables, or None when the analysis has no row for it.

        Repeated frames (dropped before pose, see dedupe.py) show the same image as the
        last analyzed frame before them, so they take that frame's row. Frames before the
        first or after the last analyzed frame lie outside the analysis: None.
        """
        frame_index = int(frame_index)
        k = int(np.searchsorted(self._sorted_frames, frame_index, side="right")) - 1
        if k < 0 or frame_index > self._sorted_frames[-1]:
            return None
        return int(self._frame_order[k])

    def color(self, side: str) -> tuple[int, int, int]:
        return FAR_RGB if self.leg_of_side.get(side) == "far" else NEAR_RGB

    def contact_at(self, side: str, time_s: float) -> int | None:
        """Row in ``contacts`` of the contact of ``side`` containing ``time_s`` (touchdown inclusive)."""
        hit = np.flatnonzero((self._c_side == side) & (self._c_td <= time_s) & (time_s < self._c_to))
        return int(hit[0]) if hit.size else None

    def last_contact_before(self, time_s: float, side: str | None = None) -> int | None:
        """Row in ``contacts`` of the latest contact (of ``side``, or of either foot) that ended at or before
        ``time_s``."""
        hit = np.flatnonzero((self._c_to <= time_s) & ((self._c_side == side) if side else True))
        return int(hit[np.argmax(self._c_to[hit])]) if hit.size else None

    def last_peak_before(self, time_s: float, side: str | None = None) -> int | None:
        """Row in ``swing_peaks`` of the latest swing velocity peak (of ``side``, or of either leg) at or
        before ``time_s``."""
        k = int(np.searchsorted(self._p_t, time_s, side="right"))
        if side is not None:
            hit = np.flatnonzero(self._p_side[:k] == side)
            return int(hit[-1]) if hit.size else None
        return k - 1 if k > 0 else None

    def contact_time_s(self, k: int) -> float:
        """Contact time of row ``k`` of ``contacts``."""
        return float(self._c_ct[k])


def overlay_from_tables(
    frames: pd.DataFrame,
    contacts: pd.DataFrame,
    steps: pd.DataFrame,
    summary: dict,
    *,
    frame_size_px: tuple[int, int] | None = None,
) -> OverlayData:
    """Build the overlay from the analysis tables (as written to frames.csv etc.).

    ``frames`` has the ``<side>_<point>_x_px`` columns in oriented pixels; x is
    un-mirrored here when the summary says the athlete ran right-to-left.
    """
    size = tuple(frame_size_px or summary.get("frame_size_px") or ())
    if len(size) != 2:
        raise ValueError("overlay_from_tables: frame size unknown (summary has no frame_size_px)")
    width = int(size[0])
    mirrored = str(summary.get("running_direction_in_image", "+x")).startswith("-x")
    points = {}
    for side in SIDES:
        for point in POINTS:
            name = f"{side}_{point}"
            if col.landmark(side, point, "x_px") not in frames:
                points[name] = np.full((len(frames), 2), np.nan)
                continue
            x = frames[col.landmark(side, point, "x_px")].to_numpy(np.float64)
            y = frames[col.landmark(side, point, "y_px")].to_numpy(np.float64)
            # inverse of clean.orient_running_direction
            points[name] = np.column_stack([(width - 1) - x if mirrored else x, y])
    detected = frames[col.POSE_DETECTED].astype(str).str.lower().isin(["true", "1", "1.0"]).to_numpy()

    def series(name: str) -> np.ndarray:
        return frames[name].to_numpy(np.float64) if name in frames else np.full(len(frames), np.nan)

    peak_cols = ["side", col.PEAK_SWING_HIP_FLEXION_VELOCITY_S, col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S]
    peaks = (
        steps[peak_cols].dropna() if len(steps) and set(peak_cols) <= set(steps) else pd.DataFrame(columns=peak_cols)
    )
    contact_cols = ["side", col.TOUCHDOWN_S, col.TOE_OFF_S, col.CONTACT_TIME_S]
    return OverlayData(
        frame_size_px=(int(size[0]), int(size[1])),
        frame_index=frames[col.FRAME_INDEX].to_numpy(np.int64),
        time_s=frames[col.TIME_S].to_numpy(np.float64),
        detected=detected,
        points=points,
        hip_flexion_deg={s: series(col.per_side(col.HIP_FLEXION_DEG, s)) for s in SIDES},
        hip_flexion_velocity_deg_s={s: series(col.per_side(col.HIP_FLEXION_VELOCITY_DEG_S, s)) for s in SIDES},
        contacts=contacts[contact_cols].reset_index(drop=True) if len(contacts) else pd.DataFrame(columns=contact_cols),
        swing_peaks=peaks.sort_values(col.PEAK_SWING_HIP_FLEXION_VELOCITY_S, ignore_index=True),
        leg_of_side=dict(summary.get("leg_of_side") or {"left": "near", "right": "far"}),
        flags=list(summary.get("flags") or []),
        mirrored=mirrored,
        capture_fps=_positive_or_nan(summary.get("capture_fps")),
        slowmo_factor=_positive_or_nan(summary.get("slowmo_factor")),
    )


def _positive_or_nan(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return value if np.isfinite(value) and value > 0 else float("nan")


def load_overlay(out_dir: Path) -> OverlayData:
    """The overlay of a finished analysis, from its output folder."""
    out_dir = Path(out_dir)
    names = ("summary.json", "frames.csv", "contacts.csv", "steps.csv")
    missing = [n for n in names if not (out_dir / n).is_file()]
    if missing:
        raise BadInputError(
            f"{out_dir}: no finished analysis here (missing {', '.join(missing)}); run 'gaitlab analyze' first"
        )
    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
        frames = pd.read_csv(out_dir / "frames.csv")
        tables = []
        for name in ("contacts.csv", "steps.csv"):
            try:
                tables.append(pd.read_csv(out_dir / name))
            except pd.errors.EmptyDataError:
                tables.append(pd.DataFrame())
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise BadInputError(f"{out_dir}: cannot read the analysis outputs ({exc})") from None
    return overlay_from_tables(frames, tables[0], tables[1], summary)


def warn_other_capture_fps(overlay: OverlayData, capture_fps: float | None, clip: str) -> None:
    """A capture rate given to ``gaitlab annotate`` other than the analysis's changes the time shown and
    the slow-motion factor, not the measures drawn: say so."""
    if capture_fps is None or not np.isfinite(overlay.capture_fps):
        return
    if abs(capture_fps - overlay.capture_fps) > 1e-3 * overlay.capture_fps:
        logger.warning(
            "%s: --capture-fps %.4g differs from the %.4g fps the analysis used: the time shown counts "
            "%.4g fps, the measures drawn (contact times, velocities) are the analysis's; run "
            "'gaitlab analyze --capture-fps %.4g' for measures at that rate",
            clip,
            capture_fps,
            overlay.capture_fps,
            capture_fps,
            capture_fps,
        )
