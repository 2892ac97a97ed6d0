"""The team table: one row per clip (athlete, session, status, which leg was near the camera,
per-leg key measures with CI, flags).

Rows are plain dicts of str/float/int/None so they pickle to any worker and
back, are stored in each clip's batch marker, and turn into CSV or HTML alike.
Light imports only: workers import this before they limit their threads.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

from gaitlab.io.csv_text import csv_safe_text

# The measures a coach scans first (METRICS.md): swing recovery, knee drive, leg lag, contact time.
KEY_MEASURES = (
    "peak_swing_hip_flexion_velocity_deg_s",
    "time_to_peak_knee_drive_pct_swing",
    "thigh_angle_at_contralateral_touchdown_deg",
    "contact_time_s",
)
LEGS = ("left", "right")
STAT_SUFFIXES = ("", "_ci95_low", "_ci95_high", "_n")
ID_COLUMNS = (
    "athlete",
    "session",
    "clip",
    "status",
    "status_reason",
    "flagged",
    "flags",
    "n_flags",
    "capture_fps",
    "n_contacts",
)
# Which leg was near the camera, and each leg filmed as "near" or "far": the far leg's values read
# differently (its swing velocity 6-10 % low), so a trend compares a leg with itself filmed alike.
SIDE_COLUMNS = ("near_side",) + tuple(f"{leg}_filmed_as" for leg in LEGS)
MEASURE_COLUMNS = tuple(f"{leg}_{m}{suffix}" for m in KEY_MEASURES for leg in LEGS for suffix in STAT_SUFFIXES)
# In metres, both legs' means (summary.json "metres"; blank without the athlete's height): docs/metrics.md.
METRE_COLUMNS = ("athlete_height_m", "speed_m_s", "step_length_m")
TAIL_COLUMNS = ("report", "clip_sha256")
COLUMNS = ID_COLUMNS + SIDE_COLUMNS + METRE_COLUMNS + MEASURE_COLUMNS + TAIL_COLUMNS
FAILURE_COLUMNS = ("athlete", "session", "clip", "status", "reason")

STATUS_OK = "ok"
STATUS_FAILED = "failed"  # could not be analyzed at all (corrupt, not a video, unexpected error)


def clip_report_link(clip_out_dir: Path) -> Path | None:
    """The page to open for one clip: its ``report.html``, else its ``summary.json``, else None.

    The one place that decides the link (the per-clip HTML report comes from
    another part of gaitlab; until it exists the summary is the best target).
    """
    for name in ("report.html", "summary.json"):
        path = Path(clip_out_dir) / name
        if path.is_file():
            return path
    return None


def _relative_link(target: Path | None, base_dir: Path) -> str:
    return "" if target is None else Path(os.path.relpath(target, base_dir)).as_posix()


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def summary_row(
    summary: dict, *, athlete: str, session: str, clip: str, clip_sha256: str, clip_out_dir: Path, batch_out_dir: Path
) -> dict:
    """The team-table row of one analyzed clip (status ok or not)."""
    flags = summary.get("flags") or []
    row = {
        "athlete": athlete,
        "session": session,
        "clip": clip,
        "status": summary["status"],
        "status_reason": summary.get("status_reason") or "",
        "flagged": "yes" if flags else "no",
        "flags": "; ".join(f"{f['side']}:{f['code']}" for f in flags),
        "n_flags": len(flags),
        "capture_fps": _number(summary.get("capture_fps")),
        "n_contacts": int(summary.get("n_contacts") or 0),
    }
    row.update(side_columns(summary))
    metres = summary.get("metres") or {}
    row["athlete_height_m"] = _number(metres.get("athlete_height_m"))
    for m in METRE_COLUMNS[1:]:
        row[m] = _number(((metres.get("legs") or {}).get("both") or {}).get(m, {}).get("mean"))
    legs = summary.get("legs") or {}
    for m in KEY_MEASURES:
        for leg in LEGS:
            stat = legs.get(leg, {}).get(m, {})
            row[f"{leg}_{m}"] = _number(stat.get("mean"))
            row[f"{leg}_{m}_ci95_low"] = _number(stat.get("ci95_low"))
            row[f"{leg}_{m}_ci95_high"] = _number(stat.get("ci95_high"))
            row[f"{leg}_{m}_n"] = int(stat.get("n") or 0)
    row["report"] = _relative_link(clip_report_link(clip_out_dir), batch_out_dir)
    row["clip_sha256"] = clip_sha256
    return row


def side_columns(summary: dict) -> dict:
    """``near_side`` and each leg's ``<leg>_filmed_as`` (``near`` / ``far``) from a summary.json; None if not known."""
    near = summary.get("near_side")
    near = near if near in LEGS else None
    out = {"near_side": near}
    for leg in LEGS:
        out[f"{leg}_filmed_as"] = None if near is None else "near" if leg == near else "far"
    return out


def with_side_columns(row: dict, clip_out_dir: Path) -> dict:
    """``row`` with the side columns: a row stored before they existed gets them from the clip's summary.json."""
    if all(c in row for c in SIDE_COLUMNS):
        return row
    if row.get("status") == STATUS_FAILED:  # no analysis: a summary.json there is an earlier clip's
        return {**row, **side_columns({})}
    try:
        summary = json.loads((Path(clip_out_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None
    return {**row, **side_columns(summary if isinstance(summary, dict) else {})}


def failure_row(*, athlete: str, session: str, clip: str, reason: str, clip_sha256: str = "") -> dict:
    """The team-table row of a clip that could not be analyzed."""
    row = {c: None for c in COLUMNS}
    row.update(
        {
            "athlete": athlete,
            "session": session,
            "clip": clip,
            "status": STATUS_FAILED,
            "status_reason": reason,
            "flagged": "no",
            "flags": "",
            "n_flags": 0,
            "n_contacts": 0,
            "report": "",
            "clip_sha256": clip_sha256,
        }
    )
    return row


def _cell(value) -> str:
    """A CSV cell: blank for None, numbers as numbers, text made safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return str(value)
    return csv_safe_text(str(value))


def table_csv_text(rows: list[dict], columns: tuple[str, ...] = COLUMNS) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def failure_rows(rows: list[dict]) -> list[dict]:
    """Rows of clips that are not ``ok``, with the reason (failed, no running, insufficient data)."""
    return [
        {
            "athlete": r["athlete"],
            "session": r["session"],
            "clip": r["clip"],
            "status": r["status"],
            "reason": r["status_reason"],
        }
        for r in rows
        if r["status"] != STATUS_OK
    ]
