"""``kill`` (SIGTERM) stops gaitlab like Ctrl-C (SIGINT): the same clean-up runs for both.

Every clean-up in gaitlab (temporary files, half-made output folders, worker
processes) hangs on ``KeyboardInterrupt``; SIGTERM's default would end the
process without any of it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as for Ctrl-C (exit code 143 rather than 130)."""


def _raise_terminated(signum, frame):
    raise Terminated


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
