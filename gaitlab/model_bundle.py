"""Build the ``full`` pose-model bundle: TFLite metadata and a reproducible .task zip.

The ``mediapipe`` wheel on PyPI ships the two BlazePose ``.tflite`` files of the
``full`` model without the TFLite metadata MediaPipe Tasks needs (input
normalization). :func:`build_full_bundle` writes that metadata into each, mirroring
the official files byte for byte, and packs them into a ``.task`` zip whose bytes
are the same on every machine. Where the input files come from, and how the
result is installed, is :mod:`gaitlab.models`' job; how it is checked when its bytes
differ from the reference build, :mod:`gaitlab.model_bundle_check`'s.

Nothing here runs at import time; mediapipe/flatbuffers are imported lazily.
"""

from __future__ import annotations

import io
import struct
import zipfile

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


def build_full_bundle(detector_tflite: bytes, landmarker_tflite: bytes) -> bytes:
    """The ``full`` .task bundle from the two legacy-Solutions .tflite files."""
    return zip_bundle(
        {
            DETECTOR_MEMBER: with_metadata(detector_tflite, detector_metadata()),
            LANDMARKER_MEMBER: with_metadata(landmarker_tflite, landmarker_metadata()),
        }
    )
