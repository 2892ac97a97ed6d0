"""Real-footage hazards after pose: the real time base, segments, and the notes users read.

- Time base: repeated frames are gone (``dedupe``); the remaining frames get their
  (retimed) file times divided by the slow-motion factor. The capture rate comes
  from the user, the phone's metadata, or else the rate of new frames; a clip
  whose images each repeat exactly k times and whose step rate is only plausible
  k times faster is taken as slowed k times (two independent clues agree).
- Segments: at a scene cut or a long pause, the frames just after are blanked
  (NaN) for longer than the gap filler bridges, so no event or filter spans it.
- Notes: one plain sentence per hazard present.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gaitlab.analysis.damage import damage_note
from gaitlab.analysis.summary import ClipFacts, QualityNote, frozen_map
from gaitlab.core import columns as col
from gaitlab.core.types import PoseTrack, VideoInfo

# Step frequency of running, real time (jog ~2.6, elite sprint ~5): outside, the clock is probably wrong.
RUNNING_STEP_HZ = (2.0, 5.5)


@dataclass(frozen=True)
class TimeBase:
    capture_fps: float
    source: str  # user | metadata | repeated_frames | motion | assumed
    slowmo_factor: float  # stored time / real time
    unique_fps: float  # new frames per second of stored time
    regular_k: int


def time_base(info: VideoInfo, meta: dict) -> TimeBase:
    timing = meta.get("timing") or {}
    systematic = bool(timing.get("systematic"))
    unique = float(timing.get("unique_fps") or info.stored_fps)
    if not math.isfinite(unique) or unique <= 0:
        unique = info.stored_fps
    k = int(timing.get("regular_k") or 0)
    if info.capture_fps_source in ("user", "metadata"):
        # the given rate is that of the camera's images, i.e. of the new frames
        return TimeBase(info.capture_fps, info.capture_fps_source, info.capture_fps / unique, unique, k)
    if systematic:
        return TimeBase(unique, "repeated_frames", 1.0, unique, k)
    return TimeBase(info.stored_fps, "assumed", 1.0, unique, k)


def with_slowmo(tb: TimeBase, factor: float) -> TimeBase:
    return replace(tb, capture_fps=tb.unique_fps * factor, source="motion", slowmo_factor=factor)


def retime(track: PoseTrack, info: VideoInfo, tb: TimeBase) -> PoseTrack:
    """Track times = (retimed) stored time / slow-motion factor, from the first frame."""
    timing = (track.meta or {}).get("timing")
    if timing and len(timing["keep"]) == track.n_frames:
        stored = np.asarray(timing[col.TIME_S], np.float64)
    else:  # the extractor's times are stored time / the probe's factor
        stored = track.time_s * info.slowmo_factor
    t = (stored - stored[0]) / tb.slowmo_factor if len(stored) else stored
    return replace(track, time_s=t)


def segment_starts_s(track: PoseTrack) -> list[float]:
    """Real times where a new segment starts (cuts, long pauses), excluding the clip start."""
    meta = track.meta or {}
    starts = set()
    cuts = (meta.get("camera") or {}).get("cuts", [])
    fi = track.frame_index
    for cut in cuts:
        after = np.flatnonzero(fi >= cut)
        if len(after) and after[0] > 0:
            starts.add(int(after[0]))
    timing = meta.get("timing") or {}
    if timing and len(timing.get("keep", [])) == track.n_frames:
        starts.update(int(s) for s in timing.get("segment_starts", []) if s > 0)
    return sorted(float(track.time_s[s]) for s in starts)


def split_segments(track: PoseTrack, starts_s: list[float], *, max_gap_fill_s: float) -> PoseTrack:
    """Blank the first ``max_gap_fill_s`` + 2 frames after each segment start (see module doc)."""
    if not starts_s or track.n_frames < 2:
        return track
    frame_s = float(np.median(np.diff(track.time_s)))
    xy, vis = track.xy_px.astype(np.float64).copy(), track.visibility.copy()
    for t0 in starts_s:
        rows = (track.time_s >= t0) & (track.time_s <= t0 + max_gap_fill_s + 2 * frame_s)
        xy[rows] = np.nan
        vis[rows] = 0.0
    return replace(track, xy_px=xy, visibility=vis)


def leg_cycle_step_hz(frames: pd.DataFrame) -> float | None:
    """Step frequency (Hz, in the analysis' time base) from the legs' swing alone, or None if unclear.

    The two thighs swing in opposite phase, so left minus right thigh angle goes through one
    cycle per stride: its strongest autocorrelation peak (after the first zero crossing, at a
    stride of 0.25-7 s) is the stride period, and the step frequency is twice its inverse. It
    needs no contact, so a spurious or a missed contact does not move it.
    """
    need = {col.TIME_S, "thigh_angle_deg_left", "thigh_angle_deg_right"}
    if not need <= set(frames.columns) or len(frames) < 8:
        return None
    t = frames[col.TIME_S].to_numpy(np.float64)
    d = (frames["thigh_angle_deg_left"] - frames["thigh_angle_deg_right"]).to_numpy(np.float64)
    ok = np.isfinite(d) & np.isfinite(t)
    if ok.sum() < 8 or t[ok][-1] - t[ok][0] < 0.5:
        return None
    dt = float(np.median(np.diff(t[ok])))
    grid = np.arange(t[ok][0], t[ok][-1], dt)
    x = np.interp(grid, t[ok], d[ok])
    x = x - x.mean()
    n = len(x)
    ac = np.correlate(x, x, mode="full")[n - 1 :] / (np.arange(n, 0, -1) * max(1e-12, float(np.var(x))))
    lags_s = np.arange(n) * dt
    below = np.flatnonzero(ac < 0)
    if not len(below):
        return None
    window = (lags_s >= max(0.25, lags_s[below[0]])) & (lags_s <= min(7.0, 0.7 * lags_s[-1]))
    if not window.any():
        return None
    k = int(np.flatnonzero(window)[np.argmax(ac[window])])
    if ac[k] < LEG_CYCLE_MIN_CORR:
        return None
    return 2.0 / lags_s[k]


def motion_slowmo_factor(
    status: str, tb: TimeBase, steps: pd.DataFrame, frames: pd.DataFrame | None = None
) -> tuple[float | None, float | None]:
    """(factor to apply or None, step frequency seen) from the running's step rate.

    The step rate comes from the legs' swing (``leg_cycle_step_hz``) when it is clear, else from
    the median step frequency of the steps (not the mean: one spurious contact makes a step 3x
    shorter than the rest and would drag the mean across the running range).
    """
    freq = leg_cycle_step_hz(frames) if frames is not None else None
    if freq is None and len(steps) and col.STEP_FREQUENCY_HZ in steps:
        sf = steps[col.STEP_FREQUENCY_HZ].dropna().to_numpy(np.float64)
        if sf.size:
            freq = float(np.median(sf))
    if status != "ok" or freq is None or not math.isfinite(freq):
        return None, freq
    lo, hi = RUNNING_STEP_HZ
    if freq >= lo * 0.9:
        return None, freq
    if tb.regular_k >= 2 and lo <= freq * tb.regular_k <= hi:
        return float(tb.regular_k), freq
    return None, freq


# The thighs' left-minus-right angle repeats with the stride: an autocorrelation this high at one
# stride is a clear rhythm (a runner's is ~0.8-0.9; pose noise alone stays far below).
LEG_CYCLE_MIN_CORR = 0.5

# Step time of running (touchdown to the other foot's touchdown), real time: sprint ~0.2 s, jog ~0.4 s.
RUNNING_STEP_TIME_S = (0.15, 0.6)
MIN_RHYTHM_STEPS = 3
# A step time over this many times running's longest is missed contacts in between, not a slow step.
GAP_STEP_FACTOR = 2.0
# Opposite feet landing within this (or 1.5 frames) of each other land together: a jump, not running
# (running alternates, its touchdowns are >= 0.15 s apart).
TOGETHER_S = 0.05
MIN_TOGETHER_LANDINGS = 2
# Both feet down together on this share of contacts (and at least this many) is walking, not running;
# pose noise on a runner overlaps a contact's edges by a frame at most.
DOUBLE_SUPPORT_FRAC = 0.1
DOUBLE_SUPPORT_SHARE = 0.25
MIN_DOUBLE_SUPPORT_CONTACTS = 3
# Contacts found on fewer than this share of the steps running would show over the time the athlete
# is seen: the contact detector missed most of them, so the clip can say neither yes nor no.
MIN_CONTACT_COVERAGE = 0.5


def landings_together(contacts, *, frame_s: float) -> int:
    """How often the two feet touch down (almost) at once."""
    if not len(contacts):
        return 0
    tol = max(TOGETHER_S, 1.5 * frame_s)
    left = contacts.loc[contacts[col.SIDE] == "left", col.TOUCHDOWN_S].to_numpy(np.float64)
    right = contacts.loc[contacts[col.SIDE] == "right", col.TOUCHDOWN_S].to_numpy(np.float64)
    return int(sum(bool(np.any(np.abs(right - t) <= tol)) for t in left))


def double_support(contacts, *, frame_s: float = 0.0) -> int:
    """How many contacts share much of their time with a contact of the other foot.

    Running alternates single-foot contacts with flights, so the feet are never on the
    ground together; walking has both feet down at every step change (~17 % of each
    stance). A contact counts when the other foot is down for over ``DOUBLE_SUPPORT_FRAC``
    of the shorter of the two and over 1.5 frames (event timing is good to about a frame).
    """
    if not len(contacts) or col.TOE_OFF_S not in contacts:
        return 0
    td, to = contacts[col.TOUCHDOWN_S].to_numpy(np.float64), contacts[col.TOE_OFF_S].to_numpy(np.float64)
    side = contacts[col.SIDE].to_numpy()
    count = 0
    for i in range(len(td)):
        other = side != side[i]
        overlap = np.minimum(to[other], to[i]) - np.maximum(td[other], td[i])
        shorter = np.minimum(to[other] - td[other], to[i] - td[i])
        count += bool(np.any(overlap > np.maximum(DOUBLE_SUPPORT_FRAC * shorter, 1.5 * frame_s)))
    return count


def running_rhythm(steps, contacts=None, *, seen_s: float = float("nan"), frame_s: float = 0.0) -> tuple[str, str]:
    """(status, reason): is this running, not running, or can the clip not tell?

    Running shows a regular alternation: >= 3 step times in running's range, and
    most of the step times that were measured (a step time over twice running's
    longest spans missed contacts and says nothing about the rhythm). Pose noise on
    a walker or a jumper makes contacts too, but not this rhythm.

    - ``no_running_detected``: the feet land together repeatedly (jumping), or
      enough steps were measured and most are outside running's range;
    - ``insufficient_data``: too few step times to judge, or contacts were found
      on under half the steps that running would show in the ``seen_s`` seconds
      the athlete is in view (feet too poorly seen: a silhouette, a distant runner).
    """
    lo, hi = RUNNING_STEP_TIME_S
    together = landings_together(contacts, frame_s=frame_s) if contacts is not None else 0
    if together >= MIN_TOGETHER_LANDINGS:
        return "no_running_detected", (
            f"both feet land together {together} times (jumping), not the alternating steps of running"
        )
    both_down = double_support(contacts, frame_s=frame_s) if contacts is not None else 0
    if both_down >= MIN_DOUBLE_SUPPORT_CONTACTS and both_down >= DOUBLE_SUPPORT_SHARE * len(contacts):
        return "no_running_detected", (
            f"both feet are on the ground together during {both_down} of "
            f"{len(contacts)} contacts (walking or standing): running has a flight "
            f"between contacts"
        )
    st = steps[col.STEP_TIME_S].dropna().to_numpy() if len(steps) and col.STEP_TIME_S in steps else np.zeros(0)
    measured = st[st <= GAP_STEP_FACTOR * hi]
    good = int(((measured >= lo) & (measured <= hi)).sum())
    if good >= MIN_RHYTHM_STEPS and good >= 0.5 * len(measured):
        return "ok", ""
    n_contacts = len(contacts) if contacts is not None else len(steps)
    expected = seen_s * 1.0 / hi if math.isfinite(seen_s) else float("nan")  # running's slowest step rate
    if math.isfinite(expected) and n_contacts < MIN_CONTACT_COVERAGE * expected:
        return "insufficient_data", (
            f"contacts found for only {n_contacts} of the at least {expected:.0f} steps "
            f"running would show in the {seen_s:.1f} s the athlete is seen: the feet are "
            f"too poorly seen for contact detection ({good} of {len(measured)} measurable "
            f"step times in running's {lo:.2f}-{hi:.2f} s)"
        )
    if len(measured) < MIN_RHYTHM_STEPS:
        return "insufficient_data", (
            f"only {len(measured)} measurable step time(s) ({good} in running's "
            f"{lo:.2f}-{hi:.2f} s); at least {MIN_RHYTHM_STEPS} are needed to confirm a "
            f"running rhythm (the athlete is seen for {seen_s:.1f} s)"
        )
    return "no_running_detected", (
        f"no regular running rhythm: {good} of {len(measured)} step times are in running's {lo:.2f}-{hi:.2f} s"
    )


def hazard_notes(info: VideoInfo, track: PoseTrack, tb: TimeBase, *, step_hz: float | None, segments: int) -> list[str]:
    """One sentence per hazard present (repeats, rate, camera, cuts, people, damaged video data)."""
    meta = track.meta or {}
    notes = []
    timing = meta.get("timing") or {}
    dup = int(timing.get("n_decoded", 0)) - len(timing.get("keep", []))
    if dup > 0:
        if timing.get("systematic"):
            pattern = (
                f"each image is shown {timing['regular_k']} times"
                if timing.get("regular_k")
                else f"{dup / timing['n_decoded']:.0%} of frames are copies of the previous one"
            )
            notes.append(
                f"Repeated frames: {dup} of {timing['n_decoded']} decoded frames repeat the previous "
                f"image ({pattern}); only the {len(timing['keep'])} new frames are analyzed, at "
                f"{tb.unique_fps:.3g} new frames per second of file time."
            )
        else:
            notes.append(f"{dup} frame(s) showed no change at all (still scene) and were skipped.")
    if tb.source == "repeated_frames":
        notes.append(
            f"Capture rate inferred from the repeated frames: {tb.capture_fps:.3g} fps "
            f"(the file says {info.stored_fps:.3g} fps)."
        )
    elif tb.source == "motion":
        notes.append(
            f"The clip plays {tb.slowmo_factor:.3g}x slower than real time: each image repeats "
            f"{tb.regular_k} times and the step rate is only that of running when sped up "
            f"{tb.regular_k}x. Inferred capture rate {tb.capture_fps:.3g} fps; pass --capture-fps "
            f"to override."
        )
    if step_hz is not None and math.isfinite(step_hz) and tb.source not in ("motion",):
        lo, hi = RUNNING_STEP_HZ
        if step_hz < lo * 0.9 or step_hz > hi * 1.1:
            notes.append(
                f"The stored rate and the motion disagree: {step_hz:.2f} steps/s is outside running's "
                f"{lo:.1f}-{hi:.1f} steps/s, so the clip is probably slowed down or sped up "
                f"(capture rate {tb.capture_fps:.3g} fps, source: {tb.source}). "
                f"Pass --capture-fps with the real rate."
            )
    camera = meta.get("camera") or {}
    if camera.get("moving"):
        notes.append(
            "Camera moves (pan/zoom): contact times, joint angles and angular velocities do not depend "
            "on it; speed and step length are measured against the stance foot (a pan), never through a zoom."
        )
    if camera.get("cuts"):
        notes.append(
            f"Scene cut(s) at frame(s) {', '.join(map(str, camera['cuts']))}: the clip is analyzed "
            f"as {segments} segments and no event spans a cut."
        )
    elif segments > 1:
        notes.append(f"Long pause(s) in the frames: the clip is analyzed as {segments} segments.")
    person = meta.get("person") or {}
    if person.get("max_people_in_frame", 0) > 1:
        how = (
            "the one at --athlete-hint"
            if person.get("method") == "hint"
            else "the largest and most consistently tracked (choose another with --athlete-hint x,y)"
        )
        notes.append(
            f"Several people in view (up to {person['max_people_in_frame']} at once): analyzing one athlete, {how}."
        )
    if damaged := damage_note(retime(track, info, tb)):
        notes.append(damaged)
    return notes


def clip_facts(info: VideoInfo, track: PoseTrack, tb: TimeBase, segments: int, pose_model: str | None) -> ClipFacts:
    """What the video says about the clip: time base, repeats, camera, cuts, people, geometry."""
    meta = track.meta or {}
    timing = meta.get("timing") or {}
    camera = meta.get("camera") or {}
    return ClipFacts(
        capture_fps_source=tb.source,
        inferred_capture_fps=tb.capture_fps,
        slowmo_factor=tb.slowmo_factor,
        unique_frames_per_stored_s=tb.unique_fps,
        decoded_frames=int(timing.get("n_decoded", meta.get("decoded_frames", track.n_frames))),
        duplicate_frames=int(timing.get("n_decoded", 0)) - len(timing.get("keep", [])) if timing else 0,
        camera="moving" if camera.get("moving") else "fixed",
        scene_cuts_frames=tuple(camera.get("cuts", [])),
        segments=segments,
        person_selection=frozen_map(meta.get("person", {})),
        speed_and_step_length="not computed" + (" (moving camera)" if camera.get("moving") else ""),
        rotation_deg=info.rotation_deg,
        frame_size_px=tuple(info.upright_size_px),
        pose_model=pose_model,
    )


def capture_notes(info: VideoInfo, source: str = "") -> list[QualityNote]:
    """The note that the capture rate was assumed (no metadata, no --capture-fps), if it was."""
    notes = []
    if (source or info.capture_fps_source) == "assumed":
        notes.append(
            QualityNote(
                "capture_rate_assumed",
                f"Capture rate unknown (no phone metadata, no --capture-fps): assumed real-time "
                f"{info.stored_fps:.3g} fps. For a slow-motion clip pass --capture-fps, or every time "
                f"is wrong by the slow-motion factor.",
            )
        )
    return notes
