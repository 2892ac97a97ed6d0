"""Annotated video and report on real clips, through the command line as a user runs it.

The real MediaPipe model runs once per clip per test session (shared pose cache),
so these add little beyond the pose runs other tests already pay for.
"""

import json
import os
import subprocess
import sys

import av
import pytest

from conftest import REPO, SHARED_DATA
from test_report import assert_headline_equals_summary, assert_self_contained, chromium  # noqa: F401 (fixture)

TRACK_CLIP = SHARED_DATA / "clips" / "track_run_pan_screenrec.mp4"


def cli(*args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def decoded_frame_count(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return (
            sum(1 for _ in c.decode(s)),
            s.codec_context.name,
            s.codec_context.pix_fmt,
            (s.codec_context.width, s.codec_context.height),
        )


def check_outputs(clip, out):
    n_in, _, _, _ = decoded_frame_count(clip)
    n_out, codec, pix_fmt, size = decoded_frame_count(out / "annotated.mp4")
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    assert n_out == n_in
    summary, _ = assert_headline_equals_summary(out)
    w, h = summary["frame_size_px"]
    assert size == (w + w % 2, h + h % 2)
    assert_self_contained((out / "report.html").read_text())
    return summary


@pytest.fixture(scope="module")
def track_run(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("track")
    r = cli("analyze", TRACK_CLIP, "--out", out, "--quiet", "--annotate")
    # the report and video are written whatever the status (3 = no analyzable running found)
    assert r.returncode in (0, 3), r.stderr
    return out


@pytest.fixture(scope="module")
def sample_run_annotated(sample_clip, tmp_path_factory, default_model):
    out = tmp_path_factory.mktemp("sample_annotated")
    r = cli("analyze", sample_clip, "--out", out, "--quiet", "--annotate")
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_track_clip_annotated_and_report(track_run):
    check_outputs(TRACK_CLIP, track_run)


@pytest.mark.integration
@pytest.mark.slow
def test_sample_clip_annotated_and_report(sample_clip, sample_run_annotated):
    check_outputs(sample_clip, sample_run_annotated)


@pytest.mark.integration
@pytest.mark.slow
def test_sample_report_renders_in_chromium(sample_run_annotated, chromium):  # noqa: F811
    from chromium import png_is_blank, visit

    v = visit(sample_run_annotated / "report.html", chromium=chromium)
    assert v.console_errors == []
    assert all(u.startswith(("file:", "data:")) for u in v.requests), v.requests
    assert v.phone_overflow_px <= 0
    assert not png_is_blank(v.screenshots_png["phone"])


@pytest.mark.integration
@pytest.mark.slow
def test_annotate_reuses_analysis_without_pose(track_run, tmp_path):
    # no model and an empty pose cache: pose could not run, so success means it was not needed
    env = dict(os.environ, GAITLAB_MODELS_DIR=str(tmp_path / "no-models"), GAITLAB_CACHE_DIR=str(tmp_path / "c"))
    before = (track_run / "summary.json").read_bytes()
    r = cli("annotate", TRACK_CLIP, "--out", track_run, "--quiet", "--crop", "--slowmo", "4", env=env)
    assert r.returncode == 0, r.stderr
    with av.open(str(track_run / "annotated.mp4")) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        rate = float(s.average_rate)
    summary = json.loads(before)
    assert n == decoded_frame_count(TRACK_CLIP)[0]
    assert rate == pytest.approx(summary["stored_fps"] / 4, rel=1e-3)
    assert (track_run / "summary.json").read_bytes() == before  # the analysis itself is untouched
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").rglob("*.npz"))


@pytest.mark.integration
def test_annotate_without_analysis_is_a_one_line_error(tmp_path):
    from test_annotated_video import make_clip

    clip = make_clip(tmp_path / "clip.mp4")
    r = cli("annotate", clip, "--quiet")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no finished analysis" in lines[0] and "gaitlab analyze" in lines[0]


def test_slowmo_must_be_positive(tmp_path):
    r = cli("annotate", tmp_path / "x.mp4", "--slowmo", "0")
    assert r.returncode == 2 and "must be > 0" in r.stderr
