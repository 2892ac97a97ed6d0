"""The report's figures (matplotlib, Agg): each function draws one PNG from the analysis tables.

Output only: every value plotted is read from the tables; nothing is computed
here beyond choosing which step to show. Figures are built with the
object-oriented API (no pyplot state), so they are safe in any thread.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.landmarks import SIDES

NEAR_HEX, FAR_HEX, TRUNK_HEX = "#ff9614", "#28aaff", "#555555"
DPI = 100


def leg_color(summary: dict, side: str) -> str:
    return FAR_HEX if (summary.get("leg_of_side") or {}).get(side) == "far" else NEAR_HEX


def _figure(width_in: float, height_in: float, nrows: int = 1, ncols: int = 1, **kw):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def png_bytes(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _swings(steps: pd.DataFrame, side: str) -> list[tuple[float, float]]:
    """(toe-off, next touchdown of the same foot) of each measured swing of ``side``."""
    out = []
    for _, s in steps[steps[col.SIDE] == side].iterrows():
        if math.isfinite(s[col.SWING_TIME_S]):
            out.append((s[col.TOE_OFF_S], s[col.TOE_OFF_S] + s[col.SWING_TIME_S]))
    return out


def hip_flexion_figure(summary: dict, frames: pd.DataFrame, steps: pd.DataFrame):
    """Hip-flexion angle and angular velocity per leg over time; swings shaded; peaks marked."""
    fig, ax = _figure(9, 5.5, 2, 1, sharex=True)
    a_ang, a_vel = ax[0, 0], ax[1, 0]
    t = frames[col.TIME_S].to_numpy(float)
    for side in SIDES:
        color = leg_color(summary, side)
        leg = (summary.get("leg_of_side") or {}).get(side, "?")
        a_ang.plot(t, frames[col.per_side(col.HIP_FLEXION_DEG, side)], color=color, lw=1.4, label=f"{side} ({leg} leg)")
        a_vel.plot(t, frames[col.per_side(col.HIP_FLEXION_VELOCITY_DEG_S, side)], color=color, lw=1.4)
        for t_a, t_b in _swings(steps, side):
            for a in (a_ang, a_vel):
                a.axvspan(t_a, t_b, color=color, alpha=0.12, lw=0)
        mine = steps[steps[col.SIDE] == side]
        if len(mine):
            a_vel.plot(
                mine[col.PEAK_SWING_HIP_FLEXION_VELOCITY_S],
                mine[col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S],
                "v",
                color=color,
                mec="black",
                ms=7,
                label=f"{side} swing peak velocity",
            )
            a_ang.plot(
                mine[col.TOE_OFF_S] + mine[col.TIME_TO_PEAK_KNEE_DRIVE_S],
                mine[col.MAX_HIP_FLEXION_DEG],
                "^",
                color=color,
                mec="black",
                ms=7,
                label=f"{side} peak knee drive",
            )
    ref = (summary.get("config") or {}).get("flags", {}).get("peak_swing_hip_flexion_velocity_ref_deg_s")
    if ref:
        a_vel.axhline(ref, color="crimson", ls="--", lw=1, label=f"reference {ref:.0f} deg/s")
    a_ang.set_ylabel("hip flexion (deg)")
    a_vel.set_ylabel("hip-flexion velocity (deg/s)")
    a_vel.set_xlabel("time (s, real capture time); shaded: swing phases")
    for a in (a_ang, a_vel):
        a.grid(alpha=0.3)
    a_ang.set_title("Hip flexion and its angular velocity")
    # one key for both panels, above them: outside the axes, it never covers a curve
    entries = {}
    for a in (a_ang, a_vel):
        entries.update({label: h for h, label in zip(*a.get_legend_handles_labels())})
    order = ("leg)", "peak knee drive", "swing peak velocity", "reference")  # one column per kind
    labels = sorted(entries, key=lambda label: next((k for k, w in enumerate(order) if w in label), len(order)))
    if labels:
        fig.legend([entries[k] for k in labels], labels, loc="outside upper center", ncol=4, fontsize=8, frameon=False)
    return fig


def contact_timeline_figure(summary: dict, frames: pd.DataFrame, contacts: pd.DataFrame):
    """Contacts (bars) and flight (gaps) per foot over the clip."""
    fig, ax = _figure(9, 2.2)
    a = ax[0, 0]
    for k, side in enumerate(SIDES):
        mine = contacts[contacts[col.SIDE] == side]
        spans = [(r[col.TOUCHDOWN_S], r[col.TOE_OFF_S] - r[col.TOUCHDOWN_S]) for _, r in mine.iterrows()]
        a.broken_barh(spans, (k - 0.35, 0.7), color=leg_color(summary, side))
        for td, dur in spans:
            a.text(td + dur / 2, k, f"{dur * 1000:.0f}", ha="center", va="center", fontsize=7)
    t = frames[col.TIME_S]
    if len(t) and float(t.iloc[-1]) > float(t.iloc[0]):  # one frame: matplotlib's own limits (no warning)
        a.set_xlim(float(t.iloc[0]), float(t.iloc[-1]))
    a.set_yticks([0, 1], [f"{s} foot" for s in SIDES])
    a.set_ylim(-0.6, 1.6)
    a.set_xlabel("time (s); bars: ground contact (ms), gaps: in the air")
    a.grid(axis="x", alpha=0.3)
    a.set_title("Ground contacts per foot")
    return fig


def steps_figure(summary: dict, steps: pd.DataFrame):
    """Per-step bars: contact time and peak swing hip-flexion velocity, in time order."""
    fig, ax = _figure(9, 4.5, 1, 2)
    ordered = steps.sort_values(col.TOUCHDOWN_S, ignore_index=True)
    colors = [leg_color(summary, s) for s in ordered[col.SIDE]]
    labels = [f"{i + 1}{s[0].upper()}" for i, s in enumerate(ordered[col.SIDE])]
    x = np.arange(len(ordered))
    a = ax[0, 0]
    a.bar(x, ordered[col.CONTACT_TIME_S] * 1000.0, color=colors, edgecolor="black", lw=0.5)
    a.set_title("Ground contact time per step")
    a.set_ylabel("ms")
    b = ax[0, 1]
    b.bar(x, ordered[col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S], color=colors, edgecolor="black", lw=0.5)
    ref = (summary.get("config") or {}).get("flags", {}).get("peak_swing_hip_flexion_velocity_ref_deg_s")
    b.set_title("Peak swing hip-flexion velocity per swing")
    if ref:  # named in the title: a legend inside the axes would cover bars
        b.axhline(ref, color="crimson", ls="--", lw=1)
        b.set_title(f"Peak swing hip-flexion velocity per swing\n(dashed: reference {ref:.0f} deg/s)")
    b.set_ylabel("deg/s")
    for a_ in (a, b):
        a_.set_xticks(x, labels, fontsize=8)
        a_.set_xlabel("step (number + foot L/R)")
        a_.grid(axis="y", alpha=0.3)
    return fig


def _row_at(frames: pd.DataFrame, t_s: float) -> int | None:
    """Row of the frame nearest to ``t_s`` that has a pose."""
    if not math.isfinite(t_s) or not len(frames):
        return None
    k = int(np.argmin(np.abs(frames[col.TIME_S].to_numpy(float) - t_s)))
    detected = str(frames[col.POSE_DETECTED].iloc[k]).lower() in ("true", "1", "1.0")
    return k if detected else None


def _stick(a, summary: dict, frames: pd.DataFrame, row: int, highlight: str) -> None:
    def p(side: str, point: str):
        return frames[col.landmark(side, point, "x_px")].iloc[row], frames[col.landmark(side, point, "y_px")].iloc[row]

    for side in SIDES:
        a.plot(*zip(p(side, "shoulder"), p(side, "hip")), color=TRUNK_HEX, lw=2)
    for side in sorted(SIDES, key=lambda s: s == highlight):
        chain = [p(side, q) for q in ("hip", "knee", "ankle", "heel", "foot_index", "ankle")]
        a.plot(*zip(*chain), color=leg_color(summary, side), lw=4 if side == highlight else 2, marker="o", ms=3)
    a.set_aspect("equal")
    a.invert_yaxis()
    a.set_xticks([])
    a.set_yticks([])


def stick_figure_snapshots(summary: dict, frames: pd.DataFrame, steps: pd.DataFrame):
    """Per leg: the body at this foot's touchdown and at this leg's following peak knee drive.

    The step shown is the most confident contact whose swing has a measured
    knee-drive peak. Drawn in the analysis orientation (running to the right).
    """
    fig, ax = _figure(10, 3.4, 1, 4)
    for r, side in enumerate(sorted(SIDES, key=lambda s: (summary.get("leg_of_side") or {}).get(s) == "far")):
        mine = steps[(steps[col.SIDE] == side)].copy()
        mine = mine[np.isfinite(mine[col.TIME_TO_PEAK_KNEE_DRIVE_S].astype(float))] if len(mine) else mine
        events = []
        if len(mine):
            best = mine.loc[mine[col.CONFIDENCE].idxmax()]
            events = [
                ("touchdown", best[col.TOUCHDOWN_S]),
                ("peak knee drive", best[col.TOE_OFF_S] + best[col.TIME_TO_PEAK_KNEE_DRIVE_S]),
            ]
        for c in range(2):
            a = ax[0, 2 * r + c]
            name, t_s = events[c] if events else (("touchdown", "peak knee drive")[c], math.nan)
            row = _row_at(frames, t_s)
            if row is None:
                a.text(0.5, 0.5, "no pose / no step", ha="center", va="center", transform=a.transAxes)
                a.set_xticks([])
                a.set_yticks([])
            else:
                _stick(a, summary, frames, row, side)
            a.set_title(f"{side} leg: {name}" + (f" at {t_s:.3f} s" if math.isfinite(t_s) else ""), fontsize=9)
    return fig
