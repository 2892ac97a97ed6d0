"""report.html: a one-page, self-contained report a coach can send to the athlete.

One HTML file with inline CSS and the plots inlined as base64 PNGs (no network
request, opens offline on a phone); the same plots are also written as PNG
files. Output only: every number comes from the summary and the tables.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.errors import OutputError
from gaitlab.core.landmarks import SIDES
from gaitlab.io.atomic import atomic_path, write_text_atomic
from gaitlab.outputs.report_text import LABELS, MS_MEASURES, display_unit

HEADLINE_MEASURES = (
    col.CONTACT_TIME_S,
    col.FLIGHT_TIME_S,
    col.STEP_FREQUENCY_HZ,
    col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_S,
    col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING,
    col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG,
)
# Contact and flight times are read in milliseconds, as in the plots and the annotated video
# (summary.json, the tables and the data- attributes keep seconds).
STEP_COLUMNS = (
    ("side", "foot", None),
    ("leg", "leg", None),
    (col.TOUCHDOWN_S, "touchdown (s)", 3),
    (col.CONTACT_TIME_S, "contact (ms)", 0),
    (col.FLIGHT_TIME_S, "flight (ms)", 0),
    (col.STEP_FREQUENCY_HZ, "step freq. (steps/s)", 2),
    (col.SWING_TIME_S, "swing (s)", 3),
    (col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S, "peak swing hip-flex. vel. (deg/s)", 0),
    (col.TIME_TO_PEAK_KNEE_DRIVE_S, "to peak knee drive (s)", 3),
    (col.TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING, "to peak knee drive (% swing)", 0),
    (col.THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG, "thigh angle at other touchdown (deg)", 1),
    ("confidence", "timing confidence", 2),
)
METRE_STEP_COLUMNS = ((col.SPEED_M_S, "speed (m/s)", 2), (col.STEP_LENGTH_M, "step length (m)", 2))  # with a height
PLOTS = (
    ("plot_hip_flexion.png", "Hip flexion and angular velocity"),
    ("plot_contact_timeline.png", "Contact / flight timeline"),
    ("plot_steps.png", "Per-step contact time and peak swing velocity"),
    ("plot_stick_figures.png", "Stick figures at touchdown and peak knee drive"),
)

CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0;padding:12px;color:#1b1b1b;
background:#fafafa;line-height:1.4}
main{max-width:960px;margin:0 auto}
h1{font-size:1.35rem;margin:.2em 0}h2{font-size:1.1rem;margin:1.2em 0 .4em;border-bottom:2px solid #ddd}
.meta{color:#555;font-size:.85rem;word-break:break-all}
.status{padding:.5em .7em;border-radius:6px;margin:.6em 0}
.ok{background:#e7f5e9}.bad{background:#fdecea}
.medium{background:#fff8e1;border-left:5px solid #f9a825}.low{background:#fff3e0;border-left:5px solid #e65100}
.conf{font-size:.75rem;display:block}.conf-low{color:#b23c00}.conf-medium{color:#8a6d00}
.withheld{background:#f3f3f3;border-left:5px solid #9e9e9e;padding:.4em .7em;margin:.3em 0;border-radius:4px;
font-size:.9rem}
.flag{background:#fdecea;border-left:5px solid #c62828;padding:.5em .7em;margin:.4em 0;border-radius:4px}
.noflag{background:#e7f5e9;padding:.5em .7em;border-radius:4px}
.warn{background:#fff8e1;border-left:5px solid #f9a825;padding:.4em .7em;margin:.3em 0;border-radius:4px;
font-size:.9rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}
th,td{border:1px solid #ddd;padding:.35em .45em;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
thead th{background:#f0f0f0}
.val{font-weight:600;font-size:1.05rem}.ci{color:#555;font-size:.78rem;display:block}
.near{color:#b85f00}.far{color:#0b6fa8}
figure{margin:.6em 0}figure img{width:100%;height:auto;border:1px solid #ddd;background:#fff}
figcaption{font-size:.85rem;color:#555}
"""


def _fmt(value, digits: int | None) -> str:
    if value is None:
        return "-"
    if digits is None:
        return html.escape(str(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "-"
    return f"{v:.{digits}f}" if math.isfinite(v) else "-"


def _attr(value) -> str:
    """Full-precision value for the data- attributes (what tests and scripts read back)."""
    return "" if value is None else repr(float(value)) if isinstance(value, (int, float)) else html.escape(str(value))


def _scaled(value, factor: float):
    return None if value is None else value * factor


def _ci_words(stat: dict, digits: int, unit: str, quality: dict, factor: float = 1.0) -> str:
    """'95% CI a to b (±h unit incl. known error ...)': the CI shown is the one widened by the known error."""
    known = quality.get("known_error_text")
    if stat["ci95_low"] is None:
        return "no CI (one step)" + (f"; {known}" if known else "")
    low, high = stat["ci95_low"] * factor, stat["ci95_high"] * factor
    ci = f"95% CI {_fmt(low, digits)} to {_fmt(high, digits)}"
    if not known:
        return ci
    if stat.get("known_error") is None:
        return f"{ci} (scatter only; {known})"
    return f"{ci} (±{_fmt((high - low) / 2.0, digits)} {unit} incl. {known})"


def headline_cell(
    stat: dict,
    digits: int,
    unit: str,
    side: str,
    measure: str,
    quality: dict | None = None,
    factor: float = 1.0,
) -> str:
    """One headline value: mean (big), 95 % CI (widened by the known error, named) and n, confidence
    in words; data- attributes carry the exact numbers, in the summary's unit. ``quality``: the
    measure-quality entry; ``factor``: from the summary's unit to ``unit`` (1000 for s -> ms)."""
    quality = quality or {}
    level = quality.get("confidence")
    attrs = (
        f'data-side="{side}" data-measure="{measure}" data-mean="{_attr(stat["mean"])}" '
        f'data-ci95-low="{_attr(stat["ci95_low"])}" data-ci95-high="{_attr(stat["ci95_high"])}" '
        f'data-n="{stat["n"]}" data-known-error="{_attr(stat.get("known_error"))}" '
        f'data-confidence="{html.escape(level or "")}"'
    )
    if stat["mean"] is None:
        return f'<td {attrs}><span class="val">-</span><span class="ci">no steps</span></td>'
    steps_word = "step" if stat["n"] == 1 else "steps"
    conf = (
        f'<span class="conf conf-{html.escape(level)}" title="{html.escape(quality.get("confidence_reason", ""))}">'
        f"{html.escape(level)} confidence</span>"
        if level
        else ""
    )
    return (
        f'<td {attrs}><span class="val">{_fmt(_scaled(stat["mean"], factor), digits)} {html.escape(unit)}</span>'
        f'<span class="ci">{html.escape(_ci_words(stat, digits, unit, quality, factor))}; {stat["n"]} {steps_word}'
        "</span>"
        f"{conf}</td>"
    )


def _headline_table(summary: dict) -> str:
    leg_of = summary.get("leg_of_side") or {}
    head = "".join(f'<th class="{leg_of.get(s, "")}">{s} leg ({html.escape(leg_of.get(s, "?"))})</th>' for s in SIDES)
    rows = []
    for m in HEADLINE_MEASURES:
        label, unit, digits, factor = display_unit(m)
        quality = summary.get("measure_quality") or {}
        cells = "".join(
            headline_cell(summary["legs"][s][m], digits, unit, s, m, quality.get(s, {}).get(m), factor) for s in SIDES
        )
        rows.append(f'<tr><th scope="row">{html.escape(label)} <small>[{html.escape(unit)}]</small></th>{cells}</tr>')
    rows += _metre_rows(summary.get("metres") or {})
    return (
        f'<div class="scroll"><table id="headline"><thead><tr><th>measure (mean, 95% CI incl. known error, steps)'
        f"</th>{head}</tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _metre_rows(metres: dict) -> list[str]:
    """Headline rows of speed and step length (both legs' cells), when they were measured."""
    if not metres.get("measured"):
        return []
    known = metres["known_error_pct"]
    known_text = f"known error ±{known:.1f} %" if known is not None else "known error unknown"
    quality = {"known_error_text": f"{known_text} ({metres['camera']} camera)"}
    rows = []
    for m in col.METRE_MEASURES:
        label, unit, digits, _ = display_unit(m)
        cells = "".join(headline_cell(metres["legs"][s][m], digits, unit, s, m, quality) for s in SIDES)
        rows.append(f'<tr><th scope="row">{html.escape(label)} <small>[{html.escape(unit)}]</small></th>{cells}</tr>')
    return rows


def _steps_table(steps: pd.DataFrame) -> str:
    columns = STEP_COLUMNS
    if len(steps) and all(c in steps and steps[c].notna().any() for c, _, _ in METRE_STEP_COLUMNS):
        columns = STEP_COLUMNS[:-1] + METRE_STEP_COLUMNS + STEP_COLUMNS[-1:]
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    rows = []
    ordered = steps.sort_values(col.TOUCHDOWN_S) if len(steps) else steps
    for _, s in ordered.iterrows():
        cells = "".join(
            f"<td>{_fmt(_scaled(s.get(c), 1000.0) if c in MS_MEASURES else s.get(c), digits)}</td>"
            for c, _, digits in columns
        )
        rows.append(f"<tr>{cells}</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}">no steps found</td></tr>')
    return (
        f'<div class="scroll"><table id="steps"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _status(summary: dict) -> tuple[str, str]:
    """The status in words and its CSS class: green ('ok') only for an analysis of high confidence."""
    if summary["status"] != "ok":
        return f"{summary['status']}: {summary.get('status_reason', '')}", "bad"
    level = summary.get("confidence")
    label = summary.get("status_label") or "analyzed"
    return label, {"medium": "medium", "low": "low"}.get(level, "ok")


def _withheld_words(w: dict) -> str:
    label, unit, _, factor = display_unit(w["measure"]) if w["measure"] in LABELS else (w["measure"], "", 0, 1.0)
    return (
        f"{w['side']} leg, {w['code'].replace('_', ' ')}: {label} {w['value'] * factor:.4g} {unit} vs reference "
        f"{w['reference'] * factor:.4g} {unit} would be flagged from the step-to-step scatter, but {w['why']}."
    )


def render_html(summary: dict, steps: pd.DataFrame, pngs: dict[str, bytes]) -> str:
    """The report page; ``pngs`` maps plot file names to PNG bytes (inlined)."""
    status, status_class = _status(summary)
    flags = summary.get("flags") or []
    flag_html = (
        "".join(
            f'<div class="flag"><b>{html.escape(f["side"])} leg</b>: {html.escape(f["message"])}</div>' for f in flags
        )
        or '<div class="noflag">No slow swing-leg recovery flag was raised.</div>'
    )
    flag_html += "".join(
        f'<div class="withheld">Withheld: {html.escape(_withheld_words(w))}</div>'
        for w in summary.get("flags_withheld") or []
    )
    warn_html = (
        "".join(f'<div class="warn">{html.escape(q)}</div>' for q in summary.get("quality") or []) or "<p>None.</p>"
    )
    figs = []
    for name, caption in PLOTS:
        if name in pngs:
            data = base64.b64encode(pngs[name]).decode("ascii")
            figs.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(caption)} (also {name})</figcaption></figure>"
            )
    meta = (
        f"{summary['n_frames']} frames, capture {summary['capture_fps']:.4g} fps "
        f"({summary.get('capture_fps_source', '?')}), pose found on {summary['pose_detected_frac']:.0%} of frames, "
        f"{summary['n_contacts']} contacts, near leg: {summary.get('near_side', '?')}"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gaitlab report: {html.escape(Path(str(summary["clip"])).name)}</title>
<style>{CSS}</style></head>
<body><main>
<h1>Sprint swing report</h1>
<div class="meta">{html.escape(str(summary["clip"]))}<br>{html.escape(meta)}</div>
<div class="status {status_class}" id="status">Status: {html.escape(status)}</div>
<h2>Headline</h2>
{_headline_table(summary)}
<h2>Flags: slow swing-leg recovery</h2>
{flag_html}
<h2>Quality warnings</h2>
{warn_html}
<h2>Plots</h2>
{"".join(figs)}
<h2>Every step</h2>
{_steps_table(steps)}
<p class="meta">Each row is one ground contact of one foot and the swing that follows it. Flags compare a leg
with a reference and are not a diagnosis.</p>
</main></body></html>
"""


def make_plots(summary: dict, frames: pd.DataFrame, contacts: pd.DataFrame, steps: pd.DataFrame) -> dict[str, bytes]:
    """PNG bytes of each report plot that the data allows."""
    from gaitlab.outputs import plots

    out = {}
    if len(frames):
        out["plot_hip_flexion.png"] = plots.png_bytes(plots.hip_flexion_figure(summary, frames, steps))
        out["plot_contact_timeline.png"] = plots.png_bytes(plots.contact_timeline_figure(summary, frames, contacts))
    if len(steps):
        out["plot_steps.png"] = plots.png_bytes(plots.steps_figure(summary, steps))
        out["plot_stick_figures.png"] = plots.png_bytes(plots.stick_figure_snapshots(summary, frames, steps))
    return out


def write_report(
    summary: dict, frames: pd.DataFrame, contacts: pd.DataFrame, steps: pd.DataFrame, out_dir: Path
) -> dict[str, Path]:
    """Write report.html and the plot PNGs into ``out_dir``; returns their paths.

    ``frames`` is the per-frame table as in frames.csv (kinematics + landmarks).
    """
    out_dir = Path(out_dir)
    pngs = make_plots(summary, frames, contacts, steps)
    paths = {}
    try:
        for name, _ in PLOTS:
            if name not in pngs:  # a plot the data no longer allows must not survive from an earlier run
                (out_dir / name).unlink(missing_ok=True)
        for name, data in pngs.items():
            with atomic_path(out_dir / name) as tmp:
                tmp.write_bytes(data)
            paths[name] = out_dir / name
        write_text_atomic(out_dir / "report.html", render_html(summary, steps, pngs))
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write the report ({exc.strerror or exc})") from None
    paths["report.html"] = out_dir / "report.html"
    return paths
