"""Speed and step length in metres end to end: ``gaitlab analyze`` on the sample clip (a camera that pans
with the runner) with the figure's height, against its truth (9.0 m/s, 2.07 m): issue 15's acceptance of
5 % on the speed and 8 % on the step length. The full model keeps it quicker; the pose is cached in the
test session's cache, so the second analysis (without a height) costs no pose."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from gaitlab.core import columns as col

pytestmark = pytest.mark.integration


def _analyze(clip, out, *extra) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", "analyze", str(clip), "--out", str(out), "--quiet", "--model", "full"]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def with_height(sample_clip, sample_truth, tmp_path_factory, full_model):
    out = tmp_path_factory.mktemp("metres")
    height = sample_truth["summary"]["athlete_height_m"]
    return out, _analyze(sample_clip, out, "--athlete-height-m", str(height))


def test_sample_speed_and_step_length_within_the_targets(with_height, sample_truth):
    out, summary = with_height
    metres = summary["metres"]
    assert metres["measured"] and metres["camera"] == "panning" and summary["camera"] == "moving"
    assert summary["speed_and_step_length"] == "computed (panning camera)"
    speed = metres["legs"]["both"][col.SPEED_M_S]["mean"]
    length = metres["legs"]["both"][col.STEP_LENGTH_M]["mean"]
    assert speed == pytest.approx(sample_truth["params"]["speed_m_s"], rel=0.05)
    assert length == pytest.approx(sample_truth["summary"]["step_length_m"], rel=0.08)
    steps = pd.read_csv(out / "steps.csv")
    assert steps[col.SPEED_M_S].notna().sum() >= 8 and steps[col.STEP_LENGTH_M].notna().sum() >= 8
    report = (out / "report.html").read_text()
    assert f'data-measure="{col.SPEED_M_S}"' in report and "step length (m)" in report
    assert any("Speed and step length in metres" in q for q in summary["quality"])


def test_sample_without_a_height_has_no_metres_and_the_same_contacts(sample_clip, with_height, tmp_path):
    out, _ = with_height
    summary = _analyze(sample_clip, tmp_path / "plain")
    assert not summary["metres"]["measured"] and "--athlete-height-m" in summary["metres"]["why_not"]
    assert summary["speed_and_step_length"].startswith("not computed")
    # the height adds columns, it moves no event
    pd.testing.assert_frame_equal(pd.read_csv(out / "contacts.csv"), pd.read_csv(tmp_path / "plain" / "contacts.csv"))
    steps = pd.read_csv(tmp_path / "plain" / "steps.csv")
    assert steps[col.SPEED_M_S].isna().all()
