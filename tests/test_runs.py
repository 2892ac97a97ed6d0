import numpy as np

from gaitlab.core.runs import true_runs


def _runs_by_loop(mask):
    """Reference: walk the mask once, opening a run on False->True and closing it on True->False."""
    out, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


def test_true_runs_half_open_and_edges():
    assert true_runs(np.zeros(0, bool)) == []
    assert true_runs(np.zeros(5, bool)) == []
    assert true_runs(np.ones(3, bool)) == [(0, 3)]
    assert true_runs(np.array([1, 1, 0, 0, 1, 0, 1], bool)) == [(0, 2), (4, 5), (6, 7)]


def test_true_runs_matches_reference_on_random_masks():
    rng = np.random.default_rng(0)
    for n in range(1, 40):
        mask = rng.random(n) < 0.5
        runs = true_runs(mask)
        assert runs == _runs_by_loop(mask)
        assert all(isinstance(a, int) and isinstance(b, int) for a, b in runs)
