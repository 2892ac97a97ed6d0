"""OpenSim exports: landmarks.trc and angles.mot, parsed per the documented layout and by OpenSim's own readers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitlab.core.landmarks import INDEX, NAMES
from gaitlab.io.keypoints import read_trc
from gaitlab.outputs.opensim import MOT_ANGLE_COLUMNS, write_mot, write_trc
from gaitlab.outputs.tables import frames_table
from gaitlab.pipeline import analyze_keypoints
from synthetic import running_track

CONTACTS = [("right", 0.10, 0.22), ("left", 0.40, 0.52), ("right", 0.70, 0.82), ("left", 1.00, 1.12)]


@pytest.fixture
def track():
    """A synthetic runner at 240 fps with a pose-less stretch (frames 30-34) and one missing knee (frame 50)."""
    t = running_track(CONTACTS, fps=240.0, duration_s=1.3, thigh_deg=lambda side, s: 30 * np.sin(2 * np.pi * s))
    xy = t.xy_px.copy()
    xy[30:35] = np.nan
    xy[50, INDEX["left_knee"]] = np.nan
    return t.with_xy(xy)


def _read_trc(path):
    """The documented layout: 5 header lines, then Frame#, Time, X/Y/Z per marker (tab-separated)."""
    lines = path.read_text().splitlines()
    first = lines[0].split("\t")
    header = dict(zip(lines[1].split("\t"), lines[2].split("\t")))
    names = [c for c in lines[3].split("\t")[2:] if c]
    axes = lines[4].split("\t")
    rows = np.array([[float(c) for c in ln.split("\t")] for ln in lines[5:]])
    return first, header, names, axes, rows


def test_trc_header_and_rows_match_the_track(tmp_path, track):
    path = write_trc(tmp_path / "landmarks.trc", track)
    first, header, names, axes, rows = _read_trc(path)
    assert first[:3] == ["PathFileType", "4", "(X/Y/Z)"] and first[3] == "landmarks.trc"
    assert float(header["DataRate"]) == pytest.approx(240.0) and float(header["CameraRate"]) == pytest.approx(240.0)
    assert int(header["NumFrames"]) == track.n_frames == len(rows)
    assert int(header["NumMarkers"]) == len(NAMES) == len(names)
    assert header["Units"] == "px"
    assert names == list(NAMES)
    n = len(NAMES)
    assert axes[:5] == ["", "", "X1", "Y1", "Z1"] and axes[-3:] == [f"X{n}", f"Y{n}", f"Z{n}"]
    assert rows.shape == (track.n_frames, 2 + 3 * len(NAMES))
    np.testing.assert_array_equal(rows[:, 0], np.arange(1, track.n_frames + 1))
    np.testing.assert_allclose(rows[:, 1], track.time_s, rtol=0, atol=1e-9)
    xyz = rows[:, 2:].reshape(track.n_frames, len(NAMES), 3)
    np.testing.assert_allclose(xyz[..., 0], track.xy_px[..., 0], rtol=1e-8)  # NaN where not seen, on both sides
    np.testing.assert_allclose(xyz[..., 1], -track.xy_px[..., 1], rtol=1e-8)  # y up
    np.testing.assert_array_equal(np.isnan(xyz[..., 2]), np.isnan(track.xy_px[..., 0]))
    assert np.all(xyz[..., 2][np.isfinite(xyz[..., 2])] == 0.0)
    k = INDEX["left_knee"]
    assert np.isnan(xyz[50, k]).all() and np.isfinite(xyz[50, INDEX["left_hip"]]).all()


def test_trc_in_metres_with_a_scale(tmp_path, track):
    path = write_trc(tmp_path / "landmarks.trc", track, scale_m_per_px=0.004)
    _, header, _, _, rows = _read_trc(path)
    assert header["Units"] == "m"
    hip = rows[:, 2:].reshape(track.n_frames, len(NAMES), 3)[:, INDEX["right_hip"]]
    np.testing.assert_allclose(hip[:, 0], 0.004 * track.point("right_hip")[:, 0], rtol=1e-8)
    np.testing.assert_allclose(hip[:, 1], -0.004 * track.point("right_hip")[:, 1], rtol=1e-8)
    with pytest.raises(ValueError):
        write_trc(tmp_path / "bad.trc", track, scale_m_per_px=0.0)


def test_gaitlab_reads_its_trc_back(tmp_path, track):
    back = read_trc(write_trc(tmp_path / "landmarks.trc", track))
    assert back.meta["units"] == "px"
    for name in ("left_hip", "right_knee", "left_ankle", "right_heel", "left_foot_index", "right_shoulder"):
        np.testing.assert_allclose(back.point(name), track.point(name), rtol=1e-8, err_msg=name)


def _frames(track):
    t = track.time_s
    frames = pd.DataFrame({"time_s": t})
    for k, col in enumerate(MOT_ANGLE_COLUMNS):
        frames[col] = 10.0 * (k + 1) * np.sin(2 * np.pi * t) + k
    frames.loc[30:34, list(MOT_ANGLE_COLUMNS)] = np.nan  # no pose
    frames.loc[50, "knee_flexion_deg_left"] = np.nan  # one angle undefined
    frames["thigh_angle_deg_left"] = 1.0  # not exported
    return frames


def test_mot_header_and_values_match_the_frames_table(tmp_path, track):
    frames = _frames(track)
    path = write_mot(tmp_path / "angles.mot", frames)
    lines = path.read_text().splitlines()
    end = lines.index("endheader")
    header = dict(ln.split("=", 1) for ln in lines[1:end] if "=" in ln)
    assert lines[0] == "angles"
    assert header["inDegrees"] == "yes"
    assert lines[end + 1].split("\t") == ["time", *MOT_ANGLE_COLUMNS]
    assert int(header["nColumns"]) == 1 + len(MOT_ANGLE_COLUMNS)
    body = np.array([[float(c) for c in ln.split("\t")] for ln in lines[end + 2 :]])
    defined = frames[["time_s", *MOT_ANGLE_COLUMNS]].dropna()
    assert int(header["nRows"]) == len(body) == len(frames) - 6
    np.testing.assert_allclose(body, defined.to_numpy(), rtol=1e-8, atol=1e-12)


def test_opensim_reads_both_files(tmp_path, track):
    opensim = pytest.importorskip("opensim")
    opensim.Logger.removeFileSink()  # else OpenSim writes opensim.log into the working folder
    opensim.Logger.setLevelString("Warn")
    trc = opensim.TimeSeriesTableVec3(str(write_trc(tmp_path / "landmarks.trc", track)))
    assert list(trc.getColumnLabels()) == list(NAMES)
    assert trc.getNumRows() == track.n_frames
    assert trc.getTableMetaDataString("Units") == "px"
    np.testing.assert_allclose(list(trc.getIndependentColumn()), track.time_s, atol=1e-9)
    for i in (0, 31, 50, track.n_frames - 1):
        row = trc.getRowAtIndex(i)
        for name in ("right_hip", "left_knee", "left_foot_index"):
            x, y = track.point(name)[i]
            got = row[INDEX[name]]
            np.testing.assert_allclose([got[0], got[1]], [x, -y], rtol=1e-8)
    frames = _frames(track)
    path = write_mot(tmp_path / "angles.mot", frames)
    mot = opensim.TimeSeriesTable(str(path))
    assert list(mot.getColumnLabels()) == list(MOT_ANGLE_COLUMNS)
    assert mot.getTableMetaDataString("inDegrees") == "yes"
    defined = frames[["time_s", *MOT_ANGLE_COLUMNS]].dropna().to_numpy()
    np.testing.assert_allclose(list(mot.getIndependentColumn()), defined[:, 0], atol=1e-9)
    np.testing.assert_allclose(mot.getMatrix().to_numpy(), defined[:, 1:], rtol=1e-8)
    assert opensim.Storage(str(path)).getSize() == len(defined)  # the GUI's reader stops at a NaN: none written


def test_every_analysis_writes_both_before_its_summary(tmp_path, track):
    src = write_trc(tmp_path / "runner.trc", track)
    done = analyze_keypoints(src, out_dir=tmp_path / "out")
    trc, mot, summary = (done.out_dir / n for n in ("landmarks.trc", "angles.mot", "summary.json"))
    assert done.paths["landmarks.trc"] == trc and done.paths["angles.mot"] == mot
    assert summary.stat().st_mtime_ns >= max(trc.stat().st_mtime_ns, mot.stat().st_mtime_ns)
    _, header, names, _, rows = _read_trc(trc)
    assert int(header["NumFrames"]) == done.result.track.n_frames and names == list(NAMES)
    xyz = rows[:, 2:].reshape(len(rows), len(NAMES), 3)
    np.testing.assert_allclose(xyz[..., 0], done.result.track.xy_px[..., 0], rtol=1e-8)
    lines = mot.read_text().splitlines()
    body = np.array([[float(c) for c in ln.split("\t")] for ln in lines[lines.index("endheader") + 2 :]])
    expected = frames_table(done.result)[["time_s", *MOT_ANGLE_COLUMNS]].dropna().to_numpy()
    np.testing.assert_allclose(body, expected, rtol=1e-8, atol=1e-9)


def test_with_a_fixed_cameras_scale_the_landmarks_are_in_metres(tmp_path, track):
    from test_metres import runner_track  # the gait model crossing a fixed camera's frame

    for name, source, units in (("crossing", runner_track(), "m"), ("in_place", track, "px")):
        src = write_trc(tmp_path / f"{name}.trc", source)
        done = analyze_keypoints(src, out_dir=tmp_path / name, athlete_height_m=1.8)
        m = done.result.summary.metres
        # running in place reads as a camera that follows the runner: its image is not the world's frame
        assert m.measured and m.camera == ("fixed" if units == "m" else "panning")
        _, header, _, _, rows = _read_trc(done.out_dir / "landmarks.trc")
        assert header["Units"] == units
        xyz = rows[:, 2:].reshape(len(rows), len(NAMES), 3)
        per_px = 1.0 / m.px_per_m if units == "m" else 1.0
        np.testing.assert_allclose(xyz[..., 0], done.result.track.xy_px[..., 0] * per_px, rtol=1e-6)
