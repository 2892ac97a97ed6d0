"""Which person to analyze when the pose model sees several, consistently over time.

MediaPipe (``num_poses > 1``) returns the poses of a frame in no fixed order,
so identity comes from continuity: poses in consecutive frames are linked into
tracklets when their hip centres are close relative to body size. The target is
the chain of tracklets with the most "size x frames x visibility" (the largest,
most consistently and clearly seen runner), or the one under ``--athlete-hint`` (a point or a box in the upright
frame). When the target's tracklet ends, it is continued only by a tracklet that
starts near where it ended, soon after: the analysis never hops between people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitlab.core.errors import BadInputError
from gaitlab.core.landmarks import INDEX, N_LANDMARKS
from gaitlab.io.video import Frame
from gaitlab.pose.landmarker import PoseRows

_HIPS = [INDEX["left_hip"], INDEX["right_hip"]]
# Linking: a pose continues a tracklet if its hip centre moved less than this many body heights per frame.
MAX_STEP_BODY_HEIGHTS = 0.5
# Continuing the target after it was lost: at most this long a gap, this far (body heights per second).
MAX_REACQUIRE_GAP_S = 1.0
MAX_REACQUIRE_BODY_HEIGHTS_S = 3.0


def parse_hint(text: str | None) -> tuple[float, ...] | None:
    """``"x,y"`` (a point) or ``"x,y,w,h"`` (a box), pixels of the upright frame."""
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) not in (2, 4) or any(not np.isfinite(v) for v in values):
        raise BadInputError(f"--athlete-hint: expected 'x,y' or 'x,y,w,h' in pixels, got {text!r}")
    return values


@dataclass
class Pose:
    xy: np.ndarray  # (33, 2) px
    z: np.ndarray
    vis: np.ndarray

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the landmarks."""
        ok = np.isfinite(self.xy[:, 0])
        x, y = self.xy[ok, 0], self.xy[ok, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())

    @property
    def height_px(self) -> float:
        _, y0, _, y1 = self.box
        return max(1.0, y1 - y0)

    @property
    def centre(self) -> np.ndarray:
        return np.nanmean(self.xy[_HIPS], axis=0)


@dataclass
class CandidateRows:
    """Like ``pose.PoseRows`` but keeps every pose of every frame (same ``add`` interface)."""

    poses: list[list[Pose]] = field(default_factory=list)
    frames: list[tuple[int, float, tuple[int, int]]] = field(default_factory=list)  # (index, time_s, (h, w))

    def add(self, frame: Frame, result) -> None:
        h, w = frame.rgb.shape[:2]
        found = []
        if result is not None and result.pose_landmarks:
            for lms in result.pose_landmarks:
                xy = np.array([[lm.x * w, lm.y * h] for lm in lms], np.float32)
                z = np.array([lm.z for lm in lms], np.float32)
                vis = np.array([lm.visibility if lm.visibility is not None else 1.0 for lm in lms], np.float32)
                cx, cy = np.nanmean(xy[_HIPS], axis=0)
                if not (0 <= cx < w and 0 <= cy < h):
                    continue  # hips outside the picture: the model's guess at the border, not a person
                found.append(Pose(xy, z, vis))
        self.poses.append(found)
        self.frames.append((frame.index, frame.time_s, (h, w)))


def link_tracklets(poses: list[list[Pose]]) -> list[dict[int, int]]:
    """Greedy frame-to-frame linking. Each tracklet maps frame position -> pose number."""
    tracklets: list[dict[int, int]] = []
    open_: list[int] = []  # tracklet ids that had a pose in the previous frame
    for t, found in enumerate(poses):
        pairs = []
        for ti in open_:
            last = poses[t - 1][tracklets[ti][t - 1]]
            for k, p in enumerate(found):
                d = float(np.linalg.norm(p.centre - last.centre)) / max(last.height_px, p.height_px)
                if d <= MAX_STEP_BODY_HEIGHTS:
                    pairs.append((d, ti, k))
        used_t, used_k, next_open = set(), set(), []
        for _, ti, k in sorted(pairs):
            if ti in used_t or k in used_k:
                continue
            tracklets[ti][t] = k
            used_t.add(ti)
            used_k.add(k)
            next_open.append(ti)
        for k in range(len(found)):
            if k not in used_k:
                tracklets.append({t: k})
                next_open.append(len(tracklets) - 1)
        open_ = next_open
    return tracklets


def _inside(hint: tuple[float, ...], box: tuple[float, float, float, float]) -> float:
    """How well a pose box matches the hint: 1 inside/IoU, 0 none."""
    x0, y0, x1, y1 = box
    if len(hint) == 2:
        return 1.0 if x0 <= hint[0] <= x1 and y0 <= hint[1] <= y1 else 0.0
    hx0, hy0, hx1, hy1 = hint[0], hint[1], hint[0] + hint[2], hint[1] + hint[3]
    iw = max(0.0, min(x1, hx1) - max(x0, hx0))
    ih = max(0.0, min(y1, hy1) - max(y0, hy0))
    inter = iw * ih
    union = (x1 - x0) * (y1 - y0) + (hx1 - hx0) * (hy1 - hy0) - inter
    return inter / union if union > 0 else 0.0


def _chain_from(best: int, rows: CandidateRows, tracklets: list[dict[int, int]], times: np.ndarray) -> list[int]:
    """``best`` plus the tracklets continuing it forward and backward (started near where it was lost)."""
    chain = [best]
    # continue forward and backward with tracklets that start where the target was lost
    for direction in (1, -1):
        cur = best
        while True:
            tr = tracklets[cur]
            edge_t = max(tr) if direction == 1 else min(tr)
            edge = rows.poses[edge_t][tr[edge_t]]
            nxt, nxt_gap = None, np.inf
            for i, other in enumerate(tracklets):
                if i in chain:
                    continue
                start_t = min(other) if direction == 1 else max(other)
                gap = (times[start_t] - times[edge_t]) * direction
                if not (0 < gap <= MAX_REACQUIRE_GAP_S):
                    continue
                p = rows.poses[start_t][other[start_t]]
                dist = float(np.linalg.norm(p.centre - edge.centre)) / edge.height_px
                if dist <= MAX_REACQUIRE_BODY_HEIGHTS_S * gap + MAX_STEP_BODY_HEIGHTS and gap < nxt_gap:
                    # must not overlap in time with what the chain already holds
                    if not any(set(other) & set(tracklets[c]) for c in chain):
                        nxt, nxt_gap = i, gap
            if nxt is None:
                break
            chain.append(nxt)
            cur = nxt
    return chain


def choose_target(
    rows: CandidateRows, tracklets: list[dict[int, int]], *, hint: tuple[float, ...] | None = None
) -> tuple[list[int], dict]:
    """Tracklet ids (in time order) forming the target person, and how it was chosen."""
    if not tracklets:
        return [], {"method": "none", "n_people_seen": 0}
    # size x frames, weighted by how sure the model is (junk poses on lines or shadows have low visibility)
    score = [
        sum(rows.poses[t][k].height_px * float(np.mean(rows.poses[t][k].vis)) for t, k in tr.items())
        for tr in tracklets
    ]
    method = "largest_most_tracked"
    best = int(np.argmax(score))
    if hint is not None:
        match = []
        for tr in tracklets:
            first = sorted(tr)[: max(1, len(tr) // 5)]  # where the athlete is at the start of their tracklet
            match.append(np.mean([_inside(hint, rows.poses[t][tr[t]].box) for t in first]) * len(tr))
        if max(match) > 0:
            best, method = int(np.argmax(match)), "hint"
    times = np.array([f[1] for f in rows.frames])
    if method == "hint":
        chain = _chain_from(best, rows, tracklets, times)
    else:
        # score whole chains, not pieces: a big runner lost for two frames still beats a small one seen throughout
        top = np.argsort(score)[::-1][:10]
        chains = [_chain_from(int(i), rows, tracklets, times) for i in top]
        chain = max(chains, key=lambda c: sum(score[i] for i in c))
    n_people = max((len(p) for p in rows.poses), default=0)
    big = sum(1 for s in score if s >= 0.25 * max(score))
    return chain, {
        "method": method,
        "max_people_in_frame": int(n_people),
        "n_tracklets": len(tracklets),
        "n_substantial_tracklets": int(big),
    }


def target_rows(rows: CandidateRows, tracklets: list[dict[int, int]], chain: list[int]) -> PoseRows:
    """One pose per frame (the target's, or NaN), as ``PoseRows``."""
    pick: dict[int, int] = {}
    for c in chain:
        for t, k in tracklets[c].items():
            pick.setdefault(t, k)
    out = PoseRows()
    for t, (index, time_s, _) in enumerate(rows.frames):
        if t in pick:
            p = rows.poses[t][pick[t]]
            out.xy.append(p.xy)
            out.z.append(p.z)
            out.vis.append(p.vis)
        else:
            out.xy.append(np.full((N_LANDMARKS, 2), np.nan, np.float32))
            out.z.append(np.full(N_LANDMARKS, np.nan, np.float32))
            out.vis.append(np.zeros(N_LANDMARKS, np.float32))
        out.times.append(time_s)
        out.index.append(index)
    return out
