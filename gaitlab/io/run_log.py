"""``gaitlab.log`` in an output folder: what ran, its settings, the pose model and its sha256,
the seconds each stage took, and the warnings, as the ``gaitlab`` logger recorded them."""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gaitlab import __version__
from gaitlab.core.errors import OutputError
from gaitlab.core.logs import capture_records
from gaitlab.io.atomic import write_text_atomic

RUN_LOG_NAME = "gaitlab.log"

logger = logging.getLogger(__name__)


def _plain(value):
    """A JSON stand-in for what ``json`` cannot write: a dataclass's fields, else its text (paths)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


@contextmanager
def run_log(path: Path, *, command: str, settings: dict) -> Iterator[None]:
    """Record the block's log (debug lines included) and write it to ``path`` atomically when the block ends.

    The log opens with the gaitlab and Python versions, ``command`` and ``settings`` (as JSON).
    A block that raises writes nothing: a failed run leaves no log beside outputs it did not finish.
    """
    with capture_records() as capture:
        logger.debug("gaitlab %s, Python %s, %s", __version__, platform.python_version(), platform.platform())
        logger.debug("command: %s", command)
        logger.debug("settings: %s", json.dumps(settings, sort_keys=True, default=_plain))
        yield
    try:
        write_text_atomic(Path(path), capture.text())
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the run log ({exc.strerror or exc})") from None
