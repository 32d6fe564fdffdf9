"""Durations as people write them (dashboard.durations): `30m`, `2h`, `1d 4h`, shown back the same way."""

from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dashboard.durations import (
    MAX,
    DurationError,
    HumanDurationField,
    format_duration,
    format_working_time,
    parse_duration,
)

deltas = st.integers(min_value=0, max_value=int(MAX.total_seconds())).map(lambda s: timedelta(seconds=s))
CANONICAL = r"0m|(\d+d)?( ?\d+h)?( ?\d+m)?( ?\d+s)?"


@given(deltas)
@example(timedelta(0))
@example(MAX)
def test_any_duration_written_out_reads_back_as_itself(delta):
    text = format_duration(delta)
    assert parse_duration(text) == delta
    assert format_duration(parse_duration(text)) == text


@given(deltas)
def test_the_written_form_is_days_hours_minutes_seconds_largest_first(delta):
    import re

    text = format_duration(delta)
    assert re.fullmatch(CANONICAL, text) and not text.startswith(" ")


@given(deltas, st.sampled_from(["", " ", "  "]), st.booleans())
def test_spacing_and_case_do_not_matter(delta, gap, upper):
    text = format_duration(delta)
    written = gap.join(text.split(" "))
    assert parse_duration(written.upper() if upper else written) == delta


@given(st.text(max_size=30))
@example("1.5h")
@example("-2h")
@example("1h 1h")
@example("30")
@example("9" * 40 + "d")
def test_any_text_is_a_duration_or_a_message_never_a_crash(text):
    try:
        delta = parse_duration(text)
    except DurationError as error:
        assert error.message and error.message[-1] == "."
    else:
        assert timedelta(0) <= delta <= MAX


@pytest.mark.parametrize("text, expected", [
    ("30m", "30m"), ("2h", "2h"), ("1d 4h", "1d 4h"), ("1d4h", "1d 4h"), ("90m", "1h 30m"),
    ("2 hours", "2h"), ("30 minutes", "30m"), ("1 day, 4 hours", "1d 4h"), ("1h and 30m", "1h 30m"),
    ("1w", "7d"), ("0:30:00", "30m"), ("1:30", "1h 30m"), ("0m", "0m"), ("48h", "2d"), ("45s", "45s"),
])
def test_what_people_type_and_how_it_is_shown_back(text, expected):
    assert format_duration(parse_duration(text)) == expected


@pytest.mark.parametrize("text, says", [
    ("30", "Add a unit to 30: “30m” for minutes"),
    ("1.5h", "Use whole numbers: “1h 30m” rather than “1.5h”."),
    ("3 fortnights", "“fortnights” is not a unit"),
    ("-1h", "cannot be negative"),
    ("1h 2h", "Hours are given twice"),
    ("400d", "At most 365 days."),
    ("soon", "Write a duration such as “30m”, “2h” or “1d 4h”."),
    ("2h later", "“later” is not part of a duration"),
    ("", "Write a duration"),
])
def test_bad_input_gets_a_message_that_says_what_to_write(text, says):
    with pytest.raises(DurationError) as refused:
        parse_duration(text)
    assert says in refused.value.message


def test_the_form_field_shows_a_stored_duration_the_same_way_and_refuses_below_its_minimum():
    field = HumanDurationField(required=False, min_value=timedelta(minutes=1))
    assert field.widget.format_value(timedelta(days=2)) == "2d"  # the admin showed "2 00:00:00"
    assert field.clean("2h 30m") == timedelta(hours=2, minutes=30)
    assert field.clean("") is None
    with pytest.raises(Exception, match="At least 1m"):
        field.clean("0m")
    with pytest.raises(Exception, match="Add a unit"):
        field.clean("45")


@given(deltas)
def test_working_time_is_written_in_hours_and_reads_back(delta):
    whole_minutes = timedelta(minutes=int(delta.total_seconds()) // 60)
    text = format_working_time(whole_minutes)
    assert "d" not in text and parse_duration(text) == whole_minutes
    assert format_working_time(timedelta(hours=40)) == "40h"  # five working days of eight hours, not "1d 16h"
