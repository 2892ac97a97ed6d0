"""The mocap-driven clip renderer feeds ``render_figure`` everything it draws (no pose, no encoding here).

The full video evaluation (render + MediaPipe + analysis for 3 trials x 3 fps) is
``scripts/evaluate_accuracy.py``, not part of the test suite.
"""

import numpy as np
import pytest

from gaitlab.evaluation import accuracy, accuracy_video
from gaitlab.evaluation.synth.gait_model import JOINT_NAMES

pytestmark = pytest.mark.integration

TRIALS = ("mocap/dorn2012_JA1/JA1Gait35.c3d", "mocap/flashrunning_maxsprint/maxSprint.c3d")


@pytest.fixture(scope="module", params=TRIALS, ids=["JA1Gait35", "maxSprint"])
def truth(request, shared_data):
    return accuracy.load_truth(shared_data / request.param)


def test_figure_has_every_point_the_gait_model_has(truth):
    joints = accuracy_video.figure_joints_m(truth)
    missing = set(JOINT_NAMES) - set(joints)
    assert not missing
    n = len(truth.trial.time_s)
    for name in JOINT_NAMES:
        assert joints[name].shape == (n, 3) and np.isfinite(joints[name]).all(), name


def test_runner_crosses_the_frame_towards_plus_x_face_forward(truth):
    proj = accuracy_video.clip_projection(truth)
    joints = accuracy_video.figure_joints_m(truth)
    hip = proj((joints["left_hip"] + joints["right_hip"]) / 2)
    assert hip[-1, 0] - hip[0, 0] > 0  # +x, so the right side faces the camera (NEAR_SIDE)
    assert accuracy_video.NEAR_SIDE == "right"
    assert np.mean(proj(joints["nose"])[:, 0] > proj(joints["right_ear"])[:, 0]) > 0.99
    # The figure is drawn with NEAR_SIDE in front: the marker data must put that hip nearer the camera. The
    # camera looks along image x (forward) cross image y (-up); left/right labels or the running direction
    # inferred the wrong way round would put the other hip in front.
    view = np.cross(proj.forward, -proj.up)
    far_side = "left" if accuracy_video.NEAR_SIDE == "right" else "right"
    nearer = joints[f"{accuracy_video.NEAR_SIDE}_hip"] @ view < joints[f"{far_side}_hip"] @ view
    assert np.mean(nearer) > 0.95
    # depth_m (distance along the athlete's right) agrees: the right side faces this camera
    assert np.mean(proj.depth_m(joints["right_hip"]) > proj.depth_m(joints["left_hip"])) > 0.95
    # the clip spans every force-plate contact
    times = accuracy_video.clip_times(truth, proj, 60.0)
    assert times[0] < truth.contacts["touchdown_s"].min() and times[-1] > truth.contacts["toe_off_s"].max()


def test_one_frame_renders_a_figure_over_the_track(truth):
    t, img = next(accuracy_video.render_frames(truth, 60.0))
    w, h = accuracy_video.FRAME_SIZE_PX
    assert img.shape == (h, w, 3) and img.dtype == np.uint8
    proj = accuracy_video.clip_projection(truth)
    joints = accuracy_video.figure_joints_m(truth)
    k = int(np.searchsorted(truth.trial.time_s, t))
    x, y = proj(joints["right_hip"][k])
    # the figure is drawn where its hip is: the 60x60 px around it differs from the empty background
    from gaitlab.evaluation.synth.scene import TrackBackground

    bg = TrackBackground(
        w, h, px_per_m=accuracy_video.PX_PER_M, ground_y=accuracy_video.GROUND_Y_FRAC * h, max_pan_px=0.0, seed=0
    ).frame(0.0)
    ys, xs = slice(int(y) - 30, int(y) + 30), slice(max(int(x) - 30, 0), int(x) + 30)
    diff = np.abs(img[ys, xs].astype(int) - bg[ys, xs].astype(int)).mean()
    assert diff > 20
