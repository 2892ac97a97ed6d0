"""Draw a shaded, human-like side-view runner (the track scene is in ``scene.py``).

Everything is drawn with anti-aliased signed-distance "paint" on float images:
limbs are tapered capsules with cylinder shading (light from the upper left,
towards the viewer), the trunk is built from shaded ellipsoids, the head has
hair, ear, eye, brow, nose, mouth and chin, the feet wear shoes with white soles.
Far-side limbs are darker and drawn first.

Joint input is a dict of pixel positions keyed by MediaPipe-style names
(``nose``, ``left_ear``, ``left_shoulder`` ... ``right_foot_index``); optional
``left_index``/``right_index`` place the hand tips. The running direction is
taken from the face (nose in front of the ear), so the same code draws figures
running either way and from motion-capture-driven joints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# --------------------------------------------------------------------------- style


@dataclass(frozen=True)
class FigureStyle:
    """Colours (BGR, 0-255) and body widths (metres)."""

    skin: tuple[int, int, int] = (105, 140, 190)
    hair: tuple[int, int, int] = (30, 32, 38)
    top: tuple[int, int, int] = (190, 95, 30)  # blue singlet
    top_trim: tuple[int, int, int] = (235, 235, 240)
    shorts: tuple[int, int, int] = (45, 40, 40)
    shoe: tuple[int, int, int] = (40, 170, 245)  # orange shoe
    sole: tuple[int, int, int] = (235, 238, 240)
    sock: tuple[int, int, int] = (240, 240, 240)
    far_darken: float = 0.72
    # radii in metres (side view)
    thigh_r: tuple[float, float] = (0.080, 0.055)
    shank_r: tuple[float, float] = (0.052, 0.033)
    upper_arm_r: tuple[float, float] = (0.046, 0.036)
    forearm_r: tuple[float, float] = (0.036, 0.027)
    neck_r: float = 0.055
    head_r: float = 0.11


LIGHT = np.array([-0.45, -0.55, 0.70])
LIGHT = LIGHT / np.linalg.norm(LIGHT)


def _unit(v):
    v = np.asarray(v, float)
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else np.array([0.0, 1.0])


class _Canvas:
    """Float BGR image with anti-aliased, shaded primitive painting."""

    def __init__(self, img_bgr: np.ndarray):
        self.img = img_bgr.astype(np.float32)
        self.h, self.w = img_bgr.shape[:2]

    def _grid(self, x0, y0, x1, y1):
        x0 = max(int(math.floor(x0)), 0)
        y0 = max(int(math.floor(y0)), 0)
        x1 = min(int(math.ceil(x1)) + 1, self.w)
        y1 = min(int(math.ceil(y1)) + 1, self.h)
        if x1 <= x0 or y1 <= y0:
            return None
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        return (x0, y0, x1, y1), xs + 0.0, ys + 0.0

    def _blend(self, box, alpha, color):
        x0, y0, x1, y1 = box
        reg = self.img[y0:y1, x0:x1]
        a = alpha[..., None]
        reg *= 1.0 - a
        reg += a * color

    @staticmethod
    def _shade(nx, ny, nz, base, gloss=0.15):
        ndl = np.clip(nx * LIGHT[0] + ny * LIGHT[1] + nz * LIGHT[2], 0.0, 1.0)
        s = 0.42 + 0.68 * ndl
        # Blinn-ish highlight (viewer along +z)
        hv = LIGHT + np.array([0, 0, 1.0])
        hv = hv / np.linalg.norm(hv)
        spec = np.clip(nx * hv[0] + ny * hv[1] + nz * hv[2], 0, 1) ** 24 * gloss
        col = np.asarray(base, np.float32)[None, None, :] * s[..., None] + 255.0 * spec[..., None]
        return np.clip(col, 0, 255)

    def capsule(self, a, b, ra, rb, color, gloss=0.12, flat=False):
        """Tapered capsule a->b (pixels) with radii ra, rb, cylinder-shaded."""
        a = np.asarray(a, float)
        b = np.asarray(b, float)
        r = max(ra, rb)
        g = self._grid(
            min(a[0], b[0]) - r - 2, min(a[1], b[1]) - r - 2, max(a[0], b[0]) + r + 2, max(a[1], b[1]) + r + 2
        )
        if g is None:
            return
        box, xs, ys = g
        d = b - a
        L2 = float(d @ d) + 1e-9
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / L2, 0.0, 1.0)
        cx = a[0] + t * d[0]
        cy = a[1] + t * d[1]
        rr = ra + (rb - ra) * t
        dx, dy = xs - cx, ys - cy
        dist = np.sqrt(dx * dx + dy * dy)
        alpha = np.clip(rr - dist + 0.5, 0.0, 1.0)
        if not alpha.any():
            return
        q = np.clip(dist / np.maximum(rr, 1e-3), 0, 1)
        nx = dx / np.maximum(dist, 1e-6) * q
        ny = dy / np.maximum(dist, 1e-6) * q
        nz = np.sqrt(np.clip(1 - q * q, 0, 1))
        if flat:
            nz = 0.5 * nz + 0.5
        col = self._shade(nx, ny, nz, color, gloss)
        self._blend(box, alpha, col)

    def ellipse(self, c, ax_u, a, b, color, gloss=0.12, clip=None, soft=0.5):
        """Ellipse centred at c, semi-axis a along unit ax_u, b across; shaded as an ellipsoid.

        ``clip``: optional (point, normal) half-plane; keeps pixels with (p - point).normal <= 0.
        """
        c = np.asarray(c, float)
        u = _unit(ax_u)
        v = np.array([-u[1], u[0]])
        r = max(a, b)
        g = self._grid(c[0] - r - 2, c[1] - r - 2, c[0] + r + 2, c[1] + r + 2)
        if g is None:
            return
        box, xs, ys = g
        px, py = xs - c[0], ys - c[1]
        pu = (px * u[0] + py * u[1]) / a
        pv = (px * v[0] + py * v[1]) / b
        rho = np.sqrt(pu * pu + pv * pv)
        grad = np.sqrt((pu / a) ** 2 + (pv / b) ** 2) / np.maximum(rho, 1e-6)
        dist = (rho - 1.0) / np.maximum(grad, 1e-6)
        alpha = np.clip(soft - dist, 0.0, 1.0)
        if clip is not None:
            p0, nrm = clip
            nrm = _unit(nrm)
            sd = (xs - p0[0]) * nrm[0] + (ys - p0[1]) * nrm[1]
            alpha *= np.clip(0.5 - sd, 0.0, 1.0)
        if not alpha.any():
            return
        q = np.clip(rho, 0, 1)
        nx = pu * u[0] + pv * v[0]
        ny = pu * u[1] + pv * v[1]
        nn = np.sqrt(nx * nx + ny * ny) + 1e-6
        nx, ny = nx / nn * q, ny / nn * q
        nz = np.sqrt(np.clip(1 - q * q, 0, 1))
        col = self._shade(nx, ny, nz, color, gloss)
        self._blend(box, alpha, col)

    def polygon(self, pts, color, shade_dir=None, shade_amt=0.25):
        """Anti-aliased filled polygon with an optional linear shading gradient."""
        pts = np.asarray(pts, float)
        x0, y0 = pts.min(0) - 2
        x1, y1 = pts.max(0) + 2
        g = self._grid(x0, y0, x1, y1)
        if g is None:
            return
        box, xs, ys = g
        bx0, by0, bx1, by1 = box
        ss = 4  # supersampled mask
        mask = np.zeros(((by1 - by0) * ss, (bx1 - bx0) * ss), np.uint8)
        p = np.round((pts - [bx0, by0]) * ss * 16).astype(np.int32)
        cv2.fillPoly(mask, [p], 255, lineType=cv2.LINE_AA, shift=4)
        alpha = cv2.resize(mask, (bx1 - bx0, by1 - by0), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        col = np.broadcast_to(np.asarray(color, np.float32), alpha.shape + (3,)).copy()
        if shade_dir is not None:
            sd = _unit(shade_dir)
            proj = (xs - pts[:, 0].mean()) * sd[0] + (ys - pts[:, 1].mean()) * sd[1]
            span = max(float(np.abs((pts - pts.mean(0)) @ sd).max()), 1.0)
            col *= (1.0 - shade_amt * np.clip(proj / span, -1, 1))[..., None]
        self._blend(box, alpha, np.clip(col, 0, 255))

    def line(self, a, b, color, width):
        self.capsule(a, b, width / 2, width / 2, color, gloss=0.0, flat=True)

    def result(self) -> np.ndarray:
        return np.clip(self.img + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- figure


def _dark(color, k):
    return tuple(float(c) * k for c in color)


def _estimate_px_per_m(j) -> float:
    lens = []
    for s in ("left", "right"):
        try:
            th = np.hypot(*(np.subtract(j[f"{s}_knee"], j[f"{s}_hip"])))
            sh = np.hypot(*(np.subtract(j[f"{s}_ankle"], j[f"{s}_knee"])))
            lens.append((th + sh) / 0.89)
        except KeyError:
            pass
    return float(max(lens)) if lens else 200.0


# Shoe outlines as (along, across) fractions of the heel-to-toe length, from the heel along the sole
# and from the sole towards the ankle.
_SHOE_UPPER = (
    (-0.02, 0.10), (-0.03, 0.30), (0.02, 0.44), (0.22, 0.46), (0.36, 0.40), (0.60, 0.28),
    (0.85, 0.19), (0.98, 0.12), (1.0, 0.06), (0.97, 0.03), (0.0, 0.05),
)  # fmt: skip
_SHOE_SOLE = (
    (-0.02, 0.0), (0.0, 0.115), (0.5, 0.10), (0.95, 0.10), (1.01, 0.06), (1.0, 0.0), (0.9, -0.015), (0.1, -0.015),
)  # fmt: skip


class _Figure:
    """The runner's body parts painted on a canvas; ``s`` is the figure scale in pixels per metre."""

    def __init__(self, cv: _Canvas, st: FigureStyle, j: dict, s: float, near_side: str):
        self.cv, self.st, self.j, self.s, self.near_side = cv, st, j, s, near_side
        self.hip_mid = 0.5 * (j["left_hip"] + j["right_hip"])
        self.sh_mid = 0.5 * (j["left_shoulder"] + j["right_shoulder"])
        self.ear = j.get(f"{near_side}_ear", j.get("left_ear"))
        self.nose = j["nose"]
        self.fwd_sign = 1.0 if self.nose[0] >= self.ear[0] else -1.0  # +1: running towards +x
        self.up = _unit(self.sh_mid - self.hip_mid)  # along the trunk, image coords

    def back_perp(self, d):
        """Unit perpendicular of segment direction d pointing to the body's back side."""
        d = _unit(d)
        return self.fwd_sign * np.array([-d[1], d[0]])

    def arm(self, side: str, k: float) -> None:
        """Upper arm, forearm, fist and the singlet's sleeve cap; ``k``: brightness factor."""
        cv, st, j, s = self.cv, self.st, self.j, self.s
        skin = _dark(st.skin, k)
        top = _dark(st.top, k)
        sh, el, wr = j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"]
        tip = j.get(f"{side}_index", wr + 0.09 * s * _unit(wr - el))
        r_ua = (st.upper_arm_r[0] * s, st.upper_arm_r[1] * s)
        r_fa = (st.forearm_r[0] * s, st.forearm_r[1] * s)
        cv.capsule(sh, el, r_ua[0], r_ua[1], skin)
        cv.capsule(el, wr, r_fa[0], r_fa[1], skin)
        # fist
        hd = _unit(tip - wr)
        cv.ellipse(wr + 0.5 * (tip - wr), hd, 0.055 * s, 0.040 * s, _dark(st.skin, 0.93 * k))
        cv.ellipse(
            wr + 0.75 * (tip - wr) + self.back_perp(hd) * -0.012 * s, hd, 0.02 * s, 0.015 * s, _dark(st.skin, 0.85 * k)
        )
        # short sleeve cap of the singlet at the shoulder
        cv.ellipse(sh + 0.02 * s * _unit(el - sh), _unit(el - sh), 0.075 * s, 0.058 * s, top)

    def leg(self, side: str, k: float) -> None:
        """Shank with calf, thigh with muscle bulk and kneecap, the shorts' leg, then the shoe."""
        cv, st, j, s, back_perp = self.cv, self.st, self.j, self.s, self.back_perp
        skin = _dark(st.skin, k)
        hp, kn, an = j[f"{side}_hip"], j[f"{side}_knee"], j[f"{side}_ankle"]
        sd = _unit(an - kn)
        # shank + calf
        cv.capsule(kn, an, st.shank_r[0] * s, st.shank_r[1] * s, skin)
        cv.ellipse(kn + 0.30 * (an - kn) + back_perp(sd) * 0.018 * s, sd, 0.13 * s, 0.048 * s, skin)
        # thigh + quadriceps/hamstring bulk
        td = _unit(kn - hp)
        cv.capsule(hp, kn, st.thigh_r[0] * s, st.thigh_r[1] * s, skin)
        cv.ellipse(hp + 0.45 * (kn - hp) - back_perp(td) * 0.012 * s, td, 0.19 * s, 0.068 * s, skin)
        # kneecap hint
        cv.ellipse(kn - back_perp(td) * 0.02 * s + 0.01 * s * td, td, 0.035 * s, 0.03 * s, _dark(st.skin, 1.04 * k))
        # shorts over the upper thigh
        cv.capsule(
            hp - 0.02 * s * td,
            hp + 0.55 * (kn - hp),
            st.thigh_r[0] * s * 1.25,
            st.thigh_r[0] * s * 1.05,
            _dark(st.shorts, k),
            gloss=0.05,
        )
        self.shoe(k, an, j[f"{side}_heel"], j[f"{side}_foot_index"])

    def shoe(self, k: float, an, he, to) -> None:
        """Sock, shoe upper and sole, stripe and laces, from ankle ``an``, heel ``he`` and toe ``to``."""
        cv, st, s = self.cv, self.st, self.s
        L = float(np.hypot(*(to - he)))
        u = _unit(to - he)
        n = np.array([-u[1], u[0]])
        if (an - he) @ n < 0:  # n points from the sole to the ankle
            n = -n
        P = lambda a, b: he + a * L * u + b * L * n  # noqa: E731
        sock_top = an + 0.06 * s * _unit(an - 0.5 * (he + to)) * 0.9
        cv.capsule(an, sock_top, 0.036 * s, 0.038 * s, _dark(st.sock, k), gloss=0.05)
        cv.polygon([P(a, b) for a, b in _SHOE_UPPER], _dark(st.shoe, k), shade_dir=n * -1, shade_amt=0.25)
        cv.polygon([P(a, b) for a, b in _SHOE_SOLE], _dark(st.sole, k), shade_dir=-n, shade_amt=0.15)
        # stripe and laces
        cv.line(P(0.30, 0.12), P(0.55, 0.33), _dark(st.sole, 0.95 * k), 0.012 * s)
        cv.line(P(0.62, 0.26), P(0.80, 0.19), _dark((230, 230, 230), k), 0.01 * s)

    def trunk(self) -> None:
        """Pelvis (shorts), abdomen and chest (singlet) and the singlet's waistband."""
        cv, st, s, up, hip_mid = self.cv, self.st, self.s, self.up, self.hip_mid
        fw = -self.back_perp(up)  # forward, perpendicular to the trunk
        L = float(np.hypot(*(self.sh_mid - hip_mid)))
        cv.ellipse(hip_mid + 0.05 * s * up - 0.01 * s * fw, up, 0.15 * s, 0.125 * s, st.shorts, gloss=0.05)
        cv.capsule(hip_mid + 0.10 * s * up, hip_mid + 0.62 * L * up + 0.01 * s * fw, 0.105 * s, 0.115 * s, st.top)
        cv.ellipse(hip_mid + 0.70 * L * up + 0.025 * s * fw, up, 0.20 * s, 0.128 * s, st.top)
        cv.ellipse(
            hip_mid + 0.16 * s * up,
            up,
            0.05 * s,
            0.118 * s,
            _dark(st.top_trim, 0.9),
            gloss=0.05,
            clip=(hip_mid + 0.18 * s * up, up),
        )  # waistband of the singlet

    def neck_and_head(self) -> None:
        """The neck from the shoulders to the head centre (``head_center``, else estimated from ear and nose),
        then the head."""
        j, st, s, up, ear, nose = self.j, self.st, self.s, self.up, self.ear, self.nose
        hc = j.get("head_center")
        if hc is None:
            hc = ear + 0.35 * (nose - ear) + 0.02 * s * up
        hup = _unit(hc - self.sh_mid)
        neck_top = hc - 0.02 * s * hup
        self.cv.capsule(self.sh_mid + 0.02 * s * up, neck_top, st.neck_r * s * 1.05, st.neck_r * s, st.skin)
        self.head(hc, hup, j.get(f"{self.near_side}_eye", j.get("left_eye")), j.get("mouth"))

    def head(self, hc, hup, eye, mouth) -> None:
        """Cranium, jaw and nose, hair, ear, and eye/brow and mouth where given; ``hup``: the head's up axis."""
        cv, st, nose, ear = self.cv, self.st, self.nose, self.ear
        r = st.head_r * self.s
        ff = _unit(nose - hc)
        ff = _unit(ff - (ff @ hup) * hup)  # face direction, perpendicular to the head axis
        skin = st.skin
        cv.ellipse(hc, hup, 1.08 * r, 0.98 * r, skin)  # cranium
        cv.ellipse(hc + 0.42 * r * ff - 0.55 * r * hup, ff, 0.58 * r, 0.42 * r, skin)  # jaw, chin
        cv.ellipse(
            nose - 0.12 * r * ff + 0.05 * r * hup, _unit(ff - 0.4 * hup), 0.24 * r, 0.12 * r, _dark(skin, 0.97)
        )  # nose
        self.hair(hc, hup, ff, r)
        # ear
        cv.ellipse(ear, hup, 0.30 * r, 0.19 * r, _dark(skin, 0.92))
        cv.ellipse(ear + 0.03 * r * ff, hup, 0.16 * r, 0.08 * r, _dark(skin, 0.68))
        # eye, brow
        if eye is not None:
            cv.ellipse(eye, ff, 0.11 * r, 0.065 * r, (235, 238, 240), gloss=0.0)
            cv.ellipse(eye + 0.04 * r * ff, ff, 0.055 * r, 0.055 * r, (40, 30, 25), gloss=0.3)
            cv.line(eye + 0.17 * r * hup - 0.12 * r * ff, eye + 0.21 * r * hup + 0.12 * r * ff, st.hair, 0.06 * r)
        if mouth is not None:
            cv.line(mouth - 0.10 * r * ff, mouth + 0.08 * r * ff, (60, 60, 140), 0.05 * r)

    def hair(self, hc, hup, ff, r: float) -> None:
        """Hair on the top and back of the head, cut along a line from the forehead to the nape;
        ``ff``: the face direction, ``r``: the head radius in pixels."""
        p0 = hc + 0.62 * r * ff + 0.50 * r * hup
        p1 = hc - 0.75 * r * ff - 0.55 * r * hup
        d = _unit(p1 - p0)
        nrm = np.array([-d[1], d[0]])
        if (hc + 0.6 * r * hup - 0.4 * r * ff - p0) @ nrm > 0:
            nrm = -nrm
        self.cv.ellipse(
            hc - 0.05 * r * ff + 0.07 * r * hup, hup, 1.07 * r, 1.02 * r, self.st.hair, gloss=0.25, clip=(p0, nrm)
        )


def render_figure(
    img_bgr: np.ndarray,
    joints_px: dict,
    *,
    near_side: str,
    px_per_m: float | None = None,
    style: FigureStyle | None = None,
) -> np.ndarray:
    """Draw the runner onto ``img_bgr`` (returns a new uint8 BGR image).

    ``joints_px``: pixel (x, y) per point name, both sides. ``near_side``: the
    side facing the camera ("left" or "right"); it is drawn last and brighter.
    ``px_per_m``: figure scale (estimated from the leg lengths when omitted).
    """
    if near_side not in ("left", "right"):
        raise ValueError("near_side must be 'left' or 'right'")
    st = style or FigureStyle()
    j = {k: np.asarray(v, float) for k, v in joints_px.items()}
    fig = _Figure(_Canvas(img_bgr), st, j, px_per_m or _estimate_px_per_m(j), near_side)
    far_side = "right" if near_side == "left" else "left"
    fig.arm(far_side, st.far_darken)  # far side first
    fig.leg(far_side, st.far_darken)
    fig.trunk()
    fig.neck_and_head()
    fig.leg(near_side, 1.0)
    fig.arm(near_side, 1.0)
    return fig.cv.result()
