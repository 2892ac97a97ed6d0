"""Drawing primitives on RGB numpy images, OpenCV; they compute nothing.

Colour constants for the annotated video live here too.
"""

from __future__ import annotations

import math

import numpy as np

# Colours are RGB (frames are decoded as RGB). Orange / sky blue stay distinct for colour-blind viewers.
NEAR_RGB = (255, 150, 20)
FAR_RGB = (40, 170, 255)
TRUNK_RGB = (235, 235, 235)
TEXT_RGB = (255, 255, 255)
PANEL_RGB = (20, 20, 20)
FLAG_RGB = (200, 30, 30)
NO_POSE_RGB = (230, 60, 60)
TIMELINE_BG_RGB = (45, 45, 45)
PEAK_TICK_RGB = (255, 255, 255)


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _finite(p) -> bool:
    return p is not None and bool(np.all(np.isfinite(p)))


def draw_segment(img: np.ndarray, a, b, color, thickness: int) -> None:
    """A line between two points; nothing when either is missing."""
    import cv2

    if _finite(a) and _finite(b):
        cv2.line(img, _pt(a), _pt(b), color, thickness, cv2.LINE_AA)


def draw_joint(img: np.ndarray, p, color, radius: int) -> None:
    import cv2

    if _finite(p):
        cv2.circle(img, _pt(p), radius, color, -1, cv2.LINE_AA)


def draw_angle_arc(img: np.ndarray, center, from_deg: float, to_deg: float, radius: int, color, thickness: int) -> None:
    """Arc at ``center`` from direction ``from_deg`` to ``to_deg`` the short way round.

    Directions are image angles (atan2(dy, dx) with y down, i.e. clockwise on screen), as OpenCV uses.
    """
    import cv2

    if not (_finite(center) and math.isfinite(from_deg) and math.isfinite(to_deg)):
        return
    diff = (to_deg - from_deg + 180.0) % 360.0 - 180.0
    cv2.ellipse(img, _pt(center), (radius, radius), 0.0, from_deg, from_deg + diff, color, thickness, cv2.LINE_AA)


def text_size(text: str, scale: float, thickness: int = 1) -> tuple[int, int, int]:
    """(width, height, baseline) of a text in pixels."""
    import cv2

    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    return w, h, base


def text_ink(text: str, scale: float, thickness: int = 1) -> tuple[int, int, int]:
    """(width, cap height, descent) of a text's ink in pixels: tighter than ``text_size``'s height,
    which leaves empty space above the capitals (Hershey capitals are 21 units high, descenders 5-6)."""
    w, _, _ = text_size(text, scale, thickness)
    return w, int(math.ceil(20.5 * scale + thickness / 2)), int(math.ceil(5.5 * scale + thickness / 2))


def shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, color=PANEL_RGB, alpha: float = 0.8) -> None:
    """Blend a filled box (clipped to the image) over ``img``: a backdrop that keeps text readable on
    any background yet lets the scene show through."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
    if x1 <= x0 or y1 <= y0:
        return
    import cv2

    roi = img[y0:y1, x0:x1]
    if alpha >= 1.0:
        roi[:] = color
    else:
        cv2.addWeighted(roi, 1.0 - alpha, np.full_like(roi, color), alpha, 0.0, dst=roi)


def draw_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color=TEXT_RGB, thickness: int = 1):
    """Text whose ink's top-left corner (the top of its capitals) is at ``org``; no backdrop."""
    import cv2

    _, cap, _ = text_ink(text, scale, thickness)
    x, y = int(org[0]), int(org[1])
    cv2.putText(img, text, (x, y + cap), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)


def draw_contact_indicator(img: np.ndarray, center: tuple[int, int], radius: int, color, on_ground: bool) -> None:
    """Filled disc = foot on the ground; ring = in the air."""
    import cv2

    cv2.circle(img, center, radius, color, -1 if on_ground else max(2, radius // 3), cv2.LINE_AA)


def timeline_x(t_s: float, t0: float, t1: float, x0_px: int, width_px: int) -> int:
    span = max(t1 - t0, 1e-9)
    return int(round(x0_px + (t_s - t0) / span * (width_px - 1 - x0_px)))
