"""The event fits on one foot point's height above its stance level, ``h(t)`` (pixels, up > 0).

- ``fit_hinge_event``: a level ground side and a rising (toe-off) or falling air side, the event
  at the hinge; used for toe-off on the pivot height.
- ``fit_landing_corner``: touchdown as the centre of the landing corner, a hinge blurred by a
  Gaussian of free width; ``search_landing_corner`` moves its window until the corner is inside.

Each returns (event time s, RMS residual px); NaN when the data cannot say.
"""

from __future__ import annotations

import numpy as np

from gaitlab.analysis.numeric import normal_cdf


def fit_hinge_event(
    t: np.ndarray, h: np.ndarray, *, t_lo: float, t_hi: float, air_before: bool, step_s: float
) -> tuple[float, float]:
    """Best event time in [t_lo, t_hi] for the ground/air hinge model, and its RMS residual (px)."""
    ok = np.isfinite(h)
    t, h = t[ok], h[ok]
    if len(t) < 4:
        return float("nan"), float("nan")
    grid = np.arange(t_lo, t_hi + 1e-12, step_s)
    scale = max(1e-6, float(np.ptp(t)))
    d = grid[:, None] - t[None, :]  # (grid, samples)
    s = np.clip(d if air_before else -d, 0.0, None) / scale
    g = -d / scale  # the foot may still settle (or start to roll) on the ground: a free slope
    ones = np.ones_like(g)
    sse = _sse_nonneg_tail(np.stack([ones, g], -1), np.stack([s, s * s], -1), h)
    k = int(np.argmin(sse))
    t0 = grid[k]
    if 0 < k < len(grid) - 1:  # parabolic refinement of the minimum
        y0, y1, y2 = sse[k - 1], sse[k], sse[k + 1]
        denom = y0 - 2 * y1 + y2
        if denom > 0:
            t0 += 0.5 * (y0 - y2) / denom * step_s
    return float(t0), float(np.sqrt(sse[k] / len(t)))


def _sse_nonneg_tail(free: np.ndarray, tail: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per grid point, the least-squares SSE of ``h`` on the columns of ``free`` (any sign) and of
    ``tail`` (coefficients >= 0); ``free``/``tail``: (grid, samples, columns).

    Exact non-negative least squares for so few constrained columns: the optimum is the free fit on
    its own support, so it is the best of the fits on each subset of ``tail`` whose coefficients come
    out >= 0 (the empty subset always does). Each fit is a pseudo-inverse (SVD), which also takes
    columns that are all zero (an event time outside the samples).
    """
    best = np.full(free.shape[0], np.inf)
    n_free = free.shape[2]
    for mask in range(1 << tail.shape[2]):
        chosen = [j for j in range(tail.shape[2]) if mask >> j & 1]
        a_mat = np.concatenate([free, tail[:, :, chosen]], axis=2)
        coef = np.linalg.pinv(a_mat) @ h
        sse = np.sum((np.einsum("gnk,gk->gn", a_mat, coef) - h) ** 2, axis=1)
        ok = np.all(coef[:, n_free:] >= 0, axis=1)
        best = np.where(ok, np.minimum(best, sse), best)
    return best


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
    best = (np.inf, float("nan"))
    grid = np.arange(t_lo, t_hi + 1e-12, step_s)
    d = grid[:, None] - t[None, :]  # (grid, samples)
    for sigma in sigmas_s:
        if sigma <= 0:
            r = np.clip(d, 0.0, None)
        else:
            u = d / sigma
            r = sigma * np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi) + d * normal_cdf(u)
        # h = c + b r by least squares, per grid point (closed form of a straight-line fit)
        r_c = r - r.mean(axis=1, keepdims=True)
        var = np.sum(r_c * r_c, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (r_c @ (h - h.mean())) / var
        sse = np.sum((h - h.mean() - slope[:, None] * r_c) ** 2, axis=1)
        # the foot must come down, not up (no slope: r is flat, nothing to fit)
        sse = np.where((var > 0) & (slope > 0), sse, np.inf)
        k = int(np.argmin(sse))
        if sse[k] < best[0]:
            best = (float(sse[k]), float(grid[k]))
    return best[1], float(np.sqrt(best[0] / len(t))) if np.isfinite(best[0]) else float("nan")


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
