"""A pose-model file on disk: is it there, and is it a bundle MediaPipe can open?

Both answer with a :class:`~gaitlab.core.errors.ModelUnavailableError` (exit 2, one line naming the
file and the problem) where the file system or the file stands in the way, never with an ``OSError``
from deep inside the pose stage.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from gaitlab.core.errors import ModelUnavailableError
from gaitlab.pose.models.bundle import DETECTOR_MEMBER, LANDMARKER_MEMBER


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or exc.__class__.__name__


def model_file_present(target: Path) -> bool:
    """Whether ``target`` exists; a models folder that cannot be searched (no permission) or a path
    the system refuses (a name too long) is a ModelUnavailableError, not a missing file to fetch again."""
    try:
        return Path(target).exists()
    except OSError as exc:
        raise ModelUnavailableError(
            f"cannot look into the models directory {Path(target).parent} ({_reason(exc)}); "
            "set GAITLAB_MODELS_DIR to a folder you can read and write, or pass --model-path"
        ) from None


def check_model_file(path: Path) -> Path:
    """``path`` if it is a readable MediaPipe pose-model bundle (a zip holding the detector and the
    landmarker), else a ModelUnavailableError saying why (``--model-path``: a missing file, a folder,
    a video, a truncated download)."""
    path = Path(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ModelUnavailableError(f"{path}: not a pose model file (a folder or a device)")
        with zipfile.ZipFile(path) as bundle:
            missing = sorted({DETECTOR_MEMBER, LANDMARKER_MEMBER} - set(bundle.namelist()))
    except OSError as exc:
        raise ModelUnavailableError(f"{path}: cannot read the pose model file ({_reason(exc)})") from None
    except zipfile.BadZipFile:
        raise ModelUnavailableError(f"{path}: not a MediaPipe pose model (.task) file") from None
    if missing:
        raise ModelUnavailableError(f"{path}: not a MediaPipe pose model (.task) file (no {', '.join(missing)})")
    return path
