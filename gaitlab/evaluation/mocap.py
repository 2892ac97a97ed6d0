"""Motion capture (C3D) as ground truth: markers, joint centres, force-plate events.

- ``read_c3d``: markers (metres, lab frame), the summed vertical plate force and
  the lab's marked Foot Strike / Foot Off events, on one time axis (0 = first
  marker frame).
- ``lab_axes``: the running (progression) and vertical axes, found from the data
  (pelvis travel and the head-above-feet direction), so no lab convention is assumed.
- ``joint_centres``: per side hip, knee, ankle, heel, toe and shoulder in 3D.
  Knee and ankle are the lateral epicondyle/malleolus markers when present;
  otherwise (and always for the hip) the functional joint centre of the two
  adjacent marker clusters (SCoRE, Ehrig et al. 2006: the point that moves with
  both segments).
- ``force_contacts``: truth contacts where the vertical force exceeds a threshold
  (30 N), with the crossing times interpolated between analog samples.

The joint centres seen by a side camera (and the truth angles measured on them) are in
``gaitlab.evaluation.mocap_camera``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gaitlab.core import columns as col
from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import SIDES

FORCE_THRESHOLD_N = 30.0

# Marker sets: first match wins. Clusters are lists of >= 3 markers on one rigid segment.
_PELVIS = (("RASI", "LASI", "SACR"), ("RASI", "LASI", "RPSI", "LPSI"))
_SEG = {
    "thigh": ((("{S}THLP", "{S}THLD", "{S}THAP", "{S}THAD")), ("{S}TH1", "{S}TH2", "{S}TH3")),
    "shank": (("{S}TIAP", "{S}TIAD", "{S}TILAT"), ("{S}TB1", "{S}TB2", "{S}TB3")),
    "foot": (("{S}HEEL", "{S}P1MT", "{S}P5MT", "{S}TOE"), ("{S}CAL", "{S}MT1", "{S}MT5")),
}
_KNEE = ("{S}LEPI",)
_ANKLE = ("{S}LMAL",)
_HEEL = ("{S}HEEL", "{S}CAL")
_TOE = (("{S}TOE",), ("{S}MT1", "{S}MT5"))
_SHOULDER = ("{S}SH", "{S}ACR")


@dataclass
class MocapTrial:
    """One C3D trial on a common time axis (0 = first marker frame)."""

    path: Path
    rate_hz: float
    time_s: np.ndarray
    markers_m: dict[str, np.ndarray]  # name -> (T, 3) metres, lab frame
    analog_time_s: np.ndarray
    fz_n: np.ndarray  # summed vertical force of all plates, + = load
    plate_corners_m: np.ndarray  # (P, 4, 3)
    lab_events: list[dict] = field(default_factory=list)  # {"side", "event", "time_s"}
    subject_height_m: float | None = None  # PROCESSING:HEIGHT when the C3D has it


def read_c3d(path: Path) -> MocapTrial:
    import c3d

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            reader = c3d.Reader(fh)
            rate = float(reader.point_rate)
            n_sub = int(round(reader.analog_rate / rate)) if reader.analog_rate else 0
            scale = 1e-3 if reader.get("POINT:UNITS").string_value.strip() == "mm" else 1.0
            labels = [s.strip() for s in reader.point_labels]
            analog_labels = [s.strip() for s in reader.analog_labels]
            first = int(reader.first_frame)
            pts, ana = [], []
            for _, points, analog in reader.read_frames():
                p = points[:, :3].astype(np.float64) * scale
                p[points[:, 3] < 0] = np.nan  # residual < 0: marker not seen
                pts.append(p)
                ana.append(np.asarray(analog, dtype=np.float64))
            corners = reader.get("FORCE_PLATFORM:CORNERS").float_array.reshape(-1, 4, 3) * scale
            height = reader.get("PROCESSING:HEIGHT")  # Vicon's subject height, mm
            height_m = float(height.float_value) / 1000.0 if height is not None else None
            channels = reader.get("FORCE_PLATFORM:CHANNEL").int16_array.reshape(-1, 6)
            events = []
            if reader.get("EVENT:USED") is not None and reader.get("EVENT:USED").int16_value > 0:
                times = reader.get("EVENT:TIMES").float_array.reshape(-1, 2)
                ctx = reader.get("EVENT:CONTEXTS").string_array
                lab = reader.get("EVENT:LABELS").string_array
                # Vicon event time is (frame - 1) / rate; frame ``first`` is our t = 0.
                t0 = (first - 1) / rate
                for (_, t), c, label in zip(times, ctx, lab):
                    events.append({"side": c.strip().lower(), "event": label.strip(), col.TIME_S: float(t) - t0})
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise BadInputError(f"{path}: cannot read C3D ({exc})") from None
    xyz = np.array(pts)
    markers = {name: xyz[:, k] for k, name in enumerate(labels) if not name.startswith("*")}
    analog = np.concatenate([a.T for a in ana], axis=0)  # (T * n_sub, channels)
    fz_cols = [int(ch[2]) - 1 for ch in channels]
    if not all(analog_labels[c].lower().endswith(f"fz{k + 1}") for k, c in enumerate(fz_cols)):
        raise BadInputError(f"{path}: force plate channels are not Fz where expected")
    fz = -analog[:, fz_cols].sum(axis=1)  # plates report the load as negative Fz
    t = np.arange(len(xyz)) / rate
    ta = np.arange(len(analog)) / (rate * n_sub)
    return MocapTrial(
        path=path,
        rate_hz=rate,
        time_s=t,
        markers_m=markers,
        analog_time_s=ta,
        fz_n=fz,
        plate_corners_m=corners,
        lab_events=events,
        subject_height_m=height_m,
    )


# Stature minus cervicale (C7) height of adult men: about 0.23 m in military anthropometric surveys (ANSUR).
CERVICALE_TO_VERTEX_M = 0.23
SHOE_SOLE_M = 0.02  # the static trial is shod (heel and toe markers ~6 cm up); a running shoe's sole


def standing_height_m(trial: MocapTrial) -> tuple[float, str]:
    """(standing height in m, where it comes from): the C3D's subject height, else estimated from the static
    trial beside it (``*Static*.c3d``): its C7 marker's height above the floor (lab z = 0, the plates' top),
    minus a shoe sole, plus the anthropometric C7-to-vertex height (about +-0.03 m)."""
    if trial.subject_height_m:
        return trial.subject_height_m, "the C3D's subject height (PROCESSING:HEIGHT)"
    statics = sorted(trial.path.parent.glob("*Static*.c3d"))
    if not statics:
        raise BadInputError(f"{trial.path}: no subject height and no static trial to estimate it from")
    static = read_c3d(statics[0])
    _, up = lab_axes(trial)
    c7 = float(np.nanmedian(static.markers_m["C7"] @ up))
    how = (
        f"estimated from {statics[0].name}: C7 marker {c7:.3f} m above the floor - {SHOE_SOLE_M} m shoe sole "
        f"+ {CERVICALE_TO_VERTEX_M} m C7 to vertex (anthropometric mean), about +-0.03 m"
    )
    return c7 - SHOE_SOLE_M + CERVICALE_TO_VERTEX_M, how


def _pick(trial: MocapTrial, options, side: str):
    for opt in options:
        names = [o.format(S=side[0].upper()) for o in ((opt,) if isinstance(opt, str) else opt)]
        if all(n in trial.markers_m for n in names):
            return names
    return None


def lab_axes(trial: MocapTrial) -> tuple[np.ndarray, np.ndarray]:
    """(forward, up) unit vectors of the lab frame: running direction and vertical."""
    pelvis = np.nanmean([trial.markers_m[n] for n in _pick(trial, _PELVIS, "left")], axis=0)
    travel = pelvis[-1] - pelvis[0]
    k_fwd = int(np.argmax(np.abs(travel)))
    forward = np.zeros(3)
    forward[k_fwd] = np.sign(travel[k_fwd])
    heel = trial.markers_m[_pick(trial, _HEEL, "left")[0]]
    up_vec = np.nanmean(pelvis - heel, axis=0)
    up_vec[k_fwd] = 0.0
    k_up = int(np.argmax(np.abs(up_vec)))
    up = np.zeros(3)
    up[k_up] = np.sign(up_vec[k_up])
    return forward, up


def _frames(cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (T,3,3) and origin (T,3) of a rigid marker cluster (N,T,3), via SVD to frame 0."""
    ref = cluster[:, 0] - cluster[:, 0].mean(axis=0)
    origin = cluster.mean(axis=0)
    rots = np.empty((cluster.shape[1], 3, 3))
    for t in range(cluster.shape[1]):
        cur = cluster[:, t] - origin[t]
        u, _, vt = np.linalg.svd(ref.T @ cur)
        d = np.sign(np.linalg.det(u @ vt))
        rots[t] = (u @ np.diag([1, 1, d]) @ vt).T  # maps reference-frame coordinates to lab
    return rots, origin


def score_centre(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Functional joint centre (T,3) between clusters a and b (each (N,T,3)), SCoRE least squares."""
    ra, pa = _frames(a)
    rb, pb = _frames(b)
    n = len(pa)
    mat = np.concatenate([ra, -rb], axis=2).reshape(3 * n, 6)
    rhs = (pb - pa).reshape(3 * n)
    sol = np.linalg.lstsq(mat, rhs, rcond=None)[0]
    ca = np.einsum("tij,j->ti", ra, sol[:3]) + pa
    cb = np.einsum("tij,j->ti", rb, sol[3:]) + pb
    return (ca + cb) / 2.0


# Toe tip beyond the metatarsal heads as a share of heel->metatarsal-head length:
# phalanges are ~27 % of foot length, the heads sit at ~73 % (anthropometric
# proportions), 0.27 / 0.73 = 0.37.
TOE_LENGTH_HEEL_MT_FRAC = 0.37


def toe_tip_from_metatarsals(heel: np.ndarray, mt: np.ndarray, *, up: np.ndarray) -> np.ndarray:
    """Toe tip (T,3) from heel and metatarsal-head markers, with the toes bending at the MTP joint.

    In the air the toes continue the heel->MT line. Toes cannot go through the
    floor: when that line would put the tip below the floor level (the lowest
    the MT markers get), the toes hinge at the MT heads and lie on the floor,
    as they do at push-off while the heel and MT heads rise.
    """
    d = mt - heel
    length = TOE_LENGTH_HEEL_MT_FRAC * np.linalg.norm(d, axis=1, keepdims=True)
    tip = mt + length * d / np.linalg.norm(d, axis=1, keepdims=True)
    floor = np.nanpercentile(mt @ up, 1.0)
    below = (tip @ up) < floor
    dz = floor - mt @ up  # height of the floor relative to the MT heads (<= 0 when they are raised)
    horiz = d - np.outer(d @ up, up)
    horiz /= np.linalg.norm(horiz, axis=1, keepdims=True)
    reach = np.sqrt(np.clip(length[:, 0] ** 2 - dz**2, 0.0, None))
    hinged = mt + reach[:, None] * horiz + dz[:, None] * up[None, :]
    fix = below & (np.abs(dz) < length[:, 0])
    tip[fix] = hinged[fix]
    return tip


def joint_centres(trial: MocapTrial) -> dict[str, np.ndarray]:
    """``{"left_hip": (T,3), ...}`` for hip, knee, ankle, heel, foot_index, shoulder of both sides."""
    m = trial.markers_m
    pelvis = np.array([m[n] for n in _pick(trial, _PELVIS, "left")])
    out: dict[str, np.ndarray] = {}
    for side in SIDES:
        seg = {}
        for name, options in _SEG.items():
            names = _pick(trial, options, side)
            if names is None:
                raise BadInputError(f"{trial.path}: no {side} {name} marker cluster")
            seg[name] = np.array([m[n] for n in names])
        out[f"{side}_hip"] = score_centre(pelvis, seg["thigh"])
        knee = _pick(trial, _KNEE, side)
        out[f"{side}_knee"] = m[knee[0]] if knee else score_centre(seg["thigh"], seg["shank"])
        ankle = _pick(trial, _ANKLE, side)
        out[f"{side}_ankle"] = m[ankle[0]] if ankle else score_centre(seg["shank"], seg["foot"])
        out[f"{side}_heel"] = m[_pick(trial, _HEEL, side)[0]]
        toe = _pick(trial, _TOE, side)
        if len(toe) == 1:
            out[f"{side}_foot_index"] = m[toe[0]]
        else:  # metatarsal heads only: model the toe tip (see ``toe_tip_from_metatarsals``)
            out[f"{side}_foot_index"] = toe_tip_from_metatarsals(
                out[f"{side}_heel"], np.mean([m[n] for n in toe], axis=0), up=lab_axes(trial)[1]
            )
        out[f"{side}_shoulder"] = m[_pick(trial, _SHOULDER, side)[0]]
    return out


def plate_intervals_m(trial: MocapTrial, forward: np.ndarray, *, join_m: float = 0.05) -> list[tuple[float, float]]:
    """The instrumented stretches of floor along the running axis: each plate's range, touching plates
    (gap <= ``join_m``) joined. A floor can miss a plate (JA1's jog trial has none at 2.71-3.61 m), and a
    foot landing in such a gap makes no force although it lies within the plates' overall extent."""
    along = sorted((float(a.min()), float(a.max())) for a in (trial.plate_corners_m @ forward))
    out: list[list[float]] = []
    for lo, hi in along:
        if out and lo <= out[-1][1] + join_m:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def within_plates(along_m: np.ndarray, intervals: list[tuple[float, float]], *, margin_m: float = 0.0) -> bool:
    """Do all these positions (m along the running axis) lie on one instrumented stretch?"""
    along_m = np.asarray(along_m, float)
    along_m = along_m[np.isfinite(along_m)]
    if not along_m.size:
        return False
    return any(lo + margin_m < along_m.min() and along_m.max() < hi - margin_m for lo, hi in intervals)


def _crossing(t: np.ndarray, f: np.ndarray, i: int, threshold: float) -> float:
    """Time where f crosses threshold between samples i and i+1 (linear)."""
    f0, f1 = f[i], f[i + 1]
    return float(t[i] + (threshold - f0) / (f1 - f0) * (t[i + 1] - t[i]))


def force_contacts(trial: MocapTrial, *, threshold_n: float = FORCE_THRESHOLD_N) -> pd.DataFrame:
    """Truth contacts: runs of summed vertical force above ``threshold_n``.

    Columns: side (the foot lowest at mid-contact), touchdown_s, toe_off_s,
    contact_time_s, complete (the whole foot stayed on the plates, so the force
    run is the full contact; partial ones are kept only so a detection over
    them is not counted as extra).
    """
    t, f = trial.analog_time_s, trial.fz_n
    on = f > threshold_n
    d = np.diff(on.astype(np.int8))
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    forward, up = lab_axes(trial)
    jc = joint_centres(trial)
    stretches = plate_intervals_m(trial, forward)
    rows = []
    for s in starts:
        after = stops[stops > s]
        if not len(after):
            continue
        e = int(after[0])
        td, to = _crossing(t, f, int(s), threshold_n), _crossing(t, f, e, threshold_n)
        if to - td < 0.03:  # a spike, not a foot contact
            continue
        k = int(np.clip(np.searchsorted(trial.time_s, (td + to) / 2), 0, len(trial.time_s) - 1))
        heights = {side: min(jc[f"{side}_heel"][k] @ up, jc[f"{side}_foot_index"][k] @ up) for side in SIDES}
        side = min(heights, key=heights.get)
        ks = slice(int(np.searchsorted(trial.time_s, td)), int(np.searchsorted(trial.time_s, to)) + 1)
        along = np.concatenate([jc[f"{side}_heel"][ks] @ forward, jc[f"{side}_foot_index"][ks] @ forward])
        complete = bool(within_plates(along, stretches, margin_m=0.02) and s > 0)
        rows.append(
            {"side": side, col.TOUCHDOWN_S: td, col.TOE_OFF_S: to, col.CONTACT_TIME_S: to - td, "complete": complete}
        )
    return pd.DataFrame(rows, columns=["side", col.TOUCHDOWN_S, col.TOE_OFF_S, col.CONTACT_TIME_S, "complete"])


def lab_event_contacts(trial: MocapTrial) -> pd.DataFrame:
    """Contacts from the lab's marked Foot Strike -> next Foot Off of the same side."""
    rows = []
    for ev in sorted(trial.lab_events, key=lambda e: e[col.TIME_S]):
        if ev["event"] != "Foot Strike":
            continue
        offs = [
            e[col.TIME_S]
            for e in trial.lab_events
            if e["side"] == ev["side"] and e["event"] == "Foot Off" and e[col.TIME_S] > ev[col.TIME_S]
        ]
        if offs:
            rows.append(
                {
                    "side": ev["side"],
                    col.TOUCHDOWN_S: ev[col.TIME_S],
                    col.TOE_OFF_S: min(offs),
                    col.CONTACT_TIME_S: min(offs) - ev[col.TIME_S],
                }
            )
    return pd.DataFrame(rows, columns=["side", col.TOUCHDOWN_S, col.TOE_OFF_S, col.CONTACT_TIME_S])
