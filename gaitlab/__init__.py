"""gaitlab: swing-phase sprint measures from a phone clip.

The public API (docs/api.md): ``analyze`` (a video clip) and ``analyze_keypoints`` (a landmark
file) return an ``Analysis``: the typed ``Summary`` and the contacts, steps and frames tables,
with ``save(out_dir)`` to write the outputs. Importing gaitlab loads none of MediaPipe, Ray or
matplotlib; they load when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL",
    "Analysis",
    "AnalysisConfig",
    "BadInputError",
    "GaitlabError",
    "Summary",
    "__version__",
    "analyze",
    "analyze_keypoints",
    "load_config",
]

# name -> module that defines it, imported on first use
_LAZY = {
    "analyze": "gaitlab.api",
    "analyze_keypoints": "gaitlab.api",
    "Analysis": "gaitlab.api",
    "Summary": "gaitlab.analysis.summary",
    "AnalysisConfig": "gaitlab.core.config",
    "load_config": "gaitlab.core.config",
    "BadInputError": "gaitlab.core.errors",
    "GaitlabError": "gaitlab.core.errors",
    "DEFAULT_MODEL": "gaitlab.pose.models.provision",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaitlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
