"""Forms of the action views: they parse and bound the input; the domain functions decide."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone

from escalations.models import Agent, EscalationLevel, Team
from escalations.queue import QueueFilters
from escalations.sla import AT_RISK, BREACHED, NO_SLA, ON_TRACK, PAUSED

SLA_CHOICES = [(BREACHED, "Breached"), (AT_RISK, "At risk"), (ON_TRACK, "On track"), (PAUSED, "Paused"),
               (NO_SLA, "No SLA")]


# A page's date comes from the server; outside these bounds the form was forged or damaged. PostgreSQL
# would store year 1 at +05:00 as a date BC, which no page could read back.
SEEN_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
STALE_PAGE = "This page is too old or damaged to act from: reload it and try again."


class SeenForm(forms.Form):
    # The ticket's Odoo write_date when the page was rendered, for the outbox's stale check.
    seen_write_date = forms.DateTimeField(required=False, label="", error_messages={"invalid": STALE_PAGE})

    def clean_seen_write_date(self):
        seen = self.cleaned_data.get("seen_write_date")
        if seen is not None and not SEEN_EARLIEST <= seen <= timezone.now() + timedelta(days=1):
            raise forms.ValidationError(STALE_PAGE)
        return seen


class ReassignForm(SeenForm):
    agent = forms.ModelChoiceField(Agent.objects.all(), required=False)
    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    note = forms.CharField(required=False, max_length=10_000)


class DeescalateForm(SeenForm):
    reason = forms.CharField(max_length=10_000)
    step_down = forms.BooleanField(required=False)


class EscalateForm(SeenForm):
    level = forms.ModelChoiceField(EscalationLevel.objects.select_related("policy"))
    reason = forms.CharField(max_length=10_000)


class NoteForm(forms.Form):
    body = forms.CharField(max_length=10_000)


class BulkForm(forms.Form):
    """Several tickets of the queue, and what to do to each."""

    MAX_TICKETS = 100  # a page of the queue holds 50

    do = forms.ChoiceField(choices=[("accept", "Accept"), ("reassign", "Reassign")])
    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={
        "required": "Select the tickets first."})
    agent = forms.ModelChoiceField(Agent.objects.filter(active=True), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ticket id: each one is checked by the action itself (its team, its state).
        self.fields["tickets"].valid_value = lambda value: str(value).isdigit() and len(str(value)) < 10

    def clean(self):
        data = super().clean()
        if len(data.get("tickets") or []) > self.MAX_TICKETS:
            raise forms.ValidationError(f"At most {self.MAX_TICKETS} tickets at once.")
        if data.get("do") == "reassign" and not data.get("agent"):
            raise forms.ValidationError("Choose the agent to reassign them to.")
        return data


class QueueFilterForm(forms.Form):
    """The queue's filters, from the URL so that a view can be bookmarked. Bad values are ignored
    (a stale bookmark shows the whole queue, not an error page)."""

    TABS = [("escalated", "Escalated"), ("at_risk", "At risk, not escalated")]

    tab = forms.ChoiceField(choices=TABS, required=False)
    team = forms.ModelChoiceField(Team.objects.filter(active=True), required=False, empty_label="All teams")
    level = forms.TypedChoiceField(
        choices=[("", "All levels"), *[(n, f"Level {n}") for n in range(1, 10)]], coerce=int, required=False,
        empty_value=None,
    )
    sla = forms.ChoiceField(choices=[("", "Any SLA state"), *SLA_CHOICES], required=False)
    mine = forms.BooleanField(required=False, label="Mine")
    # Bounded: a page number past the database's integers would fail the query's OFFSET.
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def _data(self) -> dict:
        self.is_valid()
        return self.cleaned_data  # the fields that are valid; an invalid one is left out

    def filters(self) -> QueueFilters:
        data = self._data()
        team = data.get("team")
        return QueueFilters(team_id=team.pk if team else None, level=data.get("level"),
                            sla=data.get("sla") or None, mine=bool(data.get("mine")))

    @property
    def current_tab(self) -> str:
        return self._data().get("tab") or "escalated"

    @property
    def page_number(self) -> int:
        return self._data().get("page") or 1


class TicketFilterForm(forms.Form):
    """All open tickets' filters: the queue's (team, SLA state, mine) and a text search, from the URL."""

    team = forms.ModelChoiceField(Team.objects.filter(active=True), required=False, empty_label="All teams")
    sla = forms.ChoiceField(choices=[("", "Any SLA state"), *SLA_CHOICES], required=False)
    mine = forms.BooleanField(required=False, label="Mine")
    q = forms.CharField(required=False, max_length=100, strip=True, label="Search")
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def values(self) -> dict:
        """The valid filters; a bad value (a stale bookmark) is left out, not an error page."""
        self.is_valid()
        return self.cleaned_data
