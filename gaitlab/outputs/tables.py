"""Write an analysis to its output folder, each file atomically.

``summary.json`` is written last of the analysis tables; the report and the annotated
video (``pipeline``) follow it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.analysis.analyze import AnalysisResult
from gaitlab.core import columns as col
from gaitlab.core.errors import OutputError
from gaitlab.core.landmarks import ANALYSIS_POINTS, SIDES, idx
from gaitlab.io.atomic import atomic_path, write_text_atomic
from gaitlab.outputs.opensim import write_mot, write_trc


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def summary_json_text(summary: dict) -> str:
    return json.dumps(_jsonable(summary), indent=2, allow_nan=False) + "\n"


def frames_table(result: AnalysisResult) -> pd.DataFrame:
    """Per-frame kinematics plus the analysis landmarks (oriented pixels)."""
    df = result.frames.copy()
    for side in SIDES:
        for point in ANALYSIS_POINTS:
            j = idx(side, point)
            df[col.landmark(side, point, "x_px")] = result.track.xy_px[:, j, 0]
            df[col.landmark(side, point, "y_px")] = result.track.xy_px[:, j, 1]
            df[col.landmark(side, point, "visibility")] = result.track.visibility[:, j]
    return df


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")


def write_outputs(result: AnalysisResult, out_dir: Path, *, frames: pd.DataFrame | None = None) -> dict[str, Path]:
    """contacts.csv, steps.csv, frames.csv, landmarks.trc and angles.mot (OpenSim), then summary.json.
    Returns the paths.

    ``frames``: the ``frames_table(result)`` when the caller built it already (the report uses it too).
    """
    names = ("contacts.csv", "steps.csv", "frames.csv", "landmarks.trc", "angles.mot", "summary.json")
    paths = {name: out_dir / name for name in names}
    frames = frames if frames is not None else frames_table(result)
    try:
        _write_csv(result.contacts, paths["contacts.csv"])
        _write_csv(result.steps, paths["steps.csv"])
        _write_csv(frames, paths["frames.csv"])
        m = result.summary.metres
        # metres once a fixed camera's scale is known; a panning camera's image is not the world's frame
        per_px = 1.0 / m.px_per_m if m is not None and m.measured and m.camera == "fixed" else None
        write_trc(paths["landmarks.trc"], result.track, scale_m_per_px=per_px)
        write_mot(paths["angles.mot"], frames)
        write_text_atomic(paths["summary.json"], summary_json_text(result.summary.to_dict()))
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write outputs ({exc.strerror or exc})") from None
    return paths
