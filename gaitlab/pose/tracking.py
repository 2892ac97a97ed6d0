"""Posing that does not depend on the worker count (fixed restarts); tracking, posing everyone only where needed.

With one pose per frame MediaPipe tracks: a frame's landmarks come from a
region found from the previous frame's landmarks, so they depend on where
posing began. Here posing restarts on a fixed grid of the clip (every
``SEGMENT_FRAMES`` positions, whatever the number of worker processes): at each
segment start the landmarker is reset by a black frame (it then holds no pose,
so its next output depends only on the frames that follow; checked to give the
same landmarks as a fresh landmarker given the same black frame), re-poses the
``LOCK_FRAMES`` posable frames before the start (rows dropped) so the tracker has
locked on, and tracks through the segment. Every process that poses a segment
sees the same frames in the same order, so the landmarks are the same with 1 or
N workers and the pose cache can be shared across worker counts. Near the left
or right edge of the picture (``EDGE_FRAC``: a body entering or leaving, which the
tracker holds badly) the tracker is reset after every frame, so those frames
are found afresh as before.

That is ``PoseSettings.tracking`` (or ``num_poses`` = 1, ``--single-person``,
without the probes below). By default (``num_poses`` = 3, no ``tracking``) every
segment is posed by the multi-pose landmarker, restarted on the same grid:
every frame posed afresh with every person, as before tracking, the same with
1 or N workers (up to MediaPipe's visibility filter, see ``_Landmarker``).

Other people (``num_poses`` > 1): asking MediaPipe for several poses makes it
run its person detector on every frame. Instead, with ``tracking``, at each segment start a
second landmarker (``num_poses`` poses, also reset there) probes the first
posable frame. If it sees two or more people the whole segment is posed by it
(every pose of every frame, as before); otherwise the segment is tracked with
one pose. While tracking, the multi-pose landmarker probes again every
``PROBE_FRAMES`` positions, and a second person seen there (or one person away
from the tracked one: MediaPipe's detector often finds only one of several
people, and the tracker may follow another), a tracked pose that has drifted
from the pose detected afresh on the same frame (``MAX_DRIFT_BODY_HEIGHTS``: on a
rendered jog the tracker held wrong legs for dozens of frames where detection
did not), or a jump of the athlete's hips (farther than
``person.link_tracklets`` links, or than it re-acquires across a gap) means
MediaPipe may have switched to someone else, sends the segment to the multi-pose
path: it is decoded again and posed by the multi-pose landmarker. ``person`` then picks the athlete from the
rows with its unchanged rules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gaitlab.core.landmarks import INDEX
from gaitlab.core.types import VideoInfo
from gaitlab.io.video import Frame, iter_frames
from gaitlab.pose.landmarker import PoseSettings, TimestampClock, create_landmarker
from gaitlab.pose.person import MAX_REACQUIRE_BODY_HEIGHTS_S, MAX_STEP_BODY_HEIGHTS, CandidateRows, Pose

# Restart grid (positions): the tracker restarts at every multiple, whatever the number of workers.
SEGMENT_FRAMES = 96
# Posable frames before a segment's start posed (rows dropped) after the reset so the tracker has locked on.
LOCK_FRAMES = 2
# Inside a tracked segment, the multi-pose landmarker also probes the first posable frame at or after every
# multiple of this (positions): a second person seen there, or the tracked pose far from the one detected
# afresh, sends the segment to the multi-pose path.
PROBE_FRAMES = 24
# The tracked pose has drifted when its limb landmarks are this far (mean, body heights, left/right labels
# either way) from the pose the probe detects afresh on the same person (a clean track: < 0.03 typically).
MAX_DRIFT_BODY_HEIGHTS = 0.2
# A tracked pose this close to the left or right edge (share of the frame width) may be a body entering or
# leaving the picture, which the tracker holds badly (a rendered jog entering: wrong legs for ~10 frames where
# detection was right): the tracker is reset after such a frame, so the next one is found afresh.
EDGE_FRAC = 0.1
_LEFT = [INDEX[f"left_{p}"] for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")]
_RIGHT = [INDEX[f"right_{p}"] for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")]


def segment_of(pos: int) -> int:
    return pos // SEGMENT_FRAMES


def snap_to_grid(pos: float, *, after: int) -> int:
    """The segment start nearest ``pos`` that is later than ``after``."""
    snapped = int(round(pos / SEGMENT_FRAMES)) * SEGMENT_FRAMES
    return max(snapped, (after // SEGMENT_FRAMES + 1) * SEGMENT_FRAMES)


class _Landmarker:
    """A VIDEO-mode landmarker with its own timestamps, reset to 'no pose' by a black frame.

    MediaPipe low-passes each landmark's visibility (``out = 0.1 raw + 0.9 previous out``, whatever the
    timestamps) and neither a black frame nor a time gap resets that filter, so a tracked pose's visibility
    would remember frames before the reset. ``restart_visibility`` (one pose per frame) recovers the raw
    values and runs the same filter from the reset on: the visibility a fresh landmarker would give.
    """

    VISIBILITY_ALPHA = 0.1

    def __init__(self, model_path: Path, settings: PoseSettings, num_poses: int):
        self.lm = create_landmarker(model_path, replace(settings, num_poses=num_poses))
        self.clock = TimestampClock(real=settings.mediapipe_smoothing)
        self.restart_visibility = num_poses == 1
        self._black: np.ndarray | None = None
        self._last_s = 0.0
        self._mp_out: np.ndarray | None = None  # MediaPipe's last filtered visibility (its filter state)
        self._ours: np.ndarray | None = None  # our filter's state since the last reset
        self.calls = 0

    def detect(self, rgb: np.ndarray, time_s: float):
        import mediapipe as mp

        self.calls += 1
        self._last_s = time_s
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        result = self.lm.detect_for_video(image, self.clock(time_s))
        if self.restart_visibility and result.pose_landmarks:
            self._restart_visibility(result.pose_landmarks[0])
        return result

    def _restart_visibility(self, landmarks) -> None:
        a = self.VISIBILITY_ALPHA
        out = np.array([lm.visibility if lm.visibility is not None else 1.0 for lm in landmarks], np.float64)
        raw = out if self._mp_out is None else (out - (1 - a) * self._mp_out) / a
        self._mp_out = out
        self._ours = raw if self._ours is None else a * raw + (1 - a) * self._ours
        for lm, v in zip(landmarks, np.clip(self._ours, 0.0, 1.0)):
            lm.visibility = float(v)

    def reset(self, shape: tuple[int, ...]) -> None:
        if self._black is None or self._black.shape != shape:
            self._black = np.zeros(shape, np.uint8)
        self.detect(self._black, self._last_s)
        self._ours = None

    def close(self) -> None:
        self.lm.close()


@dataclass
class _Segment:
    multi: bool
    posed: list[int] = field(default_factory=list)  # positions posed in this segment (owned frames)
    last: tuple[float, np.ndarray, float] | None = None  # (time s, hip centre px, body height px) of the last pose
    probed: int = -1  # the last probe interval (position // PROBE_FRAMES) probed for other people


class Landmarkers:
    """The tracking landmarker (one pose) and, for ``num_poses`` > 1, the multi-pose one: made once per process."""

    def __init__(self, model_path: Path, settings: PoseSettings):
        self.track = settings.tracking or settings.num_poses == 1
        self.single = _Landmarker(model_path, settings, 1) if self.track else None
        self.multi = _Landmarker(model_path, settings, settings.num_poses) if settings.num_poses > 1 else None

    def close(self) -> None:
        for lm in (self.single, self.multi):
            if lm is not None:
                lm.close()


class SegmentPoser:
    """Poses the frames a chunk hands it, in position order, segment by segment (see the module doc).

    ``add(frame)`` for every posable frame from the chunk's lock-on start; frames
    before ``start`` only prime the lock-on. Rows go to ``rows`` (owned frames).
    ``finish(info, positions, end)`` re-poses the segments where the tracked pose jumped.
    """

    def __init__(self, landmarkers: Landmarkers, rows: CandidateRows, *, start: int):
        self.rows, self.start = rows, start
        self.single, self.multi, self.track = landmarkers.single, landmarkers.multi, landmarkers.track
        self.recent: deque[Frame] = deque(maxlen=LOCK_FRAMES)
        self.segments: dict[int, _Segment] = {}
        self.redo: list[int] = []

    def add(self, frame: Frame) -> None:
        pos = frame.index
        if pos >= self.start:
            seg = segment_of(pos)
            if seg not in self.segments:
                self._begin(seg, frame)
            else:
                self._pose(self.segments[seg], frame)
        self.recent.append(frame)

    def _begin(self, seg: int, frame: Frame) -> None:
        seen = None
        if self.multi is not None:
            self.multi.reset(frame.rgb.shape)
            probe = self.multi.detect(frame.rgb, frame.time_s)
            rows = CandidateRows()
            rows.add(frame, probe)
            seen = rows.poses[0]
            if len(seen) >= 2 or not self.track:  # not tracking: every segment posed with every pose
                self.segments[seg] = _Segment(multi=True, posed=[frame.index])
                self.rows.add(frame, probe)
                return
        self.segments[seg] = _Segment(multi=False, probed=frame.index // PROBE_FRAMES)
        self.single.reset(frame.rgb.shape)
        for f in self.recent:
            if f.index >= seg * SEGMENT_FRAMES - LOCK_FRAMES:
                self.single.detect(f.rgb, f.time_s)
        self._pose(self.segments[seg], frame)
        tracked = self.rows.poses[-1]
        if seen is not None and _others(seen, tracked[0] if tracked else None):  # the start probe, compared
            self._redo(frame.index)

    def _pose(self, segment: _Segment, frame: Frame) -> None:
        segment.posed.append(frame.index)
        if segment.multi:
            self.rows.add(frame, self.multi.detect(frame.rgb, frame.time_s))
            return
        if segment_of(frame.index) in self.redo:  # posed again by ``finish``: a placeholder row until then
            self.rows.add(frame, None)
            return
        self.rows.add(frame, self.single.detect(frame.rgb, frame.time_s))
        found = self.rows.poses[-1]
        if self.multi is None:
            return
        probe_at = frame.index // PROBE_FRAMES
        if probe_at != segment.probed:
            segment.probed = probe_at
            if self._sees_others(frame, found[0] if found else None):
                self._redo(frame.index)
                return
        if not found:
            return
        p = found[0]
        x0, _, x1, _ = p.box
        width = frame.rgb.shape[1]
        if x0 < EDGE_FRAC * width or x1 > (1 - EDGE_FRAC) * width:
            self.single.reset(frame.rgb.shape)  # the next frame is detected afresh
        if segment.last is not None:
            t0, c0, h0 = segment.last
            moved = float(np.linalg.norm(p.centre - c0)) / max(h0, p.height_px)
            allowed = MAX_STEP_BODY_HEIGHTS + MAX_REACQUIRE_BODY_HEIGHTS_S * max(0.0, frame.time_s - t0)
            if moved > allowed:
                self._redo(frame.index)
        segment.last = (frame.time_s, p.centre, p.height_px)

    def _sees_others(self, frame: Frame, tracked: Pose | None) -> bool:
        """The multi-pose landmarker, reset, probes this frame: see ``_others``."""
        return _others(self._probe(frame), tracked)

    def _probe(self, frame: Frame) -> list[Pose]:
        self.multi.reset(frame.rgb.shape)
        rows = CandidateRows()
        rows.add(frame, self.multi.detect(frame.rgb, frame.time_s))
        return rows.poses[0]

    def _redo(self, pos: int) -> None:
        if segment_of(pos) not in self.redo:
            self.redo.append(segment_of(pos))

    def finish(self, info: VideoInfo, positions: np.ndarray | None, end: int | None) -> None:
        """Decode each segment sent to the multi-pose path while tracking again, and pose it with every pose."""
        for seg in self.redo:
            segment = self.segments[seg]
            posed = set(segment.posed)
            lo = max(self.start, seg * SEGMENT_FRAMES)
            hi = (seg + 1) * SEGMENT_FRAMES if end is None else min(end, (seg + 1) * SEGMENT_FRAMES)
            frames = iter_frames(info, positions=positions, start=lo, stop=hi)
            with closing(frames):
                redone = _pose_all(self.multi, (f for f in frames if f.index in posed))
            at = {f[0]: k for k, f in enumerate(self.rows.frames)}
            for pos, (poses, frame_row) in redone.items():
                k = at[pos]
                self.rows.poses[k], self.rows.frames[k] = poses, frame_row
            segment.multi = True

    @property
    def landmarker_calls(self) -> int:
        return sum(lm.calls for lm in (self.single, self.multi) if lm is not None)

    def decisions(self) -> dict:
        """Segment starts (positions) posed with every pose, and those of them redone (a probe inside, a jump)."""
        return {
            "multi_segments": sorted(s * SEGMENT_FRAMES for s, seg in self.segments.items() if seg.multi),
            "redone_segments": sorted(s * SEGMENT_FRAMES for s in self.redo),
        }


def _others(seen: list[Pose], tracked: Pose | None) -> bool:
    """A probe's poses show two or more people, or one who is not the tracked one (MediaPipe's detector
    often finds only one of several people: the tracker may follow another), or the tracked person posed
    far from where the detection puts their limbs (a drifted track)."""
    if len(seen) >= 2:
        return True
    if not seen or tracked is None:
        return False
    other = seen[0]
    apart = float(np.linalg.norm(other.centre - tracked.centre)) / max(other.height_px, tracked.height_px)
    return apart > MAX_STEP_BODY_HEIGHTS or _drift(other, tracked) > MAX_DRIFT_BODY_HEIGHTS


def _drift(a: Pose, b: Pose) -> float:
    """Mean limb landmark distance between two poses of one person (body heights), left/right labels either way."""
    both = _LEFT + _RIGHT
    same = np.nanmean(np.linalg.norm(a.xy[both] - b.xy[both], axis=1))
    swapped = np.nanmean(np.linalg.norm(a.xy[both] - b.xy[_RIGHT + _LEFT], axis=1))
    return float(min(same, swapped)) / max(a.height_px, b.height_px)


def _pose_all(landmarker: _Landmarker, frames: Iterable[Frame]) -> dict:
    """Position -> (poses, frame row) of ``frames`` posed from a reset, every pose kept."""
    rows, started = CandidateRows(), False
    for frame in frames:
        if not started:
            landmarker.reset(frame.rgb.shape)
            started = True
        rows.add(frame, landmarker.detect(frame.rgb, frame.time_s))
    return {fr[0]: (poses, fr) for poses, fr in zip(rows.poses, rows.frames)}
