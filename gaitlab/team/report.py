"""The team report: one self-contained HTML page (no network, no external files).

A table of every clip, flagged athletes first and sortable by any column
(click a header), each row linking to that clip's report; then, per athlete,
the key measures across sessions as small inline SVG charts. Output only: it
draws the rows it is given and computes no measure.

Like with like: the far leg reads differently from the near one (its swing
velocity 6-10 % low), so a leg's trend line joins only the sessions where that
leg was filmed from the same side (``trend_filming``), and flags are counted
per leg and filming; the page says so when an athlete was filmed from both
sides. Contact and flight times are shown in ms, as in the clip report (the
CSV and the sort keys keep seconds).
"""

from __future__ import annotations

import html
import math
from collections import defaultdict

from gaitlab.outputs.report_text import MS_MEASURES  # seconds in the rows, ms on the page, as in the clip report
from gaitlab.team.table import KEY_MEASURES, LEGS, STATUS_FAILED, STATUS_OK

LABELS = {
    "peak_swing_hip_flexion_velocity_deg_s": ("Peak swing hip-flexion velocity", "deg/s", 0),
    "time_to_peak_knee_drive_pct_swing": ("Time to peak knee drive", "% swing", 0),
    "thigh_angle_at_contralateral_touchdown_deg": ("Thigh angle at other foot's touchdown", "deg", 1),
    "contact_time_s": ("Ground contact time", "ms", 0),
}
LEG_COLORS = {"left": "#1f77b4", "right": "#d62728"}
FILMED_ORDER = {"near": 0, "far": 1, None: 2}  # near first: on a tie the trend uses it (measured best)

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


def _shown(measure: str, value: float | None) -> float | None:
    """A row's value in the unit the page shows (ms for contact and flight times)."""
    return None if value is None else value * 1000.0 if measure in MS_MEASURES else value


def _measure_cell(row: dict, leg: str, measure: str) -> str:
    digits = LABELS[measure][2]
    mean = row.get(f"{leg}_{measure}")
    low, high = row.get(f"{leg}_{measure}_ci95_low"), row.get(f"{leg}_{measure}_ci95_high")
    text = _fmt(_shown(measure, mean), digits)
    if mean is not None and low is not None and high is not None:
        text += f" [{_fmt(_shown(measure, low), digits)}, {_fmt(_shown(measure, high), digits)}]"
    return f'<td class="num" data-v="{_num_attr(mean)}">{_esc(text)}</td>'


def filmed_as(row: dict, leg: str) -> str | None:
    """How ``leg`` was filmed in this clip: ``near``, ``far``, or None when not known."""
    value = row.get(f"{leg}_filmed_as")
    return value if value in ("near", "far") else None


def _n_sessions(n: int) -> str:
    return f"{n} session{'' if n == 1 else 's'}"


def trend_filming(rows: list[dict], leg: str) -> tuple[str | None, str]:
    """(how ``leg`` was filmed in the clips its trend joins, a sentence saying so if sessions differ).

    A leg is compared with itself filmed from the same side: the filming of the
    most sessions, near on a tie. A session filmed from both sides counts for both.
    """
    sessions = defaultdict(set)
    for r in rows:
        sessions[filmed_as(r, leg)].add(r["session"])
    kinds = sorted(sessions, key=lambda f: (-len(sessions[f]), FILMED_ORDER[f]))
    if len(kinds) < 2:
        return (kinds[0] if kinds else None), ""
    used = kinds[0]
    listed = " and ".join(
        f"{'with the side not known' if f is None else f'as {f} leg'} on {_n_sessions(len(sessions[f]))}"
        for f in sorted(sessions, key=FILMED_ORDER.get)
    )
    n = len(sessions[used])
    which = f"{n} {used or 'side-unknown'} session{'' if n == 1 else 's'}"
    return used, f"{leg.capitalize()} leg filmed {listed}: trend uses the {which}."


def flag_counts(rows: list[dict]) -> list[str]:
    """Each raised flag per leg and filming, with in how many of the sessions filmed that way."""
    sessions, raised = defaultdict(set), defaultdict(set)
    for r in rows:
        for leg in LEGS:
            sessions[leg, filmed_as(r, leg)].add(r["session"])
        for flag in filter(None, (r.get("flags") or "").split("; ")):
            leg, _, code = flag.partition(":")
            raised[leg, filmed_as(r, leg), code].add(r["session"])
    out = []
    for (leg, filmed, code), hit in sorted(raised.items(), key=lambda i: (i[0][0], FILMED_ORDER[i[0][1]], i[0][2])):
        total = len(sessions.get((leg, filmed)) or hit)
        out.append(f"{leg}{f' as {filmed} leg' if filmed else ''}: {code} in {len(hit)} of {_n_sessions(total)}")
    return out


def order_rows(rows: list[dict]) -> list[dict]:
    """Athletes with any flag first, then by athlete, session, clip."""
    flagged = {r["athlete"] for r in rows if r.get("n_flags")}
    return sorted(rows, key=lambda r: (r["athlete"] not in flagged, r["athlete"], r["session"], r["clip"]))


def _table(rows: list[dict]) -> str:
    heads = ["Athlete", "Session", "Clip", "Status", "Near leg", "Flags"]
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
            f'<td data-v="{_esc(r.get("near_side"))}">{_esc(r.get("near_side"))}</td>',
            f'<td data-v="{_esc(r.get("flags"))}" class="flag">{_esc(r.get("flags"))}</td>',
        ]
        cells += [_measure_cell(r, leg, m) for m in KEY_MEASURES for leg in LEGS]
        out.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _trend_points(rows: list[dict], measure: str, sessions: list[str]) -> list[tuple]:
    """(session index, leg, mean, low, high, filmed as) of each clip's leg, in the page's unit."""
    points = []
    for r in rows:
        for leg in LEGS:
            mean = _shown(measure, r.get(f"{leg}_{measure}"))
            if mean is not None:
                low = _shown(measure, r.get(f"{leg}_{measure}_ci95_low"))
                high = _shown(measure, r.get(f"{leg}_{measure}_ci95_high"))
                points.append(
                    (
                        sessions.index(r["session"]),
                        leg,
                        mean,
                        mean if low is None else low,
                        mean if high is None else high,
                        filmed_as(r, leg),
                    )
                )
    return points


def _trend_svg(rows: list[dict], measure: str, sessions: list[str], used: dict) -> str:
    """Each ok clip's leg mean with its 95% CI bar, and per leg a line through the session means of the
    clips where it was filmed as ``used[leg]`` (filled dots); the leg filmed otherwise: hollow dots, no line."""
    name, unit, digits = LABELS[measure]
    w, h, left, right, top, bottom = 300, 160, 48, 10, 22, 30
    points = _trend_points(rows, measure, sessions)
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
        for i, lg, mean, low, high, filmed in points:
            if lg != leg:
                continue
            in_trend = filmed == used[leg]
            if in_trend:
                by_session[i].append(mean)
            parts.append(
                f'<line x1="{x(i) + dx:.1f}" y1="{y(low):.1f}" x2="{x(i) + dx:.1f}" y2="{y(high):.1f}" '
                f'stroke="{color}" stroke-opacity="0.5"/>'
            )
            what = f"{leg}{f' as {filmed} leg' if filmed else ''}{'' if in_trend else ' (not in the line)'}"
            fill = color if in_trend else "#fff"
            parts.append(
                f'<circle cx="{x(i) + dx:.1f}" cy="{y(mean):.1f}" r="2.5" fill="{fill}" stroke="{color}">'
                f"<title>{_esc(what)}: {_fmt(mean, digits)} {_esc(unit)}</title></circle>"
            )
        means = [(i, math.fsum(v) / len(v)) for i, v in sorted(by_session.items())]
        if len(means) > 1:
            line = " ".join(f"{x(i) + dx:.1f},{y(v):.1f}" for i, v in means)
            as_leg = f" as {used[leg]} leg" if used[leg] else ""
            trend = f"{leg} leg{as_leg}: session means {_fmt(means[0][1], digits)} to {_fmt(means[-1][1], digits)}"
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{color}" data-leg="{leg}">'
                f"<title>{_esc(trend)} {_esc(unit)}</title></polyline>"
            )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">' + "".join(parts) + "</svg>"


def _athlete_sections(rows: list[dict]) -> str:
    by_athlete = defaultdict(list)
    for r in rows:
        by_athlete[r["athlete"]].append(r)
    out = []
    for athlete, athlete_rows in by_athlete.items():
        ok = [r for r in athlete_rows if r["status"] == STATUS_OK]
        sessions = sorted({r["session"] for r in ok})
        flags = flag_counts(ok)
        head = f'<h3>{_esc(athlete)}</h3><p class="note">{len(ok)} analyzed clip(s) over {len(sessions)} session(s)'
        head += (f'; flags: <span class="flag">{_esc("; ".join(flags))}</span>' if flags else "; no flags") + "</p>"
        used, sides = {}, []
        for leg in LEGS:
            used[leg], note = trend_filming(ok, leg)
            sides += [f'<p class="note sides">{_esc(note)}</p>'] if note else []
        charts = "".join(_trend_svg(ok, m, sessions, used) for m in KEY_MEASURES) if ok else ""
        out.append(f'<div class="athlete">{head}{"".join(sides)}<div class="charts">{charts}</div></div>')
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
<p class="note">{legend}. Dots: one clip's mean with its 95% CI; lines join the session means of a leg
filmed from the same side (as the near leg, or as the far leg: the far leg reads differently, its swing velocity
6-10 % low); hollow dots: that leg filmed from the other side, not in the line. Flags are counted per leg and
side filmed. Contact times in ms.</p>
{_athlete_sections(rows)}
<script>{_JS}</script>
</body></html>
"""
