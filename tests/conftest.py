"""Shared fixtures: paths to the repo, the sample clip, ../shared data; an isolated pose cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the repo (CI and dev machines); GAITLAB_SHARED_DIR points elsewhere (e.g. from a worktree).
SHARED = Path(os.environ.get("GAITLAB_SHARED_DIR", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
SAMPLE_CLIP = REPO / "sample_videos" / "sprint_240fps_capture.mp4"


def pytest_configure(config):
    # Tests share one pose cache per run: the real model runs once per clip, never twice.
    if "GAITLAB_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["GAITLAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="gaitlab-test-cache-")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (only in the project's CI and dev machines)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    if not SAMPLE_CLIP.exists():
        pytest.fail(f"sample clip missing: {SAMPLE_CLIP} (run scripts/make_sample_video.py)")
    return SAMPLE_CLIP


@pytest.fixture(scope="session")
def sample_truth(sample_clip) -> dict:
    return json.loads(sample_clip.with_suffix(".truth.json").read_text())


@pytest.fixture(scope="session")
def full_model() -> Path:
    from gaitlab.pose.models.provision import ensure_model

    return ensure_model("full")


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The model ``gaitlab analyze`` uses when none is named."""
    from gaitlab.pose.models.provision import DEFAULT_MODEL, ensure_model

    return ensure_model(DEFAULT_MODEL)


# Fixtures that only integration tests may use: a test that requests one without the mark fails collection.
INTEGRATION_FIXTURES = {"shared_data", "sample_clip", "sample_truth", "full_model", "default_model", "chromium"}


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using the pose model, video or ../shared need @pytest.mark.integration: " + ", ".join(unmarked)
        )
