"""The golden analysis: a stored landmark track of the sample clip and the tables the analysis makes of it.

``tests/data/sample_track.npz`` is the pose stage's output for
``sample_videos/sprint_240fps_capture.mp4`` (default ``PoseSettings``), so the
analysis can be checked without MediaPipe. ``tests/data/golden/*.csv`` hold what
``analyze_track`` makes of it: the three tables ``gaitlab.outputs.tables`` writes
(contacts, steps, frames) and the summary's per-leg statistics. Both are written
by ``scripts/make_golden.py``; ``tests/test_golden.py`` compares.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.analysis.analyze import AnalysisResult, analyze_track
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.types import PoseTrack
from gaitlab.outputs.tables import frames_table

DATA = Path(__file__).resolve().parent / "data"
TRACK_NPZ = DATA / "sample_track.npz"
GOLDEN_DIR = DATA / "golden"
TABLES = ("contacts", "steps", "frames", "summary_legs")
# Golden floats keep 12 significant digits: a rounding of <= 5e-13 relative, far inside the test's 1e-9.
FLOAT_FORMAT = "%.12g"
RTOL = ATOL = 1e-9


def save_track(track: PoseTrack, path: Path, *, analysis_args: dict) -> None:
    """The track as a compressed .npz; ``analysis_args``: what ``analyze_track`` needs besides the track.

    MediaPipe's landmarks are float32 already (stored as they are); times stay float64,
    frame indices become int32. ``track.meta`` (the extraction's timing and scan notes) is not
    used by the analysis and is left out, except the pose settings, for the record.
    """
    meta = {
        "frame_size_px": list(track.frame_size_px),
        "source": track.source,
        "pose_settings": track.meta.get("settings"),
        "extraction": track.meta.get("extraction"),
        "analysis_args": analysis_args,
    }
    assert np.array_equal(track.frame_index.astype(np.int32), track.frame_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        xy_px=track.xy_px.astype(np.float32),
        z=track.z.astype(np.float32),
        visibility=track.visibility.astype(np.float32),
        time_s=track.time_s.astype(np.float64),
        frame_index=track.frame_index.astype(np.int32),
        meta=np.array(json.dumps(meta)),
    )


def load_track(path: Path = TRACK_NPZ) -> tuple[PoseTrack, dict]:
    """(track, analysis_args) as ``save_track`` stored them."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        track = PoseTrack(
            xy_px=data["xy_px"],
            z=data["z"],
            visibility=data["visibility"],
            time_s=data["time_s"],
            frame_index=data["frame_index"].astype(np.int64),
            frame_size_px=tuple(meta["frame_size_px"]),
            source=meta["source"],
        )
    return track, meta["analysis_args"]


def analyze(track: PoseTrack, analysis_args: dict, config: AnalysisConfig | None = None) -> AnalysisResult:
    return analyze_track(track, config=config or AnalysisConfig(), **analysis_args)


def summary_legs_table(summary: dict) -> pd.DataFrame:
    """The summary's numeric per-leg statistics: a row per (leg, measure), a column per statistic."""
    rows = []
    legs = {**summary["legs"], "both": summary["both_legs"]}
    for leg, measures in legs.items():
        for measure, stats in measures.items():
            rows.append(
                {
                    "leg": leg,
                    "measure": measure,
                    **{k: v for k, v in stats.items() if v is None or isinstance(v, (int, float, np.number))},
                }
            )
    return pd.DataFrame(rows)


def tables(result: AnalysisResult) -> dict[str, pd.DataFrame]:
    """Each golden table as ``gaitlab.outputs.tables`` builds it (frames: ``frames_table``)."""
    return {
        "contacts": result.contacts,
        "steps": result.steps,
        "frames": frames_table(result),
        "summary_legs": summary_legs_table(result.summary.to_dict()),
    }


def csv_text(df: pd.DataFrame, *, float_format: str | None = FLOAT_FORMAT) -> str:
    """float32 columns (landmark pixels, visibility) are written as the float64 of their value."""
    wide = {c: np.float64 for c, t in df.dtypes.items() if t == np.float32}
    return df.astype(wide).to_csv(index=False, float_format=float_format, lineterminator="\n")


def read_csv_text(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def write_golden(result: AnalysisResult, folder: Path = GOLDEN_DIR) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in tables(result).items():
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(csv_text(df))
    return paths


def read_golden(folder: Path = GOLDEN_DIR) -> dict[str, pd.DataFrame]:
    return {name: read_csv_text((folder / f"{name}.csv").read_text()) for name in TABLES}


def differences(golden: dict[str, pd.DataFrame], result: AnalysisResult) -> list[str]:
    """What differs between the golden tables and ``result``'s, one line per table column; [] if nothing.

    The new tables go through the same CSV text at full precision, so both sides have the same types:
    floats are compared with ``RTOL``/``ATOL`` (NaN equals NaN), everything else (strings, counts,
    booleans) exactly.
    """
    out = []
    for name, df in tables(result).items():
        want, got = golden[name], read_csv_text(csv_text(df, float_format=None))
        if list(want.columns) != list(got.columns):
            lost, new = [c for c in want if c not in got], [c for c in got if c not in want]
            out.append(f"{name}.csv: columns differ (missing {lost}, new {new}, or reordered)")
            continue
        if len(want) != len(got):
            out.append(f"{name}.csv: {len(got)} rows, golden has {len(want)}")
            continue
        for col in want.columns:
            a, b = want[col], got[col]
            if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
                try:
                    x, y = a.to_numpy(float), b.to_numpy(float)
                except (TypeError, ValueError):
                    bad = ~(a.astype(str) == b.astype(str)).to_numpy()
                else:
                    bad = ~np.isclose(y, x, rtol=RTOL, atol=ATOL, equal_nan=True)
            else:
                bad = ~(a.astype(str) == b.astype(str)).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                was, now = (v.item() if isinstance(v, np.generic) else v for v in (a.iloc[i], b.iloc[i]))
                out.append(
                    f"{name}.csv column {col!r}: {int(bad.sum())} of {len(a)} rows differ "
                    f"(first: row {i}, golden {was!r}, now {now!r})"
                )
    return out
