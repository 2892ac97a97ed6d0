"""Scoring gaitlab's contacts against hand-labelled real-clip events (gaitlab.evaluation.real_labels), on small
synthetic label / contact tables whose expected figures are worked out by hand in the comments."""

import pandas as pd
import pytest

from gaitlab.evaluation import real_labels as rl

JOGGER = "jogger_side_short.mp4"  # frame unit = stored frame, 29.97 fps
SPRINT = "track_sprint_side_repeatedframes.mp4"  # frame unit = new image, 30 fps
SCREENREC = "track_run_pan_screenrec.mp4"  # stored frames, no single capture rate


def _labels(clip, events):
    return pd.DataFrame(
        [
            {
                "clip": clip,
                "leg": leg,
                "side": "unknown",
                "event": ev,
                "frame": f,
                "new_image_index": None,
                "confidence": "high",
                "note": "",
            }
            for leg, ev, f in events
        ]
    )


def _found(contacts):
    return pd.DataFrame(contacts, columns=["leg", "touchdown_frame", "toe_off_frame"])


JOG_LABELS = [("near", "touchdown", 4), ("near", "toe_off", 12), ("far", "touchdown", 14), ("far", "toe_off", 21)]


def test_errors_extra_and_contact_time_by_hand():
    # Labelled instants (label - 0.5): near [3.5, 11.5], far [13.5, 20.5]; labelled span 3.5..20.5.
    found = _found(
        [
            ("near", 3.5, 11.5),  # errors 0, 0; contact 8 frames (labelled 8)
            ("far", 8.0, 9.0),  # overlaps no far contact, midpoint 8.5 inside the span: extra
            ("far", 15.0, 20.0),  # errors +1.5, -0.5; contact 5 frames (labelled 7)
            ("near", 25.0, 28.0),
        ]
    )  # midpoint 26.5 outside the labelled span: not judged
    row = rl.score_clip(_labels(JOGGER, JOG_LABELS), found, JOGGER, model="full").row
    assert tuple(row) == rl.ROW_KEYS
    assert row["source"] == "real" and row["model"] == "full" and row["fps"] == 29.97
    assert row["events_labelled"] == 4
    assert row["events_within_1_frame"] == 3  # |0|, |0|, |-0.5|; not 1.5
    assert row["events_within_3_frames"] == 4
    assert row["event_mae_frames"] == pytest.approx((0 + 0 + 1.5 + 0.5) / 4)
    assert row["extra"] == 1
    assert row["labelled_contact_time_mean_ms"] == pytest.approx((8 + 7) / 2 * 1000 / 29.97)
    assert row["contact_time_mean_error_frames"] == pytest.approx(((8 - 8) + (5 - 7)) / 2)
    assert row["contact_time_mean_error_ms"] == pytest.approx(-1 * 1000 / 29.97)


def test_unmatched_labelled_contact_counts_as_not_within():
    found = _found([("near", 3.5, 11.5)])  # the far contact is missed
    score = rl.score_clip(_labels(JOGGER, JOG_LABELS), found, JOGGER, model="full")
    assert score.row["events_labelled"] == 4
    assert score.row["events_within_1_frame"] == 2 and score.row["events_within_3_frames"] == 2
    assert score.row["event_mae_frames"] == 0.0  # over matched events only
    assert score.row["contact_time_mean_error_frames"] == 0.0  # over the matched contact only
    assert score.details["contacts_matched"] == 1


def test_legs_swapped_for_the_whole_clip_still_match():
    found = _found([("far", 3.5, 11.5), ("near", 15.0, 20.0)])  # gaitlab's near/far the other way round
    score = rl.score_clip(_labels(JOGGER, JOG_LABELS), found, JOGGER, model="full")
    assert score.details["legs_swapped"] is True and score.details["leg_agreement"] == 0.0
    assert score.row["events_within_1_frame"] == 3 and score.row["extra"] == 0


def test_repeated_frame_clip_is_scored_in_new_images():
    facts = rl.CLIP_FACTS[SPRINT]
    # 0..24 every 3rd = n0..n8; 27 sits in the 24-29 hold (halfway to n9 at 30); 183 = n55
    assert list(rl.to_units(facts, [0, 3, 24, 27, 30, 31.5, 183])) == [0, 1, 8, 8.5, 9, 9.5, 55]
    labels = _labels(SPRINT, [("near", "touchdown", 9), ("near", "toe_off", 21)])  # n3, n7
    # found 7.5 = n2.5 = the labelled instant n3 - 0.5 (error 0); 22.5 = n7.5 (error +1)
    row = rl.score_clip(labels, _found([("near", 7.5, 22.5)]), SPRINT, model="heavy").row
    assert row["event_mae_frames"] == pytest.approx(0.5)
    assert row["events_within_1_frame"] == 2
    assert row["labelled_contact_time_mean_ms"] == pytest.approx(4 * 1000 / 30)  # 4 new images
    assert row["contact_time_mean_error_frames"] == pytest.approx(1.0)  # 5 - 4 new images
    assert row["contact_time_mean_error_ms"] == pytest.approx(1000 / 30)


def test_slow_motion_clip_has_frames_but_no_ms_and_drops_the_mixed_speed_contact():
    labels = _labels(
        SCREENREC,
        [
            ("near", "touchdown", 59),
            ("near", "toe_off", 75),  # excluded from CT means
            ("far", "touchdown", 92),
            ("far", "toe_off", 111),
        ],
    )
    found = _found(
        [
            ("near", 60.0, 72.0),  # errors 60 - 58.5 = +1.5, 72 - 74.5 = -2.5
            ("far", 92.0, 110.0),
        ]
    )  # errors +0.5, -0.5; contact 18 vs labelled 19
    row = rl.score_clip(labels, found, SCREENREC, model="full").row
    assert row["fps"] is None
    assert row["event_mae_frames"] == pytest.approx((1.5 + 2.5 + 0.5 + 0.5) / 4)
    assert row["events_within_1_frame"] == 2 and row["events_within_3_frames"] == 4
    assert row["contact_time_mean_error_frames"] == pytest.approx(-1.0)
    assert row["labelled_contact_time_mean_ms"] is None and row["contact_time_mean_error_ms"] is None


@pytest.mark.integration
def test_labels_file_is_consistent(shared_data):
    labels = rl.load_labels(shared_data.parent / rl.LABELS_REL)  # checks new_image_index against the frame list
    counts = labels.groupby("clip").size().to_dict()
    assert counts == {SPRINT: 16, SCREENREC: 16, JOGGER: 6}
    assert rl.labelled_contacts(labels, SCREENREC)["in_duration_mean"].sum() == 7
