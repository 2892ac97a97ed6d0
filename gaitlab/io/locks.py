"""Advisory file locks between processes (``flock``): two batches on one output folder, two uploads
into one library.

A lock is held through an open lock file and released when the file is closed,
including when the holding process dies (even ``kill -9``), so a crash never
leaves a folder locked. Lock files are never deleted: a process waiting on a
removed lock file would hold a lock nobody else sees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; one process at a time is then the user's job
    fcntl = None


@contextmanager
def file_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Yields True once the lock is held. With ``wait=False`` it yields False at once
    when another process holds it (and holds nothing). A signal (Ctrl-C) while
    waiting interrupts the wait.
    """
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        held = True
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                held = False
        yield held
    finally:
        os.close(fd)  # closing the file releases the lock
