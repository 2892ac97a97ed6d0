"""Landmark tracks from other tools -> ``PoseTrack`` (BlazePose names), without video.

Two sources:

- OpenSim/Sports2D ``.trc`` marker files (HALPE-26 / BODY_25-style names such as
  ``RHip``, ``LBigToe``, ``RHeel``; units m, mm or px). Times come from the
  file's ``Time`` column, so variable frame rates are kept as filmed.
- A folder of OpenPose BODY_25 ``*_keypoints.json`` files, one per frame, in
  image pixels. They carry no time: the frame rate is passed in.

Names are mapped onto the BlazePose landmarks gaitlab reads (hip, knee, ankle,
heel, foot index = big toe, shoulder; plus elbow, wrist and nose for drawing).
Metric TRC coordinates (y up) become "pixels" with y down at
``DEFAULT_PX_PER_M``, the scale of a ~1.8 m athlete filling ~400 px of a phone
frame, so pixel thresholds mean what they mean for a video. Pixel TRC
coordinates (``Units px``) have y up too, as OpenSim expects and gaitlab's
``landmarks.trc`` writes them: negated, they are the image pixels again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import INDEX, N_LANDMARKS
from gaitlab.core.types import PoseTrack
from gaitlab.io.video import check_capture_fps

DEFAULT_PX_PER_M = 400.0 / 1.8
_UNIT_TO_M = {"m": 1.0, "mm": 1e-3, "cm": 1e-2}

# Source name (case-insensitive) -> BlazePose name. HALPE/Sports2D and OpenPose spell these alike.
_SIDE_POINTS = {
    "hip": "hip",
    "knee": "knee",
    "ankle": "ankle",
    "heel": "heel",
    "bigtoe": "foot_index",
    "foot_index": "foot_index",  # BlazePose's own name, as gaitlab's landmarks.trc writes it
    "shoulder": "shoulder",
    "elbow": "elbow",
    "wrist": "wrist",
}
NAME_MAP: dict[str, str] = {"nose": "nose"}
for _src, _dst in _SIDE_POINTS.items():
    NAME_MAP[f"r{_src}"] = f"right_{_dst}"
    NAME_MAP[f"l{_src}"] = f"left_{_dst}"
    NAME_MAP[f"right_{_src}"] = f"right_{_dst}"
    NAME_MAP[f"left_{_src}"] = f"left_{_dst}"

#: OpenPose BODY_25 keypoint order.
BODY_25 = (
    "nose",
    "neck",
    "rshoulder",
    "relbow",
    "rwrist",
    "lshoulder",
    "lelbow",
    "lwrist",
    "midhip",
    "rhip",
    "rknee",
    "rankle",
    "lhip",
    "lknee",
    "lankle",
    "reye",
    "leye",
    "rear",
    "lear",
    "lbigtoe",
    "lsmalltoe",
    "lheel",
    "rbigtoe",
    "rsmalltoe",
    "rheel",
)

REQUIRED = tuple(f"{s}_{p}" for s in ("left", "right") for p in ("hip", "knee", "ankle", "heel", "foot_index"))


def _empty(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.full((n, N_LANDMARKS, 2), np.nan), np.full((n, N_LANDMARKS), np.nan), np.zeros((n, N_LANDMARKS)))


def _check_required(mapped: set[str], path: Path) -> None:
    missing = [name for name in REQUIRED if name not in mapped]
    if missing:
        raise BadInputError(
            f"{path}: keypoints lack {', '.join(missing)} (need hip, knee, ankle, heel and big toe of both legs)"
        )


def _frame_size(xy: np.ndarray) -> tuple[int, int]:
    finite = xy[np.isfinite(xy[..., 0])]
    if not len(finite):
        return (1, 1)
    return (int(math.ceil(np.max(finite[:, 0]))) + 1, int(math.ceil(np.max(finite[:, 1]))) + 1)


def read_trc(path: Path, *, px_per_m: float = DEFAULT_PX_PER_M) -> PoseTrack:
    """A ``.trc`` marker file as a PoseTrack (times from its ``Time`` column)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise BadInputError(f"{path}: not a TRC file (no 'PathFileType' header)")
    keys, values = lines[1].split("\t"), lines[2].split("\t")
    header = dict(zip((k.strip() for k in keys), (v.strip() for v in values)))
    units = header.get("Units", "m").lower()
    names = [c.strip() for c in lines[3].split("\t")[2:] if c.strip()]
    rows = []
    for k, line in enumerate(lines[5:], start=6):
        parts = line.split("\t")
        if len(parts) < 2 or not parts[1].strip():
            continue
        try:
            rows.append([float(p) if p.strip() else np.nan for p in parts[1 : 2 + 3 * len(names)]])
        except ValueError:
            raise BadInputError(f"{path} line {k}: a value that is not a number") from None
    if len(rows) < 2:
        raise BadInputError(f"{path}: fewer than 2 frames of data")
    width = 1 + 3 * len(names)
    data = np.array([r + [np.nan] * (width - len(r)) for r in rows], dtype=np.float64)
    time_s = data[:, 0] - data[0, 0]
    keep = np.concatenate([[True], np.diff(time_s) > 0])  # drop duplicated time stamps
    data, time_s = data[keep], time_s[keep]
    n = len(time_s)
    xy, z, vis = _empty(n)
    if units in _UNIT_TO_M:
        scale, flip = _UNIT_TO_M[units] * px_per_m, -1.0  # metric: y up -> image y down
    elif units == "px":  # image pixels with y up (OpenSim's axis), as gaitlab writes them: negate, no shift
        scale, flip = 1.0, -1.0
    else:
        raise BadInputError(f"{path}: unknown TRC units {units!r} (expected m, mm, cm or px)")
    mapped = set()
    for k, name in enumerate(names):
        dst = NAME_MAP.get(name.lower())
        if dst is None:
            continue
        x, y = data[:, 1 + 3 * k], data[:, 2 + 3 * k]
        xy[:, INDEX[dst], 0] = scale * x
        xy[:, INDEX[dst], 1] = flip * scale * y
        vis[:, INDEX[dst]] = np.isfinite(x).astype(float)
        mapped.add(dst)
    _check_required(mapped, path)
    if not np.isfinite(xy).any():
        raise BadInputError(f"{path}: no landmark position in it is a number")
    if units != "px":  # metric: shift into positive image coordinates, as a frame would hold them
        xy[..., 0] -= np.nanmin(xy[..., 0]) - 20.0
        xy[..., 1] -= np.nanmin(xy[..., 1]) - 20.0
    return PoseTrack(
        xy_px=xy,
        z=z,
        visibility=vis,
        time_s=time_s,
        frame_index=np.arange(n),
        frame_size_px=_frame_size(xy),
        source="trc",
        meta={"path": str(path), "units": units, "px_per_m": scale if units != "px" else None},
    )


def _best_person(people: list) -> np.ndarray | None:
    """(25, 3) keypoints of the person with the largest summed confidence, or None.

    ValueError when ``people`` is not OpenPose's list of people with lists of numbers."""
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        raise ValueError("'people' is not a list of people")
    best, best_score = None, 0.0
    for person in people:
        kp = np.asarray(person.get("pose_keypoints_2d") or [], dtype=np.float64)  # ValueError if not numbers
        if kp.size != 75:
            continue
        kp = kp.reshape(25, 3)
        score = float(kp[:, 2].sum())
        if score > best_score:
            best, best_score = kp, score
    return best


def read_openpose_folder(folder: Path, *, fps: float) -> PoseTrack:
    """A folder of OpenPose BODY_25 JSON frames (sorted by name) as a PoseTrack at ``fps``."""
    folder = Path(folder)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise BadInputError(f"{folder}: no OpenPose *.json files")
    n = len(files)
    xy, z, vis = _empty(n)
    for i, f in enumerate(files):
        if not f.is_file():
            raise BadInputError(f"{f}: not a regular file (a FIFO, device or folder)")
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
            kp = _best_person(doc.get("people", []) if isinstance(doc, dict) else None)
        except (OSError, ValueError, TypeError) as exc:
            raise BadInputError(f"{f}: not an OpenPose JSON file ({' '.join(str(exc).split())[:200]})") from None
        if kp is None:
            continue
        for j, name in enumerate(BODY_25):
            dst = NAME_MAP.get(name)
            if dst is None or kp[j, 2] <= 0:  # OpenPose writes 0,0,0 for a missing keypoint
                continue
            xy[i, INDEX[dst]] = kp[j, :2]
            vis[i, INDEX[dst]] = kp[j, 2]
    _check_required({NAME_MAP[nm] for nm in BODY_25 if nm in NAME_MAP}, folder)
    return PoseTrack(
        xy_px=xy,
        z=z,
        visibility=vis,
        time_s=np.arange(n) / fps,
        frame_index=np.arange(n),
        frame_size_px=_frame_size(xy),
        source="openpose",
        meta={"path": str(folder)},
    )


def read_keypoints(path: Path, *, fps: float | None = None) -> tuple[PoseTrack, list[str]]:
    """A TRC file or an OpenPose JSON folder; returns the track and notes for the summary."""
    path = Path(path)
    if fps is not None:
        check_capture_fps(fps, str(path))
    if not path.exists():
        raise BadInputError(f"{path}: no such file or folder")
    if not (path.is_dir() or path.is_file()):  # a FIFO would block the read for ever, a device never end
        raise BadInputError(f"{path}: not a file or folder of keypoints (a FIFO, device or socket)")
    if path.is_dir():
        notes = []
        if fps is None:
            fps = 30.0
            notes.append("OpenPose JSON has no time stamps and no --capture-fps was given: assumed 30 fps.")
        return read_openpose_folder(path, fps=fps), notes
    if path.suffix.lower() == ".trc":
        track = read_trc(path)
        check_capture_fps(1.0 / float(np.median(np.diff(track.time_s))), f"{path} (from its Time column)")
        return track, []
    raise BadInputError(f"{path}: unsupported keypoint file (expected a .trc file or a folder of OpenPose JSON)")
