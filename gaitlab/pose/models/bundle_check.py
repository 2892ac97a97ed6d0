"""Check a locally built pose-model bundle against the verified files it was built from.

:func:`gaitlab.pose.models.bundle.build_bundle` (``full``, ``heavy``) should give bytes
identical to a reference build, but another flatbuffers release may serialize differently.
Such a bundle is still accepted when its content is right: each member holds
exactly the tensor data of its source ``.tflite`` (whose sha256 was checked)
plus the expected TFLite metadata. :mod:`gaitlab.pose.models.provision` decides what to do
with the answer.

Nothing here runs at import time; mediapipe is imported lazily.
"""

from __future__ import annotations

import io
import zipfile

from gaitlab.pose.models.bundle import (
    _METADATA_NAME,
    DETECTOR_MEMBER,
    LANDMARKER_MEMBER,
    detector_metadata,
    landmarker_metadata,
    read_metadata,
)


def bundle_problem(bundle: bytes, sources: tuple[bytes, bytes]) -> str | None:
    """Why ``bundle`` is not the two ``sources`` plus the expected metadata (None if it is)."""
    from mediapipe.tasks.metadata import schema_py_generated as schema

    def tensor_buffers(raw: bytes) -> list[bytes | None]:
        """Buffer contents, None for the TFLITE_METADATA buffer(s)."""
        m = schema.Model.GetRootAsModel(raw, 0)
        md_idx = {m.Metadata(i).Buffer() for i in range(m.MetadataLength()) if m.Metadata(i).Name() == _METADATA_NAME}
        return [
            None if i in md_idx else m.Buffers(i).DataAsNumpy().tobytes() if m.Buffers(i).DataLength() else b""
            for i in range(m.BuffersLength())
        ]

    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
            built = [zf.read(name) for name in (DETECTOR_MEMBER, LANDMARKER_MEMBER)]
    except (KeyError, zipfile.BadZipFile) as exc:
        return f"bad zip: {exc}"
    expected_md = (detector_metadata(), landmarker_metadata())
    for name, raw, src, md in zip((DETECTOR_MEMBER, LANDMARKER_MEMBER), built, sources, expected_md):
        if read_metadata(raw) != md:
            return f"{name} lacks the expected metadata"
        old, new = tensor_buffers(src), tensor_buffers(raw)
        # Same tensor data; the metadata buffer replaced in place or appended.
        if new[: len(old)] != old or any(b is not None for b in new[len(old) :]):
            return f"{name} weights differ from the source model"
    return None
