"""The Python API: analyse a clip or a landmark file in memory, save the outputs only when asked.

    import gaitlab
    a = gaitlab.analyze("sprint.mp4")
    a.summary.status.ok, a.summary.legs["right"]["contact_time_s"].mean
    a.steps[["side", "contact_time_s"]]
    a.save("sprint.gaitlab", annotate=True)

``analyze`` writes nothing but the pose cache (``~/.cache/gaitlab``, so a second call on the
same clip skips pose); ``cache=False`` writes nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gaitlab.analysis.analyze import AnalysisResult
from gaitlab.analysis.summary import Summary
from gaitlab.core.config import AnalysisConfig, load_config
from gaitlab.core.types import VideoInfo


@dataclass(frozen=True)
class Analysis:
    """One analysed clip: the typed ``summary`` (``summary.to_dict()`` is summary.json) and the tables
    ``contacts``, ``steps`` and ``frames`` with the columns of docs/outputs.md."""

    summary: Summary
    contacts: pd.DataFrame
    steps: pd.DataFrame
    frames: pd.DataFrame
    pose_from_cache: bool
    _result: AnalysisResult = field(repr=False)
    _info: VideoInfo | None = field(repr=False)

    def save(
        self, out_dir: str | Path, *, annotate: bool = False, slowmo_factor: float = 1.0, show_progress: bool = False
    ) -> dict[str, Path]:
        """Write every output (tables, summary.json, report.html, plots; annotated.mp4 if ``annotate``)
        into ``out_dir``, as ``gaitlab analyze`` does; returns the paths by file name."""
        from gaitlab.pipeline import save_result

        return save_result(
            self._result,
            Path(out_dir),
            info=self._info,
            annotate=annotate,
            slowmo_factor=slowmo_factor,
            show_progress=show_progress,
        )


def _config(config: AnalysisConfig | str | Path | None) -> AnalysisConfig:
    if isinstance(config, AnalysisConfig):
        return config
    return load_config(Path(config) if config is not None else None)


def _analysis(result: AnalysisResult, info: VideoInfo | None, cached: bool) -> Analysis:
    from gaitlab.outputs.tables import frames_table

    return Analysis(
        summary=result.summary,
        contacts=result.contacts,
        steps=result.steps,
        frames=frames_table(result),
        pose_from_cache=cached,
        _result=result,
        _info=info,
    )


def analyze(
    clip: str | Path,
    *,
    capture_fps: float | None = None,
    model: str | None = None,
    config: AnalysisConfig | str | Path | None = None,
    athlete_height_m: float | None = None,
    athlete_hint: str | None = None,
    workers: int | None = None,
    cache: bool = True,
    show_progress: bool = False,
) -> Analysis:
    """Pose (or the cached pose) and the analysis of a video clip, in memory.

    ``capture_fps``: the real capture rate of a slow-motion clip without phone metadata.
    ``model``: ``lite``, ``full`` or ``heavy`` (default ``gaitlab.DEFAULT_MODEL``). ``config``: analysis
    settings, or the path of a TOML file (docs/configuration.md). ``athlete_height_m``: standing height,
    for speed and step length in metres (docs/metrics.md). ``athlete_hint``: "x,y" pixel near the
    athlete when several people are in view. ``workers``: pose processes (default: all cores).
    Bad input raises ``gaitlab.BadInputError`` (its message names the file and the problem).
    """
    from gaitlab.io.video import probe
    from gaitlab.pipeline import measure_clip
    from gaitlab.pose.landmarker import PoseSettings
    from gaitlab.pose.models.provision import DEFAULT_MODEL
    from gaitlab.pose.person import parse_hint

    parse_hint(athlete_hint)
    info = probe(Path(clip), capture_fps=capture_fps)
    result, cached = measure_clip(
        info,
        PoseSettings(model=model or DEFAULT_MODEL, athlete_hint=athlete_hint),
        config=_config(config),
        show_progress=show_progress,
        use_cache=cache,
        workers=workers,
        athlete_height_m=athlete_height_m,
    )
    return _analysis(result, info, cached)


def analyze_keypoints(
    source: str | Path,
    *,
    capture_fps: float | None = None,
    config: AnalysisConfig | str | Path | None = None,
    athlete_height_m: float | None = None,
) -> Analysis:
    """The analysis of a landmark file instead of a video: an OpenSim ``.trc`` (with its own times) or a
    folder of OpenPose JSON files (``capture_fps`` needed, else 30 fps is assumed and noted).
    ``athlete_height_m``: as for ``analyze`` (whether the camera pans is judged from the stance foot)."""
    from gaitlab.pipeline import measure_keypoints

    result = measure_keypoints(
        Path(source), capture_fps=capture_fps, config=_config(config), athlete_height_m=athlete_height_m
    )
    return _analysis(result, None, False)
