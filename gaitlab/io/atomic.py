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

# Bytes of a file name a temporary name may borrow from its target: with the random part and the
# suffixes it stays far below the 255-byte limit of common file systems, however long the target's name.
_TEMP_NAME_BYTES = 100


def temp_prefix(name: str) -> str:
    """``.<name>.`` for a hidden temporary beside ``name``, with ``name`` cut to at most 100 UTF-8 bytes."""
    cut = name.encode("utf-8")[:_TEMP_NAME_BYTES].decode("utf-8", errors="ignore")
    return f".{cut}."


def fsync_file(path: Path) -> None:
    """Flush a written file's bytes to disk, so a rename never exposes a name without its data after a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk, so a rename into it survives a power cut (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (and Windows) cannot sync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    The temporary file lives in the same folder so ``os.replace`` is atomic; it is
    flushed to disk before the rename and the folder after it, so after a crash
    ``path`` holds either the old or the new bytes. On any error the temporary is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; outputs (reports, tables) are meant to be shared like any new file
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        fsync_file(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextmanager
def atomic_binary_writer(target: Path) -> Iterator[BinaryIO]:
    """A binary file beside ``target``, flushed to disk and renamed over it only on success
    (large downloads and model files: a crash or a power cut never leaves half a file)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=temp_prefix(target.name), suffix=".part")
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
    fsync_dir(target.parent)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_binary_writer(target) as f:
        f.write(data)


def write_text_atomic(path: Path, text: str) -> None:
    """UTF-8; a file name that is not (Linux keeps any bytes) is written with its odd bytes as ``\\udcXX``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")


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
