"""Messages through the standard ``logging`` module, under the ``gaitlab`` logger.

Every module logs to ``logging.getLogger(__name__)`` (a child of ``gaitlab``). Two consumers:

- the command line's console handler (``configure_console``) on stderr: warnings and errors
  always, plain information by default, debug lines (settings, model, timings per stage) with
  ``--verbose``; ``--quiet`` keeps only warnings and errors;
- a run's capture (``capture_records``), which keeps every record of the ``gaitlab`` logger
  and Python warnings, whatever the console shows, for the output folder's ``gaitlab.log``.

A record logged with ``extra=FILE_ONLY`` goes to the capture and never to the console (the
analysis' quality notes: the summary printed on stdout already lists them).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LOGGER_NAME = "gaitlab"
FILE_ONLY = {"file_only": True}
#: Line layout of a run's log file: wall-clock time, level, logger and message.
FILE_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
FILE_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

logger = logging.getLogger(LOGGER_NAME)


def console_level(verbosity: int) -> int:
    """Console level for ``verbosity``: -1 quiet (warnings, errors), 0 default (information), 1 verbose (debug)."""
    return {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG if verbosity > 0 else logging.WARNING)


class _ConsoleFormatter(logging.Formatter):
    """``outputs: ...`` for information; ``gaitlab: error: ...`` (and warning, debug) otherwise;
    ``gaitlab: ...`` for critical (an interruption, an internal error)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno == logging.INFO:
            return message
        if record.levelno >= logging.CRITICAL:
            return f"gaitlab: {message}"
        return f"gaitlab: {record.levelname.lower()}: {message}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a redirect or pytest's capture included)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def configure_console(verbosity: int = 0) -> logging.Handler:
    """Show the ``gaitlab`` logger on stderr at ``console_level(verbosity)``; replaces an earlier call's handler.

    Standard output then writes a file name that is not UTF-8 (Linux keeps any bytes) with ``\\udcXX``
    escapes, as stderr does, instead of failing on it."""
    with contextlib.suppress(AttributeError, ValueError):  # a stream without reconfigure (a test's capture)
        sys.stdout.reconfigure(errors="backslashreplace")
    for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(old)
    handler = _StderrHandler()
    handler.setLevel(console_level(verbosity))
    handler.setFormatter(_ConsoleFormatter())
    handler.addFilter(_not_file_only)
    logger.addHandler(handler)
    logger.setLevel(handler.level)
    logger.propagate = False  # libraries that configure the root logger (absl, ray) must not print it twice
    return handler


class RecordCapture(logging.Handler):
    """Keeps formatted records in memory, in order; ``text()`` is the log so far."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FILE_FORMAT, FILE_DATE_FORMAT))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the run it records
            self.handleError(record)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


class _Forward(logging.Handler):
    """Passes on what the ``gaitlab`` logger would have passed to its parents at ``level``."""

    def __init__(self, level: int) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        if logger.parent is not None:
            logger.parent.handle(record)


@contextmanager
def capture_records() -> Iterator[RecordCapture]:
    """Capture every record of the ``gaitlab`` logger (debug included) and Python warnings for the block.

    The logger is lowered to DEBUG for the block; the handlers that were there before still get
    only what they got before: those on the logger are held at its old level for the block, and
    what the logger passed on to the root logger's handlers is passed on at that level.
    """
    capture = RecordCapture()
    saved_level, saved_propagate = logger.level, logger.propagate
    effective = logger.getEffectiveLevel()
    held = {h: h.level for h in logger.handlers if h.level < effective}
    forward = _Forward(effective) if saved_propagate else None
    warnings_logger = logging.getLogger("py.warnings")
    capturing_warnings = getattr(logging, "_warnings_showwarning", None) is not None
    for h in held:
        h.setLevel(effective)
    for h in (capture, forward):
        if h is not None:
            logger.addHandler(h)
    warnings_logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logging.captureWarnings(True)
    try:
        yield capture
    finally:
        logging.captureWarnings(capturing_warnings)
        warnings_logger.removeHandler(capture)
        logger.setLevel(saved_level)
        logger.propagate = saved_propagate
        for h in (capture, forward):
            if h is not None:
                logger.removeHandler(h)
        for h, level in held.items():
            h.setLevel(level)


def log_timings(timings_s: dict[str, float], *, log: logging.Logger = logger) -> None:
    """One debug line per stage (``pose_s`` -> ``stage pose: 12.34 s``), in the order given."""
    for stage, seconds in timings_s.items():
        log.debug("stage %s: %.2f s", stage.removesuffix("_s"), seconds)
