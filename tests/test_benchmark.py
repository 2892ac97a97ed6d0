"""The benchmark runs its kinds in fresh processes and reports each one's figures (real MediaPipe, real clip)."""

from __future__ import annotations

import pytest

from clipfactory import trim_clip
from conftest import SAMPLE_CLIP
from gaitlab.evaluation import benchmark


@pytest.mark.integration
def test_plain_loops_alone_and_at_once(tmp_path):
    clip = trim_clip(SAMPLE_CLIP, tmp_path / "short.mp4", n_frames=40)
    report = benchmark.run(clip, ["baseline", "baselineN"], workers=2, log=lambda s: None)
    alone, both = report["results"]["baseline"], report["results"]["baselineN"]
    assert alone["frames"] == both["frames"] == 40
    assert len(both["loops_wall_s"]) == 2 and all(w > 0 for w in both["loops_wall_s"])
    # per clip: the slower loop's wall over the 2 loops
    assert both["wall_s"] == pytest.approx(max(both["loops_wall_s"]) / 2)
    assert both["ratio_to_baseline"] == pytest.approx(alone["wall_s"] / both["wall_s"])
    assert "2 plain loops at once" in benchmark.format_table(report)
