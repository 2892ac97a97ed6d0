"""Parameters of the synthetic sprint gait model (units in every name)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SwingParams:
    """Swing-leg kinematics of one side."""

    #: peak thigh angle (from the downward vertical, + = knee in front of the hip)
    max_thigh_flexion_deg: float = 66.0
    #: toe-off -> maximal thigh flexion, as a fraction of swing time
    time_to_max_flexion_frac: float = 0.60
    #: toe-off -> maximal thigh extension (the thigh keeps extending briefly)
    time_to_max_extension_s: float = 0.022
    #: curvature at the two thigh extrema (1 = cosine-like flexion stroke)
    flexion_stroke_shape: float = 1.0
    #: maximal knee flexion in swing (heel towards the buttock)
    max_knee_flexion_deg: float = 130.0
    #: toe-off -> maximal knee flexion, fraction of swing time
    time_to_max_knee_flexion_frac: float = 0.42
    #: knee flexion at the end of the late-swing extension
    min_knee_flexion_deg: float = 20.0
    #: that knee minimum happens this long before touchdown
    knee_min_lead_s: float = 0.028
    #: knee flexion acceleration right after toe-off
    knee_lift_accel_deg_s2: float = 50000.0
    #: ankle angle at mid-swing (foot vs. the shank's perpendicular, + = toe up)
    mid_swing_ankle_deg: float = 5.0


@dataclass(frozen=True)
class GaitParams:
    """Sprint at (near) maximal speed, a ~1.80 m athlete."""

    speed_m_s: float = 9.0
    contact_time_s: float = 0.105
    flight_time_s: float = 0.125
    # segments (joint centre to joint centre)
    thigh_length_m: float = 0.45
    shank_length_m: float = 0.44
    foot_length_m: float = 0.26  # heel to toe tip
    ankle_to_toe_m: float = 0.20  # along the sole
    ankle_height_m: float = 0.075  # above the sole
    trunk_length_m: float = 0.53  # hip joint to shoulder joint
    head_center_above_shoulder_m: float = 0.22
    head_radius_m: float = 0.11
    upper_arm_length_m: float = 0.31
    forearm_length_m: float = 0.26
    hand_length_m: float = 0.09
    # pelvis / trunk
    hip_height_m: float = 0.92  # mean hip height
    hip_bounce_m: float = 0.03  # amplitude of the vertical oscillation
    hip_low_frac: float = 0.55  # hip lowest at this fraction of stance
    trunk_lean_deg: float = 8.0
    trunk_lean_osc_deg: float = 1.5
    # stance foot
    touchdown_distance_m: float = 0.46  # toe ahead of the hip at touchdown
    foot_angle_touchdown_deg: float = 14.0  # sole vs. ground (heel up) at touchdown
    foot_angle_toe_off_deg: float = 58.0
    foot_flat_frac: tuple[float, float] = (0.25, 0.40)  # fraction of stance with a flat foot
    foot_roll_start_rate: float = 2.4  # heel-drop rate at touchdown, in units of angle / roll-down time
    foot_roll_end_rate: float = 1.9  # heel-rise rate at toe-off, in units of angle / roll-up time
    touchdown_toe_speed_m_s: float = 1.0  # downward toe speed at touchdown
    # arms
    shoulder_swing_mean_deg: float = -5.0
    shoulder_swing_amp_deg: float = 55.0
    elbow_flexion_mean_deg: float = 90.0
    elbow_flexion_amp_deg: float = 15.0
    # swing kinematics per side (the right swing a bit slower by default)
    left: SwingParams = field(default_factory=SwingParams)
    right: SwingParams = field(
        default_factory=lambda: SwingParams(
            max_thigh_flexion_deg=63.0, time_to_max_flexion_frac=0.64, max_knee_flexion_deg=126.0
        )
    )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["foot_flat_frac"] = list(self.foot_flat_frac)
        return d

    @property
    def step_time_s(self) -> float:
        return self.contact_time_s + self.flight_time_s

    @property
    def stride_time_s(self) -> float:
        return 2.0 * self.step_time_s

    @property
    def swing_time_s(self) -> float:
        return self.stride_time_s - self.contact_time_s

    @property
    def step_frequency_hz(self) -> float:
        return 1.0 / self.step_time_s

    @property
    def step_length_m(self) -> float:
        return self.speed_m_s * self.step_time_s
