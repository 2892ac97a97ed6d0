"""Score gaitlab's contacts on real clips against hand-labelled touchdown / toe-off frames.

Truth: ``shared/data/labels/real_clip_events.csv`` (conventions in the README beside it). Each
labelled event is the *first* stored frame showing the new state (foot planted / toe up), so the
real instant lies between the image before it and the labelled image.

Definitions (errors are found - labelled):

- **Frame unit.** One "frame" of error is one *new image* of the clip. On
  track_sprint_side_repeatedframes.mp4 each image is stored 3 times (6 around holds), so a
  stored-frame index ``f`` becomes a new-image index by linear interpolation between the stored
  frames that carry new images (``NEW_IMAGE_FRAMES``; new images are evenly spaced in real time,
  so this is linear in time). On the other clips the unit is one stored frame. On
  track_run_pan_screenrec.mp4 the slow-motion segment (stored frames 62-270, slowed by a factor of
  3.4-4.5 not known exactly) is also scored in stored frames: there one frame is ~1/4 of a real
  frame, and every ms figure of that clip is None.
- **Labelled instant** of an event: ``label - 0.5`` frames, the midpoint between the labelled
  image and the one before it. A detected event's error = its (fractional, converted) frame minus
  that instant. A perfect detector is then within +-0.5 frame.
- **Matching.** Contacts are intervals [touchdown, toe-off]. A detected contact matches a labelled
  contact of the same foot when the intervals overlap (largest overlap wins, each used once).
  "Same foot" does not trust gaitlab's near/far: per clip, gaitlab's legs are mapped onto the
  labels' legs as-is or swapped, whichever matches more contacts (then more overlap; ties keep
  as-is). ``details["legs_swapped"]`` says which; ``details["leg_agreement"]`` is the share of
  matched contacts whose near/far agrees with the labels as gaitlab wrote it.
- ``events_labelled``: labelled events (2 per contact). ``events_within_1_frame`` /
  ``events_within_3_frames``: labelled events whose matched detection is within 1 / 3 frames
  (|error| <= limit); events of unmatched contacts count as not within. ``event_mae_frames``:
  mean |error| over matched events.
- ``extra``: detected contacts matching no labelled contact whose midpoint lies inside the
  labelled span of the clip (first labelled touchdown instant .. last labelled toe-off instant).
  Outside that span nobody labelled, so a detection there cannot be judged.
- **Contact time** = toe-off - touchdown in frames (new images on clip 1), ms = frames x 1000 /
  capture fps. The contact-time means use labelled contacts with both events labelled, except
  the one the README excludes (clip 2's contact spanning the change to slow motion):
  ``labelled_contact_time_mean_ms`` over all such contacts; ``contact_time_mean_error_frames`` /
  ``_ms`` = mean found minus mean labelled contact time over those of them that matched a
  detection with both events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.config import AnalysisConfig

LABELS_REL = Path("data") / "labels" / "real_clip_events.csv"
CLIPS_REL = Path("data") / "clips"
LEGS = ("near", "far")
DESCRIPTION = (
    "the labelled clips of `shared/data/labels/real_clip_events.csv` (3 clips, 38 events labelled frame by "
    "frame by eye) through `gaitlab analyze` with default settings, each pose model; its contacts.csv "
    "scored by `gaitlab.evaluation.real_labels` (definitions in its docstring). One frame of error = one *new image*: "
    "3 stored frames on the repeated-frame sprint clip, one stored frame elsewhere; the slow-motion part "
    "of track_run_pan_screenrec.mp4 (factor 3.4-4.5, not known) is scored in stored frames, so that clip "
    "has no fps and no ms. A labelled event's instant is half a frame before the labelled frame (the "
    "first image showing the new state). Contacts match when their [touchdown, toe-off] overlap on the "
    "same foot, gaitlab's near/far taken as-is or swapped per clip, whichever matches more. `extra` = "
    "detections matching no labelled contact with their midpoint inside the labelled span. Contact-time "
    "means use contacts with both events labelled except the one spanning the change to slow motion; "
    "CT mean err = found minus labelled mean over the matched ones."
)
ROW_KEYS = (
    "trial",
    "source",
    "model",
    "fps",
    "events_labelled",
    "events_within_1_frame",
    "events_within_3_frames",
    "extra",
    "event_mae_frames",
    "labelled_contact_time_mean_ms",
    "contact_time_mean_error_ms",
    "contact_time_mean_error_frames",
)


def _clip1_new_images() -> tuple[int, ...]:
    """Stored frames carrying a new runner image (labels README, clip 1): every 3rd frame, a 6-frame
    hold every 30 frames from frame 24, then 180 and 183."""
    frames = [f for start in range(0, 180, 30) for f in range(start, start + 25, 3)]
    return tuple(frames + [180, 183])


@dataclass(frozen=True)
class ClipFacts:
    """What the labels README says about a clip that scoring needs."""

    capture_fps: float | None  # real frames per second of one frame unit; None where it is not one rate
    new_image_frames: tuple[int, ...] | None = None  # frame unit = new image (repeated-frame clip)
    # (leg, touchdown stored frame) of contacts left out of the contact-time means
    excluded_from_duration: tuple[tuple[str, int], ...] = ()


CLIP_FACTS = {
    # new images ~1/30 s apart in real time (speed and stride, README)
    "track_sprint_side_repeatedframes.mp4": ClipFacts(capture_fps=30.0, new_image_frames=_clip1_new_images()),
    # real-time part at ~30 fps and slow motion of unknown factor in one clip: no single rate
    "track_run_pan_screenrec.mp4": ClipFacts(capture_fps=None, excluded_from_duration=(("near", 59),)),
    "jogger_side_short.mp4": ClipFacts(capture_fps=29.97),
}


@dataclass
class ClipScore:
    row: dict  # exactly ROW_KEYS
    details: dict = field(default_factory=dict)  # leg agreement, per-event errors


def load_labels(path: Path) -> pd.DataFrame:
    labels = pd.read_csv(path)
    bad = set(labels["clip"]) - set(CLIP_FACTS)
    if bad:
        raise ValueError(f"{path}: no scoring facts for clip(s) {sorted(bad)}")
    for clip, facts in CLIP_FACTS.items():
        sub = labels[labels["clip"] == clip]
        if facts.new_image_frames is not None and len(sub):
            mapped = to_units(facts, sub["frame"].to_numpy(float))
            if not np.allclose(mapped, sub["new_image_index"].to_numpy(float)):
                raise ValueError(f"{path}: {clip} new_image_index disagrees with the new-image frame list")
    return labels


def to_units(facts: ClipFacts, stored_frames) -> np.ndarray:
    """Stored-frame indices (fractional allowed) -> the clip's frame unit (new images on clip 1)."""
    f = np.asarray(stored_frames, dtype=float)
    if facts.new_image_frames is None:
        return f
    n = np.asarray(facts.new_image_frames, dtype=float)
    return np.interp(f, n, np.arange(len(n)), left=np.nan, right=np.nan)


def labelled_contacts(labels: pd.DataFrame, clip: str) -> pd.DataFrame:
    """One row per labelled contact: leg, touchdown/toe-off stored frame, ``in_duration_mean``.

    A touchdown pairs with the next toe-off of the same leg before that leg's next touchdown;
    an event without a partner gives a contact with the other end NaN.
    """
    facts = CLIP_FACTS[clip]
    rows = []
    for leg in LEGS:
        ev = labels[(labels["clip"] == clip) & (labels[col.LEG] == leg)].sort_values("frame")
        td = None
        for _, e in ev.iterrows():
            if e["event"] == "touchdown":
                if td is not None:
                    rows.append((leg, td, math.nan))
                td = float(e["frame"])
            else:
                rows.append((leg, math.nan if td is None else td, float(e["frame"])))
                td = None
        if td is not None:
            rows.append((leg, td, math.nan))
    out = pd.DataFrame(rows, columns=["leg", col.TOUCHDOWN_FRAME, col.TOE_OFF_FRAME])
    excluded = {(leg, float(f)) for leg, f in facts.excluded_from_duration}
    out["in_duration_mean"] = [
        np.isfinite(r.touchdown_frame) and np.isfinite(r.toe_off_frame) and (r.leg, r.touchdown_frame) not in excluded
        for r in out.itertuples()
    ]
    return out.sort_values([col.TOUCHDOWN_FRAME, col.TOE_OFF_FRAME]).reset_index(drop=True)


def _interval(a: float, b: float) -> tuple[float, float]:
    """A contact interval; a missing end collapses onto the other so the event still overlaps."""
    a = b if not np.isfinite(a) else a
    b = a if not np.isfinite(b) else b
    return a, b


def match(truth: pd.DataFrame, found: pd.DataFrame, leg_map: dict[str, str]) -> dict[int, int]:
    """{labelled row -> found row}: same (mapped) leg, overlapping [td, to] in frame units, largest
    overlap wins. Both tables carry ``td_u`` / ``to_u`` (frame units; truth already at label - 0.5)."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for i, tc in truth.iterrows():
        t0, t1 = _interval(tc["td_u"], tc["to_u"])
        best, best_overlap = None, -math.inf
        for j, fc in found.iterrows():
            if j in used or leg_map[fc[col.LEG]] != tc[col.LEG]:
                continue
            f0, f1 = _interval(fc["td_u"], fc["to_u"])
            overlap = min(t1, f1) - max(t0, f0)
            if overlap >= 0 and overlap > best_overlap and np.isfinite(overlap):
                best, best_overlap = j, overlap
        if best is not None:
            pairs[int(i)] = int(best)
            used.add(best)
    return pairs


def _overlap_total(truth: pd.DataFrame, found: pd.DataFrame, pairs: dict[int, int]) -> float:
    total = 0.0
    for i, j in pairs.items():
        t0, t1 = _interval(truth.loc[i, "td_u"], truth.loc[i, "to_u"])
        f0, f1 = _interval(found.loc[j, "td_u"], found.loc[j, "to_u"])
        total += min(t1, f1) - max(t0, f0)
    return total


def _best_leg_map(truth: pd.DataFrame, found: pd.DataFrame) -> tuple[dict[str, str], dict[int, int]]:
    as_is = {"near": "near", "far": "far"}
    swapped = {"near": "far", "far": "near"}
    p_as_is, p_swapped = match(truth, found, as_is), match(truth, found, swapped)
    key_as_is = (len(p_as_is), _overlap_total(truth, found, p_as_is))
    key_swapped = (len(p_swapped), _overlap_total(truth, found, p_swapped))
    return (swapped, p_swapped) if key_swapped > key_as_is else (as_is, p_as_is)


def score_clip(labels: pd.DataFrame, found: pd.DataFrame, clip: str, *, model: str) -> ClipScore:
    """Score one clip's ``contacts.csv`` table (``leg``, fractional ``touchdown_frame`` /
    ``toe_off_frame`` in stored frames) against its labels."""
    facts = CLIP_FACTS[clip]
    truth = labelled_contacts(labels, clip)
    truth["td_u"] = to_units(facts, truth[col.TOUCHDOWN_FRAME]) - 0.5
    truth["to_u"] = to_units(facts, truth[col.TOE_OFF_FRAME]) - 0.5
    found = found.reset_index(drop=True).copy()
    found["td_u"] = to_units(facts, found[col.TOUCHDOWN_FRAME])
    found["to_u"] = to_units(facts, found[col.TOE_OFF_FRAME])
    found = found[np.isfinite(found["td_u"]) | np.isfinite(found["to_u"])].reset_index(drop=True)
    leg_map, pairs = _best_leg_map(truth, found)

    errors: list[dict] = []
    for i, tc in truth.iterrows():
        for event, unit in (("touchdown", "td_u"), ("toe_off", "to_u")):
            if not np.isfinite(tc[unit]):
                continue
            err = found.loc[pairs[i], unit] - tc[unit] if i in pairs else math.nan
            errors.append(
                {"leg": tc[col.LEG], "event": event, "label_unit": tc[unit] + 0.5, "error_frames": float(err)}
            )
    err = np.array([e["error_frames"] for e in errors], dtype=float)
    matched = err[np.isfinite(err)]

    span = (np.nanmin(truth[["td_u", "to_u"]].to_numpy()), np.nanmax(truth[["td_u", "to_u"]].to_numpy()))
    matched_found = set(pairs.values())
    extra = 0
    for j, fc in found.iterrows():
        mid = np.nanmean([fc["td_u"], fc["to_u"]])
        if j not in matched_found and span[0] <= mid <= span[1]:
            extra += 1

    in_mean = truth.index[truth["in_duration_mean"]]
    labelled_ct = (truth.loc[in_mean, "to_u"] - truth.loc[in_mean, "td_u"]).to_numpy(float)
    ct_err = []
    for i in in_mean:
        if i in pairs:
            fc = found.loc[pairs[i]]
            found_ct = fc["to_u"] - fc["td_u"]
            if np.isfinite(found_ct):
                ct_err.append(found_ct - (truth.loc[i, "to_u"] - truth.loc[i, "td_u"]))
    ct_err_frames = float(np.mean(ct_err)) if ct_err else None
    ms = None if facts.capture_fps is None else 1000.0 / facts.capture_fps

    row = {
        "trial": clip,
        "source": "real",
        "model": model,
        "fps": facts.capture_fps,
        "events_labelled": len(errors),
        "events_within_1_frame": int(np.sum(np.abs(matched) <= 1.0)),
        "events_within_3_frames": int(np.sum(np.abs(matched) <= 3.0)),
        "extra": extra,
        "event_mae_frames": float(np.mean(np.abs(matched))) if matched.size else None,
        "labelled_contact_time_mean_ms": (
            float(np.mean(labelled_ct)) * ms if ms is not None and labelled_ct.size else None
        ),
        "contact_time_mean_error_ms": ct_err_frames * ms if ms is not None and ct_err_frames is not None else None,
        "contact_time_mean_error_frames": ct_err_frames,
    }
    agree = [found.loc[j, "leg"] == truth.loc[i, "leg"] for i, j in pairs.items()]
    details = {
        "legs_swapped": leg_map["near"] != "near",
        "contacts_labelled": len(truth),
        "contacts_matched": len(pairs),
        "contacts_found": len(found),
        "leg_agreement": float(np.mean(agree)) if agree else None,
        "event_errors": errors,
    }
    return ClipScore(row=row, details=details)


def evaluate_clip(
    clip_path: Path, labels: pd.DataFrame, *, model: str, out_dir: Path, config: AnalysisConfig | None = None
) -> ClipScore:
    """Run the real pipeline (default analysis settings when ``config`` is None; pose from the cache
    when this clip, model and pose settings ran before) and score its contacts.csv."""
    from gaitlab.pipeline import analyze_clip
    from gaitlab.pose.landmarker import PoseSettings

    done = analyze_clip(
        Path(clip_path),
        out_dir=Path(out_dir),
        settings=PoseSettings(model=model),
        config=config or AnalysisConfig(),
        show_progress=False,
    )
    found = pd.read_csv(done.paths["contacts.csv"])
    score = score_clip(labels, found, Path(clip_path).name, model=model)
    score.details["pose_from_cache"] = done.pose_from_cache
    score.details["stance_toe_drift_pct"] = done.result.summary.metres.stance_toe_drift_pct
    return score
