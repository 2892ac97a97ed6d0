"""``pip install .`` of a checkout into a fresh virtual environment gives a working ``gaitlab``.

A real venv (not ``--system-site-packages``) and a real install with every dependency from
PyPI (or pip's cache): ~30-60 s here. The commands then run from a folder outside the checkout,
so nothing can be imported from the source tree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from gaitlab import __version__
from gaitlab.outputs.opensim import write_trc
from synthetic import running_track

pytestmark = pytest.mark.integration

# Top-level folders not needed to build or install: the environment, build files, outputs, models, sample media.
NOT_SOURCE = {".venv", ".git", ".pytest_cache", "build", "gaitlab.egg-info", "out", "models", "sample_videos"}


def _not_source(folder: str, names: list[str]) -> set[str]:
    top = NOT_SOURCE if Path(folder) == REPO else set()
    return {n for n in names if n in top or n == "__pycache__" or n.endswith(".gaitlab")}


def _run(*cmd, cwd, timeout=120):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: {r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, a work folder outside the checkout) after ``pip install <copy of the checkout>``."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    # a copy, so the build's in-tree files (build/, *.egg-info) never land in the working checkout
    shutil.copytree(REPO, src, ignore=_not_source)
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(root / "venv")
    bin_dir = root / "venv" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "--quiet", str(src), cwd=root, timeout=600)
    work = root / "work"
    work.mkdir()
    return bin_dir, work


def test_console_script_and_module_run_outside_the_checkout(installed):
    bin_dir, work = installed
    assert _run(bin_dir / "gaitlab", "--version", cwd=work).stdout.strip() == __version__
    r = _run(bin_dir / "python", "-m", "gaitlab", "--help", cwd=work)
    assert "analyze" in r.stdout and "batch" in r.stdout
    where = _run(bin_dir / "python", "-c", "import gaitlab; print(gaitlab.__file__)", cwd=work).stdout.strip()
    assert where.startswith(str(bin_dir.parent)), where  # the installed copy, not the source tree


def test_dependencies_are_consistent_with_one_opencv(installed):
    bin_dir, work = installed
    _run(bin_dir / "python", "-m", "pip", "check", cwd=work)
    r = _run(bin_dir / "python", "-m", "pip", "list", "--format", "json", cwd=work)
    names = {p["name"].lower() for p in json.loads(r.stdout)}
    assert [n for n in names if n.startswith("opencv")] == ["opencv-contrib-python"]
    assert {"mediapipe", "av", "pandas", "scipy", "matplotlib", "rich"} <= names
    assert ("tomli" in names) == (sys.version_info < (3, 11))


def test_installed_gaitlab_analyzes_landmarks(installed):
    """Package data (known errors), the report and the exports work from the installed copy."""
    bin_dir, work = installed
    contacts = [("right", 0.10, 0.22), ("left", 0.40, 0.52), ("right", 0.70, 0.82), ("left", 1.00, 1.12)]
    track = running_track(contacts, fps=240.0, duration_s=1.3, thigh_deg=lambda side, s: 30 * np.sin(2 * np.pi * s))
    trc = write_trc(work / "runner.trc", track)
    (work / "settings.toml").write_text("[clean]\ncutoff_hz = 12.0\n")
    r = _run(
        bin_dir / "gaitlab", "analyze", "--keypoints", trc, "--config", "settings.toml", "--out", "out", "-q", cwd=work
    )
    assert r.stderr == ""
    for name in ("summary.json", "report.html", "landmarks.trc", "angles.mot", "gaitlab.log"):
        assert (work / "out" / name).is_file(), name
    assert json.loads((work / "out" / "summary.json").read_text())["status"] == "ok"
