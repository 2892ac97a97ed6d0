"""A config file's every wrong value is exit 2 with one line naming the file, the key, the value and the
allowed values; right values (and only those) reach the analysis, with the types the dataclasses hold."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys

import pytest

from conftest import REPO
from gaitlab.core.config import AnalysisConfig, Range, load_config
from gaitlab.core.errors import BadInputError


def all_fields():
    """(table, field) for every setting."""
    for table in dataclasses.fields(AnalysisConfig):
        for f in dataclasses.fields(table.default_factory):
            yield table.name, f


def write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_number_setting_declares_a_range_that_holds_its_default():
    for table, f in all_fields():
        default = getattr(getattr(AnalysisConfig(), table), f.name)
        if isinstance(default, bool):
            assert "range" not in f.metadata, f.name
            continue
        allowed = f.metadata.get("range")
        assert isinstance(allowed, Range), f"{table}.{f.name} has no range"
        values = default if isinstance(default, tuple) else (default,)
        assert all(v in allowed for v in values), (f.name, default, str(allowed))


# (table, key, TOML value, words the message must hold besides the file, key and value)
WRONG = [
    ("clean", "cutoff_hz", '"12"', "a number in [0.1, 50]"),  # a string for a number
    ("clean", "cutoff_hz", "-5", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "0", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "1e9", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "nan", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "inf", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "true", "a number in [0.1, 50]"),
    ("clean", "cutoff_hz", "[12, 14]", "a number in [0.1, 50]"),
    ("clean", "filter_order", "0", "a whole number in [1, 8]"),
    ("clean", "filter_order", "4.0", "a whole number in [1, 8]"),
    ("clean", "filter_order", "9", "a whole number in [1, 8]"),
    ("clean", "trunk_cutoff_hz", "0", "a number in [0.1, 50]"),
    ("clean", "min_visibility", "1.5", "a number in [0, 1]"),
    ("clean", "max_gap_fill_s", "-0.01", "a number in [0, 0.5]"),
    ("events", "contact_exit_factor", "0.5", "a number in [1, 5]"),
    ("events", "touchdown_blur_s", "0.01", "a non-empty array of numbers, each in [0, 0.1]"),
    ("events", "touchdown_blur_s", "[]", "a non-empty array of numbers, each in [0, 0.1]"),
    ("events", "touchdown_blur_s", '[0.0, "0.004"]', "a non-empty array of numbers, each in [0, 0.1]"),
    ("events", "touchdown_blur_s", "[0.0, -0.004]", "a non-empty array of numbers, each in [0, 0.1]"),
    ("events", "touchdown_blur_s", "[[0.0], [0.1]]", "a non-empty array of numbers, each in [0, 0.1]"),
    ("events", "subframe_min_contact_frames", "0", "a whole number >= 1"),
    ("flags", "require_ci_beyond_reference", '"false"', "true or false"),
    ("flags", "require_ci_beyond_reference", "0", "true or false"),
    ("flags", "min_steps", "1", "a whole number >= 2"),
    ("flags", "min_steps", "true", "a whole number >= 2"),
    ("flags", "swing_velocity_asymmetry_pct", "100", "a number in (0, 100)"),
    ("quality", "min_detected_frac", "0", "a number in (0, 1]"),
]


@pytest.mark.parametrize("table, key, value, wanted", WRONG, ids=[f"{k}={v}" for _, k, v, _ in WRONG])
def test_wrong_value_is_bad_input_naming_file_key_value_and_range(tmp_path, table, key, value, wanted):
    path = write(tmp_path, f"[{table}]\n{key} = {value}\n")
    with pytest.raises(BadInputError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: [{table}] {key} = ")
    assert f"must be {wanted}" in message
    shown = message.split(" = ", 1)[1].split(": must be")[0]
    assert shown == {"1e9": "1000000000.0"}.get(value, value)


def test_quoted_false_never_becomes_true(tmp_path):
    with pytest.raises(BadInputError, match="require_ci_beyond_reference"):
        load_config(write(tmp_path, '[flags]\nrequire_ci_beyond_reference = "false"\n'))
    config = load_config(write(tmp_path, "[flags]\nrequire_ci_beyond_reference = false\n"))
    assert config.flags.require_ci_beyond_reference is False


def test_min_contact_must_be_below_max_contact(tmp_path):
    path = write(tmp_path, "[events]\nmin_contact_s = 0.3\nmax_contact_s = 0.3\n")
    with pytest.raises(BadInputError, match=r"\[events\] min_contact_s = 0.3: must be below max_contact_s = 0.3"):
        load_config(path)


def test_table_given_as_a_value_and_unknown_keys(tmp_path):
    with pytest.raises(BadInputError, match=r"clean = 5: must be a table"):
        load_config(write(tmp_path, "clean = 5\n"))
    with pytest.raises(BadInputError, match=r"\[clean\] unknown setting\(s\) \['cutof_hz'\]"):
        load_config(write(tmp_path, "[clean]\ncutof_hz = 14\n"))


def test_right_values_reach_the_config_with_the_dataclass_types(tmp_path):
    text = (
        "[clean]\ncutoff_hz = 50\nfilter_order = 8\nmin_visibility = 0\n"
        "[events]\ntouchdown_blur_s = [0, 0.01]\nmin_contact_s = 0.05\n"
        "[flags]\nrequire_ci_beyond_reference = false\nthigh_angle_at_contralateral_touchdown_min_deg = -90\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.clean.cutoff_hz == 50.0 and isinstance(config.clean.cutoff_hz, float)
    assert config.clean.filter_order == 8 and config.clean.min_visibility == 0.0
    assert config.events.touchdown_blur_s == (0.0, 0.01)
    assert config.events.min_contact_s == 0.05
    assert config.flags.require_ci_beyond_reference is False
    assert config.flags.thigh_angle_at_contralateral_touchdown_min_deg == -90.0
    # everything not named keeps its default
    assert config.quality == AnalysisConfig().quality


@pytest.mark.parametrize(
    "allowed, inside, outside",
    [
        (Range(0.0, 50.0, lo_open=True), [1e-9, 50.0], [0.0, 50.000001, -1.0]),
        (Range(0.0, 100.0, lo_open=True, hi_open=True), [0.5, 99.9], [0.0, 100.0]),
        (Range(2), [2, 10**6], [1, -math.inf]),
    ],
)
def test_range_ends(allowed, inside, outside):
    assert all(v in allowed for v in inside)
    assert not any(v in allowed for v in outside)


def test_docs_list_the_allowed_values_the_code_checks():
    rows = {}
    for line in (REPO / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `(\w+)` \| [^|]* \| [^|]* \| ([^|]*) \|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    for _, f in all_fields():
        default, allowed = f.default, f.metadata.get("range")
        if isinstance(default, bool):
            expected = "true or false"
        elif isinstance(default, int):
            expected = f"whole number {allowed}"
        elif isinstance(default, tuple):
            expected = f"array, each {allowed}"
        else:
            expected = str(allowed).removeprefix("in ")
        assert rows.get(f.name) == expected, f.name


def test_cli_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, "[clean]\nfilter_order = 0\n")
    r = subprocess.run(
        [sys.executable, "-m", "gaitlab", "analyze", str(tmp_path / "clip.mp4"), "--config", str(path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [f"gaitlab: error: {path}: [clean] filter_order = 0: must be a whole number in [1, 8]"]
    assert r.stdout == ""
