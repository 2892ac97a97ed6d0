"""Speed and step length in metres (gaitlab.analysis.metres) on landmark tracks with known answers.

The runner is the sample clip's gait model (9 m/s, step 0.23 s, step length 2.07 m) seen by an
orthographic side camera: fixed, or panning with the runner at a known (changing) speed. Its
shoulder -> hip -> knee path (trunk + thigh) is 0.98 m, so the athlete whose height makes that path
0.533 of it is 0.98 / 0.533 m tall: with that height the scale is exact.
"""

import dataclasses

import numpy as np
import pytest

from gaitlab.analysis import known_error, metres, scale
from gaitlab.analysis.analyze import analyze_track
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig, MetresConfig, load_config
from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import INDEX
from gaitlab.evaluation.synth.gait_model import GaitModel
from gaitlab.evaluation.synth.params import GaitParams
from synthetic import make_track

PARAMS = GaitParams()
PATH_M = PARAMS.trunk_length_m + PARAMS.thigh_length_m
HEIGHT_M = PATH_M / scale.SCALE_FRACTION_OF_HEIGHT  # the height for which the scale is exact
PX_PER_M = 200.0
FPS = 240.0


def runner_track(camera_m=lambda t: 0.0 * t, *, px_per_m=PX_PER_M, duration_s: float = 2.0, moving: bool = False):
    """The gait model's landmarks in pixels; ``camera_m(t)``: where the camera looks (m, + forward);
    ``px_per_m`` a number or a function of time (a zoom)."""
    t = np.arange(int(duration_s * FPS)) / FPS
    model_t = t + 0.07  # start mid-stance, as the sample clip
    scale = px_per_m(t) if callable(px_per_m) else np.full_like(t, px_per_m)
    points = {}
    for name, xy in GaitModel(PARAMS).joints(model_t).items():
        if name in INDEX:
            x = 960.0 + (xy[:, 0] - camera_m(t)) * scale
            y = 900.0 - xy[:, 1] * scale
            points[name] = np.column_stack([x, y])
    track = make_track(points, t, frame_size_px=(1920, 1080))
    track.meta["camera"] = {"moving": moving, "cuts": []}
    return track


def analyze(track, height_m=HEIGHT_M):
    return analyze_track(
        track, config=AnalysisConfig(), stored_fps=FPS, capture_fps=FPS, clip="synthetic", athlete_height_m=height_m
    )


def both_means(result) -> tuple[float, float]:
    legs = result.summary.metres.legs["both"]
    return legs[col.SPEED_M_S].mean, legs[col.STEP_LENGTH_M].mean


def test_scale_from_the_shoulder_hip_knee_path_gives_pixels_per_metre():
    track = runner_track()
    path = scale.scale_path_px(track)
    assert np.nanmedian(path) == pytest.approx(PATH_M * PX_PER_M, rel=0.01)
    result = analyze(track)
    assert result.summary.metres.px_per_m == pytest.approx(PX_PER_M, rel=0.01)
    assert result.summary.metres.apparent_size_change_pct < 2.0
    # a 10 % taller athlete: 10 % fewer pixels per metre, every distance 10 % longer
    taller = analyze(track, 1.1 * HEIGHT_M)
    assert taller.summary.metres.px_per_m == pytest.approx(PX_PER_M / 1.1, rel=0.01)
    assert both_means(taller)[1] == pytest.approx(1.1 * both_means(result)[1], rel=1e-6)


def test_fixed_camera_speed_and_step_length():
    result = analyze(runner_track())
    m = result.summary.metres
    assert m.measured and m.camera == "fixed" and m.camera_speed_m_s is None
    speed, length = both_means(result)
    assert speed == pytest.approx(PARAMS.speed_m_s, rel=0.02)
    assert length == pytest.approx(PARAMS.step_length_m, rel=0.02)
    steps = result.steps
    measured = steps[col.SPEED_M_S].notna()
    assert measured.sum() >= 6
    # per step: speed x step time = step length (the pelvis and the feet move on alike)
    assert np.allclose(
        steps.loc[measured, col.SPEED_M_S] * steps.loc[measured, col.STEP_TIME_S],
        steps.loc[measured, col.STEP_LENGTH_M],
        rtol=0.03,
    )
    # the CI is widened by the known error
    stat = m.legs["both"][col.SPEED_M_S]
    # landmarks without a pose model: the markers rows' worst speed / step-length error, fixed camera
    assert m.known_error_pct == metres.known_error_pct("markers", "fixed")
    assert stat.known_error == pytest.approx(stat.mean * m.known_error_pct / 100)
    assert stat.ci95_high - stat.ci95_low > 2 * stat.known_error


@pytest.mark.parametrize(
    "camera_m",
    [
        lambda t: PARAMS.speed_m_s * t,  # follows the runner at the running speed (the sample clip)
        lambda t: 7.0 * t + 1.5 * t**2,  # a pan that speeds up: 7 -> 13 m/s, the runner drifts in the frame
    ],
    ids=["steady", "accelerating"],
)
def test_panning_camera_speed_and_step_length_from_the_stance_foot(camera_m):
    still = analyze(runner_track(camera_m, moving=False))  # as if the camera were fixed: wrong
    assert abs(both_means(still)[0] - PARAMS.speed_m_s) > 1.0
    result = analyze(runner_track(camera_m, moving=True))
    m = result.summary.metres
    assert m.measured and m.camera == "panning"
    speed, length = both_means(result)
    assert speed == pytest.approx(PARAMS.speed_m_s, rel=0.03)
    assert length == pytest.approx(PARAMS.step_length_m, rel=0.03)
    assert result.summary.clip_facts is None  # a landmark track: no clip facts


def test_zoom_reports_no_metres_and_says_why():
    zoom = runner_track(px_per_m=lambda t: PX_PER_M * (1.0 + 0.15 * t))  # 30 % bigger by the end
    result = analyze(zoom)
    m = result.summary.metres
    assert not m.measured and "apparent size changes" in m.why_not
    assert result.steps[col.SPEED_M_S].isna().all() and result.steps[col.STEP_LENGTH_M].isna().all()
    assert any(q.code == "metres" and "No speed or step length" in q.text for q in result.summary.quality)
    assert result.summary.to_dict()["metres"]["legs"] == {}


def test_without_a_height_nothing_is_measured_and_nothing_is_said():
    result = analyze(runner_track(), None)
    m = result.summary.metres
    assert not m.measured and "--athlete-height-m" in m.why_not
    assert {col.SPEED_M_S, col.STEP_LENGTH_M} <= set(result.steps.columns)
    assert result.steps[col.SPEED_M_S].isna().all()
    assert not any(q.code == "metres" for q in result.summary.quality)
    assert m.fact.startswith("not computed")


@pytest.mark.parametrize("height", [180.0, 0.5, 3.0])
def test_a_height_not_in_metres_is_refused(height):
    with pytest.raises(BadInputError, match="in metres"):
        scale.check_athlete_height(height)


@pytest.mark.integration
def test_upload_keeps_the_athlete_height_in_the_sidecar(tmp_path):
    from clipfactory import noise_clip
    from gaitlab.team.library import read_sidecar, upload_and_analyze, upload_clip

    clip = noise_clip(tmp_path / "clip.mp4", n_frames=5)
    done = upload_clip(clip, athlete="A", session="2024-05-01", library=tmp_path / "lib", athlete_height_m=1.83)
    assert read_sidecar(done.path)["athlete_height_m"] == 1.83
    other = noise_clip(tmp_path / "other.mp4", n_frames=6)
    with pytest.raises(BadInputError, match="in metres"):  # refused before anything is filed
        upload_and_analyze([other], athlete="A", library=tmp_path / "lib", athlete_height_m=183.0, analyze=False)
    assert not list((tmp_path / "lib").rglob("other*"))


def test_the_known_error_of_metres_is_the_worst_row_of_its_source_and_camera():
    rows = [
        {"source": "video", "model": "full", "camera": "fixed", "trial": "a", "fps": 60, "speed_error_pct": -2.0},
        {"source": "video", "model": "full", "camera": "fixed", "trial": "b", "fps": 120, "step_length_error_pct": 4.5},
        {"source": "video", "model": "full", "camera": "panning", "trial": "c", "fps": 240, "speed_error_pct": -12.0},
        {"source": "video", "model": "heavy", "camera": "panning", "trial": "c", "fps": 240, "speed_error_pct": 3.0},
        {"source": "markers", "camera": "fixed", "trial": "d", "fps": 60, "speed_error_pct": 5.0},
        {"source": "real", "model": "full", "clip": "e", "fps": 30, "speed_error_pct": 50.0},
    ]
    table = known_error.known_error_table(rows)
    assert known_error.metre_error_pct("full", "fixed", col.SPEED_M_S, table) == 2.0
    assert known_error.metre_error_pct("full", "fixed", col.STEP_LENGTH_M, table) == 4.5
    assert known_error.metre_error_pct("full", "panning", col.SPEED_M_S, table) == 12.0
    assert known_error.metre_error_pct("heavy", "panning", col.SPEED_M_S, table) == 3.0
    assert known_error.metre_error_pct("markers", "fixed", col.SPEED_M_S, table) == 5.0
    assert known_error.metre_error_pct("full", "panning", col.STEP_LENGTH_M, table) is None
    assert known_error.metre_error_pct("lite", "fixed", col.SPEED_M_S, table) is None
    assert table["metres"]["full"]["panning"][col.SPEED_M_S]["worst_row"] == "c at 240 fps (video, panning camera)"
    # the committed table covers both models and cameras: a clip's metres always carry a known error
    for model in ("full", "heavy"):
        for camera in ("fixed", "panning"):
            assert (metres.known_error_pct(model, camera) or 0) > 0


@pytest.mark.parametrize(
    "camera_m, camera",
    [(lambda t: 0.0 * t, "fixed"), (lambda t: PARAMS.speed_m_s * t, "panning")],
    ids=["fixed", "pan"],
)
def test_a_landmark_file_with_a_height_gets_metres_its_camera_judged_from_the_stance_foot(tmp_path, camera_m, camera):
    from gaitlab.api import analyze_keypoints
    from gaitlab.outputs.opensim import write_trc

    track = runner_track(camera_m)
    track.meta.pop("camera")  # a landmark file says nothing about its camera
    trc = write_trc(tmp_path / "runner.trc", track)
    result = analyze_keypoints(trc, athlete_height_m=HEIGHT_M)
    m = result.summary.metres
    assert m.measured and m.camera == camera
    speed, length = both_means(result)
    assert speed == pytest.approx(PARAMS.speed_m_s, rel=0.03)
    assert length == pytest.approx(PARAMS.step_length_m, rel=0.03)
    assert any("judged from the stance foot" in q.text for q in result.summary.quality if q.code == "metres")
    assert m.known_error_pct == metres.known_error_pct("markers", camera)  # None (unknown) for panning
    assert not analyze_keypoints(trc).summary.metres.measured  # no height: no metres


def test_stance_toe_drift_is_measured_with_a_fixed_camera_only():
    track = runner_track()
    result = analyze(track)
    contacts = result.contacts
    base = metres.stance_toe_drift_pct(track, track, contacts)
    assert abs(base) < 1.0  # the gait model's toe stands still on the ground
    assert result.summary.metres.stance_toe_drift_pct == pytest.approx(base, abs=1.0)
    # a pose model whose stance toe creeps forward at 10 % of the pelvis's speed
    xy = track.xy_px.copy()
    pelvis = (xy[:, INDEX["left_hip"], 0] + xy[:, INDEX["right_hip"], 0]) / 2
    t = track.time_s
    for c in contacts.itertuples():
        rows = np.flatnonzero((t >= c.touchdown_s) & (t <= c.toe_off_s))
        xy[rows, INDEX[f"{c.side}_foot_index"], 0] += 0.10 * (pelvis[rows] - pelvis[rows[0]])
    drifting = dataclasses.replace(track, xy_px=xy)
    assert metres.stance_toe_drift_pct(drifting, drifting, contacts) == pytest.approx(base + 10.0, abs=1.0)
    # a panning camera moves every point: no drift is reported
    panning = analyze(runner_track(lambda t: PARAMS.speed_m_s * t, moving=True))
    assert panning.summary.metres.stance_toe_drift_pct is None


def with_reference(length_px: float, length_m: float) -> AnalysisConfig:
    return AnalysisConfig(
        metres=MetresConfig(reference_px=(100.0, 900.0, 100.0 + length_px, 900.0), reference_m=length_m)
    )


@pytest.mark.parametrize("height_m", [None, HEIGHT_M, 1.25 * HEIGHT_M])
def test_a_reference_length_sets_the_scale_and_the_height_only_checks_it(height_m):
    config = with_reference(5.0 * PX_PER_M, 5.0)  # 5 m on the ground, marked exactly
    result = analyze_track(
        runner_track(), config=config, stored_fps=FPS, capture_fps=FPS, clip="synthetic", athlete_height_m=height_m
    )
    m = result.summary.metres
    assert m.measured and m.scale_source == "reference length"
    assert m.px_per_m == pytest.approx(PX_PER_M, rel=1e-9)
    assert m.scale_error_pct == pytest.approx(100 * 2 * scale.MARK_ERROR_PX / (5.0 * PX_PER_M))
    speed, length = both_means(result)
    assert speed == pytest.approx(PARAMS.speed_m_s, rel=0.02)
    assert length == pytest.approx(PARAMS.step_length_m, rel=0.02)
    # its known error: the rows' errors with the camera's exact scale, plus the marking's
    exact = known_error.metre_error_pct("markers", "fixed", col.SPEED_M_S, exact_scale=True)
    assert exact is not None and m.known_error_pct >= exact + m.scale_error_pct - 1e-9
    note = next(n.text for n in result.summary.quality if n.code == "metres")
    assert "reference length" in note
    if height_m is None:
        assert m.height_vs_reference_pct is None
    else:  # the height's scale is exact for HEIGHT_M; a 25 % taller athlete: 20 % fewer px/m, said
        expected = 100 * (HEIGHT_M / height_m - 1)
        assert m.height_vs_reference_pct == pytest.approx(expected, abs=1.5)
        assert ("check that the reference" in note) == (abs(expected) > scale.MAX_HEIGHT_VS_REFERENCE_PCT)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[metres]\nreference_px = [100, 900, 1100, 900]\n", "give both"),
        ("[metres]\nreference_px = [100, 900, 150, 900]\nreference_m = 5.0\n", "under 100 px apart"),
        ("[metres]\nreference_px = [100, 900, 1100]\nreference_m = 5.0\n", "give both"),
    ],
    ids=["no length", "too short", "three numbers"],
)
def test_a_wrong_reference_is_one_line_naming_the_file_and_the_setting(tmp_path, body, says):
    path = tmp_path / "cones.toml"
    path.write_text(body)
    with pytest.raises(BadInputError, match=says) as err:
        load_config(path)
    assert str(path) in str(err.value) and "reference_px" in str(err.value) and "\n" not in str(err.value)
