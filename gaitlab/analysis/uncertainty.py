"""What the known error of each measure (``gaitlab.analysis.known_error``) does to one analysis.

- Each leg's statistics get ``known_error`` (in the measure's unit) and a 95 % CI widened by it
  (``metrics.with_known_error``: half-width = t-interval half-width + known error).
- Each measure-quality entry gets ``confidence`` (high / medium / low), ``confidence_reason`` and
  ``known_error_text``.
- The summary gets an overall ``confidence`` (the near leg's worst of ``CONFIDENCE_MEASURES``),
  ``confidence_reason``, ``status_label`` (the status in words) and ``known_error_source``.

An error no accuracy row covers is unknown: the CI is not widened (there is nothing to widen it
by), the measure is low confidence and it raises no flag (``flags.compute_flags``).
"""

from __future__ import annotations

import math

from gaitlab.analysis.known_error import BASIS, band_of, load_table, lookup
from gaitlab.analysis.metrics import MEASURES, with_known_error
from gaitlab.core import columns as col
from gaitlab.core.landmarks import SIDES

# Landmarks that are marker or joint-centre positions: no pose-model error, so the
# algorithm-only ``markers`` rows apply.
MARKER_SOURCES = {"mocap-projection", "trc", "synthetic"}
# Confidence from the known error as a share of the measured value: 10 % is the accuracy target of
# the swing velocity (docs/accuracy.md); beyond 25 % a quarter of the number may be error.
HIGH_MAX_REL = 0.10
MEDIUM_MAX_REL = 0.25
LEVELS = ("low", "medium", "high")
# The two measures the product is about; the clip's confidence is the near leg's worst of them.
CONFIDENCE_MEASURES = (col.CONTACT_TIME_S, col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S)
_PCT_SWING = col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING
_WORDS = {col.CONTACT_TIME_S: "contact time", col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S: "swing velocity"}


def source_key(track_source: str, pose_model: str | None) -> str:
    """Table key of a track: its pose model for MediaPipe, ``markers`` for marker landmarks, else its source."""
    if track_source == "mediapipe":
        return pose_model or "mediapipe (model not given)"
    return "markers" if track_source in MARKER_SOURCES else track_source


def source_label(key: str) -> str:
    """``full model``, ``markers (no pose model)``, or the key itself."""
    if key == "markers":
        return "markers (no pose model)"
    return f"{key} model" if key in ("lite", "full", "heavy") else key


def _unit_of(measure: str) -> str:
    """The unit a measure's name ends in (deg/s, s, Hz, deg)."""
    for suffix, unit in (("_deg_s", "deg/s"), ("_hz", "Hz"), ("_s", "s"), ("_deg", "deg")):
        if measure.endswith(suffix):
            return unit
    return ""


def _value_in_unit(entry: dict, measure: str, mean: float | None) -> float | None:
    if entry["unit"] == "ms":
        return entry["error"] / 1000.0 if measure.endswith("_s") else entry["error"]
    if entry["unit"] == "pct":
        return None if mean is None else entry["error"] / 100.0 * abs(mean)
    return entry["error"]


def _entry(table: dict, key: str, fps: float, leg: str | None, measure: str, mean: float | None) -> dict:
    """One measure's known error: ``value`` (measure unit, None = unknown), ``text``, ``partial``."""
    where = f"at {fps:.0f} fps, {source_label(key)}"
    found = lookup(table, key, fps, leg, measure) if leg in ("near", "far") else None
    if found is None:
        band = band_of(fps) or "?"
        return {
            "value": None,
            "partial": BASIS[measure][2],
            "worst_row": None,
            "text": f"known error unknown: no accuracy row for the {leg} leg, {source_label(key)}, {band} fps",
        }
    value = _value_in_unit(found, measure, mean)
    unit = {"ms": "ms", "deg": "deg", "pct": "%"}[found["unit"]]
    text = f"known error {found['error']:.3g} {unit}"
    if found["unit"] == "pct" and value is not None:
        text += f" ({value:.3g} {_unit_of(measure)})"
    return {"value": value, "partial": BASIS[measure][2], "worst_row": found["worst_row"], "text": f"{text} {where}"}


def _pct_swing_entry(errs: dict, stats: dict, fps: float, key: str) -> dict:
    """Knee drive in % of swing: d(100 t/s) <= 100 (|dt| + (pct/100) |ds|) / s (t knee drive, s swing)."""
    ttp, swing = errs[col.TIME_TO_PEAK_KNEE_DRIVE_S], errs[col.SWING_TIME_S]
    pct, swing_s = stats[_PCT_SWING]["mean"], stats[col.SWING_TIME_S]["mean"]
    partial = BASIS[col.TIME_TO_PEAK_KNEE_DRIVE_S][2]
    if ttp["value"] is None or swing["value"] is None or pct is None or not swing_s:
        why = (
            ttp["text"]
            if ttp["value"] is None
            else swing["text"]
            if swing["value"] is None
            else "known error unknown: no mean swing time"
        )
        return {"value": None, "partial": partial, "worst_row": None, "text": why}
    value = 100.0 * (ttp["value"] + pct / 100.0 * swing["value"]) / swing_s
    return {
        "value": value,
        "partial": partial,
        "worst_row": ttp["worst_row"],
        "text": f"known error {value:.3g} % of swing (toe-off and swing-time errors) at {fps:.0f} fps, "
        f"{source_label(key)}",
    }


def leg_known_errors(
    leg_stats: dict, leg_of_side: dict, *, key: str, capture_fps: float, table: dict | None = None
) -> dict:
    """``{left|right|both: {measure: entry}}``; entry fields: ``value`` (error in the measure's unit,
    None when unknown), ``text`` (what it is and where it applies), ``partial`` (what part of the
    measure's error no truth scores, None if all), ``worst_row`` (the accuracy row it came from).
    ``both`` takes the larger of the two legs (unknown if either is)."""
    table = load_table() if table is None else table
    out = {}
    for side in SIDES:
        stats = leg_stats[side]
        out[side] = {
            m: _entry(table, key, capture_fps, leg_of_side.get(side), m, stats[m]["mean"])
            for m in MEASURES
            if m != _PCT_SWING
        }
        out[side][_PCT_SWING] = _pct_swing_entry(out[side], stats, capture_fps, key)
    out["both"] = {}
    for m in MEASURES:
        pair = [out[s][m] for s in SIDES]
        unknown = [e for e in pair if e["value"] is None]
        out["both"][m] = unknown[0] if unknown else max(pair, key=lambda e: e["value"])
    return out


def widen(leg_stats: dict, errors: dict) -> dict:
    """``leg_stats`` with every CI widened by its known error (``metrics.with_known_error``)."""
    return {
        side: {m: with_known_error(stat, errors[side][m]["value"]) for m, stat in stats.items()}
        for side, stats in leg_stats.items()
    }


def confidence(stat: dict, quality: dict, error: dict) -> tuple[str, str]:
    """(level, reason) of one leg's measure: low when it has no value, a quality problem or an unknown
    error; else from known error / |mean| (``HIGH_MAX_REL``, ``MEDIUM_MAX_REL``); partial caps at medium."""
    if stat["mean"] is None:
        return "low", "no value"
    if quality.get("why_not") or quality.get("n_unreliable_steps"):
        return "low", quality.get("why_not") or f"{quality['n_unreliable_steps']} step(s) unreliable"
    if error["value"] is None:
        return "low", error["text"]
    rel = error["value"] / abs(stat["mean"]) if stat["mean"] else math.inf
    share = f"{error['text']}, {rel:.0%} of the value" + (
        f" (worst: {error['worst_row']})" if error.get("worst_row") else ""
    )
    if rel > MEDIUM_MAX_REL:
        return "low", share
    if rel > HIGH_MAX_REL:
        return "medium", share
    if error["partial"]:
        return "medium", f"{share}; only part of its error is known: {error['partial']}"
    return "high", share


def add_confidence(measure_quality: dict, leg_stats: dict, errors: dict) -> dict:
    """Each entry of ``measure_quality`` plus ``confidence``, ``confidence_reason`` and ``known_error_text``."""
    out = {}
    for side, entries in measure_quality.items():
        out[side] = {}
        for m, q in entries.items():
            level, why = confidence(leg_stats[side][m], q, errors[side][m])
            out[side][m] = {
                **q,
                "confidence": level,
                "confidence_reason": why,
                "known_error_text": errors[side][m]["text"],
            }
    return out


def overall_confidence(measure_quality: dict, leg_of_side: dict) -> tuple[str, str]:
    """The near leg's lowest confidence over ``CONFIDENCE_MEASURES``, and why (each one not high)."""
    near = next((s for s, leg in leg_of_side.items() if leg == "near"), SIDES[0])
    entries = [(m, measure_quality[near][m]) for m in CONFIDENCE_MEASURES]
    level = min((q["confidence"] for _, q in entries), key=LEVELS.index)
    why = [
        f"{_WORDS[m]} ({near}, near leg) {q['confidence']}: {q['confidence_reason']}"
        for m, q in entries
        if q["confidence"] != "high"
    ]
    return level, "; ".join(why)


def status_label(summary: dict) -> str:
    """The status in words: 'analyzed', 'analyzed - <level> confidence: <why>', or '<status>: <reason>'."""
    if summary["status"] != "ok":
        return f"{summary['status']}: {summary.get('status_reason', '')}"
    if summary.get("confidence", "high") == "high":
        return "analyzed"
    return f"analyzed \u2014 {summary['confidence']} confidence: {summary.get('confidence_reason', '')}"


def summary_fields(summary: dict, *, key: str, capture_fps: float) -> dict:
    """``confidence``, ``confidence_reason``, ``status_label``, ``known_error_source`` for the summary.

    ``known_error_source``: {key: table key, label, band: capture-rate band, table: the file}.
    """
    level, why = overall_confidence(summary["measure_quality"], summary["leg_of_side"])
    if summary["status"] != "ok":
        level, why = "low", f"status {summary['status']}"
    fields = {
        "confidence": level,
        "confidence_reason": why,
        "known_error_source": {
            "key": key,
            "label": source_label(key),
            "band": band_of(capture_fps),
            "table": "gaitlab/data/known_error.json",
        },
    }
    fields["status_label"] = status_label({**summary, **fields})
    return fields
