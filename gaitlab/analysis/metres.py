"""Speed and step length in metres: a scale from the athlete's own landmarks, the camera's motion from the
stance foot (docs/metrics.md, "Speed and step length").

- Scale: the shoulder -> hip -> knee path (trunk, mid-hip to mid-shoulder, plus the thigh, the mean of
  both legs) is ``SCALE_FRACTION_OF_HEIGHT`` of standing height (Winter 2009, after Drillis & Contini 1966:
  shoulder 0.818 H, knee 0.285 H). Its median over the frames in pixels, over that fraction of the
  athlete's height, is the clip's pixels per metre.
- The scale must hold over the clip: if the path's median length changes by more than
  ``MAX_SIZE_CHANGE`` between parts of the clip, the camera zooms or the athlete runs towards or away
  from it, and no metres are reported.
- Camera: a fixed camera does not move. A camera that pans follows the runner: a foot on the ground
  is still in the world, so during each contact the stance toe's image motion is the camera's motion
  (``camera_travel_px``); over the clip the camera's speed is a straight line in time through them.
- Per step (the row of a contact, as ``step_time_s``): ``speed_m_s`` = the pelvis's travel in the
  world from this touchdown to the other foot's next one over that time; ``step_length_m`` = the
  distance between this contact's foot position and the next one's (the foot's mid-point, heel to
  toe, in the world, median over the contact's middle 60 %, or all of it at a low frame rate).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from gaitlab.analysis.known_error import metre_error_pct
from gaitlab.analysis.metrics import describe, with_known_error
from gaitlab.analysis.scale import (
    MAX_HEIGHT_VS_REFERENCE_PCT,
    MAX_SIZE_CHANGE,
    SCALE_ERROR_PCT,
    SCALE_SEGMENT,
    Scale,
    check_athlete_height,
    find_scale,
    mid_point,
    scale_path_px,
    size_change,
)
from gaitlab.analysis.summary import Metres, QualityNote, frozen_legs
from gaitlab.core import columns as col
from gaitlab.core.config import MetresConfig
from gaitlab.core.landmarks import SIDES
from gaitlab.core.types import PoseTrack

# A contact's foot positions: the middle of the contact (touchdown and toe-off move the foot).
CONTACT_TRIM = 0.2
MIN_CONTACT_FRAMES = 3
MIN_CONTACT_SHARE = 0.6  # of the median contact time: shorter contacts do not time the camera
PAN_CONTACT_TRIM = 0.1  # the camera's speed from the toe over a contact without its first and last 10 %
# A landmark file's camera pans when the stance foot carries more than this share of the image motion
# (stance_foot_share; docs/metrics.md: fixed cameras 0.003-0.19, panning ones 0.86-0.996, both models).
PAN_SHARE = 0.5


def known_error_pct(key: str | None, camera: str, scale: Scale | None = None) -> float | None:
    """Known error of speed and step length for this landmark source key (the pose model, ``markers``;
    ``uncertainty.source_key``) and camera (``fixed`` / ``panning``), % of the value: the worst of either on
    the accuracy rows (gaitlab/data/known_error.json, docs/accuracy.md); the CIs are widened by it. With a
    reference length's ``scale``: the rows' errors with the camera's exact scale plus the reference's own.
    None when no row measured it: unknown."""
    exact = scale is not None and scale.from_reference
    values = [v for m in col.METRE_MEASURES if (v := metre_error_pct(key, camera, m, exact_scale=exact)) is not None]
    if not values:
        return None
    return max(values) + (scale.error_pct if exact else 0.0)


def _contact_rows(t: np.ndarray, touchdown_s: float, toe_off_s: float) -> np.ndarray:
    d = toe_off_s - touchdown_s
    return (t >= touchdown_s + CONTACT_TRIM * d) & (t <= toe_off_s - CONTACT_TRIM * d)


def _stance_spans(t: np.ndarray, contacts: pd.DataFrame):
    """(contact, its frames without the first and last ``PAN_CONTACT_TRIM``) of each contact at least
    ``MIN_CONTACT_SHARE`` of the median contact time (shorter ones: cut by the clip's ends, or spurious)."""
    duration = (contacts[col.TOE_OFF_S] - contacts[col.TOUCHDOWN_S]).to_numpy(np.float64)
    for c, d in zip(contacts.itertuples(), duration):
        if d >= MIN_CONTACT_SHARE * np.median(duration):
            yield c, (t >= c.touchdown_s + PAN_CONTACT_TRIM * d) & (t <= c.toe_off_s - PAN_CONTACT_TRIM * d)


def camera_travel_px(track: PoseTrack, contacts: pd.DataFrame) -> tuple[np.ndarray, list[float]]:
    """(T,) how far a panning camera has moved (px at the athlete's distance, + = forward) since the first
    frame, and its speed (px/s) during each contact used.

    A foot on the ground stands still in the world, so its image moves back as fast as the camera moves
    forward: the camera's speed during a contact is minus the slope of the toe's image x over the
    contact, its first and last ``PAN_CONTACT_TRIM`` left out (landing and push-off). The toe, not the
    heel: in a sprint it is the point that stays on the ground, the heel lowers and rises about it. Use
    ``track`` before any low-pass: a filter spreads the swing's motion into the stance. Contacts shorter
    than ``MIN_CONTACT_SHARE`` of the median (cut by the clip's ends, or spurious) are not used. A
    hand-held pan changes speed smoothly, slower than steps alternate: the camera's speed over the clip is
    a straight line in time through the contacts' speeds (Theil-Sen, robust to a stray contact).
    """
    t = track.time_s
    mids, speeds = [], []
    for c, rows in _stance_spans(t, contacts):
        x = track.point(f"{c.side}_foot_index")[rows, 0]
        ok = np.isfinite(x)
        if ok.sum() >= MIN_CONTACT_FRAMES:
            mids.append((c.touchdown_s + c.toe_off_s) / 2)
            speeds.append(-float(np.polyfit(t[rows][ok], x[ok], 1)[0]))
    if not mids:
        return np.full(len(t), np.nan), []
    if len(mids) < 3:
        v = np.full(len(t), float(np.median(speeds)))
    else:
        from scipy.stats import theilslopes  # imported here: scipy.stats costs ~0.35 s, a panning clip only

        slope, intercept, _, _ = theilslopes(speeds, mids)
        v = intercept + slope * t
    travel = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))])
    return travel, speeds


def _stance_slopes(track: PoseTrack, feet: PoseTrack, contacts: pd.DataFrame) -> list[tuple[float, float]]:
    """(stance toe's, pelvis's) image-x speed in px/s over each usable contact's trimmed stance."""
    t = track.time_s
    pelvis = mid_point(track, "hip")[:, 0]
    out = []
    for c, rows in _stance_spans(t, contacts):
        toe = feet.point(f"{c.side}_foot_index")[rows, 0]
        ok = np.isfinite(toe) & np.isfinite(pelvis[rows])
        if ok.sum() >= MIN_CONTACT_FRAMES:
            out.append((np.polyfit(t[rows][ok], toe[ok], 1)[0], np.polyfit(t[rows][ok], pelvis[rows][ok], 1)[0]))
    return out


def stance_foot_share(track: PoseTrack, feet: PoseTrack, contacts: pd.DataFrame) -> float:
    """How much of the image motion during the contacts is the stance foot's, not the pelvis's: the median
    over contacts of |toe speed| / (|toe speed| + |pelvis speed|) (image x, px/s). A foot on the ground
    stands still in the world, so ~0 with a fixed camera and ~1 with one that follows the runner; NaN
    without a usable contact. For landmark files, whose camera motion is not known (``PAN_SHARE``)."""
    shares = [abs(v) / (abs(v) + abs(p)) for v, p in _stance_slopes(track, feet, contacts) if abs(v) + abs(p) > 0]
    return float(np.median(shares)) if shares else math.nan


def stance_toe_drift_pct(track: PoseTrack, feet: PoseTrack, contacts: pd.DataFrame) -> float | None:
    """With a fixed camera: the stance toe's image speed as % of the pelvis's, median over the contacts
    (+ = forward). A foot on the ground stands still, so whatever it shows is the pose model's drift of
    the foot; a camera that pans with the runner reads its speed off that toe, slow by this much."""
    drifts = [100.0 * v / p for v, p in _stance_slopes(track, feet, contacts) if p > 0]
    return float(np.median(drifts)) if drifts else None


def camera_motion(
    meta: dict | None, track: PoseTrack, feet: PoseTrack, contacts: pd.DataFrame
) -> tuple[bool, float | None]:
    """(the camera moves, the stance foot's share when that was judged from it): the scan's verdict from the
    video (``meta["camera"]``), else (a landmark file) ``stance_foot_share`` over ``PAN_SHARE``."""
    camera = (meta or {}).get("camera")
    if camera is not None:
        return bool(camera.get("moving")), None
    share = stance_foot_share(track, feet, contacts) if len(contacts) else math.nan
    return bool(share > PAN_SHARE), (share if math.isfinite(share) else None)


def _at(t: np.ndarray, x: np.ndarray, when: float, lo: float, hi: float) -> float:
    """x at time ``when`` (linear between frames), NaN if any frame in [lo, hi] lacks it."""
    span = (t >= lo) & (t <= hi)
    if not span.any() or not np.isfinite(x[span]).all():
        return math.nan
    ok = np.isfinite(x)
    return float(np.interp(when, t[ok], x[ok])) if t[ok][0] <= when <= t[ok][-1] else math.nan


def step_metres(
    track: PoseTrack,
    feet: PoseTrack,
    contacts: pd.DataFrame,
    steps: pd.DataFrame,
    travel_px: np.ndarray,
    px_per_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(speed_m_s, step_length_m) per steps row (= per contact), NaN where the step has no next contact;
    the pelvis from ``track``, the feet from ``feet`` (the same frames, not low-passed)."""
    t = track.time_s
    pelvis = mid_point(track, "hip")[:, 0] + travel_px
    foot = {}
    for side in SIDES:
        points = np.stack([feet.point(f"{side}_heel")[:, 0], feet.point(f"{side}_foot_index")[:, 0]])
        foot[side] = np.where(np.isfinite(points).all(axis=0), points.mean(axis=0), np.nan) + travel_px
    position = []
    for c in contacts.itertuples():
        x = foot[c.side][_contact_rows(t, c.touchdown_s, c.toe_off_s)]
        if not np.isfinite(x).any():  # a low frame rate: no frame in the contact's middle, take all of it
            x = foot[c.side][(t >= c.touchdown_s) & (t <= c.toe_off_s)]
        x = x[np.isfinite(x)]
        position.append(float(np.median(x)) if x.size else math.nan)
    n = len(steps)
    speed, length = np.full(n, np.nan), np.full(n, np.nan)
    td = contacts[col.TOUCHDOWN_S].to_numpy(np.float64)
    for i in range(n):
        step_s = float(steps[col.STEP_TIME_S].iloc[i]) if col.STEP_TIME_S in steps else math.nan
        if not (np.isfinite(step_s) and step_s > 0):
            continue
        t0, t1 = td[i], td[i] + step_s
        j = int(np.argmin(np.abs(td - t1)))  # the other foot's next contact (its touchdown ends the step)
        p0, p1 = _at(t, pelvis, t0, t0, t1), _at(t, pelvis, t1, t0, t1)
        speed[i] = (p1 - p0) / px_per_m / step_s
        length[i] = (position[j] - position[i]) / px_per_m
    return speed, length


def measure_metres(
    track: PoseTrack,
    contacts: pd.DataFrame,
    steps: pd.DataFrame,
    *,
    athlete_height_m: float | None,
    camera_moving: bool,
    feet: PoseTrack | None = None,
    error_key: str | None = None,
    foot_share: float | None = None,
    reference: MetresConfig | None = None,
) -> tuple[pd.DataFrame, Metres, list[QualityNote]]:
    """The steps table with ``speed_m_s`` and ``step_length_m`` (empty when not measured), the summary's
    ``Metres`` and the notes for the user.

    ``error_key``: the landmark source's key in the known-error table (``uncertainty.source_key``);
    ``foot_share``: ``stance_foot_share``, given when the camera's motion was judged from it (a landmark file);
    ``reference``: a reference length, which sets the scale instead of the height (``scale.find_scale``).
    ``track``: the low-passed landmarks (scale, pelvis); ``feet``: the same frames before the low-pass
    (default ``track``): a low-pass spreads the swing's motion into the stance, where the foot stands still.
    """
    feet = feet or track
    check_athlete_height(athlete_height_m)
    steps = steps.copy()
    steps[col.SPEED_M_S] = np.nan
    steps[col.STEP_LENGTH_M] = np.nan
    camera = "panning" if camera_moving else "fixed"
    # the foot's drift is measurable only when the camera stands still (a pan moves every point)
    drift = None if camera_moving or not len(contacts) else stance_toe_drift_pct(track, feet, contacts)
    path = scale_path_px(track)
    scale = find_scale(path, athlete_height_m, reference or MetresConfig())
    facts = {"athlete_height_m": athlete_height_m, "stance_toe_drift_pct": drift}
    if scale is None or np.isfinite(path).sum() < 2 or not len(steps):
        why = (
            "no athlete height (--athlete-height-m) or reference length ([metres] settings) given"
            if scale is None
            else "too few frames with the shoulders, hips and knees seen"
        )
        return steps, _not_measured(why, camera, error_key, scale, **facts), []
    change = size_change(track, path)
    facts |= {"px_per_m": scale.px_per_m, "apparent_size_change_pct": 100 * change}
    travel, pan = camera_travel_px(feet, contacts) if camera_moving else (np.zeros(track.n_frames), [])
    why = _why_no_one_scale(change) or _why_no_pan(camera_moving, pan)
    if why:
        return steps, _not_measured(why, camera, error_key, scale, **facts), [_no_metres_note(why)]
    speed, length = step_metres(track, feet, contacts, steps, travel, scale.px_per_m)
    steps[col.SPEED_M_S], steps[col.STEP_LENGTH_M] = speed, length
    pan_m_s = float(np.mean(pan)) / scale.px_per_m if pan else None
    known = known_error_pct(error_key, camera, scale)
    metres = Metres(
        measured=True,
        why_not="",
        **_scale_facts(scale),
        known_error_pct=known,
        camera=camera,
        camera_speed_m_s=pan_m_s,
        legs=frozen_legs(_leg_stats(steps, known)),
        **facts,
    )
    how = (
        f"the camera pans (about {pan_m_s:.1f} m/s): measured against the stance foot, which stands still"
        if camera_moving
        else "fixed camera"
    )
    if foot_share is not None:  # no video to measure the background's motion
        how += f" (judged from the stance foot: {foot_share:.0%} of the image motion in the contacts)"
    return steps, metres, [QualityNote("metres", _note(scale, athlete_height_m, how, known))]


def _note(scale: Scale, athlete_height_m: float | None, how: str, known: float | None) -> str:
    if scale.from_reference:
        where = f"the reference length ({scale.segment.removeprefix('reference: ')}: {scale.px_per_m:.0f} px/m)"
    else:
        where = f"the athlete's height ({athlete_height_m:.2f} m, scale {scale.px_per_m:.0f} px/m from the "
        where += "shoulder-hip-knee length)"
    note = f"Speed and step length in metres from {where}; {how}; "
    note += f"known error +-{known:.1f} % (docs/accuracy.md)." if known is not None else "known error unknown."
    check = scale.height_vs_reference_pct
    if check is not None and abs(check) > MAX_HEIGHT_VS_REFERENCE_PCT:
        note += (
            f" The athlete's height gives a scale {check:+.0f} % from the reference's: check that the "
            "reference lies in the runner's line and the height is right."
        )
    return note


def _why_no_one_scale(change: float) -> str:
    if change <= MAX_SIZE_CHANGE:
        return ""
    return (
        f"the athlete's apparent size changes by {100 * change:.0f} % over the clip (more than "
        f"{100 * MAX_SIZE_CHANGE:.0f} %): the camera zooms or the view is oblique, so no one scale holds"
    )


def _why_no_pan(camera_moving: bool, pan: list[float]) -> str:
    if camera_moving and len(pan) < 2:
        return "the camera moves and fewer than 2 contacts show how fast (the stance foot's motion)"
    return ""


def _scale_facts(scale: Scale | None) -> dict:
    """The summary's scale fields (the height's defaults when there is no scale at all)."""
    if scale is None:
        return {
            "scale_source": None,
            "scale_segment": SCALE_SEGMENT,
            "scale_error_pct": SCALE_ERROR_PCT,
            "height_vs_reference_pct": None,
        }
    return {
        "scale_source": scale.source,
        "scale_segment": scale.segment,
        "scale_error_pct": scale.error_pct,
        "height_vs_reference_pct": scale.height_vs_reference_pct,
    }


def _leg_stats(steps: pd.DataFrame, error_pct: float | None) -> dict:
    """``{left|right|both: {speed_m_s|step_length_m: stats}}``, the CI widened by the known error."""
    out = {}
    for key in (*SIDES, "both"):
        sub = steps if key == "both" else steps[steps[col.SIDE] == key]
        out[key] = {}
        for m in col.METRE_MEASURES:
            stat = describe(sub[m])
            unknown = stat["mean"] is None or error_pct is None
            known = None if unknown else abs(stat["mean"]) * error_pct / 100.0
            out[key][m] = with_known_error(stat, known)
    return out


def _no_metres_note(why: str) -> QualityNote:
    return QualityNote("metres", f"No speed or step length: {why}.")


def _not_measured(why: str, camera: str, error_key: str | None, scale: Scale | None, **facts) -> Metres:
    return Metres(
        measured=False,
        why_not=why,
        **_scale_facts(scale),
        known_error_pct=known_error_pct(error_key, camera, scale),
        camera=camera,
        camera_speed_m_s=None,
        stance_toe_drift_pct=facts.get("stance_toe_drift_pct"),
        legs=frozen_legs({}),
        athlete_height_m=facts.get("athlete_height_m"),
        px_per_m=facts.get("px_per_m"),
        apparent_size_change_pct=facts.get("apparent_size_change_pct"),
    )
