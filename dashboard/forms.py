"""Forms of the action views: they parse and bound the input; the domain functions decide."""

from django import forms

from escalations.models import Agent, EscalationLevel, Team


class SeenForm(forms.Form):
    # The ticket's Odoo write_date when the page was rendered, for the outbox's stale check.
    seen_write_date = forms.DateTimeField(required=False)


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
