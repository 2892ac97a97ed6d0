"""gaitlab: swing-phase sprint measures from a phone clip."""

__version__ = "0.1.0"
