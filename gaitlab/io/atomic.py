"""Output files and folders: atomic writes (a reader never sees a half-written output) and an
output folder proven writable before any long work. Light on purpose: no numpy/scipy imports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from gaitlab.core.errors import OutputError


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    The temporary file lives in the same folder so ``os.replace`` is atomic;
    on any error it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; outputs (reports, tables) are meant to be shared like any new file
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_binary_writer(target: Path) -> Iterator[BinaryIO]:
    """A binary file beside ``target``, flushed to disk and renamed over it only on success
    (large downloads and model files: a crash or a power cut never leaves half a file)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_binary_writer(target) as f:
        f.write(data)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def prepare_out_dir(out_dir: Path) -> Path:
    """Create the folder and prove it is writable, before any long work starts."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".gaitlab-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write the output folder ({exc.strerror or exc})") from None
    return out_dir
