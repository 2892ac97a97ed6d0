"""report.html: self-contained, its headline equals summary.json, and it renders in headless Chromium."""

import base64
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from chromium import find_chromium, in_ci, png_is_blank, visit
from gaitlab.analysis.analyze import analyze_track
from gaitlab.core.config import AnalysisConfig
from gaitlab.outputs.report import HEADLINE_MEASURES, PLOTS, write_report
from gaitlab.outputs.tables import frames_table, write_outputs
from synthetic import running_track
from test_events import sprint_contacts


@pytest.fixture(scope="session")
def chromium():
    path = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail("chromium is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); CI always runs this")
    return path


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory):
    """A full analysis of a synthetic sprint, written like the pipeline does."""
    fps = 240.0

    def thigh(side, t):
        phase = 0.0 if side == "left" else np.pi
        return 35.0 * np.sin(2 * np.pi * t / 0.47 + phase)

    track = running_track(sprint_contacts(), fps=fps, duration_s=2.2, thigh_deg=thigh)
    res = analyze_track(track, config=AnalysisConfig(), stored_fps=fps, capture_fps=fps, clip="synthetic.mp4")
    document = {**res.summary.to_dict(), "frame_size_px": list(track.frame_size_px)}
    out = tmp_path_factory.mktemp("report")
    write_outputs(res, out)
    write_report(document, frames_table(res), res.contacts, res.steps, out)
    return out


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.urls = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-measure" in a:
            self.cells.append(a)
        for key in ("src", "href", "action", "poster", "data"):
            if key in a and tag != "td":
                self.urls.append(a[key])


def parse(html_text):
    p = _Collect()
    p.feed(html_text)
    return p


def assert_headline_equals_summary(out_dir):
    summary = json.loads((out_dir / "summary.json").read_text())
    p = parse((out_dir / "report.html").read_text())
    assert len(p.cells) == 2 * len(HEADLINE_MEASURES)
    for cell in p.cells:
        stat = summary["legs"][cell["data-side"]][cell["data-measure"]]
        for key, attr in (("mean", "data-mean"), ("ci95_low", "data-ci95-low"), ("ci95_high", "data-ci95-high")):
            if stat[key] is None:
                assert cell[attr] == ""
            else:
                assert float(cell[attr]) == stat[key], (cell, stat)
        assert int(cell["data-n"]) == stat["n"]
    return summary, p


def assert_self_contained(html_text):
    p = parse(html_text)
    assert p.urls, "expected inlined images"
    assert all(u.startswith("data:") for u in p.urls), [u[:60] for u in p.urls if not u.startswith("data:")]
    assert not re.search(
        r"(?i)\b(?:https?:|ftp:)?//[a-z0-9.-]+\.[a-z]{2,}", html_text.replace("data:image/png;base64,", "")
    )
    assert "@import" not in html_text and "<script" not in html_text.lower()


def test_headline_numbers_equal_summary(synthetic_report):
    summary, _ = assert_headline_equals_summary(synthetic_report)
    assert summary["status"] == "ok"
    # shown text is the summary value at the report's precision, with its CI and steps
    html_text = (synthetic_report / "report.html").read_text()
    ct = summary["legs"]["left"]["contact_time_s"]
    assert f"{ct['mean'] * 1000:.0f} ms</span>" in html_text  # contact times are read in ms, as in the plots
    # the CI shown is the one widened by the known error of the committed table (markers rows at
    # >= 180 fps: the worst contact-time error there), and the text names it
    from gaitlab.analysis import known_error, uncertainty

    entry = known_error.load_table()["errors"]["markers"][">=180"]["near"]["contact_time_s"]
    err_ms = entry["error"]
    half = (ct["ci95_high"] - ct["ci95_low"]) / 2
    assert half == pytest.approx((ct["ci95_stat_high"] - ct["ci95_stat_low"]) / 2 + err_ms / 1000.0)
    assert (
        f"95% CI {ct['ci95_low'] * 1000:.0f} to {ct['ci95_high'] * 1000:.0f} (±{half * 1000:.0f} ms incl. known "
        f"error {err_ms:.3g} ms at 240 fps, markers (no pose model)); {ct['n']} steps"
    ) in html_text
    # confidence in words, in the headline cell and the status, from the error's share of the value
    share = err_ms / 1000.0 / ct["mean"]
    level = "high" if share <= uncertainty.HIGH_MAX_REL else "medium" if share <= uncertainty.MEDIUM_MAX_REL else "low"
    assert summary["measure_quality"]["left"]["contact_time_s"]["confidence"] == level
    assert f"{level} confidence</span>" in html_text
    status = re.search(r'<div class="status (\w+)" id="status">Status: ([^<]*)</div>', html_text)
    if summary["confidence"] != "high":
        assert status.group(1) == summary["confidence"]
        assert status.group(2).startswith(f"analyzed — {summary['confidence']} confidence: ")


def test_low_confidence_headline_is_not_green(synthetic_report):
    from gaitlab.analysis.uncertainty import status_label
    from gaitlab.outputs.report import render_html

    summary = json.loads((synthetic_report / "summary.json").read_text())
    summary.update(confidence="high", confidence_reason="")
    summary["status_label"] = status_label(summary)
    assert '<div class="status ok" id="status">Status: analyzed</div>' in render_html(summary, pd.DataFrame(), {})
    summary.update(confidence="low", confidence_reason="contact time known error 60 ms, 55% of the value")
    summary["status_label"] = status_label(summary)
    text = render_html(summary, pd.DataFrame(), {})
    assert (
        '<div class="status low" id="status">Status: analyzed — low confidence: contact time known '
        "error 60 ms, 55% of the value</div>"
    ) in text
    assert 'class="status ok"' not in text


def test_report_is_self_contained_and_plots_are_pngs(synthetic_report):
    html_text = (synthetic_report / "report.html").read_text()
    assert_self_contained(html_text)
    for name, _ in PLOTS:
        png = (synthetic_report / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert base64.b64encode(png).decode() in html_text  # the same image is inlined
    assert html_text.count("<tr>") - 1 >= 8  # per-step table: one row per contact


HEADLINE_VALUE_JS = (
    'document.querySelector(\'#headline td[data-measure="{m}"][data-side="left"] .val\').innerText.trim()'
)


@pytest.mark.integration
def test_report_renders_in_chromium(synthetic_report, chromium):
    evaluate = {m: HEADLINE_VALUE_JS.format(m=m) for m in ("contact_time_s", "flight_time_s")}
    evaluate["row"] = "document.querySelector('#headline tbody tr th').innerText.trim()"
    evaluate["steps_head"] = "[...document.querySelectorAll('#steps th')].map(e => e.innerText.trim()).join('|')"
    v = visit(synthetic_report / "report.html", chromium=chromium, evaluate=evaluate)
    # what the reader sees: contact and flight times in ms, in the headline and the per-step table
    legs = json.loads((synthetic_report / "summary.json").read_text())["legs"]["left"]
    for m in ("contact_time_s", "flight_time_s"):
        assert v.values[m] == f"{legs[m]['mean'] * 1000:.0f} ms", (m, v.values[m])
    assert v.values["row"] == "ground contact time [ms]"
    assert "contact (ms)|flight (ms)" in v.values["steps_head"]
    assert v.console_errors == []
    assert all(u.startswith(("file:", "data:")) for u in v.requests), v.requests
    assert v.phone_overflow_px <= 0, "page wider than a phone screen"
    assert "gaitlab report" in v.title
    for name, png in v.screenshots_png.items():
        assert not png_is_blank(png), name


@pytest.mark.integration
def test_chromium_check_catches_errors_and_network(tmp_path, chromium):
    # the checks above can fail: a page with a script error and an external image is caught
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body><p>x</p>"
        '<img src="http://127.0.0.1:9/missing.png"><script>console.error("broken");'
        "undefinedFunction();</script></body></html>"
    )
    v = visit(page, chromium=chromium)
    assert any("broken" in e for e in v.console_errors)
    assert any("undefinedFunction" in e for e in v.console_errors)
    assert any(u.startswith("http://127.0.0.1:9/") for u in v.requests)


def test_report_without_running_still_renders(tmp_path):
    # a clip with no analyzable running: the report says why instead of failing
    from gaitlab.analysis.analyze import analyze_track as at

    track = running_track([("left", 0.1, 0.2)], fps=120.0, duration_s=0.6)
    res = at(track, config=AnalysisConfig(), stored_fps=120.0, capture_fps=120.0, clip="short.mp4")
    paths = write_report(res.summary.to_dict(), frames_table(res), res.contacts, res.steps, tmp_path)
    text = paths["report.html"].read_text()
    assert not res.summary.status.ok and res.summary.status.status in text
    assert_self_contained(text)


def test_hip_flexion_legend_is_outside_the_axes(synthetic_report):
    # the key never covers a curve: it sits above both panels, clear of every axes' box
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gaitlab.outputs.plots import hip_flexion_figure

    summary = json.loads((synthetic_report / "summary.json").read_text())
    frames = pd.read_csv(synthetic_report / "frames.csv")
    steps = pd.read_csv(synthetic_report / "steps.csv")
    fig = hip_flexion_figure(summary, frames, steps)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    assert not any(a.get_legend() for a in fig.axes)
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert len(legend.get_texts()) >= 6  # both legs, knee-drive and swing peaks (and the reference)
    for a in fig.axes:
        assert not box.overlaps(a.get_window_extent(renderer)), a.get_ylabel()
