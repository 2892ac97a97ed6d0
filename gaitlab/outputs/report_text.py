"""The readable terminal summary of one analysis."""

from __future__ import annotations

from gaitlab.analysis.metrics import MEASURES
from gaitlab.core import columns as col

LABELS = {
    col.CONTACT_TIME_S: ("ground contact time", "s", 3),
    col.FLIGHT_TIME_S: ("flight time", "s", 3),
    col.STEP_TIME_S: ("step time", "s", 3),
    col.STEP_FREQUENCY_HZ: ("step frequency", "steps/s", 2),
    col.SWING_TIME_S: ("swing time", "s", 3),
    col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S: ("peak swing hip-flexion velocity", "deg/s", 0),
    col.TIME_TO_PEAK_KNEE_DRIVE_S: ("time to peak knee drive", "s", 3),
    col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING: ("time to peak knee drive", "% swing", 0),
    col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG: ("thigh angle at other foot's touchdown", "deg", 1),
    col.SPEED_M_S: ("speed", "m/s", 2),
    col.STEP_LENGTH_M: ("step length", "m", 2),
}

# Stored in seconds, read by coaches in ms: the terminal, the report and the video show these in ms.
MS_MEASURES = (col.CONTACT_TIME_S, col.FLIGHT_TIME_S)


def display_unit(measure: str) -> tuple[str, str, int, float]:
    """(label, unit, digits, factor from the summary's unit) a measure is shown with."""
    label, unit, digits = LABELS[measure]
    return (label, "ms", 0, 1000.0) if measure in MS_MEASURES else (label, unit, digits, 1.0)


def _cell(stat: dict, digits: int, factor: float = 1.0) -> str:
    """mean ±half-width of the 95 % CI (widened by the known error when there is one) (n=...)."""
    if stat["mean"] is None:
        return "-"
    text = f"{stat['mean'] * factor:.{digits}f}"
    if stat["ci95_low"] is not None:
        half = (stat["ci95_high"] - stat["ci95_low"]) / 2 * factor
        text += f" ±{half:.{digits}f}"
    return f"{text} (n={stat['n']})"


def _metre_lines(metres: dict, width: int) -> list[str]:
    """Speed and step length rows (mean ±95% CI incl. the scale's known error, n), when measured."""
    if not metres.get("measured"):
        return []
    out = []
    for m in col.METRE_MEASURES:
        label, unit, digits, factor = display_unit(m)
        cells = [_cell(metres["legs"][side][m], digits, factor) for side in ("left", "right")]
        out.append(f"  {f'{label} [{unit}]':<{width}} {cells[0]:>22} {cells[1]:>22}")
    both = metres["legs"]["both"][col.SPEED_M_S]
    if both["mean"] is not None:
        out.append(f"  {'  mean speed, both legs [m/s]':<{width}} {_cell(both, 2):>22}")
    return out


def format_summary(summary: dict) -> str:
    """Plain text: status, confidence, per-leg measures (mean ±95% CI half-width incl. known error, n),
    flags, flags withheld for the known error, warnings."""
    status = f"  status: {summary['status']}" + (
        f" ({summary['status_reason']})" if summary.get("status_reason") else ""
    )
    if summary["status"] == "ok" and summary.get("status_label"):
        status = f"  status: {summary['status']} ({summary['status_label']})"
    lines = [
        f"gaitlab: {summary['clip']}",
        status,
        f"  capture {summary['capture_fps']:.4g} fps ({summary.get('capture_fps_source', '?')}), "
        f"stored {summary['stored_fps']:.4g} fps, {summary['n_frames']} frames, "
        f"pose on {summary['pose_detected_frac']:.0%}, {summary['n_contacts']} contacts, "
        f"near leg: {summary['near_side']}",
    ]
    legs = summary["legs"]
    width = 46
    lines.append("")
    legs_of = summary.get("leg_of_side", {})
    head = {side: f"{side} ({legs_of[side]})" if side in legs_of else side for side in ("left", "right")}
    lines.append(f"  {'measure (mean ±95% CI incl. known error, n)':<{width}} {head['left']:>22} {head['right']:>22}")
    for m in MEASURES:
        label, unit, digits, factor = display_unit(m)
        name = f"{label} [{unit}]"
        cells = [_cell(legs[side][m], digits, factor) for side in ("left", "right")]
        lines.append(f"  {name:<{width}} {cells[0]:>22} {cells[1]:>22}")
    lines.extend(_metre_lines(summary.get("metres") or {}, width))
    lines.append("")
    if summary["flags"]:
        lines.append("  FLAGS (slow swing-leg recovery):")
        lines.extend(f"   - {f['message']}" for f in summary["flags"])
    else:
        lines.append("  no flags")
    for w in summary.get("flags_withheld") or []:
        lines.append(
            f"   withheld: {w['side']} {w['code']} ({w['measure']} {w['value']:.4g} vs {w['reference']:.4g}): "
            f"{w['why']}"
        )
    if summary.get("known_error_source"):
        lines.append(
            f"  known errors: {summary['known_error_source']['label']}, "
            f"{summary['known_error_source']['band']} fps band (docs/uncertainty.md)"
        )
    if summary["quality"]:
        lines.append("  quality notes:")
        lines.extend(f"   - {q}" for q in summary["quality"])
    return "\n".join(lines)
