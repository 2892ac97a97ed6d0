"""Zero-lag Butterworth low-pass in NumPy: the same filter as SciPy's ``butter(..., output="sos")`` and
``sosfiltfilt(..., padtype="odd")``, without importing ``scipy.signal`` (~0.7 s of start-up, most of it
its array-API docstring machinery), which every re-analysis would pay.

``butter_lowpass_sos`` designs the sections (analog prototype, prewarped bilinear transform, one
section per conjugate pole pair, the gain on the first); ``sosfiltfilt_many`` runs the forward-backward
pass with odd padding and steady-state initial conditions on many series at once, stepping through
time with vector operations across the series. tests/test_iir.py checks both against SciPy.
"""

from __future__ import annotations

import numpy as np


def butter_lowpass_sos(order: int, wn: float) -> np.ndarray:
    """Second-order sections (n, 6) of a digital Butterworth low-pass; ``wn`` as a fraction of Nyquist."""
    if order < 1 or not 0 < wn < 1:
        raise ValueError(f"butter_lowpass_sos: order {order} >= 1 and 0 < wn {wn} < 1 needed")
    fs2 = 4.0  # 2 * fs with fs = 2 (frequencies as fractions of Nyquist)
    warped = fs2 * np.tan(np.pi * wn / 2.0)
    poles = warped * -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    z_poles = (fs2 + poles) / (fs2 - poles)
    gain = float(np.real(warped**order / np.prod(fs2 - poles)))
    upper = sorted((p for p in z_poles if p.imag > 1e-12), key=lambda p: -abs(p))  # one of each pair
    real = [p.real for p in z_poles if abs(p.imag) <= 1e-12]
    sections = [[1.0, 1.0, 0.0, 1.0, -r, 0.0] for r in real]
    sections += [[1.0, 2.0, 1.0, 1.0, -2.0 * p.real, abs(p) ** 2] for p in upper]
    sos = np.asarray(sections, np.float64)
    sos[0, :3] *= gain
    return sos


def _sos_zi(sos: np.ndarray) -> np.ndarray:
    """Initial conditions (n, 2) for a unit step's steady state (``scipy.signal.sosfilt_zi``)."""
    zi = np.empty((len(sos), 2))
    scale = 1.0
    for k, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        lhs = np.array([[1.0 + a1, -1.0], [a2, 1.0]])
        zi[k] = scale * np.linalg.solve(lhs, [b1 - a1 * b0, b2 - a2 * b0])
        scale *= (b0 + b1 + b2) / (1.0 + a1 + a2)
    return zi


def _sosfilt_columns(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Direct form II transposed over time (axis 0) for every column; ``zi`` (sections, 2, columns)."""
    y = x.copy()
    for k, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        z0, z1 = zi[k, 0].copy(), zi[k, 1].copy()
        col = y  # filtered in place, section after section
        for n in range(len(col)):
            xn = col[n].copy()
            yn = b0 * xn + z0
            z0 = b1 * xn - a1 * yn + z1
            z1 = b2 * xn - a2 * yn
            col[n] = yn
    return y


def _stack(series: list[np.ndarray]) -> np.ndarray:
    """Columns of a (longest, n) array, each series from row 0, padded with its last value."""
    out = np.empty((max(len(s) for s in series), len(series)))
    for j, s in enumerate(series):
        out[: len(s), j] = s
        out[len(s) :, j] = s[-1]
    return out


def sosfiltfilt_many(sos: np.ndarray, series: list[np.ndarray], *, padlen: int) -> list[np.ndarray]:
    """``scipy.signal.sosfiltfilt(sos, s, padlen=padlen)`` (odd padding) of each series (each > padlen long)."""
    if not series:
        return []
    ext = [
        np.concatenate([2 * s[0] - s[padlen:0:-1], s, 2 * s[-1] - s[-2 : -(padlen + 2) : -1]]) if padlen else s
        for s in (np.asarray(v, np.float64) for v in series)
    ]
    lengths = [len(e) for e in ext]
    zi = _sos_zi(sos)[:, :, None]
    x = _stack(ext)
    forward = _sosfilt_columns(sos, x, zi * x[0])
    last = np.array([forward[n - 1, j] for j, n in enumerate(lengths)])
    backward_in = _stack([forward[:n, j][::-1] for j, n in enumerate(lengths)])
    backward = _sosfilt_columns(sos, backward_in, zi * last)
    return [backward[:n, j][::-1][padlen : n - padlen] for j, n in enumerate(lengths)]
