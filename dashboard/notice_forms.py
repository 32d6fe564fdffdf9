"""The form of a person's own notice settings: it parses and bounds the input, with messages a person
can act on; escalations.notices.people saves it."""

from django import forms

from dashboard.timezones import known_zones
from escalations.notices.people import parse_percents

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class NoticeSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(label="Your time zone", choices=[],
                                  help_text="the clock of your quiet hours")
    quiet_from = forms.TimeField(required=False, label="Quiet hours from", widget=TIME,
                                 error_messages={"invalid": "Give a time of day, e.g. 22:00."})
    quiet_to = forms.TimeField(required=False, label="until", widget=TIME,
                               error_messages={"invalid": "Give a time of day, e.g. 07:00."})
    deadline_reminders = forms.CharField(
        required=False, max_length=40, label="Remind me before a deadline when this share of the SLA is left",
        help_text="in percent, e.g. 50, 10; leave it empty for no deadline reminders",
    )
    unaccepted_reminders = forms.BooleanField(
        required=False, label="Remind me when an escalation at my level is still not accepted",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in sorted(known_zones())]

    def clean_deadline_reminders(self) -> tuple[int, ...]:
        try:
            return parse_percents(self.cleaned_data.get("deadline_reminders") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_from"), cleaned.get("quiet_to")
        if "quiet_from" in self.errors or "quiet_to" in self.errors:
            return cleaned
        if (start is None) != (end is None):
            self.add_error("quiet_to" if end is None else "quiet_from",
                           "Give both times of your quiet hours, or neither.")
        elif start is not None and start == end:
            self.add_error("quiet_to", "Quiet hours must end at another time than they start.")
        return cleaned
