"""The event fits on one foot point's height above its stance level, ``h(t)`` (pixels, up > 0).

- ``fit_hinge_event``: a level ground side and a rising (toe-off) or falling air side, the event
  at the hinge; used for toe-off on the pivot height.
- ``fit_landing_corner``: touchdown as the centre of the landing corner, a hinge blurred by a
  Gaussian of free width; ``search_landing_corner`` moves its window until the corner is inside.

Each returns (event time s, RMS residual px); NaN when the data cannot say.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls
from scipy.special import ndtr


def fit_hinge_event(
    t: np.ndarray, h: np.ndarray, *, t_lo: float, t_hi: float, air_before: bool, step_s: float
) -> tuple[float, float]:
    """Best event time in [t_lo, t_hi] for the ground/air hinge model, and its RMS residual (px)."""
    ok = np.isfinite(h)
    t, h = t[ok], h[ok]
    if len(t) < 4:
        return float("nan"), float("nan")
    grid = np.arange(t_lo, t_hi + 1e-12, step_s)
    sse = np.full(len(grid), np.inf)
    scale = max(1e-6, float(np.ptp(t)))
    for k, t0 in enumerate(grid):
        s = (t0 - t) if air_before else (t - t0)
        s = np.clip(s, 0.0, None) / scale
        g = (t - t0) / scale  # the foot may still settle (or start to roll) on the ground: a free slope
        a_mat = np.column_stack([np.ones_like(s), -np.ones_like(s), g, -g, s, s * s])
        _, resid = nnls(a_mat, h)
        sse[k] = resid**2
    k = int(np.argmin(sse))
    t0 = grid[k]
    if 0 < k < len(grid) - 1:  # parabolic refinement of the minimum
        y0, y1, y2 = sse[k - 1], sse[k], sse[k + 1]
        denom = y0 - 2 * y1 + y2
        if denom > 0:
            t0 += 0.5 * (y0 - y2) / denom * step_s
    return float(t0), float(np.sqrt(sse[k] / len(t)))


def fit_landing_corner(
    t: np.ndarray, h: np.ndarray, *, t_lo: float, t_hi: float, step_s: float, sigmas_s: tuple[float, ...]
) -> tuple[float, float]:
    """Touchdown as the centre of the (possibly rounded) corner where the descent meets the ground.

    Model: a hinge (level ground after ``t0``, straight descent before) blurred
    by a Gaussian of width ``sigma`` (0 = sharp):
    ``h = c + b * E[(t0 - t + sigma*Z)+]``. A sharp, unfiltered landing gives
    sigma ~ 0 and ``t0`` at the corner; a landing whose corner is rounded (the
    shoe and soft tissue compress, the pose model or the marker processing
    smooths) is centred on the impact, because symmetric blurring leaves the
    centre of the deceleration where it was. Returns (t0, RMS residual px).
    """
    ok = np.isfinite(h)
    t, h = t[ok], h[ok]
    if len(t) < 4:
        return float("nan"), float("nan")
    grid = np.arange(t_lo, t_hi + 1e-12, step_s)
    # every (sigma, t0) at once, sigma-major like the search order: a straight-line fit of h on r per row
    d = grid[None, :, None] - t[None, None, :]
    sigma = np.asarray(sigmas_s, np.float64)[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = d / sigma
        blurred = sigma * np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi) + d * ndtr(u)
    r = np.where(sigma > 0, blurred, np.clip(d, 0.0, None)).reshape(-1, len(t))
    rc = r - r.mean(axis=1, keepdims=True)
    hc = h - h.mean()
    var_r, cov = np.einsum("ij,ij->i", rc, rc), rc @ hc
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(var_r > 0, cov / var_r, 0.0)
        sse = np.where(slope > 0, float(hc @ hc) - cov * slope, np.inf)  # the foot must come down, not up
    best = float(np.min(sse))
    if not np.isfinite(best):
        return float("nan"), float("nan")
    k = int(np.argmax(sse <= best + 1e-9 * max(best, 1.0)))  # ties (flat between samples): the first, in search order
    return float(grid[k % len(grid)]), float(np.sqrt(max(sse[k], 0.0) / len(t)))


def search_landing_corner(
    t: np.ndarray,
    h: np.ndarray,
    anchor: int,
    mid: int,
    *,
    span: int,
    step_s: float,
    frame_s: float,
    blur_s: tuple[float, ...],
) -> tuple[float, float]:
    """``fit_landing_corner`` on +-``span`` frames around ``anchor``; when the best corner lies
    at the edge of the search range (a fast descent crosses the anchor level well before the corner),
    the window moves there and the fit repeats."""
    t0 = rms = float("nan")
    for _ in range(6):
        lo, hi = max(0, anchor - span), min(mid, anchor + span)
        t_lo, t_hi = t[max(0, anchor - span // 2)], t[min(mid, anchor + span // 2)]
        t0, rms = fit_landing_corner(
            t[lo : hi + 1], h[lo : hi + 1], t_lo=t_lo, t_hi=t_hi, step_s=step_s, sigmas_s=blur_s
        )
        if not np.isfinite(t0) or min(t0 - t_lo, t_hi - t0) > frame_s:
            break  # an interior optimum
        new_anchor = int(np.clip(np.argmin(np.abs(t - t0)), 0, mid))
        if new_anchor == anchor:
            break
        anchor = new_anchor
    return t0, rms
