"""The team report: one self-contained HTML page (no network, no external files).

A table of every clip, flagged athletes first and sortable by any column
(click a header), each row linking to that clip's report; then, per athlete,
the key measures across sessions as small inline SVG charts. Output only: it
draws the rows it is given and computes no measure.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict

from gaitlab.team.table import KEY_MEASURES, LEGS, STATUS_FAILED, STATUS_OK

LABELS = {
    "peak_swing_hip_flexion_velocity_deg_s": ("Peak swing hip-flexion velocity", "deg/s", 0),
    "time_to_peak_knee_drive_pct_swing": ("Time to peak knee drive", "% swing", 0),
    "thigh_angle_at_contralateral_touchdown_deg": ("Thigh angle at other foot's touchdown", "deg", 1),
    "contact_time_s": ("Ground contact time", "s", 3),
}
LEG_COLORS = {"left": "#1f77b4", "right": "#d62728"}

_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}
th{background:#eee;cursor:pointer;user-select:none}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flagged td{background:#fff1f0} tr.failed td{color:#888} tr.notok td{background:#fafafa}
.flag{color:#b00;font-weight:600} .athlete{margin-top:1.5em} .charts{display:flex;flex-wrap:wrap;gap:12px}
.note{color:#555;font-size:13px} td.status{white-space:normal;min-width:10em;max-width:26em}
"""

# Sort by the cell's data-v (numbers numerically, blanks last), toggling the direction on each click.
_JS = """
document.querySelectorAll('table.sortable th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = !th.classList.contains('asc');
    table.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
    th.classList.add(asc ? 'asc' : 'desc');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
      if (x === '' && y === '') return 0; if (x === '') return 1; if (y === '') return -1;
      var nx = Number(x), ny = Number(y), c;
      if (!isNaN(nx) && !isNaN(ny)) c = nx - ny; else c = x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function(r){body.appendChild(r);});
  });
});
"""


def _esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _num_attr(value) -> str:
    return "" if value is None else repr(float(value))


def _measure_cell(row: dict, leg: str, measure: str) -> str:
    digits = LABELS[measure][2]
    mean = row.get(f"{leg}_{measure}")
    low, high = row.get(f"{leg}_{measure}_ci95_low"), row.get(f"{leg}_{measure}_ci95_high")
    text = _fmt(mean, digits)
    if mean is not None and low is not None and high is not None:
        text += f" [{_fmt(low, digits)}, {_fmt(high, digits)}]"
    return f'<td class="num" data-v="{_num_attr(mean)}">{_esc(text)}</td>'


def order_rows(rows: list[dict]) -> list[dict]:
    """Athletes with any flag first, then by athlete, session, clip."""
    flagged = {r["athlete"] for r in rows if r.get("n_flags")}
    return sorted(rows, key=lambda r: (r["athlete"] not in flagged, r["athlete"], r["session"], r["clip"]))


def _table(rows: list[dict]) -> str:
    heads = ["Athlete", "Session", "Clip", "Status", "Flags"]
    for m in KEY_MEASURES:
        name, unit, _ = LABELS[m]
        heads += [f"{name} L [{unit}] (95% CI)", f"{name} R [{unit}] (95% CI)"]
    out = [
        '<table class="sortable"><thead><tr>' + "".join(f"<th>{_esc(h)}</th>" for h in heads) + "</tr></thead><tbody>"
    ]
    for r in rows:
        cls = (
            "flagged"
            if r.get("n_flags")
            else "failed"
            if r["status"] == STATUS_FAILED
            else "notok"
            if r["status"] != STATUS_OK
            else ""
        )
        clip = _esc(r["clip"])
        link = f'<a href="{_esc(r["report"])}">{clip}</a>' if r.get("report") else clip
        status = r["status"] + (f": {r['status_reason']}" if r.get("status_reason") else "")
        cells = [
            f'<td data-v="{_esc(r["athlete"])}">{_esc(r["athlete"])}</td>',
            f'<td data-v="{_esc(r["session"])}">{_esc(r["session"])}</td>',
            f'<td data-v="{clip}">{link}</td>',
            f'<td data-v="{_esc(r["status"])}" class="status">{_esc(status)}</td>',
            f'<td data-v="{_esc(r.get("flags"))}" class="flag">{_esc(r.get("flags"))}</td>',
        ]
        cells += [_measure_cell(r, leg, m) for m in KEY_MEASURES for leg in LEGS]
        out.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _trend_svg(rows: list[dict], measure: str, sessions: list[str]) -> str:
    """Each ok clip's leg mean with its 95% CI bar, and a line through the session means, per leg."""
    name, unit, digits = LABELS[measure]
    w, h, left, right, top, bottom = 300, 160, 48, 10, 22, 30
    points = []  # (session index, leg, mean, low, high)
    for r in rows:
        for leg in LEGS:
            mean = r.get(f"{leg}_{measure}")
            if mean is not None:
                low = r.get(f"{leg}_{measure}_ci95_low")
                high = r.get(f"{leg}_{measure}_ci95_high")
                points.append(
                    (
                        sessions.index(r["session"]),
                        leg,
                        mean,
                        mean if low is None else low,
                        mean if high is None else high,
                    )
                )
    title = f'<text x="{w / 2}" y="14" text-anchor="middle" font-size="11">{_esc(name)} [{_esc(unit)}]</text>'
    if not points:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{title}'
            f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" font-size="11" fill="#888">no data</text></svg>'
        )
    lo = min(p[3] for p in points)
    hi = max(p[4] for p in points)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    n = len(sessions)

    def x(i: float) -> float:
        return left + (w - left - right) * ((i + 0.5) / n)

    def y(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))

    parts = [
        title,
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#999"/>',
    ]
    for v in sorted({lo + pad, hi - pad}):
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{_fmt(v, digits)}</text>'
        )
    for i, s in enumerate(sessions):
        parts.append(f'<text x="{x(i):.1f}" y="{h - bottom + 14}" text-anchor="middle" font-size="9">{_esc(s)}</text>')
    for k, leg in enumerate(LEGS):
        color, dx = LEG_COLORS[leg], (k - 0.5) * 6  # legs side by side, not on top of each other
        by_session = defaultdict(list)
        for i, lg, mean, low, high in points:
            if lg != leg:
                continue
            by_session[i].append(mean)
            parts.append(
                f'<line x1="{x(i) + dx:.1f}" y1="{y(low):.1f}" x2="{x(i) + dx:.1f}" y2="{y(high):.1f}" '
                f'stroke="{color}" stroke-opacity="0.5"/>'
            )
            parts.append(
                f'<circle cx="{x(i) + dx:.1f}" cy="{y(mean):.1f}" r="2.5" fill="{color}">'
                f"<title>{leg}: {_fmt(mean, digits)} {_esc(unit)}</title></circle>"
            )
        line = " ".join(f"{x(i) + dx:.1f},{y(math.fsum(v) / len(v)):.1f}" for i, v in sorted(by_session.items()))
        if len(by_session) > 1:
            parts.append(f'<polyline points="{line}" fill="none" stroke="{color}"/>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">' + "".join(parts) + "</svg>"


def _athlete_sections(rows: list[dict]) -> str:
    by_athlete = defaultdict(list)
    for r in rows:
        by_athlete[r["athlete"]].append(r)
    out = []
    for athlete, athlete_rows in by_athlete.items():
        ok = [r for r in athlete_rows if r["status"] == STATUS_OK]
        sessions = sorted({r["session"] for r in ok})
        flags = sorted({f for r in ok for f in (r.get("flags") or "").split("; ") if f})
        head = f'<h3>{_esc(athlete)}</h3><p class="note">{len(ok)} analyzed clip(s) over {len(sessions)} session(s)'
        head += (f'; flags: <span class="flag">{_esc(", ".join(flags))}</span>' if flags else "; no flags") + "</p>"
        charts = "".join(_trend_svg(ok, m, sessions) for m in KEY_MEASURES) if ok else ""
        out.append(f'<div class="athlete">{head}<div class="charts">{charts}</div></div>')
    return "\n".join(out)


def team_report_html(rows: list[dict], *, title: str = "Team report") -> str:
    """The whole page as a string (deterministic: the same rows give the same bytes)."""
    rows = order_rows(rows)
    n_flagged = len({r["athlete"] for r in rows if r.get("n_flags")})
    n_ok = sum(r["status"] == STATUS_OK for r in rows)
    legend = " ".join(f'<span style="color:{c}">&#9679; {leg} leg</span>' for leg, c in LEG_COLORS.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_esc(title)}</h1>
<p>{len(rows)} clip(s): {n_ok} analyzed, {len(rows) - n_ok} not analyzable (see status).
{n_flagged} athlete(s) flagged for slow swing-leg recovery. Cells: mean [95% CI] per leg.
Click a column header to sort; click a clip to open its report.</p>
{_table(rows)}
<h2>Per athlete across sessions</h2>
<p class="note">{legend}. Dots: one clip's mean with its 95% CI; lines join session means.</p>
{_athlete_sections(rows)}
<script>{_JS}</script>
</body></html>
"""
