"""The NumPy stand-ins for SciPy in the analysis (gaitlab.analysis.iir, .numeric) give SciPy's numbers,
and re-analysis imports none of SciPy, matplotlib, MediaPipe or Ray before they are used."""

import subprocess
import sys

import numpy as np
import pytest
from scipy.ndimage import maximum_filter1d, median_filter
from scipy.signal import butter, sosfiltfilt
from scipy.special import ndtr, stdtrit

from gaitlab.analysis.iir import butter_lowpass_sos, sosfiltfilt_many
from gaitlab.analysis.numeric import normal_cdf, running_max, running_median, t_quantile


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("wn", [0.02, 0.2, 0.8])
def test_butterworth_forward_backward_equals_scipy(order, wn):
    ref_sos = butter(order, wn, btype="low", output="sos")
    sos = butter_lowpass_sos(order, wn)
    assert sos.shape == ref_sos.shape
    rng = np.random.default_rng(order)
    series = [np.cumsum(rng.normal(size=n)) * 10 for n in (40, 41, 333, 650)]
    padlen = 3 * (2 * len(sos) + 1)
    got = sosfiltfilt_many(sos, series, padlen=padlen)
    for x, y in zip(series, got):
        ref = sosfiltfilt(ref_sos, x, padlen=padlen)
        np.testing.assert_allclose(y, ref, rtol=0, atol=1e-9 * np.abs(x).max())


def test_running_filters_equal_scipy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 50, 301):
        x = rng.normal(size=n)
        for size in (1, 3, 5, 9):
            assert np.array_equal(running_median(x, size), median_filter(x, size=size, mode="nearest"))
        x[rng.random(n) < 0.2] = -np.inf
        for size in (1, 2, 3, 4, 7, 40):
            assert np.array_equal(running_max(x, size), maximum_filter1d(x, size=size, mode="nearest"))


def test_normal_cdf_and_t_quantile_equal_scipy():
    u = np.linspace(-20, 8, 2001)
    np.testing.assert_allclose(normal_cdf(u), ndtr(u), rtol=1e-12, atol=0)
    assert normal_cdf(0.3) == pytest.approx(float(ndtr(0.3)), rel=1e-15)
    for df in (1, 2, 3, 4, 5, 6, 9, 30, 101, 1000):
        for p in (0.6, 0.9, 0.975, 0.999):
            assert t_quantile(p, df) == pytest.approx(float(stdtrit(df, p)), rel=1e-13)


def test_reanalysis_imports_no_heavy_module():
    code = (
        "import sys, gaitlab.cli, gaitlab.pipeline; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib', 'mediapipe', 'ray', 'torch'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
