"""The scene around the synthetic runner: a contact shadow and an athletics-track background
seen from the infield, with perspective parallax for a camera that pans with the runner."""

from __future__ import annotations

import math

import cv2
import numpy as np


def draw_ground_shadow(
    img_bgr: np.ndarray, x_px: float, ground_y_px: float, px_per_m: float, strength: float = 0.35
) -> np.ndarray:
    """Soft elliptical contact shadow under the runner (in place, returns img)."""
    h, w = img_bgr.shape[:2]
    rx, ry = 0.45 * px_per_m, 0.045 * px_per_m
    x0, x1 = int(max(x_px - 2 * rx, 0)), int(min(x_px + 2 * rx, w))
    y0, y1 = int(max(ground_y_px - 4 * ry, 0)), int(min(ground_y_px + 4 * ry, h))
    if x1 <= x0 or y1 <= y0:
        return img_bgr
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    q = ((xs - x_px) / rx) ** 2 + ((ys - ground_y_px) / ry) ** 2
    a = strength * np.exp(-1.5 * q)
    reg = img_bgr[y0:y1, x0:x1].astype(np.float32)
    img_bgr[y0:y1, x0:x1] = np.clip(reg * (1 - a[..., None]), 0, 255).astype(np.uint8)
    return img_bgr


class TrackBackground:
    """Side view of an athletics track from the infield, for a camera panning with the runner.

    The runner's lane is at ``distance_m`` from the camera, the camera at
    ``camera_height_m``: ground rows scroll with perspective parallax (nearer
    rows faster), the stands and sky (far away) slowly. ``frame(pan_px)``
    returns the view after the camera followed the runner by ``pan_px`` pixels
    (pixels measured at the runner's distance).
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        px_per_m: float,
        ground_y: float,
        max_pan_px: float,
        seed: int = 0,
        camera_height_m: float = 1.0,
        distance_m: float = 10.0,
    ):
        self.w, self.h = int(width), int(height)
        self.s = float(px_per_m)
        self.ground_y = float(ground_y)
        self.horizon_y = self.ground_y - camera_height_m * self.s
        self.Z = distance_m
        rng = np.random.default_rng(seed)
        z_wall = 3.0 * distance_m
        self.wall_base_y = self._row_at(z_wall)
        self.far_factor = distance_m / z_wall
        ys = np.arange(self.h, dtype=np.float32)
        fac = np.where(
            ys > self.wall_base_y, (ys - self.horizon_y) / (self.ground_y - self.horizon_y), self.far_factor
        ).astype(np.float32)
        self.row_factor = fac
        self.pano_w = int(self.w + float(fac.max()) * max(max_pan_px, 0) + 16)
        self.pano = self._build(rng)
        self._xs = np.arange(self.w, dtype=np.float32)[None, :]

    def _row_at(self, z):
        return self.horizon_y + (self.ground_y - self.horizon_y) * self.Z / z

    def _build(self, rng) -> np.ndarray:
        """The panorama (height x ``pano_w``, BGR uint8): sky, stands with a crowd, an advertising wall and
        the track with its lanes, everything above the runner's lane defocused. ``rng`` is drawn in that order."""
        img = np.zeros((self.h, self.pano_w, 3), np.float32)
        wall_base_row = int(round(self.wall_base_y))
        wall_h_px = max(int(0.9 * self.s * self.far_factor), 6)
        wall_top_row = wall_base_row - wall_h_px
        stands_top_row = max(int(0.08 * self.h), 4)
        self._paint_sky(img, stands_top_row)
        self._paint_stands(img, stands_top_row, wall_top_row, rng)
        self._paint_wall(img, wall_top_row, wall_base_row, rng)
        self._paint_track(img, wall_base_row, rng)
        self._paint_lanes(img, wall_base_row, rng)
        self._defocus(img, wall_base_row)
        return np.clip(img, 0, 255).astype(np.uint8)

    @staticmethod
    def _paint_sky(img: np.ndarray, stands_top_row: int) -> None:
        """Vertical sky gradient above the stands (in place)."""
        t = np.linspace(0, 1, max(stands_top_row, 1))[:, None]
        sky = (1 - t) * np.array([235, 205, 160]) + t * np.array([245, 225, 200])
        img[:stands_top_row] = sky[:, None, :]

    def _paint_stands(self, img: np.ndarray, stands_top_row: int, wall_top_row: int, rng) -> None:
        """Seat rows, a random crowd in 3 px cells and the roof shadow, between the sky and the wall (in place)."""
        W, s = self.pano_w, self.s
        sh = wall_top_row - stands_top_row
        if sh <= 0:
            return
        base = np.array([120, 110, 105], np.float32)
        rows = (np.arange(sh) // max(int(0.25 * s * self.far_factor), 3)) % 2
        img[stands_top_row:wall_top_row] = base * (0.85 + 0.15 * rows)[:, None, None]
        cell = 3
        ch, cw = sh // cell + 1, W // cell + 1
        palette = np.array(
            [
                [40, 40, 200],
                [200, 200, 200],
                [60, 60, 60],
                [30, 120, 220],
                [170, 90, 40],
                [70, 160, 70],
                [110, 150, 190],
                [30, 30, 30],
                [210, 170, 120],
            ],
            np.float32,
        )
        occ = rng.random((ch, cw)) < 0.55
        col = palette[rng.integers(0, len(palette), (ch, cw))]
        crowd = np.where(occ[..., None], col, base)
        crowd = np.repeat(np.repeat(crowd, cell, 0), cell, 1)[:sh, :W]
        blend = np.repeat(np.repeat(occ, cell, 0), cell, 1)[:sh, :W, None].astype(np.float32)
        stands = img[stands_top_row:wall_top_row]
        img[stands_top_row:wall_top_row] = stands * (1 - 0.8 * blend) + crowd * 0.8 * blend
        # roof shadow
        img[stands_top_row : stands_top_row + max(sh // 6, 2)] *= 0.55

    def _paint_wall(self, img: np.ndarray, wall_top_row: int, wall_base_row: int, rng) -> None:
        """Advertising panels (about 4 m wide) with random bars of "lettering" (in place)."""
        W = self.pano_w
        wall_h_px = wall_base_row - wall_top_row
        panel = max(int(4.0 * self.s * self.far_factor), 20)
        colors = [np.array(c, np.float32) for c in ([150, 60, 20], [235, 235, 235], [40, 130, 40], [30, 40, 180])]
        for k, x in enumerate(range(0, W, panel)):
            c = colors[k % len(colors)]
            img[wall_top_row:wall_base_row, x : x + panel] = c
            # "lettering"
            tc = np.array([255, 255, 255], np.float32) if c.mean() < 150 else np.array([60, 30, 20], np.float32)
            y0 = wall_top_row + wall_h_px // 3
            y1 = wall_top_row + 2 * wall_h_px // 3
            xx = x + panel // 8
            while xx < x + panel - panel // 8:
                lw = int(rng.integers(3, 8))
                img[y0:y1, xx : xx + lw] = tc
                xx += lw + int(rng.integers(2, 4))

    def _paint_track(self, img: np.ndarray, wall_base_row: int, rng) -> None:
        """Red track surface with grain below the wall, and the grey-blue apron beyond the outer lane (in place)."""
        H = self.h
        y = np.arange(wall_base_row, H)
        red = np.array([55, 75, 170], np.float32)
        shade = 0.85 + 0.15 * (y - wall_base_row) / max(H - wall_base_row, 1)
        img[wall_base_row:H] = red * shade[:, None, None]
        grain = rng.normal(0, 7, (H - wall_base_row, self.pano_w)).astype(np.float32)
        img[wall_base_row:H] += grain[..., None]
        # apron (grey-blue) between wall and outer lane
        z_outer = self.Z + 0.61 + 7 * 1.22
        y_outer = int(round(self._row_at(z_outer + 1.5)))
        img[wall_base_row:y_outer] = img[wall_base_row:y_outer] * 0.3 + np.array([130, 120, 110], np.float32) * 0.7

    def _paint_lanes(self, img: np.ndarray, wall_base_row: int, rng) -> None:
        """Lane lines (1.22 m lanes, the runner mid-lane) with yellow ticks every 5 m, in perspective (in place)."""
        H, W, s = self.h, self.pano_w, self.s
        for k in range(-3, 9):
            z = self.Z + 0.61 + k * 1.22 if k >= 0 else self.Z - 0.61 + (k + 1) * 1.22
            if z <= 0.5:
                continue
            yl = self._row_at(z)
            if yl >= H + 2 or yl < wall_base_row:
                continue
            thick = max(0.05 * s * self.Z * (self.ground_y - self.horizon_y) / s / z / z * 1.0, 1.0)
            self._hline(img, yl, thick, (235, 235, 235))
            f = (yl - self.horizon_y) / (self.ground_y - self.horizon_y)
            step = 5.0 * s * f
            x = float(rng.uniform(0, step))
            while x < W:
                x0 = int(x)
                img[int(yl - 2 * thick) : int(yl + 2 * thick) + 1, x0 : x0 + max(int(0.08 * s * f), 2)] = (60, 200, 230)
                x += step

    def _defocus(self, img: np.ndarray, wall_base_row: int) -> None:
        """Telephoto background defocus: blur all rows above the runner's lane, the stands more (in place)."""
        far = int(self._row_at(self.Z + 1.5))
        img[:far] = cv2.GaussianBlur(img[:far], (0, 0), 1.6)
        img[:wall_base_row] = cv2.GaussianBlur(img[:wall_base_row], (0, 0), 1.2)

    @staticmethod
    def _hline(img, yc, thick, color):
        y0 = int(math.floor(yc - thick / 2 - 1))
        y1 = int(math.ceil(yc + thick / 2 + 1))
        for y in range(max(y0, 0), min(y1 + 1, img.shape[0])):
            cov = np.clip(min(y + 1, yc + thick / 2) - max(y, yc - thick / 2), 0, 1)
            if cov > 0:
                img[y] = img[y] * (1 - cov) + np.array(color, np.float32) * cov

    def frame(self, pan_px: float) -> np.ndarray:
        map_x = self._xs + self.row_factor[:, None] * float(pan_px)
        map_x = np.broadcast_to(map_x, (self.h, self.w)).astype(np.float32)
        map_y = np.broadcast_to(np.arange(self.h, dtype=np.float32)[:, None], (self.h, self.w))
        return cv2.remap(self.pano, map_x, np.ascontiguousarray(map_y), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
