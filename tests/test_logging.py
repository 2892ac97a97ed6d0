"""Messages through the ``gaitlab`` logger: -q / -v on the command line, and gaitlab.log in every analysis folder."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import warnings
from contextlib import redirect_stderr

import pytest

from conftest import REPO
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.logs import FILE_ONLY, capture_records, configure_console
from gaitlab.io.run_log import run_log

log = logging.getLogger("gaitlab.tests")


@pytest.fixture
def restore_gaitlab_logger():
    root = logging.getLogger("gaitlab")
    saved = root.level, root.propagate, list(root.handlers)
    yield
    root.setLevel(saved[0])
    root.propagate = saved[1]
    root.handlers[:] = saved[2]


def test_console_levels_and_formats(restore_gaitlab_logger):
    for verbosity, shown in ((-1, ["gaitlab: warning: w", "gaitlab: error: e"]), (0, ["i", "gaitlab: warning: w"])):
        err = io.StringIO()
        with redirect_stderr(err):  # the handler writes to sys.stderr as it is at the time
            configure_console(verbosity)
            log.debug("d")
            log.info("i")
            log.info("only in the file", extra=FILE_ONLY)
            log.warning("w")
            log.error("e")
        lines = err.getvalue().splitlines()
        assert all(s in lines for s in shown) and "only in the file" not in lines
        assert ("i" in lines) == (verbosity >= 0) and "gaitlab: debug: d" not in lines
    err = io.StringIO()
    with redirect_stderr(err):
        configure_console(1)
        log.debug("d")
    assert err.getvalue() == "gaitlab: debug: d\n"  # one handler: an earlier call's is replaced


def test_capture_keeps_debug_without_changing_what_others_see(restore_gaitlab_logger, caplog):
    logging.getLogger("gaitlab").setLevel(logging.WARNING)
    caplog.set_level(logging.WARNING)  # a root handler, as an application's logging setup would add
    with capture_records() as capture:
        log.debug("debug line")
        log.warning("warning line")
        warnings.warn("a Python warning", UserWarning, stacklevel=1)
    text = capture.text()
    assert "DEBUG   gaitlab.tests: debug line" in text and "WARNING gaitlab.tests: warning line" in text
    assert "a Python warning" in text
    assert [r.getMessage() for r in caplog.records if r.name == "gaitlab.tests"] == ["warning line"]
    assert logging.getLogger("gaitlab").level == logging.WARNING
    log.debug("after the block")
    assert "after the block" not in capture.text()


def test_run_log_written_on_success_only(tmp_path):
    with run_log(tmp_path / "gaitlab.log", command="analyze", settings={"clip": tmp_path / "c.mp4", "n": 3}):
        log.debug("inside")
    text = (tmp_path / "gaitlab.log").read_text()
    assert "command: analyze" in text and "inside" in text
    settings = json.loads(text.split("settings: ", 1)[1].splitlines()[0])
    assert settings == {"clip": str(tmp_path / "c.mp4"), "n": 3}
    with pytest.raises(RuntimeError), run_log(tmp_path / "failed.log", command="analyze", settings={}):
        raise RuntimeError("stage failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gaitlab.log"]  # no log, no temporary file


def _analyze(clip, out, *flags):
    return subprocess.run(
        [sys.executable, "-m", "gaitlab", "analyze", str(clip), "--out", str(out), *flags],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def verbose_run(sample_clip, tmp_path_factory, default_model):
    """The sample clip with the default model (the pose cache then serves the other runs of the session)."""
    out = tmp_path_factory.mktemp("verbose") / "out"
    r = _analyze(sample_clip, out, "-v")
    assert r.returncode == 0, r.stderr[-3000:]
    return r, out


@pytest.mark.integration
def test_run_log_names_the_model_its_sha256_the_settings_and_timings(verbose_run, default_model, sample_clip):
    from gaitlab.pose.models.provision import DEFAULT_MODEL, model_sha256

    _, out = verbose_run
    text = (out / "gaitlab.log").read_text()
    assert f"sha256 {model_sha256(default_model)}" in text and str(default_model) in text
    assert "command: analyze" in text
    settings = json.loads(text.split("settings: ", 1)[1].splitlines()[0])
    assert settings["clip"] == str(sample_clip) and settings["pose"]["model"] == DEFAULT_MODEL
    assert settings["analysis"] == json.loads(json.dumps(AnalysisConfig().to_dict()))
    assert settings["video"]["capture_fps"] == pytest.approx(240.0)
    for stage in ("probe", "pose", "analysis", "write", "total"):
        assert f"stage {stage}: " in text
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.integration
def test_verbose_prints_debug_lines(verbose_run):
    r, out = verbose_run
    debug = [ln for ln in r.stderr.splitlines() if ln.startswith("gaitlab: debug: ")]
    assert any("sha256" in ln for ln in debug) and any(ln.startswith("gaitlab: debug: stage pose: ") for ln in debug)
    assert r.stderr.splitlines()[-1] == f"outputs: {out}"
    assert "contact" in r.stdout.lower()  # the summary stays on stdout


@pytest.mark.integration
def test_quiet_prints_nothing_on_stderr_but_still_logs(verbose_run, sample_clip, tmp_path):
    r = _analyze(sample_clip, tmp_path / "out", "-q")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.strip()  # the command's output: the summary
    text = (tmp_path / "out" / "gaitlab.log").read_text()
    assert "pose from the cache" in text and "stage total: " in text


@pytest.mark.integration
def test_default_prints_no_debug_lines(verbose_run, sample_clip, tmp_path):
    r = _analyze(sample_clip, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [f"outputs: {tmp_path / 'out'}"]  # pose from the cache: no progress lines
