"""Durations as people write them: `30m`, `2h`, `1d 4h`, and shown back the same way.

The policy editor's delays (no update for, unassigned for, accept within, remind after, the at-risk
threshold, the console's own deadline) are DurationFields; Django's own form field wants `0:30:00`
and shows `2 days, 0:00:00`. Here a duration is days, hours, minutes and seconds, each written once
with its unit, largest first when shown: `format_duration(parse_duration(text))` gives the text back
whenever it was written that way, and `parse_duration(format_duration(delta)) == delta` always.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms

MAX = timedelta(days=365)
UNITS = {  # every way of writing a unit, to its canonical letter
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
}
SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
UNIT_NAMES = {"w": "Weeks", "d": "Days", "h": "Hours", "m": "Minutes", "s": "Seconds"}
EXAMPLES = "such as “30m”, “2h” or “1d 4h”"
WRITE = f"Write a duration {EXAMPLES}."
# One part: a number and its unit ("4h", "4 h", "4 hours"); parts apart by spaces, commas or "and".
PART = re.compile(r"(?P<number>[-+]?\d+(?:[.,]\d+)?)\s*(?P<unit>[a-z]*)", re.ASCII)
# Django's own way, "0:30:00", which the admin taught people to type.
CLOCK = re.compile(r"(?P<h>\d{1,4}):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?", re.ASCII)
MAX_TEXT = 64


class DurationError(ValueError):
    """The text is not a duration; `message` says why, in words fit to show the person who typed it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_duration(text: str) -> timedelta:
    """The duration `text` spells: `30m`, `2h`, `1d 4h`, `2 hours 30 minutes`, `1:30`."""
    text = (text or "").strip().lower()
    if not text:
        raise DurationError(WRITE)
    if len(text) > MAX_TEXT:
        raise DurationError(f"That is too long for a duration. {WRITE}")
    if clock := CLOCK.fullmatch(text):
        hours, minutes, seconds = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        return _checked(timedelta(hours=hours, minutes=minutes, seconds=seconds))
    matches = list(PART.finditer(text))
    if not matches:
        raise DurationError(WRITE)
    total, seen, position = 0, set(), 0
    for match in matches:
        _only_separators(text[position:match.start()])
        position = match.end()
        total += _part(match["number"], match["unit"], seen)
    _only_separators(text[position:])
    return _checked(timedelta(seconds=total))


def _only_separators(between: str) -> None:
    if between.replace(",", " ").replace(" and ", " ").strip():
        raise DurationError(f"“{between.strip()[:20]}” is not part of a duration. {WRITE}")


def _part(number: str, unit: str, seen: set[str]) -> int:
    if number.startswith("-"):
        raise DurationError("A duration cannot be negative.")
    if not unit:
        raise DurationError(f"Add a unit to {number.lstrip('+')}: “{number.lstrip('+')}m” for minutes, "
                            f"“{number.lstrip('+')}h” for hours, “{number.lstrip('+')}d” for days.")
    letter = UNITS.get(unit)
    if letter is None:
        raise DurationError(f"“{unit[:12]}” is not a unit: use d, h and m (days, hours, minutes).")
    if not number.lstrip("+").isdigit():
        raise DurationError("Use whole numbers: “1h 30m” rather than “1.5h”.")
    if letter in seen:
        raise DurationError(f"{UNIT_NAMES[letter]} are given twice: write each unit once.")
    seen.add(letter)
    value = int(number)
    if value > MAX.total_seconds():  # a huge number would make a huge integer before the check
        raise DurationError(_too_long())
    return value * SECONDS[letter]


def _checked(delta: timedelta) -> timedelta:
    if delta > MAX:
        raise DurationError(_too_long())
    return delta


def _too_long() -> str:
    return f"At most {MAX.days} days."


def format_duration(delta: timedelta | None) -> str:
    """`delta` as `1d 4h`, `2h 30m`, `45s`; `0m` for none at all, "" for no value."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-delta)
    parts = []
    for letter in "dhms":
        count, seconds = divmod(seconds, SECONDS[letter])
        if count:
            parts.append(f"{count}{letter}")
    return " ".join(parts) or "0m"


def format_working_time(delta: timedelta) -> str:
    """Working time in hours and minutes, `40h`, `4h 30m`: a working day is no 24 hours, so no days."""
    minutes = int(delta.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours}h"] if hours else []
    return " ".join([*parts, f"{minutes}m"] if minutes else parts) or "0m"


class DurationInput(forms.TextInput):
    def __init__(self, attrs=None):
        super().__init__({"placeholder": "e.g. 2h", "autocomplete": "off", "spellcheck": "false",
                          "class": "duration", **(attrs or {})})

    def format_value(self, value):
        return format_duration(value) if isinstance(value, timedelta) else super().format_value(value)


class HumanDurationField(forms.Field):
    """A form field for durations written as people write them (see `parse_duration`)."""

    widget = DurationInput

    def __init__(self, *, min_value: timedelta | None = None, **kwargs):
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, timedelta) or value in self.empty_values:
            return value if isinstance(value, timedelta) else None
        if not isinstance(value, str):
            raise forms.ValidationError(WRITE, code="invalid")
        try:
            return parse_duration(value)
        except DurationError as error:
            raise forms.ValidationError(error.message, code="invalid") from None

    def validate(self, value):
        super().validate(value)
        if value is not None and self.min_value is not None and value < self.min_value:
            raise forms.ValidationError(f"At least {format_duration(self.min_value)}.", code="min_value")

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or None)
        except forms.ValidationError:
            return True
