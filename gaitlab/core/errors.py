"""The few error types gaitlab raises on purpose.

Each maps to a CLI exit code (see ``gaitlab.cli``): anything else is a bug (1).
Messages are one line and name the file and the problem.
"""

from __future__ import annotations


class GaitlabError(Exception):
    """Base of every deliberate gaitlab error."""

    exit_code = 1


class BadInputError(GaitlabError):
    """The input file is missing, unreadable, or not a usable video/keypoint file (exit 2)."""

    exit_code = 2


class OutputError(GaitlabError):
    """The output folder cannot be created or written (exit 2)."""

    exit_code = 2


class ModelUnavailableError(GaitlabError):
    """A pose model file cannot be provided on this machine (exit 2)."""

    exit_code = 2


class NoRunningError(GaitlabError):
    """The clip is readable but holds no analyzable running (exit 3)."""

    exit_code = 3
