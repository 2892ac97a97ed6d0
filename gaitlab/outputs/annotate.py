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
    FAR_RGB,
    FLAG_RGB,
    NEAR_RGB,
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
    draw_label,
    draw_segment,
    text_size,
    timeline_x,
)
from gaitlab.outputs.overlay import OverlayData

# Drawn per side: the analysis skeleton (what the measures are computed from).
LEG_EDGES = (("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"))
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
    for r, side in enumerate(SIDES):
        y0 = r * row_h
        draw_label(
            strip,
            side[0].upper(),
            (2, y0 + max(0, (row_h - int(22 * scale)) // 2)),
            0.5 * scale,
            color=overlay.color(side),
            bg=None,
        )
        for _, c in overlay.contacts[overlay.contacts[col.SIDE] == side].iterrows():
            xa = timeline_x(c[col.TOUCHDOWN_S], t0, t1, label_w_px, width_px)
            xb = timeline_x(c[col.TOE_OFF_S], t0, t1, label_w_px, width_px)
            cv2.rectangle(strip, (xa, y0 + 3), (max(xa + 1, xb), y0 + row_h - 3), overlay.color(side), -1)
        for _, p in overlay.swing_peaks[overlay.swing_peaks[col.SIDE] == side].iterrows():
            x = timeline_x(p[col.PEAK_SWING_HIP_FLEXION_VELOCITY_S], t0, t1, label_w_px, width_px)
            cv2.line(strip, (x, y0 + row_h // 3), (x, y0 + row_h - row_h // 3), PEAK_TICK_RGB, 1)
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


class FrameAnnotator:
    """Draws the overlay of one analysis onto frames, in place. Holds only static, precomputed images."""

    def __init__(self, overlay: OverlayData, *, out_size_px: tuple[int, int]):
        self.ov = overlay
        self.w, self.h = out_size_px
        self.s = max(0.45, self.h / 720.0)  # one scale for every size: text stays readable on phones
        self.font = 0.55 * self.s
        self.thick = max(1, int(round(2 * self.s)))
        self.line_h = text_size("Ag", self.font)[1] + text_size("Ag", self.font)[2] + 8
        self.strip_h = max(24, int(44 * self.s))
        self.label_w = int(22 * self.s) + 4
        self.strip = render_timeline_strip(self.w, self.strip_h, overlay, label_w_px=self.label_w, scale=self.s)
        self.t0, self.t1 = _time_range(overlay)
        self.banner = self._banner_text()

    def _banner_text(self) -> str:
        parts = []
        for side in SIDES:
            titles = [FLAG_TITLES.get(f["code"], f["code"]) for f in self.ov.flags if f.get("side") == side]
            if titles:
                parts.append(f"{side.upper()} leg: {', '.join(titles)}")
        return ("FLAG  " + "  |  ".join(parts)) if parts else ""

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
                draw_segment(img, p[f"{side}_{a}"], p[f"{side}_{b}"], color, self.thick + 1)
            for point in ("hip", "knee", "ankle"):
                draw_joint(img, p[f"{side}_{point}"], color, self.thick + 2)

    def draw_ground_marks(self, img: np.ndarray, row: int, time_s: float, view: ViewTransform) -> None:
        """A thick bar under each foot that is on the ground (heel to toe)."""
        for side in SIDES:
            if self.ov.contact_at(side, time_s) is None:
                continue
            heel = view.apply(self.ov.points[f"{side}_heel"][row])
            toe = view.apply(self.ov.points[f"{side}_foot_index"][row])
            offset = np.array([0.0, 6 * self.s])
            draw_segment(img, heel + offset, toe + offset, self.ov.color(side), self.thick + 3)

    def draw_legend(self, img: np.ndarray, top: int) -> None:
        """Top-right key to the skeleton colours."""
        import cv2

        items = [
            (f"near leg ({self._side_of('near')})", NEAR_RGB),
            (f"far leg ({self._side_of('far')})", FAR_RGB),
            ("trunk", TRUNK_RGB),
        ]
        sample = int(24 * self.s)
        widths = [text_size(t, self.font)[0] + sample + 14 for t, _ in items]
        x = self.w - max(widths) - 6
        y = top
        cv2.rectangle(img, (x - 4, y), (self.w - 2, y + len(items) * self.line_h), PANEL_RGB, -1)
        for text, color in items:
            mid = y + self.line_h // 2
            cv2.line(img, (x, mid), (x + sample, mid), color, self.thick + 1, cv2.LINE_AA)
            draw_label(img, text, (x + sample + 4, y), self.font, color=color, bg=None)
            y += self.line_h

    def _side_of(self, leg: str) -> str:
        return next((s for s, which in self.ov.leg_of_side.items() if which == leg), "?")

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
            # a short dashed-free reference ray along the trunk line so the arc reads as "from the trunk"
            ref_end = hip + trunk_down / (np.linalg.norm(trunk_down) + 1e-9) * (radius + 6 * self.s)
            draw_segment(img, hip, ref_end, TRUNK_RGB, 1)
            text = (
                f"hip {_fmt(ov.hip_flexion_deg[side][row], '.0f')} deg "
                f"{_fmt(ov.hip_flexion_velocity_deg_s[side][row], '+.0f')} deg/s"
            )
            # labels go behind the athlete, where they hide neither the knee drive nor the front foot
            tw = text_size(text, self.font * 0.9)[0] + 6
            gap = int(50 * self.s)
            x = hip[0] + gap if ov.mirrored else hip[0] - gap - tw
            org = (int(np.clip(x, 0, self.w - tw)), int(hip[1] - 1.5 * self.line_h + k * (self.line_h + 2)))
            draw_label(img, text, org, self.font * 0.9, color=color, bg=PANEL_RGB)

    def draw_panel(self, img: np.ndarray, row: int | None, time_s: float, top: int) -> None:
        """Top-left panel: legend, per-foot contact state, current contact, last swing peak."""
        ov = self.ov
        x, y = 6, top
        for side in sorted(SIDES, key=lambda s: ov.leg_of_side.get(s) == "far"):
            color = ov.color(side)
            leg = ov.leg_of_side.get(side, "?")
            on_ground = ov.contact_at(side, time_s) is not None
            r = int(7 * self.s)
            draw_label(img, " " * 3, (x, y), self.font, bg=PANEL_RGB)
            draw_contact_indicator(img, (x + r + 5, y + self.line_h // 2), r, color, on_ground)
            state = "on the ground" if on_ground else "in the air"
            draw_label(img, f"{side} = {leg} leg: foot {state}", (x + 2 * r + 10, y), self.font, color=color)
            y += self.line_h
        current = [k for k in (ov.contact_at(s, time_s) for s in SIDES) if k is not None]
        if current:
            k = current[0]
            text = f"contact time ({ov._c_side[k]}): {_fmt(ov._c_ct[k], '.3f')} s"
        elif (k := ov.last_contact_before(time_s)) is not None:
            text = f"last contact time ({ov._c_side[k]}): {_fmt(ov._c_ct[k], '.3f')} s"
        else:
            text = "contact time: -"
        draw_label(img, text, (x, y), self.font)
        y += self.line_h
        k = ov.last_peak_before(time_s)
        if k is not None:
            last = ov.swing_peaks.iloc[k]
            text = (
                f"last swing peak hip-flexion velocity ({last['side']}): "
                f"{_fmt(last['peak_swing_hip_flexion_velocity_deg_s'], '.0f')} deg/s"
            )
        else:
            text = "last swing peak hip-flexion velocity: -"
        draw_label(img, text, (x, y), self.font)

    def draw_timeline(self, img: np.ndarray, time_s: float) -> None:
        import cv2

        y0 = self.h - self.strip_h
        img[y0:, :] = self.strip
        x = timeline_x(time_s, self.t0, self.t1, self.label_w, self.w)
        cv2.line(img, (x, y0), (x, self.h - 1), TEXT_RGB, max(1, self.thick))

    def draw_banner(self, img: np.ndarray) -> int:
        """The flag banner across the top; returns its height (0 when no leg is flagged)."""
        if not self.banner:
            return 0
        _, h, base = text_size(self.banner, self.font, self.thick)
        height = h + base + 10
        img[:height, :] = FLAG_RGB
        draw_label(img, self.banner, (4, 2), self.font, color=TEXT_RGB, bg=None, thickness=self.thick)
        return height

    def draw_no_pose(self, img: np.ndarray, top: int) -> None:
        text = "NO POSE in this frame"
        w, _, _ = text_size(text, self.font * 1.4, self.thick)
        draw_label(img, text, ((self.w - w) // 2, top), self.font * 1.4, color=NO_POSE_RGB, thickness=self.thick)

    # -- the whole overlay
    def annotate(
        self, img: np.ndarray, frame_index: int, time_s: float | None = None, view: ViewTransform = ViewTransform()
    ) -> np.ndarray:
        """Draw the overlay of stored frame ``frame_index`` onto ``img`` (in place) and return it."""
        row = self.ov.row(frame_index)
        if row is not None:
            time_s = float(self.ov.time_s[row])
        elif time_s is None:
            time_s = math.nan
        top = self.draw_banner(img) + 4
        has_pose = row is not None and bool(self.ov.detected[row])
        if has_pose:
            self.draw_ground_marks(img, row, time_s, view)
            self.draw_skeleton(img, row, view)
            self.draw_hip_arcs(img, row, view)
        else:
            self.draw_no_pose(img, top + 3 * self.line_h + 8)
        self.draw_panel(img, row, time_s, top)
        self.draw_legend(img, top)
        self.draw_timeline(img, time_s)
        return img
