"""Known systematic error of each measure, from the accuracy rows (docs/accuracy.md).

``scripts/evaluate_accuracy.py`` scores gaitlab against force plates and motion capture.
``known_error_table(rows)`` condenses its rows into the worst error any row showed, per
landmark source, capture-rate band, leg and measure; ``write_known_error_json`` writes that
table to ``gaitlab/data/known_error.json``, which the analysis reads (``load_table``). A band
no row covers has no entry: its error is *unknown*, which the analysis reports as low
confidence, never as zero. How the analysis uses it: ``gaitlab.analysis.uncertainty``.

Row keys -> measure (each value is the absolute value of the key; the worst row of a band and
the largest key of a row win, so the table is conservative). A mean absolute error bounds the
error of a trial mean (|mean(e)| <= mean(|e|)), so MAE keys are a safe stand-in for a bias:

- ``contact_time_s``, ``swing_time_s`` [ms]: ``contact_time_mae_ms``,
  ``trial_mean_contact_time_error_ms``, ``contact_time_mean_error_ms`` (real clips). The swing
  is the stride minus the contact and the stride (touchdown to touchdown) carries no net event
  bias, so the swing's bias is the contact's with the sign flipped.
- ``flight_time_s`` [ms]: ``flight_time_mae_ms``, ``flight_time_mean_err_ms``.
- ``step_time_s``, ``step_frequency_hz`` [% of the value]: ``step_frequency_error_pct`` (error of
  the mean step frequency; step time is its inverse, the same relative error to first order).
- ``peak_swing_hip_flexion_velocity_deg_s`` [% of the value]: near leg
  ``peak_swing_velocity_error_near_pct``, far leg ``peak_swing_velocity_error_far_pct``; a row
  without either uses ``peak_swing_velocity_error_pct`` for both legs.
- ``time_to_peak_knee_drive_s`` [ms]: ``toe_off_mae_ms``. Partial: the instant of maximal hip
  flexion is not scored against truth, only the toe-off that starts the interval.
- ``thigh_angle_at_contralateral_touchdown_deg`` [deg]: near leg ``hip_flexion_rmse_near_deg``;
  far leg sqrt(2 * ``hip_flexion_rmse_deg``^2 - near^2) (the both-legs RMSE pools equal frame
  counts of the two legs). Partial: a proxy (hip flexion uses the same hip and knee landmarks);
  the thigh angle at the other foot's touchdown itself is not scored.
- ``time_to_peak_knee_drive_pct_swing`` has no entry: ``gaitlab.analysis.uncertainty`` derives it from the
  knee-drive and swing-time errors and the leg's mean swing time.

Speed and step length (``metres``, per landmark source and camera, any rate) [% of the value]:
``speed_m_s`` <- ``speed_error_pct``, ``step_length_m`` <- ``step_length_error_pct``: their error is the
scale's and the camera's more than the rate's. ``metres_exact_scale``: the same from
``speed_exact_scale_error_pct`` and ``step_length_exact_scale_error_pct``, the rows' errors with the camera's
exact scale (a reference length's, but for its marking).

Landmark source of a row: ``markers`` rows -> ``markers`` (perfect landmarks: gaitlab's
algorithm alone); ``video`` and ``real`` rows -> their ``model`` (rows without one ran the
``full`` pose model, the only one evaluated before the model column existed).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from gaitlab.core import columns as col
from gaitlab.io.atomic import write_text_atomic

SCHEMA = 1
DATA_PATH = Path(__file__).resolve().parents[1] / "data" / "known_error.json"
# Band edges between the phone rates 30 / 60 / 120 / 240 fps, so each rate sits mid-band;
# 45 fps is also where a sprint contact starts to span the 5 frames sub-frame event fits need.
BANDS = (("<45", 0.0, 45.0), ("45-90", 45.0, 90.0), ("90-180", 90.0, 180.0), (">=180", 180.0, math.inf))
LEGS = ("near", "far")
_CONTACT_KEYS = ("contact_time_mae_ms", "trial_mean_contact_time_error_ms", "contact_time_mean_error_ms")
# measure -> (unit of the error, row keys (per leg where they differ), partial: what is not scored)
BASIS: dict[str, tuple[str, dict[str, tuple[str, ...]], str | None]] = {
    col.CONTACT_TIME_S: ("ms", {"near": _CONTACT_KEYS, "far": _CONTACT_KEYS}, None),
    col.SWING_TIME_S: ("ms", {"near": _CONTACT_KEYS, "far": _CONTACT_KEYS}, None),
    col.FLIGHT_TIME_S: ("ms", {leg: ("flight_time_mae_ms", "flight_time_mean_err_ms") for leg in LEGS}, None),
    col.STEP_TIME_S: ("pct", {leg: ("step_frequency_error_pct",) for leg in LEGS}, None),
    col.STEP_FREQUENCY_HZ: ("pct", {leg: ("step_frequency_error_pct",) for leg in LEGS}, None),
    col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S: (
        "pct",
        {leg: (f"peak_swing_velocity_error_{leg}_pct",) for leg in LEGS},
        None,
    ),
    col.TIME_TO_PEAK_KNEE_DRIVE_S: (
        "ms",
        {leg: ("toe_off_mae_ms",) for leg in LEGS},
        "the instant of maximal hip flexion is not scored against truth",
    ),
    col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG: (
        "deg",
        {"near": ("hip_flexion_rmse_near_deg",), "far": ("hip_flexion_rmse_far_deg",)},
        "the thigh angle is not scored against truth; the hip-flexion angle error stands in for it",
    ),
}


def band_of(fps: float) -> str | None:
    """Name of the capture-rate band holding ``fps`` (None when fps is not a positive number)."""
    if fps is None or not math.isfinite(fps) or fps <= 0:
        return None
    return next(name for name, lo, hi in BANDS if lo <= fps < hi)


def row_source_key(row: dict) -> str | None:
    """The table key of an accuracy row: ``markers`` or the pose model of a video/real row."""
    source = row.get("source")
    if source == "markers":
        return "markers"
    if source in ("video", "real"):
        return row.get("model") or "full"
    return None


def _finite_abs(value) -> float | None:
    try:
        v = abs(float(value))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _with_far_rmse(row: dict) -> dict:
    """The row plus ``hip_flexion_rmse_far_deg`` recovered from the both-legs and near RMSE."""
    both, near = _finite_abs(row.get("hip_flexion_rmse_deg")), _finite_abs(row.get("hip_flexion_rmse_near_deg"))
    far = math.sqrt(max(0.0, 2.0 * both * both - near * near)) if both is not None and near is not None else None
    return {**row, "hip_flexion_rmse_far_deg": far}


def _row_error(row: dict, measure: str, leg: str) -> float | None:
    """Largest |value| of the row keys feeding ``measure`` for ``leg`` (None: the row has none)."""
    _, keys, _ = BASIS[measure]
    values = [v for k in keys[leg] if (v := _finite_abs(row.get(k))) is not None]
    if not values and measure == col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S:
        values = [v for v in [_finite_abs(row.get("peak_swing_velocity_error_pct"))] if v is not None]
    return max(values) if values else None


def _row_label(row: dict) -> str:
    camera = ", panning camera" if row.get("camera") == "panning" else ""
    return f"{row.get('trial', '?')} at {float(row['fps']):.0f} fps ({row.get('source')}{camera})"


METRE_KEYS = {col.SPEED_M_S: "speed_error_pct", col.STEP_LENGTH_M: "step_length_error_pct"}
# The same with the camera's exact scale: what a reference length gives, but for its marking.
EXACT_SCALE_KEYS = {
    col.SPEED_M_S: "speed_exact_scale_error_pct",
    col.STEP_LENGTH_M: "step_length_exact_scale_error_pct",
}


def _keep_worst(cell: dict, measure: str, value: float, unit: str, row: dict) -> None:
    """Count ``row``'s |error| ``value`` into ``cell[measure]``, which keeps the worst and which row gave it."""
    entry = cell.setdefault(measure, {"error": value, "unit": unit, "n_rows": 0, "worst_row": _row_label(row)})
    entry["n_rows"] += 1
    if value > entry["error"]:
        entry.update(error=value, worst_row=_row_label(row))


def _rounded(tree: dict, depth: int) -> dict:
    """``tree`` with every entry ``depth`` levels down given its ``error`` rounded to 3 decimals."""
    for sub in tree.values():
        if depth == 1:
            sub["error"] = round(sub["error"], 3)
        else:
            _rounded(sub, depth - 1)
    return tree


def _metre_errors(rows: list[dict], keys: dict = METRE_KEYS) -> dict:
    """{source key: {camera: {speed_m_s | step_length_m: {error, unit, n_rows, worst_row}}}} from the rows'
    ``keys`` (measure -> row key)."""
    out: dict = {}
    for row in rows:
        source = row_source_key(row)
        if source is None or row.get("source") == "real":
            continue
        for measure, key in keys.items():
            value = _finite_abs(row.get(key))
            if value is not None:
                cell = out.setdefault(source, {}).setdefault(row.get("camera") or "fixed", {})
                _keep_worst(cell, measure, value, "pct", row)
    return _rounded(out, 3)


def known_error_table(rows: list[dict]) -> dict:
    """The known-error table (the content of known_error.json) from accuracy rows.

    Fields: ``schema``; ``bands_fps``: [name, lowest fps, fps the band stops below (None: no
    limit)]; ``measures``: {measure: {unit, row_keys: {leg: [keys]}, partial}}; ``errors``:
    {source key: {band: {leg: {measure: {error, unit, n_rows, worst_row}}}}} with ``error`` the
    worst |error| of the band's rows (unit ``ms``, ``deg``, or ``pct`` of the measured value),
    ``n_rows`` how many rows had a value and ``worst_row`` which one gave it.
    """
    errors: dict = {}
    for raw in rows:
        key, band = row_source_key(raw), band_of(_finite_abs(raw.get("fps")) or math.nan)
        if key is None or band is None:
            continue
        row = _with_far_rmse(raw)
        for leg in LEGS:
            for measure, (unit, _, _) in BASIS.items():
                value = _row_error(row, measure, leg)
                if value is not None:
                    cell = errors.setdefault(key, {}).setdefault(band, {}).setdefault(leg, {})
                    _keep_worst(cell, measure, value, unit, row)
    _rounded(errors, 4)
    return {
        "schema": SCHEMA,
        "bands_fps": [[name, lo, hi if math.isfinite(hi) else None] for name, lo, hi in BANDS],
        "measures": {
            m: {"unit": unit, "row_keys": {leg: list(k) for leg, k in keys.items()}, "partial": partial}
            for m, (unit, keys, partial) in BASIS.items()
        },
        "errors": errors,
        "metres": _metre_errors(rows),
        "metres_exact_scale": _metre_errors(rows, EXACT_SCALE_KEYS),
    }


def write_known_error_json(rows: list[dict], path: Path = DATA_PATH) -> dict:
    """Write ``known_error_table(rows)`` to ``path`` (atomically); returns the table."""
    table = known_error_table(rows)
    write_text_atomic(Path(path), json.dumps(table, indent=1, sort_keys=True) + "\n")
    return table


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_table(path: Path | None = None) -> dict:
    """The committed table (``DATA_PATH``) or the one at ``path``."""
    return _load(str(path or DATA_PATH))


def metre_error_pct(
    key: str | None, camera: str, measure: str, table: dict | None = None, *, exact_scale: bool = False
) -> float | None:
    """Worst |error| (% of the value) of speed or step length on the accuracy rows of this source key (pose
    model, ``markers``) and camera (``fixed`` / ``panning``), with the athlete height's scale or (``exact_scale``)
    the camera's own; None when no row measured it."""
    section = "metres_exact_scale" if exact_scale else "metres"
    entry = (load_table() if table is None else table).get(section, {}).get(key, {}).get(camera, {}).get(measure)
    return None if entry is None else float(entry["error"])


def lookup(table: dict, key: str | None, fps: float, leg: str, measure: str) -> dict | None:
    """The table entry for this source key, capture rate, leg and measure; None when none covers it."""
    band = band_of(fps)
    if key is None or band is None:
        return None
    return table.get("errors", {}).get(key, {}).get(band, {}).get(leg, {}).get(measure)
