"""Annotated video: the per-frame overlay (data in overlay.py, primitives in draw.py). Draws only.

Every number drawn comes from the analysis tables (frames, contacts, steps,
summary); nothing here computes a measure. The only geometry computed is where
to draw (directions of the trunk and thigh for the hip-flexion arc, crop boxes).

Coordinates: the analysis tables hold landmarks in *oriented* pixels (x mirrored
when the athlete runs right-to-left, so +x is forward); :func:`overlay_from_tables`
turns them back into the pixels of the upright frame before anything is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gaitlab.core import columns as col
from gaitlab.core.landmarks import SIDES
from gaitlab.outputs.draw import (
    FLAG_RGB,
    NO_POSE_RGB,
    PANEL_RGB,
    PEAK_TICK_RGB,
    TEXT_RGB,
    TIMELINE_BG_RGB,
    TRUNK_RGB,
    _finite,
    draw_angle_arc,
    draw_contact_indicator,
    draw_joint,
    draw_segment,
    draw_text,
    shade,
    text_ink,
    timeline_x,
)
from gaitlab.outputs.overlay import OverlayData

# Drawn per side: the analysis skeleton (what the measures are computed from).
LEG_EDGES = (("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"))
CAP_FRAC = 0.036  # label capitals: 3.6 % of the frame's short side (about 19 px at 540p, 39 px at 1080p)
HEADER_RGB = (190, 190, 190)
FLAG_TITLES = {
    "slow_swing_velocity": "slow swing velocity",
    "swing_velocity_asymmetry": "swing slower than other leg",
    "late_knee_drive": "late knee drive",
    "leg_lag": "leg lag at touchdown",
}


# ---------------------------------------------------------------- timeline strip


def render_timeline_strip(
    width_px: int, height_px: int, overlay: OverlayData, *, label_w_px: int, scale: float
) -> np.ndarray:
    """The static part of the contact timeline: one row per foot, contacts as bars, swing peaks as ticks."""
    import cv2

    strip = np.empty((height_px, width_px, 3), np.uint8)
    strip[:] = TIMELINE_BG_RGB
    row_h = height_px // 2
    t0, t1 = _time_range(overlay)
    tick, pad = max(1, round(scale)), max(2, row_h // 7)
    font = 0.6 * row_h / 21.0
    thick = max(1, round(2 * font))
    for r, side in enumerate(SIDES):
        y0 = r * row_h
        y_text = y0 + (row_h - text_ink("L", font, thick)[1]) // 2
        draw_text(strip, side[0].upper(), (3, y_text), font, color=overlay.color(side), thickness=thick)
        for _, c in overlay.contacts[overlay.contacts[col.SIDE] == side].iterrows():
            xa = timeline_x(c[col.TOUCHDOWN_S], t0, t1, label_w_px, width_px)
            xb = timeline_x(c[col.TOE_OFF_S], t0, t1, label_w_px, width_px)
            cv2.rectangle(strip, (xa, y0 + pad), (max(xa + 1, xb), y0 + row_h - pad), overlay.color(side), -1)
        for _, p in overlay.swing_peaks[overlay.swing_peaks[col.SIDE] == side].iterrows():
            x = timeline_x(p[col.PEAK_SWING_HIP_FLEXION_VELOCITY_S], t0, t1, label_w_px, width_px)
            cv2.line(strip, (x, y0 + row_h // 4), (x, y0 + row_h - row_h // 4), PEAK_TICK_RGB, tick)
    return strip


def _time_range(overlay: OverlayData) -> tuple[float, float]:
    t = overlay.time_s
    return (float(t[0]), float(t[-1])) if len(t) else (0.0, 1.0)


# ---------------------------------------------------------------- the per-frame overlay


@dataclass(frozen=True)
class ViewTransform:
    """Upright-frame pixels -> output pixels (identity, or a crop scaled to the output size)."""

    x0_px: float = 0.0
    y0_px: float = 0.0
    scale: float = 1.0

    def apply(self, p: np.ndarray) -> np.ndarray:
        return (p - np.array([self.x0_px, self.y0_px])) * self.scale


def _fmt(value: float, spec: str) -> str:
    return format(value, spec) if value is not None and math.isfinite(value) else "-"


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int


class FrameAnnotator:
    """Draws the overlay of one analysis onto frames, in place. Holds only static, precomputed images.

    Sizes scale with the frame's short side (the height of a landscape clip), so the video reads the
    same on a phone at any resolution: label capitals are ``CAP_FRAC`` of it, lines scale alike.

    The time counter shows the analysis's real time (``OverlayData.time_s``), or, given
    ``capture_fps`` (``gaitlab annotate --capture-fps``), that time recounted at this capture rate;
    the analysis's own times (contacts, swing peaks) still place the marks. ``clock_slowmo``: the
    slow-motion factor of the clip's clock the ``time_s`` handed to :meth:`annotate` come from;
    ``playback_slowmo``: how much slower than stored the video plays. The counter also shows how
    many times slower than real time the video plays, when more than 1.
    """

    def __init__(
        self,
        overlay: OverlayData,
        *,
        out_size_px: tuple[int, int],
        capture_fps: float | None = None,
        clock_slowmo: float | None = None,
        playback_slowmo: float = 1.0,
    ):
        self.ov = overlay
        self.w, self.h = out_size_px
        u = min(self.w, self.h)
        self.s = u / 540.0
        self.font = CAP_FRAC * u / 21.0  # Hershey capitals are 21 units high at scale 1
        self.small = 0.8 * self.font
        self.text_thick = max(1, round(2.2 * self.font))
        self.thick = max(2, round(0.005 * u))
        self.leg_thick = self.thick + max(1, self.thick // 2)
        _, cap, desc = text_ink("Hg", self.font, self.text_thick)
        self.cap = cap
        self.pad = max(2, round(0.25 * cap))
        self.line_h = cap + desc + 2 * self.pad
        self.margin = max(3, round(0.012 * u))
        self.strip_h = max(24, round(0.075 * u))
        self.label_w = round(0.045 * u) + 4
        self.strip = render_timeline_strip(self.w, self.strip_h, overlay, label_w_px=self.label_w, scale=self.s)
        self.t0, self.t1 = _time_range(overlay)
        known = capture_fps is not None and capture_fps > 0 and math.isfinite(overlay.capture_fps)
        self.time_scale = overlay.capture_fps / capture_fps if known else 1.0  # shown time / analysis time
        self.analysis_slowmo = overlay.slowmo_factor if math.isfinite(overlay.slowmo_factor) else clock_slowmo or 1.0
        self.clock_slowmo = clock_slowmo or self.analysis_slowmo
        slowdown = playback_slowmo * self.analysis_slowmo / self.time_scale
        self.slow_text = f"   {slowdown:.3g}x slow-mo" if slowdown > 1.05 else ""
        self.flag_lines = self._flag_lines()
        self._layout()

    def _flag_lines(self) -> list[tuple[str, str]]:
        lines = []
        for side in sorted(SIDES, key=lambda s: self.ov.leg_of_side.get(s) == "far"):
            for f in self.ov.flags:
                if f.get("side") == side:
                    lines.append((side, f"FLAG {side} leg: {FLAG_TITLES.get(f['code'], f['code'])}"))
        return lines

    # -- static geometry: counters and flags top left, the per-leg panel top right (below them if narrow)
    def _layout(self) -> None:
        m, pad = self.margin, self.pad
        template = "".join("0" if c.isdigit() else c for c in self.counter_text(self._last_frame(), self.t1))
        self.counter_box = Box(m, m, m + text_ink(template, self.font, self.text_thick)[0] + 2 * pad, m + self.line_h)
        r = self.cap // 2
        names = [self._side_name(s) for s in SIDES]
        c0 = 2 * r + 2 * pad + max(text_ink(n, self.font, self.text_thick)[0] for n in names)
        c1 = max(text_ink("contact", self.small)[0], text_ink("000 ms", self.font, self.text_thick)[0])
        c2 = max(text_ink("swing peak", self.small)[0], text_ink("0000 deg/s", self.font, self.text_thick)[0])
        self.columns = (c0, c1, c2)
        _, scap, sdesc = text_ink("Hg", self.small)
        self.header_h = scap + sdesc + pad
        panel_w = pad + c0 + 2 * pad + c1 + 2 * pad + c2 + pad
        panel_h = self.header_h + 2 * self.line_h
        side_by_side = self.counter_box.x1 + 2 * m + panel_w <= self.w
        flag_w = (self.w - panel_w - 3 * m) if side_by_side else (self.w - 2 * m)
        self.flag_fonts = [
            self.font * min(1.0, (flag_w - 2 * pad) / max(1, text_ink(t, self.font, self.text_thick)[0]))
            for _, t in self.flag_lines
        ]
        left_bottom = self.counter_box.y1 + len(self.flag_lines) * (self.line_h + 2)
        if side_by_side:
            self.panel_box = Box(self.w - m - panel_w, m, self.w - m, m + panel_h)
        else:
            self.panel_box = Box(m, left_bottom + 2, m + panel_w, left_bottom + 2 + panel_h)
        self.top_bottom = max(left_bottom, self.panel_box.y1)

    def _last_frame(self) -> int:
        return int(self.ov.frame_index.max()) if len(self.ov.frame_index) else 0

    def _side_name(self, side: str) -> str:
        return f"{side[0].upper()} {self.ov.leg_of_side.get(side, '?')} leg"

    def counter_text(self, frame_index: int, time_s: float) -> str:
        """The time counter: real capture time (s, to the ms) in the shown time base, the frame number."""
        return f"{_fmt(time_s * self.time_scale, '.3f')} s   frame {frame_index}{self.slow_text}"

    # -- pieces
    def draw_skeleton(self, img: np.ndarray, row: int, view: ViewTransform) -> None:
        ov = self.ov
        p = {name: view.apply(arr[row]) for name, arr in ov.points.items()}
        draw_segment(img, p["left_shoulder"], p["right_shoulder"], TRUNK_RGB, self.thick)
        draw_segment(img, p["left_hip"], p["right_hip"], TRUNK_RGB, self.thick)
        for side in SIDES:
            draw_segment(img, p[f"{side}_shoulder"], p[f"{side}_hip"], TRUNK_RGB, self.thick)
        # far leg first so the near leg is drawn on top, as it is in the scene
        for side in sorted(SIDES, key=lambda s: ov.leg_of_side.get(s) != "far"):
            color = ov.color(side)
            for a, b in LEG_EDGES:
                draw_segment(img, p[f"{side}_{a}"], p[f"{side}_{b}"], color, self.leg_thick)
            for point in ("hip", "knee", "ankle"):
                draw_joint(img, p[f"{side}_{point}"], color, self.leg_thick + 1)

    def draw_ground_marks(self, img: np.ndarray, row: int, time_s: float, view: ViewTransform) -> None:
        """A thick bar under each foot that is on the ground (heel to toe)."""
        for side in SIDES:
            if self.ov.contact_at(side, time_s) is None:
                continue
            heel = view.apply(self.ov.points[f"{side}_heel"][row])
            toe = view.apply(self.ov.points[f"{side}_foot_index"][row])
            offset = np.array([0.0, 6 * self.s])
            draw_segment(img, heel + offset, toe + offset, self.ov.color(side), self.leg_thick + 2)

    def draw_hip_arcs(self, img: np.ndarray, row: int, view: ViewTransform) -> None:
        ov = self.ov
        p = {name: view.apply(arr[row]) for name, arr in ov.points.items()}
        shoulder_mid = (p["left_shoulder"] + p["right_shoulder"]) / 2.0
        hip_mid = (p["left_hip"] + p["right_hip"]) / 2.0
        trunk_down = hip_mid - shoulder_mid  # the reversed trunk: hip flexion is measured from it
        for k, side in enumerate(sorted(SIDES, key=lambda s: ov.leg_of_side.get(s) == "far")):
            hip, knee = p[f"{side}_hip"], p[f"{side}_knee"]
            if not (_finite(hip) and _finite(knee) and _finite(trunk_down)):
                continue
            thigh = knee - hip
            thigh_len = float(np.linalg.norm(thigh))
            radius = int(np.clip((0.5 - 0.15 * k) * thigh_len, 10 * self.s, 90 * self.s))
            a_from = math.degrees(math.atan2(trunk_down[1], trunk_down[0]))
            a_to = math.degrees(math.atan2(thigh[1], thigh[0]))
            color = ov.color(side)
            draw_angle_arc(img, hip, a_from, a_to, radius, color, self.thick)
            # a short reference ray along the trunk line so the arc reads as "from the trunk"
            ref_end = hip + trunk_down / (np.linalg.norm(trunk_down) + 1e-9) * (radius + 6 * self.s)
            draw_segment(img, hip, ref_end, TRUNK_RGB, max(1, self.thick // 2))
            text = (
                f"hip {_fmt(ov.hip_flexion_deg[side][row], '.0f')} deg "
                f"{_fmt(ov.hip_flexion_velocity_deg_s[side][row], '+.0f')} deg/s"
            )
            # labels go behind the athlete, where they hide neither the knee drive nor the front foot;
            # in front when the frame ends behind the athlete (rather than over the body)
            tw = text_ink(text, self.font, self.text_thick)[0] + 2 * self.pad
            gap = int(60 * self.s)
            behind, ahead = (hip[0] + gap, hip[0] - gap - tw) if ov.mirrored else (hip[0] - gap - tw, hip[0] + gap)
            x = behind if 0 <= behind <= self.w - tw or not 0 <= ahead <= self.w - tw else ahead
            y = hip[1] - 1.6 * self.line_h + k * (self.line_h + 2)
            self._label(img, text, (int(np.clip(x, 0, self.w - tw)), int(y)), color=color)

    def _label(self, img: np.ndarray, text: str, org, *, color=TEXT_RGB, font=None, bg=PANEL_RGB, alpha=0.8) -> Box:
        """Text on a backdrop whose top-left corner is ``org``; returns the backdrop's box."""
        font = font or self.font
        thick = self.text_thick if font >= 0.9 * self.font else max(1, round(2.2 * font))
        w, cap, desc = text_ink(text, font, thick)
        box = Box(int(org[0]), int(org[1]), int(org[0]) + w + 2 * self.pad, int(org[1]) + cap + desc + 2 * self.pad)
        shade(img, box.x0, box.y0, box.x1, box.y1, bg, alpha)
        draw_text(img, text, (box.x0 + self.pad, box.y0 + self.pad), font, color=color, thickness=thick)
        return box

    def draw_counters(self, img: np.ndarray, frame_index: int, time_s: float) -> None:
        """Top-left corner band: capture time and frame number (and the slow-motion factor)."""
        text = self.counter_text(frame_index, time_s)
        b = self.counter_box
        width = max(b.x1 - b.x0, text_ink(text, self.font, self.text_thick)[0] + 2 * self.pad)
        shade(img, b.x0, b.y0, b.x0 + width, b.y1, PANEL_RGB, 0.85)
        draw_text(img, text, (b.x0 + self.pad, b.y0 + self.pad), self.font, thickness=self.text_thick)

    def draw_flags(self, img: np.ndarray) -> None:
        """One red line per flag under the counters."""
        y = self.counter_box.y1 + 2
        for (_, text), font in zip(self.flag_lines, self.flag_fonts):
            self._label(img, text, (self.margin, y), font=font, bg=FLAG_RGB, alpha=0.9)
            y += self.line_h + 2

    def draw_panel(self, img: np.ndarray, time_s: float) -> None:
        """Per leg: on the ground (disc) or in the air (ring), its current or last contact time, its last
        swing peak hip-flexion velocity. The leg names in their colours are the skeleton's key."""
        ov, b, pad = self.ov, self.panel_box, self.pad
        c0, c1, c2 = self.columns
        shade(img, b.x0, b.y0, b.x1, b.y1, PANEL_RGB, 0.8)
        right1 = b.x0 + pad + c0 + 2 * pad + c1
        right2 = right1 + 2 * pad + c2
        for text, right in (("contact", right1), ("swing peak", right2)):
            w = text_ink(text, self.small)[0]
            draw_text(img, text, (right - w, b.y0 + pad), self.small, color=HEADER_RGB, thickness=1)
        y = b.y0 + self.header_h
        for line, side in enumerate(sorted(SIDES, key=lambda s: ov.leg_of_side.get(s) == "far")):
            color = ov.color(side)
            now = ov.contact_at(side, time_s)
            k = now if now is not None else ov.last_contact_before(time_s, side)
            p = ov.last_peak_before(time_s, side)
            center, r = self.indicator(line)
            draw_contact_indicator(img, center, r, color, now is not None)
            cells = (
                (self._side_name(side), center[0] + r + 2 * pad, color),
                (f"{_fmt(ov.contact_time_s(k) * 1000.0, '.0f')} ms" if k is not None else "- ms", None, TEXT_RGB),
                (
                    f"{_fmt(ov.swing_peaks[col.PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S].iloc[p], '.0f')} deg/s"
                    if p is not None
                    else "- deg/s",
                    None,
                    TEXT_RGB,
                ),
            )
            for (text, x, c), right in zip(cells, (None, right1, right2)):
                x = x if right is None else right - text_ink(text, self.font, self.text_thick)[0]
                draw_text(img, text, (x, y + pad), self.font, color=c, thickness=self.text_thick)
            y += self.line_h

    def indicator(self, line: int) -> tuple[tuple[int, int], int]:
        """Centre and radius of the on-the-ground disc of panel line ``line`` (0: the near leg)."""
        r = self.cap // 2
        return (
            self.panel_box.x0 + self.pad + r,
            self.panel_box.y0 + self.header_h + line * self.line_h + self.pad + r,
        ), r

    def draw_timeline(self, img: np.ndarray, time_s: float) -> None:
        import cv2

        y0 = self.h - self.strip_h
        img[y0:, :] = self.strip
        if math.isfinite(time_s):
            x = timeline_x(time_s, self.t0, self.t1, self.label_w, self.w)
            cv2.line(img, (x, y0), (x, self.h - 1), TEXT_RGB, self.thick)

    def draw_no_pose(self, img: np.ndarray) -> None:
        text = "NO POSE in this frame"
        font = 1.2 * self.font
        w = text_ink(text, font, self.text_thick)[0] + 2 * self.pad
        self._label(img, text, ((self.w - w) // 2, self.top_bottom + self.margin), font=font, color=NO_POSE_RGB)

    # -- the whole overlay
    def annotate(
        self, img: np.ndarray, frame_index: int, time_s: float | None = None, view: ViewTransform = ViewTransform()
    ) -> np.ndarray:
        """Draw the overlay of stored frame ``frame_index`` onto ``img`` (in place) and return it.

        ``time_s``: the frame's real time on the clip's clock (``clock_slowmo``), used when the
        analysis has no row for the frame.
        """
        row = self.ov.row(frame_index)
        if row is not None:
            t = float(self.ov.time_s[row])  # the analysis's time base
        elif time_s is not None:
            t = float(time_s) * self.clock_slowmo / self.analysis_slowmo
        else:
            t = math.nan
        has_pose = row is not None and bool(self.ov.detected[row])
        if has_pose:
            self.draw_ground_marks(img, row, t, view)
            self.draw_skeleton(img, row, view)
            self.draw_hip_arcs(img, row, view)
        self.draw_timeline(img, t)
        self.draw_counters(img, frame_index, t)
        self.draw_flags(img)
        self.draw_panel(img, t)
        if not has_pose:
            self.draw_no_pose(img)
        return img
