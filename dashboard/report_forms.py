"""The Reports page's filters (team, how many weeks, up to which day) and the tickets-behind-a-bar
list's (which rollup rows). They parse and bound the input; a value that does not parse falls back to
its default, and the page says so."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from escalations.models import ReportFact

WEEK_CHOICES = [(4, "4 weeks"), (8, "8 weeks"), (13, "13 weeks"), (26, "26 weeks"), (52, "52 weeks")]
DEFAULT_WEEKS = 8
EARLIEST = date(2000, 1, 1)
KEY_LENGTH = 100
MAX_OTHERS = 20  # "every key but these": a chart leaves out at most its top series or bars


def _today() -> date:
    return timezone.localdate()


def _bounded(day: date | None) -> date | None:
    if day is not None and not EARLIEST <= day <= _today() + timedelta(days=366):
        raise forms.ValidationError("Choose a date between 2000 and next year.")
    return day


class ReportFilterForm(forms.Form):
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Team")
    weeks = forms.TypedChoiceField(choices=WEEK_CHOICES, coerce=int, required=False,
                                   empty_value=DEFAULT_WEEKS, label="Weeks")
    until = forms.DateField(required=False, label="Up to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, teams: list[tuple[int, str]], all_label: str):
        # The page opens on its defaults, shown in the form as chosen.
        data = data.copy()
        data.setdefault("weeks", str(DEFAULT_WEEKS))
        data.setdefault("until", _today().isoformat())
        super().__init__(data)
        self.fields["team"].choices = [("", all_label), *teams]

    def clean_until(self):
        return _bounded(self.cleaned_data.get("until"))

    def values(self) -> dict:
        """The valid values, with defaults for the rest (an invalid one is reported by `errors`)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"team": data.get("team"), "weeks": data.get("weeks") or DEFAULT_WEEKS,
                "until": data.get("until") or _today()}


class BehindForm(forms.Form):
    """Which rollup rows: a figure, its key (absent: every key but `not`), from a day to a day."""

    figure = forms.ChoiceField(choices=ReportFact.Figure.choices)
    key = forms.CharField(required=False, max_length=KEY_LENGTH, strip=False)
    first = forms.DateField()
    last = forms.DateField()
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data, *, teams: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["team"].choices = [("", "All"), *teams]
        self.has_key = "key" in data
        self.others_than = tuple(data.getlist("not")[:MAX_OTHERS]) if hasattr(data, "getlist") else ()

    def clean_first(self):
        return _bounded(self.cleaned_data.get("first"))

    def clean_last(self):
        return _bounded(self.cleaned_data.get("last"))

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last and (last < first or last - first > timedelta(days=7 * 53)):
            raise forms.ValidationError("Choose at most a year, its first day before its last.")
        if any(len(k) > KEY_LENGTH for k in self.others_than):
            raise forms.ValidationError("This link is damaged.")
        return data
