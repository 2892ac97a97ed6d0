"""Readers of other tools' keypoints (Sports2D TRC, OpenPose BODY_25) -> PoseTrack -> analysis."""

import numpy as np
import pytest

from gaitlab.analysis.analyze import analyze_track
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import INDEX
from gaitlab.io.keypoints import read_keypoints


@pytest.mark.integration
def test_trc_variable_rate_maps_landmarks(shared_data):
    path = shared_data / "keypoints/iphone_10m_sprint_sports2d_trc/IMG_0212_Sports2D_m_person00.trc"
    track, notes = read_keypoints(path)
    assert not notes
    fs = 1.0 / np.median(np.diff(track.time_s))
    assert 105 < fs < 125
    # y grows downward: the toe is below the hip in the image
    assert np.nanmedian(track.point("left_foot_index")[:, 1] - track.point("left_hip")[:, 1]) > 100
    assert np.isfinite(track.xy_px[:, INDEX["right_heel"]]).all()
    res = analyze_track(track, config=AnalysisConfig(), stored_fps=fs, capture_fps=fs, clip=str(path))
    assert res.summary.status.ok
    ct = res.contacts["contact_time_s"]
    assert len(ct) >= 4 and ct.between(0.05, 0.2).all()


@pytest.mark.integration
def test_openpose_folder(shared_data):
    folder = shared_data / "keypoints/side_run_openpose_body25/json"
    track, notes = read_keypoints(folder)
    assert track.n_frames == 88 and "assumed 30 fps" in notes[0]
    track60, notes60 = read_keypoints(folder, fps=60.0)
    assert not notes60 and np.isclose(track60.time_s[1], 1 / 60)


def test_bad_keypoint_file(tmp_path):
    bad = tmp_path / "x.trc"
    bad.write_text("nonsense\n")
    with pytest.raises(BadInputError, match="not a TRC"):
        read_keypoints(bad)
    other = tmp_path / "a.csv"
    other.write_text("")
    with pytest.raises(BadInputError, match="unsupported"):
        read_keypoints(other)
