"""Outputs on disk: atomic writes reach the disk before their name does; no output of an earlier run
survives beside a new analysis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from gaitlab.io import atomic
from gaitlab.io.atomic import temp_prefix, write_bytes_atomic, write_text_atomic


@pytest.fixture
def synced(monkeypatch):
    """Paths passed to ``os.fsync``, in order (the real fsync still runs)."""
    paths = []
    real = os.fsync

    def fsync(fd):
        paths.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return paths


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a file descriptor")
@pytest.mark.parametrize("write", [write_text_atomic, lambda p, t: write_bytes_atomic(p, t.encode())])
def test_atomic_write_syncs_the_file_then_its_folder(tmp_path, synced, write):
    target = tmp_path / "summary.json"
    write(target, "{}")
    assert target.read_text() == "{}"
    assert len(synced) == 2, synced
    assert synced[0].parent == tmp_path and synced[0].name.startswith(".summary.json."), "the data, before the rename"
    assert synced[1] == tmp_path, "then the folder, so the new name survives a power cut"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_temporary_names_fit_however_long_the_target_name(tmp_path):
    name = "語" * 83 + ".csv"  # 253 bytes: a valid name, with no room for more
    assert len(name.encode()) == 253
    assert len(temp_prefix(name).encode()) <= 102
    write_text_atomic(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x"


@pytest.mark.integration
def test_reanalysis_leaves_no_annotated_video_of_an_earlier_run(shared_data, tmp_path):
    trc = shared_data / "keypoints/iphone_10m_sprint_sports2d_trc/IMG_0212_Sports2D_m_person00.trc"
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "annotated.mp4"
    stale.write_bytes(b"drawn from an earlier analysis")
    r = subprocess.run(
        [sys.executable, "-m", "gaitlab.cli", "analyze", "--keypoints", str(trc), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    assert (out / "summary.json").is_file()
    assert not stale.exists(), "an annotated video of an earlier run must not sit beside the new summary"
