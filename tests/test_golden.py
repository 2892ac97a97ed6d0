"""Golden test: the analysis of a stored sample-clip track must give the stored tables.

No MediaPipe: ``tests/data/sample_track.npz`` is the pose stage's output for the
bundled sample clip. Any change in a measure (contacts, steps, the per-frame
table, the summary's per-leg statistics) shows here, with the table and column
that moved. After an intended change, run ``scripts/make_golden.py`` and review
the golden files' diff in the commit.
"""

from dataclasses import replace

import pytest

import golden
from gaitlab.core.config import AnalysisConfig


@pytest.fixture(scope="module")
def stored():
    return golden.load_track()


@pytest.fixture(scope="module")
def golden_tables():
    return golden.read_golden()


def test_analysis_of_the_stored_track_equals_the_golden_tables(stored, golden_tables):
    result = golden.analyze(*stored)
    diffs = golden.differences(golden_tables, result)
    assert not diffs, "the analysis changed (if intended: scripts/make_golden.py, review the diff):\n" + "\n".join(
        diffs
    )


def test_golden_tables_are_a_real_run(golden_tables):
    """Not vacuous: the sample clip's 10 contacts, both legs measured, a pose on every frame."""
    contacts, legs = golden_tables["contacts"], golden_tables["summary_legs"]
    assert len(contacts) == 10 and set(contacts["side"]) == {"left", "right"}
    assert (legs.set_index(["leg", "measure"]).loc[("both", "contact_time_s"), "n"]) == 10
    assert len(golden_tables["frames"]) == 600 and golden_tables["frames"]["pose_detected"].all()


def test_a_changed_event_setting_is_caught(stored, golden_tables):
    track, args = stored
    config = AnalysisConfig()
    events = replace(config.events, contact_height_leg_frac=config.events.contact_height_leg_frac * 1.2)
    diffs = golden.differences(golden_tables, golden.analyze(track, args, replace(config, events=events)))
    assert any(d.startswith("contacts.csv column 'touchdown_s'") for d in diffs), diffs
