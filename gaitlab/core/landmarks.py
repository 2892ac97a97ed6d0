"""BlazePose 33-point landmark indices, skeleton edges and left/right pairs.

The pose stage stores all 33 MediaPipe landmarks; the analysis only needs the
ones listed in ``ANALYSIS_POINTS``. Other sources (TRC, OpenPose) are mapped onto
these names, so everything after pose speaks BlazePose.
"""

from __future__ import annotations

import numpy as np

NAMES: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
N_LANDMARKS = len(NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(NAMES)}

SIDES = ("left", "right")
OTHER_SIDE = {"left": "right", "right": "left"}

# Points the gait analysis reads, per side ("toe" is MediaPipe's foot_index).
LEG_POINTS = ("hip", "knee", "ankle", "heel", "foot_index")
ANALYSIS_POINTS = ("shoulder",) + LEG_POINTS


def idx(side: str, point: str) -> int:
    """Index of ``<side>_<point>`` in the 33-point layout."""
    return INDEX[f"{side}_{point}"]


def leg_length_px(xy_px: np.ndarray) -> float:
    """Leg length in pixels: the median over frames and both legs of hip->knee + knee->ankle.

    ``xy_px`` is a (T, 33, 2) landmark array; frames missing a point are skipped.
    NaN when no frame has a complete leg. Thresholds scale with it so they do not
    depend on how large the athlete is in the frame.
    """
    lengths = []
    for side in SIDES:
        hip, knee, ankle = (xy_px[:, idx(side, p)] for p in ("hip", "knee", "ankle"))
        lengths.append(np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1))
    value = np.nanmedian(np.concatenate(lengths))
    return float(value) if np.isfinite(value) else float("nan")


# Skeleton edges for drawing, as (name, name) pairs.
EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"),
    ("right_ankle", "right_foot_index"),
)

# Mirror map used when a clip is flipped so that +x is the running direction
# does NOT swap sides: the athlete's left leg stays the left leg.
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (INDEX[n], INDEX["right_" + n[5:]]) for n in NAMES if n.startswith("left_")
)
