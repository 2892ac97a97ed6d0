"""A 2D sagittal sprint gait model with known event times and hip kinematics (truth: ``synth.truth``).

World frame: metres, x forward (running direction), y up, ground at y = 0.
Angles: radians inside, degrees in the public API.

Timing (stride time ``T = 2 * (contact + flight)``): the left foot touches down
at ``t = k*T``, leaves the ground at ``k*T + contact``; the right foot touches
down at ``k*T + T/2``. Touchdown is the first instant the foot (its toe, the
"foot index") reaches y = 0; toe-off is the last instant it is there.

Stance: the toe is fixed on the ground (y = 0, fixed x) while the hip moves on;
the foot rolls about the toe (heel raised at touchdown, flat at mid-stance so the
heel is on the ground too, heel rising to toe-off). The knee follows from 2-link
inverse kinematics between hip and ankle.

Swing: thigh angle, knee flexion and ankle angle are piecewise quintic Hermite
curves in time. The thigh is C2 over the whole cycle (matched to the stance
values, rates and accelerations at toe-off and touchdown), with a known maximal
extension shortly after toe-off and a known maximal flexion. The knee is C1 at
toe-off (its acceleration there is a parameter: the knee "folds" right away,
lifting the foot) and C2 at touchdown, folds to a maximal flexion (heel towards
the buttock) and extends again before touchdown. The ankle angle is C1 at
toe-off; at touchdown its rate jumps (forefoot impact): that is what gives the
toe a downward velocity of ``touchdown_toe_speed_m_s`` when it meets the ground,
so the foot crosses y = 0 exactly at touchdown instead of creeping onto it. Thigh
and knee (hence the hip-flexion truth) have no velocity jump anywhere.

Trunk: leans forward by ``trunk_lean_deg`` with a small oscillation at step
frequency, so ``hip_flexion = thigh_angle + trunk_lean`` differs slightly from
the thigh angle. Arms swing opposite to the legs.

All joints of one side project to the same sagittal plane: the left and right
hips (shoulders, eyes, ears) coincide in 2D.
"""

from __future__ import annotations

import math

import numpy as np

from gaitlab.evaluation.synth.geometry import _angle_from_down, _down_dir, hand_tip, head_points
from gaitlab.evaluation.synth.params import GaitParams, SwingParams
from gaitlab.evaluation.synth.spline import QuinticSpline

SIDES = ("left", "right")

LEG_POINTS = ("hip", "knee", "ankle", "heel", "foot_index")
ARM_POINTS = ("shoulder", "elbow", "wrist", "index")
HEAD_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth")

#: Names of every point :meth:`GaitModel.joints` returns (MediaPipe naming where
#: one exists; ``*_index`` = hand tip, ``mouth`` = mouth corner, ``head_center``
#: and ``head_top`` are extra helpers for drawing).
JOINT_NAMES: tuple[str, ...] = (
    HEAD_POINTS + ("head_center", "head_top") + tuple(f"{s}_{p}" for s in SIDES for p in ARM_POINTS + LEG_POINTS)
)


# --------------------------------------------------------------------------- model


class GaitModel:
    """Evaluate joint positions, event times and hip-flexion angle/velocity of :class:`GaitParams`."""

    def __init__(self, params: GaitParams | None = None):
        self.p = p = params or GaitParams()
        self.T = p.stride_time_s
        self.c = p.contact_time_s
        self.S = p.swing_time_s
        if p.flight_time_s <= 0 or p.contact_time_s <= 0:
            raise ValueError("contact and flight times must be positive")
        self._phi = self._foot_roll_spline()
        self._check_stance()
        self._swing = {side: self._build_swing(getattr(p, side)) for side in SIDES}
        self._check_swing()

    # ---- basic time functions ------------------------------------------------------

    def touchdown_offset_s(self, side: str) -> float:
        return 0.0 if side == "left" else 0.5 * self.T

    def local_time(self, t, side: str):
        """Time since this side's last touchdown, in [0, T)."""
        return np.mod(np.asarray(t, float) - self.touchdown_offset_s(side), self.T)

    def in_contact(self, t, side: str):
        return self.local_time(t, side) < self.c

    def hip_position(self, t):
        p = self.p
        t = np.asarray(t, float)
        x = p.speed_m_s * t
        y = p.hip_height_m - p.hip_bounce_m * np.cos(2 * np.pi * (t - p.hip_low_frac * self.c) / (0.5 * self.T))
        return np.stack([x, y], axis=-1)

    def trunk_lean(self, t, deriv: int = 0):
        """Forward trunk lean (rad) and its derivatives; period = step time."""
        p = self.p
        w = 2 * np.pi / (0.5 * self.T)
        ph = w * np.asarray(t, float) + 0.5
        a = math.radians(p.trunk_lean_osc_deg)
        if deriv == 0:
            return math.radians(p.trunk_lean_deg) + a * np.sin(ph)
        if deriv == 1:
            return a * w * np.cos(ph)
        return -a * w * w * np.sin(ph)

    # ---- stance ---------------------------------------------------------------------

    def _foot_roll_spline(self) -> QuinticSpline:
        p = self.p
        c = self.c
        f0, f1 = p.foot_flat_frac
        phi_td = math.radians(p.foot_angle_touchdown_deg)
        phi_to = math.radians(p.foot_angle_toe_off_deg)
        d0 = f0 * c
        d1 = (1 - f1) * c
        # heel coming down at touchdown; heel rising fast at toe-off
        return QuinticSpline(
            [0.0, f0 * c, f1 * c, c],
            [phi_td, 0.0, 0.0, phi_to],
            [-p.foot_roll_start_rate * phi_td / d0, 0.0, 0.0, p.foot_roll_end_rate * phi_to / d1],
            [0.0, 0.0, 0.0, 0.0],
        )

    def _stance_geometry(self, tau):
        """Stance leg in a frame whose origin is the planted toe. tau in [0, c]."""
        p = self.p
        tau = np.asarray(tau, float)
        phi = self._phi(tau)
        rho = -phi  # sole direction angle from +x
        u = np.stack([np.cos(rho), np.sin(rho)], axis=-1)
        n = np.stack([-np.sin(rho), np.cos(rho)], axis=-1)
        toe = np.zeros(tau.shape + (2,))
        heel = toe - p.foot_length_m * u
        ankle = toe - p.ankle_to_toe_m * u + p.ankle_height_m * n
        hip_y = self.hip_position(tau)[..., 1]  # hip height is periodic in T/2: same for both sides
        hip = np.stack([p.speed_m_s * tau - p.touchdown_distance_m, hip_y], axis=-1)
        knee, d = self._ik(hip, ankle)
        theta = _angle_from_down(knee[..., 0] - hip[..., 0], knee[..., 1] - hip[..., 1])
        sig = _angle_from_down(ankle[..., 0] - knee[..., 0], ankle[..., 1] - knee[..., 1])
        return dict(
            hip=hip,
            knee=knee,
            ankle=ankle,
            heel=heel,
            foot_index=toe,
            theta=theta,
            kappa=theta - sig,
            beta=rho - sig,
            leg_length=d,
        )

    def _ik(self, hip, ankle):
        p = self.p
        a, b = p.thigh_length_m, p.shank_length_m
        dv = ankle - hip
        d = np.hypot(dv[..., 0], dv[..., 1])
        if np.any(d > (a + b) * 0.9995) or np.any(d < abs(a - b) + 1e-6):
            raise ValueError("stance leg cannot reach: adjust touchdown distance, hip height or foot angles")
        cg = (a * a + d * d - b * b) / (2 * a * d)
        g = np.arccos(np.clip(cg, -1, 1))
        ux, uy = dv[..., 0] / d, dv[..., 1] / d
        kx = hip[..., 0] + a * (ux * np.cos(g) - uy * np.sin(g))
        ky = hip[..., 1] + a * (ux * np.sin(g) + uy * np.cos(g))
        return np.stack([kx, ky], axis=-1), d

    def _check_stance(self):
        tau = np.linspace(0, self.c, 201)
        g = self._stance_geometry(tau)  # raises when unreachable
        if np.any(self._phi(tau) < -1e-9):
            raise ValueError("foot roll goes below flat: adjust foot angles")
        self._stance_knee_deg = np.degrees(g["kappa"])

    def _stance_derivs(self, name: str, at_end: bool, h: float = 2e-5):
        """Value, 1st and 2nd derivative of a stance angle at touchdown (0) or toe-off (c)."""
        if at_end:
            tau = self.c - h * np.arange(4)
            f = self._stance_geometry(tau)[name]
            return f[0], (3 * f[0] - 4 * f[1] + f[2]) / (2 * h), (2 * f[0] - 5 * f[1] + 4 * f[2] - f[3]) / h**2
        tau = h * np.arange(4)
        f = self._stance_geometry(tau)[name]
        return f[0], (-3 * f[0] + 4 * f[1] - f[2]) / (2 * h), (2 * f[0] - 5 * f[1] + 4 * f[2] - f[3]) / h**2

    # ---- swing ----------------------------------------------------------------------

    def _build_swing(self, sp: SwingParams) -> dict:
        p, c, T, S = self.p, self.c, self.T, self.S
        rad = math.radians
        # thigh
        th0, dth0, ddth0 = self._stance_derivs("theta", at_end=True)
        th1, dth1, _ = self._stance_derivs("theta", at_end=False)
        t_ext = c + sp.time_to_max_extension_s
        t_pk = c + sp.time_to_max_flexion_frac * S
        th_pk = rad(sp.max_thigh_flexion_deg)
        h = t_ext - c
        a_ext = 0.0
        th_ext = th0
        for _ in range(20):  # value at the extension extremum consistent with the end rates
            th_ext = th0 + 0.5 * h * dth0 + h * h * (ddth0 - a_ext) / 12.0
            a_ext = sp.flexion_stroke_shape * 0.5 * np.pi**2 * (th_pk - th_ext) / (t_pk - t_ext) ** 2
        a_pk = -sp.flexion_stroke_shape * 0.5 * np.pi**2 * (th_pk - th_ext) / (t_pk - t_ext) ** 2
        # C2 at toe-off; C1 at touchdown (the impact may change the acceleration, not the rate)
        thigh = QuinticSpline(
            [c, t_ext, t_pk, T], [th0, th_ext, th_pk, th1], [dth0, 0, 0, dth1], [ddth0, a_ext, a_pk, 0.0]
        )
        # knee
        k0, dk0, _ = self._stance_derivs("kappa", at_end=True)
        k1, dk1, _ = self._stance_derivs("kappa", at_end=False)
        t_kmax = c + sp.time_to_max_knee_flexion_frac * S
        t_kmin = T - sp.knee_min_lead_s
        k_max, k_min = rad(sp.max_knee_flexion_deg), rad(sp.min_knee_flexion_deg)
        if k_min >= k1:
            raise ValueError("late-swing knee minimum must be below the touchdown knee flexion")
        a_down = 0.5 * np.pi**2 * (k_max - k_min) / (t_kmin - t_kmax) ** 2
        knee = QuinticSpline(
            [c, t_kmax, t_kmin, T],
            [k0, k_max, k_min, k1],
            [dk0, 0.0, 0.0, dk1],
            [rad(sp.knee_lift_accel_deg_s2), -a_down, 0.5 * a_down, 0.0],
        )
        # ankle: C1 at toe-off, rate jump at touchdown (impact)
        b0, db0, _ = self._stance_derivs("beta", at_end=True)
        b1, db1, _ = self._stance_derivs("beta", at_end=False)
        g0 = self._stance_geometry(np.array([0.0]))
        r = g0["foot_index"][0] - g0["ankle"][0]
        jump = -p.touchdown_toe_speed_m_s / r[0]  # d(beta)/dt change that gives the toe that vertical speed
        ankle = QuinticSpline(
            [c, c + 0.5 * S, T],
            [b0, rad(sp.mid_swing_ankle_deg), b1],
            [db0, 0.0, db1 + jump],
            [0.0, 0.0, 0.0],
        )
        return dict(thigh=thigh, knee=knee, ankle=ankle)

    def _swing_geometry(self, tau, side: str, hip):
        """Swing leg by forward kinematics from the hip (world frame). tau in [c, T]."""
        p = self.p
        sw = self._swing[side]
        th = sw["thigh"](tau)
        kap = sw["knee"](tau)
        sig = th - kap
        rho = sig + sw["ankle"](tau)
        knee = hip + p.thigh_length_m * _down_dir(th)
        ankle = knee + p.shank_length_m * _down_dir(sig)
        u = np.stack([np.cos(rho), np.sin(rho)], axis=-1)
        n = np.stack([-np.sin(rho), np.cos(rho)], axis=-1)
        toe = ankle + p.ankle_to_toe_m * u - p.ankle_height_m * n
        heel = toe - p.foot_length_m * u
        return dict(knee=knee, ankle=ankle, heel=heel, foot_index=toe, theta=th, kappa=kap)

    def _check_swing(self):
        for side in SIDES:
            tau = np.linspace(self.c, self.T, 4001)[1:-1]
            t = tau + self.touchdown_offset_s(side)
            g = self._swing_geometry(tau, side, self.hip_position(t))
            if np.any(g["foot_index"][:, 1] <= 0) or np.any(g["heel"][:, 1] <= 0):
                raise ValueError(f"{side} foot touches the ground during swing: adjust swing parameters")
            k = np.degrees(g["kappa"])
            if k.min() < 0 or k.max() > 165:
                raise ValueError(f"{side} knee outside 0..165 deg in swing")

    # ---- public evaluation ---------------------------------------------------------------

    def leg(self, t, side: str) -> dict:
        """Leg points (N, 2) in world metres plus ``theta`` (thigh angle, rad) and ``kappa`` (knee flexion, rad)."""
        t = np.atleast_1d(np.asarray(t, float))
        tau = self.local_time(t, side)
        hip = self.hip_position(t)
        out = {k: np.empty_like(hip) for k in ("knee", "ankle", "heel", "foot_index")}
        out["theta"] = np.empty_like(t)
        out["kappa"] = np.empty_like(t)
        st = tau < self.c
        if np.any(st):
            g = self._stance_geometry(tau[st])
            toe_x = self.p.speed_m_s * (t[st] - tau[st]) + self.p.touchdown_distance_m
            off = np.stack([toe_x, np.zeros_like(toe_x)], axis=-1)
            for k in ("knee", "ankle", "heel", "foot_index"):
                out[k][st] = g[k] + off
            out["theta"][st] = g["theta"]
            out["kappa"][st] = g["kappa"]
        sw = ~st
        if np.any(sw):
            g = self._swing_geometry(tau[sw], side, hip[sw])
            for k in ("knee", "ankle", "heel", "foot_index", "theta", "kappa"):
                out[k][sw] = g[k]
        out["hip"] = hip
        return out

    def shoulder_position(self, t):
        lam = self.trunk_lean(t)
        return self.hip_position(t) + self.p.trunk_length_m * np.stack([np.sin(lam), np.cos(lam)], axis=-1)

    def _arm(self, t, side: str) -> dict:
        p = self.p
        other = "right" if side == "left" else "left"
        sp = getattr(p, other)
        # this arm is furthest forward when the other leg's thigh is at its peak
        t_fwd = self.touchdown_offset_s(other) + self.c + sp.time_to_max_flexion_frac * self.S
        ph = np.cos(2 * np.pi * (np.asarray(t, float) - t_fwd) / self.T)
        alpha = np.radians(p.shoulder_swing_mean_deg + p.shoulder_swing_amp_deg * ph)
        eps = np.radians(p.elbow_flexion_mean_deg + p.elbow_flexion_amp_deg * ph)
        sh = self.shoulder_position(t)
        el = sh + p.upper_arm_length_m * _down_dir(alpha)
        wr = el + p.forearm_length_m * _down_dir(alpha + eps)
        ix = hand_tip(wr, alpha + eps, hand_length_m=p.hand_length_m)
        return dict(shoulder=sh, elbow=el, wrist=wr, index=ix)

    def _head(self, t) -> dict:
        p = self.p
        return head_points(
            self.shoulder_position(t),
            self.trunk_lean(t),
            centre_above_shoulder_m=p.head_center_above_shoulder_m,
            radius_m=p.head_radius_m,
        )

    def joints(self, t) -> dict[str, np.ndarray]:
        """All points of :data:`JOINT_NAMES` at times ``t`` (s): arrays (N, 2) in metres."""
        t = np.atleast_1d(np.asarray(t, float))
        out = dict(self._head(t))
        for side in SIDES:
            for k, v in self._arm(t, side).items():
                out[f"{side}_{k}"] = v
            lg = self.leg(t, side)
            for k in LEG_POINTS:
                out[f"{side}_{k}"] = lg[k]
        return out

    # ---- hip flexion truth ------------------------------------------------------------

    def thigh_angle_deg(self, t, side: str):
        return np.degrees(self.leg(t, side)["theta"])

    def hip_flexion_deg(self, t, side: str):
        """Hip flexion (deg) = thigh angle + trunk lean (both from the vertical)."""
        return np.degrees(self.leg(t, side)["theta"] + self.trunk_lean(t))

    def hip_flexion_velocity_deg_s(self, t, side: str, h: float = 1e-5):
        """d(hip flexion)/dt in deg/s: analytic in swing, central differences in stance."""
        t = np.atleast_1d(np.asarray(t, float))
        tau = self.local_time(t, side)
        out = np.empty_like(t)
        sw = tau >= self.c
        out[sw] = self._swing[side]["thigh"](tau[sw], 1) + self.trunk_lean(t[sw], 1)
        st = ~sw
        if np.any(st):
            out[st] = (np.radians(self.hip_flexion_deg(t[st] + h, side) - self.hip_flexion_deg(t[st] - h, side))) / (
                2 * h
            )
        return np.degrees(out)
