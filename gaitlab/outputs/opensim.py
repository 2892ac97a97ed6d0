"""OpenSim exports: the landmarks as a ``.trc`` marker file and the joint angles as a ``.mot`` motion file.

Both are tab-separated text that OpenSim (and Sports2D/Pose2Sim, which write the same
layout) reads directly:

- ``.trc``: five header lines (``PathFileType 4``; the names of the rate/size fields; their
  values; ``Frame#``, ``Time`` and each marker name over its three columns; ``X1 Y1 Z1 X2 ...``),
  then one row per frame: its 1-based number, its time in seconds and X, Y, Z per marker,
  ``NaN`` where the marker was not seen (OpenSim trims a line's trailing tabs, so empty
  cells at the end of a row would shorten it). OpenSim's vertical axis is +Y, so image rows
  (which grow downwards) are negated; X is the image column as analysed (the athlete runs
  towards +X); Z is 0, a single camera gives no depth.
- ``.mot``: a free-form header closed by ``endheader`` (``nRows``, ``nColumns`` counting
  ``time``, ``inDegrees=yes``), a tab-separated column header starting with ``time``, then one
  row per frame whose angles are all defined. Frames without (no pose) are left out, since
  OpenSim's ``Storage`` reader (its GUI and tools) stops at the first ``NaN``; each row
  carries its own time, so the gaps stay where they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.core.columns import HIP_FLEXION_DEG, KNEE_FLEXION_DEG, TIME_S, TRUNK_LEAN_DEG, per_side
from gaitlab.core.landmarks import NAMES, SIDES
from gaitlab.core.types import PoseTrack
from gaitlab.io.atomic import write_text_atomic

#: Frames-table columns written to the ``.mot``: hip and knee flexion per side, and the trunk's lean.
MOT_ANGLE_COLUMNS: tuple[str, ...] = (
    *(per_side(HIP_FLEXION_DEG, side) for side in SIDES),
    *(per_side(KNEE_FLEXION_DEG, side) for side in SIDES),
    TRUNK_LEAN_DEG,
)

TRC_HEADER_FIELDS = (
    "DataRate",
    "CameraRate",
    "NumFrames",
    "NumMarkers",
    "Units",
    "OrigDataRate",
    "OrigDataStartFrame",
    "OrigNumFrames",
)


def _cell(value: float) -> str:
    return f"{value:.9g}" if np.isfinite(value) else "NaN"


def _time_cell(time_s: float) -> str:
    """Seconds to the nanosecond for clips of up to ~15 min: a 240 fps frame is 4.1666... ms."""
    return f"{time_s:.12g}"


def frame_rate_hz(time_s: np.ndarray) -> float:
    """Frames per second from the median frame interval (a clip's real capture rate); NaN below two frames."""
    if len(time_s) < 2:
        return float("nan")
    return float(1.0 / np.median(np.diff(time_s)))


def trc_text(
    track: PoseTrack,
    *,
    file_name: str = "landmarks.trc",
    scale_m_per_px: float | None = None,
    marker_names: Sequence[str] = NAMES,
) -> str:
    """The ``.trc`` text of ``track``'s landmarks.

    ``scale_m_per_px``: metres per pixel of a calibrated camera; the coordinates are then in
    metres (``Units m``). None writes image pixels (``Units px``), still with Y up.
    ``marker_names``: which of the 33 BlazePose landmarks to write, in this order.
    """
    scale = 1.0 if scale_m_per_px is None else float(scale_m_per_px)
    if not scale > 0:
        raise ValueError(f"scale_m_per_px must be > 0, got {scale_m_per_px}")
    units = "px" if scale_m_per_px is None else "m"
    columns = [NAMES.index(name) for name in marker_names]
    n_frames, n_markers = track.n_frames, len(columns)
    rate_hz = frame_rate_hz(track.time_s)
    values = (f"{rate_hz:.6g}", f"{rate_hz:.6g}", n_frames, n_markers, units, f"{rate_hz:.6g}", 1, n_frames)
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{file_name}",
        "\t".join(TRC_HEADER_FIELDS),
        "\t".join(map(str, values)),
        "Frame#\tTime\t" + "".join(f"{name}\t\t\t" for name in marker_names).rstrip("\t"),
        "\t\t" + "\t".join(f"X{k}\tY{k}\tZ{k}" for k in range(1, n_markers + 1)),
    ]
    x = track.xy_px[:, columns, 0] * scale
    y = -track.xy_px[:, columns, 1] * scale  # image rows grow downwards; OpenSim's +Y is up
    z = np.where(np.isfinite(x), 0.0, np.nan)
    xyz = np.stack([x, y, z], axis=2).reshape(n_frames, 3 * n_markers)
    for i in range(n_frames):
        cells = "\t".join(_cell(v) for v in xyz[i])
        lines.append(f"{i + 1}\t{_time_cell(track.time_s[i])}\t{cells}")
    return "\n".join(lines) + "\n"


def mot_text(frames: pd.DataFrame, *, name: str = "angles", columns: Sequence[str] = MOT_ANGLE_COLUMNS) -> str:
    """The ``.mot`` text of the frames table's ``time_s`` and angle ``columns`` (degrees), on the
    frames where every one of them is defined."""
    missing = [c for c in (TIME_S, *columns) if c not in frames.columns]
    if missing:
        raise KeyError(f"frames table lacks {', '.join(missing)}")
    data = frames[[TIME_S, *columns]].to_numpy(dtype=np.float64)
    data = data[np.isfinite(data).all(axis=1)]
    lines = [
        name,
        "version=1",
        f"nRows={len(data)}",
        f"nColumns={1 + len(columns)}",
        "inDegrees=yes",
        "endheader",
        "\t".join(("time", *columns)),
    ]
    lines.extend("\t".join([_time_cell(row[0]), *map(_cell, row[1:])]) for row in data)
    return "\n".join(lines) + "\n"


def write_trc(path: Path, track: PoseTrack, *, scale_m_per_px: float | None = None) -> Path:
    """Write ``track``'s landmarks to ``path`` atomically (see ``trc_text``)."""
    path = Path(path)
    write_text_atomic(path, trc_text(track, file_name=path.name, scale_m_per_px=scale_m_per_px))
    return path


def write_mot(path: Path, frames: pd.DataFrame) -> Path:
    """Write the frames table's joint angles to ``path`` atomically (see ``mot_text``)."""
    path = Path(path)
    write_text_atomic(path, mot_text(frames, name=path.stem))
    return path
