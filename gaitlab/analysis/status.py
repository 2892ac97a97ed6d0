"""The one place that decides a clip's status: is there analyzable running in it?

``ok``: a series of running steps over both feet. ``insufficient_data``: running, but too few
contacts to measure both legs. ``no_running_detected``: no athlete, no series of contacts,
walking (no flight phase), or no regular running rhythm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitlab.analysis.hazards import running_rhythm
from gaitlab.analysis.summary import Status
from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig
from gaitlab.core.types import PoseTrack


def seen_s(track: PoseTrack) -> float:
    """Real time with the athlete in view: the frame intervals that start on a frame with a pose."""
    if track.n_frames < 2:
        return 0.0
    dt = np.diff(track.time_s)
    return float(np.sum(dt[track.detected[:-1]]))


def decide_status(
    *,
    n_frames: int,
    detected_frac: float,
    track: PoseTrack,
    contacts: pd.DataFrame,
    steps: pd.DataFrame,
    config: AnalysisConfig,
    capture_fps: float,
    check_rhythm: bool = True,
) -> Status:
    """The clip's status from the pose found (``n_frames``, ``detected_frac`` of the raw track), the
    cleaned ``track``, its contacts and steps.

    ``check_rhythm=False`` leaves out the running-rhythm test: the slow-motion check asks for the
    status before the time base is settled, when a slowed clip's step times are not yet running's.
    """
    n = n_frames
    flights = steps[col.FLIGHT_TIME_S].dropna() if len(steps) else pd.Series(dtype=float)
    if n == 0 or detected_frac < config.quality.min_detected_frac:
        return Status("no_running_detected", f"a person was found on only {detected_frac:.0%} of frames")
    if len(contacts) < 2:
        return Status(
            "no_running_detected", f"{len(contacts)} ground contact(s) found; running needs a series of steps"
        )
    if len(flights) and float(flights.median()) < 0:
        return Status(
            "no_running_detected", "the feet overlap on the ground (walking), there is no flight phase as in running"
        )
    if len(contacts) < 3 or contacts["side"].nunique() < 2:
        return Status(
            "insufficient_data", f"only {len(contacts)} ground contact(s) found; need at least 3 over both feet"
        )
    if check_rhythm:
        status, why = running_rhythm(steps, contacts, seen_s=seen_s(track), frame_s=1.0 / capture_fps)
        if status != "ok":
            return Status(status, why)
    return Status("ok")
