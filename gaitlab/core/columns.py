"""Column names of the output tables (contacts.csv, steps.csv, frames.csv), in one place.

Every writer and reader of a table names its columns from here; docs/outputs.md says what
each holds. Names carry their unit (``_s``, ``_hz``, ``_deg``, ``_deg_s``, ``_px``, ``_pct_swing``, ``_m``, ``_m_s``).
"""

from __future__ import annotations

# --- contacts.csv: one row per ground contact ---
SIDE = "side"  # left / right
LEG = "leg"  # near / far: which leg was nearer the camera
TOUCHDOWN_FRAME = "touchdown_frame"
TOE_OFF_FRAME = "toe_off_frame"
TOUCHDOWN_S = "touchdown_s"
TOE_OFF_S = "toe_off_s"
CONTACT_TIME_S = "contact_time_s"
CONFIDENCE = "confidence"  # 0-1: how sharply the foot's motion shows the two events
RELIABLE = "reliable"  # False: the far leg was drawn on the near one during it
# True: the row's time overlaps frames that may carry damaged video data (only in clips with some)
SPANS_DAMAGED_FRAME = "spans_damaged_frame"

CONTACT_COLUMNS = [SIDE, LEG, TOUCHDOWN_FRAME, TOE_OFF_FRAME, TOUCHDOWN_S, TOE_OFF_S, CONTACT_TIME_S, CONFIDENCE]

# --- steps.csv: one row per contact and the swing that follows it ---
FLIGHT_TIME_S = "flight_time_s"
STEP_TIME_S = "step_time_s"
STEP_FREQUENCY_HZ = "step_frequency_hz"
SWING_TIME_S = "swing_time_s"
PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S = "peak_swing_hip_flexion_velocity_deg_s"
PEAK_SWING_HIP_FLEXION_VELOCITY_S = "peak_swing_hip_flexion_velocity_s"  # when the peak happens
MAX_HIP_FLEXION_DEG = "max_hip_flexion_deg"
TIME_TO_PEAK_KNEE_DRIVE_S = "time_to_peak_knee_drive_s"
TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING = "time_to_peak_knee_drive_pct_swing"
THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG = "thigh_angle_at_contralateral_touchdown_deg"
# In metres, with the athlete's height (empty without it, or when the scale does not hold): the pelvis's
# speed over the step, and the distance from this contact's foot to the other foot's next contact.
SPEED_M_S = "speed_m_s"
STEP_LENGTH_M = "step_length_m"
METRE_MEASURES = (SPEED_M_S, STEP_LENGTH_M)

# The per-step measures that get statistics, flags and known errors (docs/metrics.md defines each).
MEASURES = (
    CONTACT_TIME_S,
    FLIGHT_TIME_S,
    STEP_TIME_S,
    STEP_FREQUENCY_HZ,
    SWING_TIME_S,
    PEAK_SWING_HIP_FLEXION_VELOCITY_DEG_S,
    TIME_TO_PEAK_KNEE_DRIVE_S,
    TIME_TO_PEAK_KNEE_DRIVE_PCT_SWING,
    THIGH_ANGLE_AT_CONTRALATERAL_TOUCHDOWN_DEG,
)

# --- frames.csv: one row per analysed frame ---
FRAME_INDEX = "frame_index"
TIME_S = "time_s"
POSE_DETECTED = "pose_detected"
TRUNK_LEAN_DEG = "trunk_lean_deg"
LEG_LABELS_SWAPPED = "leg_labels_swapped"
FAR_LEG_COLLAPSED = "far_leg_collapsed"
# Per-side kinematics: ``<name>_<side>``.
THIGH_ANGLE_DEG = "thigh_angle_deg"
HIP_FLEXION_DEG = "hip_flexion_deg"
THIGH_ANGULAR_VELOCITY_DEG_S = "thigh_angular_velocity_deg_s"
HIP_FLEXION_VELOCITY_DEG_S = "hip_flexion_velocity_deg_s"
KNEE_FLEXION_DEG = "knee_flexion_deg"


def per_side(name: str, side: str) -> str:
    """A per-side kinematics column of frames.csv, e.g. ``hip_flexion_deg_left``."""
    return f"{name}_{side}"


def landmark(side: str, point: str, what: str) -> str:
    """A landmark column of frames.csv: ``<side>_<point>_x_px`` / ``_y_px`` / ``_visibility``."""
    return f"{side}_{point}_{what}"
