"""What scripts/fuzz.py found, pinned down by fast tests: each was an exit 1, a hang or stray output.

- a FIFO in a pose-cache entry's place blocked the read for ever (now a noted miss);
- a models folder that cannot be searched, and a --model-path that is missing, a folder or no
  model bundle, were internal errors (now exit 2, one line naming the file);
- a one-frame clip's contact plot raised a matplotlib warning;
- a batch worker printed every clip's quality notes on stderr (Python's last-resort handler).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading
import warnings
import zipfile

import pandas as pd
import pytest

from conftest import REPO
from gaitlab.core import columns as col
from gaitlab.core.errors import ModelUnavailableError
from gaitlab.core.types import VideoInfo
from gaitlab.io.cache import entry_path, load_pose
from gaitlab.pose.models.files import check_model_file
from gaitlab.pose.models.provision import ensure_model

KEY = "fedcba9876543210fedcba9876543210"


def test_fifo_in_a_cache_entrys_place_is_a_noted_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITLAB_CACHE_DIR", str(tmp_path))
    path = entry_path(KEY)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    info = VideoInfo(pathlib.Path("c.mp4"), 30.0, 30.0, "assumed", 10, 64, 48, 0, "h264", 1 / 3)
    notes, result = [], []
    reader = threading.Thread(target=lambda: result.append(load_pose(KEY, info, note=notes.append)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO entry blocks"
    assert result == [None] and len(notes) == 1 and "not a regular file" in notes[0]


def test_models_folder_that_cannot_be_searched_is_exit_2(tmp_path, monkeypatch):
    with pytest.raises(ModelUnavailableError, match="File name too long"):
        ensure_model("lite", directory=tmp_path / ("x" * 300))

    def refuse(self, *args, **kwargs):  # what a folder without search permission gives a non-root user
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "exists", refuse)
    with pytest.raises(ModelUnavailableError, match=r"cannot look into the models directory .* \(Permission denied\)"):
        ensure_model("lite", directory=tmp_path / "models")


def test_model_path_that_is_no_model_bundle_is_exit_2(tmp_path):
    not_zip = tmp_path / "clip.task"
    not_zip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    other_zip = tmp_path / "other.task"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("pose_detector.tflite", b"x")
    for path, problem in [
        (tmp_path / "missing.task", "No such file"),
        (tmp_path, "not a pose model file"),
        (not_zip, "not a MediaPipe pose model"),
        (other_zip, "no pose_landmarks_detector.tflite"),
    ]:
        with pytest.raises(ModelUnavailableError, match=problem) as err:
            check_model_file(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)
    good = tmp_path / "good.task"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("pose_detector.tflite", b"x")
        z.writestr("pose_landmarks_detector.tflite", b"y")
    assert check_model_file(good) == good


def test_one_frame_contact_plot_warns_nothing():
    from gaitlab.outputs.plots import contact_timeline_figure

    frames = pd.DataFrame({col.TIME_S: [0.25]})
    contacts = pd.DataFrame({col.SIDE: [], col.TOUCHDOWN_S: [], col.TOE_OFF_S: []})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        contact_timeline_figure({"legs": {}}, frames, contacts)


WORKER_LOGS = """
import logging
from gaitlab.core.logs import FILE_ONLY
from gaitlab.team.worker import _console_in_worker
_console_in_worker()
log = logging.getLogger("gaitlab.pipeline")
log.warning("quality: a note for the log file only", extra=FILE_ONLY)
log.warning("a real warning")
"""


def test_batch_worker_prints_no_file_only_records():
    r = subprocess.run([sys.executable, "-c", WORKER_LOGS], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == ["gaitlab: warning: a real warning"]


def test_config_that_is_no_settings_file_is_exit_2(tmp_path):
    from gaitlab.core.config import load_config
    from gaitlab.core.errors import BadInputError

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 3000 + "]" * 3000 + "\n")
    for path, problem in [(fifo, "not a regular file"), ("/dev/zero", "not a regular file"), (deep, "nested")]:
        with pytest.raises(BadInputError, match=problem):
            load_config(path)


def test_roster_and_keypoints_that_are_fifos_are_exit_2(tmp_path):
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.keypoints import read_keypoints
    from gaitlab.team.discover import load_roster

    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match="not a regular file"):
        load_roster(fifo)
    trc = tmp_path / "fifo.trc"
    os.mkfifo(trc)
    with pytest.raises(BadInputError, match="FIFO"):
        read_keypoints(trc)
    folder = tmp_path / "openpose"
    folder.mkdir()
    os.mkfifo(folder / "000.json")
    with pytest.raises(BadInputError, match="not a regular file"):
        read_keypoints(folder, fps=30)


@pytest.mark.parametrize(
    "frame", ["[]", '{"people": 3}', '{"people": [3]}', '{"people": [{"pose_keypoints_2d": ["a", "b", "c"]}]}']
)
def test_openpose_frame_of_the_wrong_shape_is_exit_2(tmp_path, frame):
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.keypoints import read_keypoints

    (tmp_path / "000000.json").write_text(frame)
    with pytest.raises(BadInputError, match=r"000000\.json: not an OpenPose JSON file"):
        read_keypoints(tmp_path, fps=30)


def test_trc_cell_that_is_no_number_is_exit_2(tmp_path):
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.keypoints import read_trc

    head = "PathFileType\t4\t(X/Y/Z)\tx.trc\nDataRate\tUnits\n60\tpx\nFrame#\tTime\tnose\n\t\tX1\tY1\tZ1\n"
    path = tmp_path / "x.trc"
    path.write_text(head + "1\t0\t1\t2\t0\n2\t0.1\t0x10\t2\t0\n")
    with pytest.raises(BadInputError, match="line 7: a value that is not a number"):
        read_trc(path)


def test_file_name_that_is_not_utf8_is_written_escaped(tmp_path):
    from gaitlab.io.atomic import write_text_atomic

    name = os.fsdecode(b"caf\xe9.mp4")  # what Linux gives Python for a Latin-1 file name
    write_text_atomic(tmp_path / "t.csv", f"clip\n{name}\n")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == "clip\ncaf\\udce9.mp4\n"


def test_capture_rate_no_camera_has_is_exit_2(tmp_path):
    """1e300 fps put every frame at 0 s (an internal error, or a LinAlgError in a batch worker)."""
    from gaitlab.core.errors import BadInputError
    from gaitlab.io.video import _capture_fps_from_metadata, check_capture_fps

    for fps in (1e300, 1e-300, 0.5, float("nan"), 20_000.0):
        with pytest.raises(BadInputError, match="is not a camera's"):
            check_capture_fps(fps, "clip.mp4")
    assert check_capture_fps(240, "clip.mp4") == 240.0
    assert _capture_fps_from_metadata({"com.android.capture.fps": "1e300"}) is None  # damaged: ignored
    assert _capture_fps_from_metadata({"com.android.capture.fps": "240.000000"}) == 240.0


@pytest.mark.parametrize("entry", ["clips", ".gaitlab-locks", "team_summary.csv"])
def test_batch_output_entry_of_the_wrong_kind_is_exit_2(tmp_path, entry):
    from gaitlab.core.errors import OutputError
    from gaitlab.team.batch import run_batch

    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    (source / "a.mp4").write_bytes(b"x")
    out.mkdir()
    if entry.endswith(".csv"):
        (out / entry).mkdir()
    else:
        (out / entry).write_text("in the way")
    with pytest.raises(OutputError, match="something else is where the batch keeps its"):
        run_batch(source, out, workers=1, show_progress=False)


def test_team_outputs_replace_a_killed_batchs_temporaries(tmp_path):
    from gaitlab.team.batch import write_team_outputs
    from gaitlab.team.worker import LOCK_DIR_NAME

    (tmp_path / LOCK_DIR_NAME).mkdir()
    stale = tmp_path / ".team_summary.csv.k1ll3d.tmp"  # what SIGKILL during the write leaves
    stale.write_text("athlete,sess")
    other = tmp_path / ".notes.txt.abc.tmp"  # not a team output's: left alone
    other.write_text("x")
    (tmp_path / "failures.csv").write_bytes(b"\xff\xfe not ours")  # not UTF-8: replaced, no crash
    write_team_outputs([], tmp_path, source=tmp_path)
    assert not stale.exists() and other.exists()
    assert (tmp_path / "failures.csv").read_text(encoding="utf-8").startswith("athlete,session,clip")


def test_trc_without_one_number_is_exit_2(tmp_path):
    from gaitlab.core.errors import BadInputError
    from gaitlab.core.landmarks import NAMES
    from gaitlab.io.keypoints import read_trc

    markers = "\t\t\t".join(NAMES)
    head = f"PathFileType\t4\t(X/Y/Z)\tx.trc\nDataRate\tUnits\n60\tm\nFrame#\tTime\t{markers}\n\t\tX1\n"
    rows = "".join(f"{i}\t{i / 60}" + "\tnan" * (3 * len(NAMES)) + "\n" for i in range(1, 9))
    path = tmp_path / "x.trc"
    path.write_text(head + rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(BadInputError, match="no landmark position in it is a number"):
            read_trc(path)


def test_cutoff_too_low_to_filter_is_refused_on_load(tmp_path):
    """5e-8 Hz was 'in range' and failed inside SciPy's filter design (a singular matrix: exit 1)."""
    from gaitlab.core.config import load_config
    from gaitlab.core.errors import BadInputError

    path = tmp_path / "c.toml"
    for key in ("cutoff_hz", "trunk_cutoff_hz"):
        path.write_text(f"[clean]\n{key} = 5e-8\n")
        with pytest.raises(BadInputError, match=r"must be a number in \[0\.1, 50\]"):
            load_config(path)
        path.write_text(f"[clean]\n{key} = 0.1\n")
        assert getattr(load_config(path).clean, key) == 0.1


def test_output_piped_into_a_reader_that_stops_is_no_internal_error(tmp_path):
    # `gaitlab analyze ... | head -1`: the reader goes away; exit as SIGPIPE would (141), no error message
    from gaitlab.outputs.opensim import write_trc
    from synthetic import running_track
    from test_events import sprint_contacts

    trc = write_trc(tmp_path / "run.trc", running_track(sprint_contacts(), fps=240.0, duration_s=2.0))
    cmd = [sys.executable, "-m", "gaitlab", "analyze", "--keypoints", str(trc), "--out", str(tmp_path / "o"), "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 141 and "internal error" not in err
