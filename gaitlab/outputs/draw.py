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


def draw_label(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    scale: float,
    color=TEXT_RGB,
    bg=PANEL_RGB,
    thickness: int = 1,
    pad: int = 3,
) -> tuple[int, int]:
    """Text on a filled box whose top-left corner is ``org``; returns the box's (width, height)."""
    import cv2

    w, h, base = text_size(text, scale, thickness)
    x, y = int(org[0]), int(org[1])
    if bg is not None:
        cv2.rectangle(img, (x, y), (x + w + 2 * pad, y + h + base + 2 * pad), bg, -1)
    cv2.putText(img, text, (x + pad, y + pad + h), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)
    return w + 2 * pad, h + base + 2 * pad


def draw_contact_indicator(img: np.ndarray, center: tuple[int, int], radius: int, color, on_ground: bool) -> None:
    """Filled disc = foot on the ground; ring = in the air."""
    import cv2

    cv2.circle(img, center, radius, color, -1 if on_ground else max(1, radius // 4), cv2.LINE_AA)


def timeline_x(t_s: float, t0: float, t1: float, x0_px: int, width_px: int) -> int:
    span = max(t1 - t0, 1e-9)
    return int(round(x0_px + (t_s - t0) / span * (width_px - 1 - x0_px)))
