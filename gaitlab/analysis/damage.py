"""Damaged video data: where it is in real time, the quality note, and the table rows it touches.

The pose stage records in ``PoseTrack.meta`` the frames the decoder flagged as
damaged (``damaged_frames``: decoded-frame indices, left out of pose, so rows
without a pose) and ``damaged_spans``: inclusive ranges of decoded-frame
indices whose pictures may carry that damage (frames predicted from a damaged
one, up to the next keyframe; ``video.damage_spans``). Those later frames are
still posed, so measures over them may be off: the rows of contacts.csv and
steps.csv whose time spans one get ``spans_damaged_frame``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.types import PoseTrack

# The low-pass filter spreads a frame's landmarks over about this much time either side (12 Hz cutoff).
FILTER_REACH_S = 0.04


def damaged_spans_s(track: PoseTrack) -> list[tuple[float, float]]:
    """Real-time ranges (s, from the track's first frame) of the pictures that may carry damage."""
    meta = track.meta or {}
    spans = meta.get("damaged_spans") or [[f, f] for f in meta.get("damaged_frames") or []]
    if not spans or track.n_frames == 0:
        return []
    index = np.asarray(track.frame_index, np.float64)
    t = np.asarray(track.time_s, np.float64)
    ok = np.isfinite(t)
    if not ok.any():
        return []
    return [(float(np.interp(a, index[ok], t[ok])), float(np.interp(b, index[ok], t[ok]))) for a, b in spans]


def damage_note(track: PoseTrack) -> str | None:
    """The quality note for a clip with damaged frames (how many, where), or None."""
    meta = track.meta or {}
    frames = meta.get("damaged_frames") or []
    if not frames:
        return None
    spans = damaged_spans_s(track)
    where = ", ".join(f"{a:.2f}-{b:.2f} s" if b > a else f"{a:.2f} s" for a, b in spans)
    return (
        f"Damaged video data: the decoder found errors in {len(frames)} frame(s), which were left out "
        f"of pose; the damage can carry into the frames predicted from them ({where}), so contacts "
        f"and steps there are marked {col.SPANS_DAMAGED_FRAME} in contacts.csv and steps.csv."
    )


def _row_end_s(table: pd.DataFrame) -> np.ndarray:
    """When the last measure of each row ends: the contact's toe-off, its step and its swing."""
    ends = [table[col.TOE_OFF_S].to_numpy(np.float64)]
    if col.STEP_TIME_S in table:
        ends.append(table[col.TOUCHDOWN_S].to_numpy(np.float64) + table[col.STEP_TIME_S].to_numpy(np.float64))
    if col.SWING_TIME_S in table:
        ends.append(table[col.TOE_OFF_S].to_numpy(np.float64) + table[col.SWING_TIME_S].to_numpy(np.float64))
    return np.fmax.reduce(np.vstack(ends), axis=0)


def mark_damaged(table: pd.DataFrame, track: PoseTrack) -> pd.DataFrame:
    """``table`` (contacts or steps) with ``spans_damaged_frame``: True where a row's time overlaps damage.

    A row runs from its touchdown to the end of its last measure (``_row_end_s``),
    widened by ``FILTER_REACH_S`` either side. A clip without damaged frames gets
    no column (its tables stay as they were).
    """
    spans = damaged_spans_s(track)
    if not spans:
        return table
    out = table.copy()
    if not len(out):
        out[col.SPANS_DAMAGED_FRAME] = pd.Series(dtype=bool)
        return out
    start = out[col.TOUCHDOWN_S].to_numpy(np.float64) - FILTER_REACH_S
    end = _row_end_s(out) + FILTER_REACH_S
    hit = np.zeros(len(out), bool)
    for a, b in spans:
        hit |= (start <= b) & (end >= a)
    out[col.SPANS_DAMAGED_FRAME] = hit
    return out
