"""Piecewise quintic Hermite curves: smooth (C1/C2) joint-angle trajectories for the gait model."""

from __future__ import annotations

import numpy as np


class QuinticSpline:
    """Piecewise quintic Hermite curve: value, 1st and 2nd derivative at each knot."""

    def __init__(self, t, p, v, a, *, v_right=None, a_right=None):
        """``v_right``/``a_right`` (optional) give one-sided values at the *start* of
        each piece where they differ from ``v``/``a`` (the curve's end at a knot)."""
        t = np.asarray(t, float)
        self.t = t
        n = len(t) - 1
        v_r = v if v_right is None else v_right
        a_r = a if a_right is None else a_right
        self.coef = np.empty((n, 6))
        for i in range(n):
            h = t[i + 1] - t[i]
            p0, v0, a0 = p[i], v_r[i], a_r[i]
            p1, v1, a1 = p[i + 1], v[i + 1], a[i + 1]
            m = np.array([[h**3, h**4, h**5], [3 * h**2, 4 * h**3, 5 * h**4], [6 * h, 12 * h**2, 20 * h**3]])
            r = np.array([p1 - (p0 + v0 * h + 0.5 * a0 * h * h), v1 - (v0 + a0 * h), a1 - a0])
            c3, c4, c5 = np.linalg.solve(m, r)
            self.coef[i] = [p0, v0, 0.5 * a0, c3, c4, c5]

    def __call__(self, t, deriv: int = 0):
        t = np.asarray(t, float)
        i = np.clip(np.searchsorted(self.t, t, side="right") - 1, 0, len(self.coef) - 1)
        s = t - self.t[i]
        c = self.coef[i]
        if deriv == 0:
            return c[..., 0] + s * (c[..., 1] + s * (c[..., 2] + s * (c[..., 3] + s * (c[..., 4] + s * c[..., 5]))))
        if deriv == 1:
            return c[..., 1] + s * (2 * c[..., 2] + s * (3 * c[..., 3] + s * (4 * c[..., 4] + s * 5 * c[..., 5])))
        if deriv == 2:
            return 2 * c[..., 2] + s * (6 * c[..., 3] + s * (12 * c[..., 4] + s * 20 * c[..., 5]))
        raise ValueError("deriv must be 0, 1 or 2")
