"""The policy editor's forms: the policy (triggers, SLA clock, paused stages) and a formset of its levels
(people picked by name, who is told, the marker in Odoo), validated as a whole and handed to the domain
as a PolicyDraft (escalations.policies).

Errors are shown only for the fields a person has touched (their names come back in `touched`, kept
by static/js/policies.js), so that checking as one types does not paint a half-filled form red; a
save shows them all.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.forms.utils import ErrorList

from dashboard.automation_forms import OdooIdsField
from dashboard.durations import HumanDurationField
from escalations.models import EscalationLevel, EscalationPolicy, Stage, Team, WorkingCalendar
from escalations.policies.draft import LevelDraft, PolicyDraft
from escalations.policies.people import people
from escalations.policies.proposal import Proposal
from escalations.policies.save import LEVEL_FIELDS, POLICY_FIELDS, levels_in_use

MAX_LEVELS = 9
MAX_ID = 2**31 - 1
ONE_MINUTE = timedelta(minutes=1)


def _plain_id(value) -> bool:
    """A row id as a database takes it: a forged one past its integers is refused before any lookup (SQLite
    cannot even bind a number past 64 bits, PostgreSQL's integer ends at 2**31 - 1)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ID


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not _plain_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class PeopleField(forms.TypedMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(coerce=int, required=False, **kwargs)


DURATIONS = ("at_risk_within", "no_update_after", "unassigned_after")


class PolicyForm(forms.ModelForm):
    at_risk_percent = forms.IntegerField(
        label="or less than", min_value=1, max_value=99, required=False,
        widget=forms.NumberInput(attrs={"class": "percent", "placeholder": "25"}),
        error_messages={"min_value": "A share from 1 to 99.", "max_value": "A share from 1 to 99."},
    )
    target = HumanDurationField(
        label="Own deadline", required=False, min_value=timedelta(minutes=6),
        help_text="for tickets Odoo gives no SLA deadline: working time from creation",
    )

    class Meta:
        model = EscalationPolicy
        fields = ["active", "on_sla_at_risk", "at_risk_within", "on_sla_breached", "no_update_after",
                  "on_reopened", "unassigned_priority", "unassigned_after", "escalate_tag", "allow_manual",
                  "reassign_accepts", "calendar", "paused_stages"]
        field_classes = {**dict.fromkeys(DURATIONS, HumanDurationField), "calendar": IdChoiceField,
                         "paused_stages": OdooIdsField}
        widgets = {"paused_stages": forms.CheckboxSelectMultiple,
                   "escalate_tag": forms.TextInput(attrs={"placeholder": "none"})}
        labels = {
            "active": "On", "on_sla_at_risk": "SLA at risk", "at_risk_within": "when less than",
            "on_sla_breached": "SLA breached", "no_update_after": "No update in Odoo for",
            "on_reopened": "Reopened", "unassigned_priority": "Unassigned, priority at least",
            "unassigned_after": "for", "escalate_tag": "Tag in Odoo that escalates",
            "allow_manual": "Escalation by hand", "calendar": "Working hours",
            "reassign_accepts": "Reassigning to someone on the level accepts for them",
            "paused_stages": "Paused stages",
        }
        help_texts = {
            "at_risk_within": "", "no_update_after": "", "unassigned_after": "", "escalate_tag": "",
            "unassigned_priority": "", "reassign_accepts": "", "on_sla_at_risk": "", "on_sla_breached": "",
            "active": "off: the policy raises nothing and its open escalations end",
            "calendar": "for the own deadline",
            "paused_stages": "time in these stages does not count towards the own deadline",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.instance
        chosen = Q(pk__in=policy.paused_stages.all()) if policy.pk else Q(pk__in=[])
        self.fields["paused_stages"].queryset = Stage.objects.filter(Q(is_closed=False) | chosen).order_by(
            "sequence", "name")
        self.fields["calendar"].queryset = WorkingCalendar.objects.order_by("name")
        self.fields["calendar"].empty_label = "the team's calendar in Odoo"
        priority = self.fields["unassigned_priority"]
        priority.choices = [("", "off"), *priority.choices[1:]]
        self.fields["at_risk_within"].min_value = ONE_MINUTE
        self.fields["no_update_after"].min_value = ONE_MINUTE
        if policy.at_risk_share:
            self.initial.setdefault("at_risk_percent", round(policy.at_risk_share * 100))
        if policy.target_hours:
            self.initial.setdefault("target", timedelta(hours=policy.target_hours))

    def clean(self):
        data = super().clean()
        priority, after = data.get("unassigned_priority"), data.get("unassigned_after")
        if priority and not after and "unassigned_after" not in self.errors:
            self.add_error("unassigned_after", "Say after how long, e.g. 30m.")
        elif after and not priority and "unassigned_priority" not in self.errors:
            self.add_error("unassigned_priority", "Pick the lowest priority, or clear the delay.")
        percent, target = data.get("at_risk_percent"), data.get("target")
        self.instance.at_risk_share = percent / 100 if percent else None
        self.instance.target_hours = round(target.total_seconds() / 3600, 4) if target else None
        return data


    def _post_clean(self):
        super()._post_clean()
        # The model checks the unassigned pair too, for the whole policy; the form has said it at the field.
        pair = {"unassigned_priority", "unassigned_after"} & set(self.errors)
        if pair and NON_FIELD_ERRORS in self._errors:
            del self._errors[NON_FIELD_ERRORS]


class LevelForm(forms.ModelForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID)
    members = PeopleField(label="People on this level",
                          help_text="they take its escalations and are told of them")
    also_tell = PeopleField(label="Also tell")

    class Meta:
        model = EscalationLevel
        fields = ["name", "accept_within", "remind_after", "notify_emails", "notify_on_accept",
                  "notify_on_deescalate", "odoo_tag_name", "odoo_priority"]
        field_classes = {"accept_within": HumanDurationField, "remind_after": HumanDurationField}
        widgets = {"notify_emails": forms.Textarea(attrs={"rows": 2, "placeholder": "oncall@example.com"}),
                   "odoo_tag_name": forms.TextInput(attrs={"placeholder": "e.g. Escalated L2"})}
        labels = {"name": "Name", "accept_within": "Moves up when not accepted within",
                  "remind_after": "Remind once when not accepted after",
                  "notify_emails": "and these addresses",
                  "notify_on_accept": "Tell them when someone accepts",
                  "notify_on_deescalate": "Tell them when a lead de-escalates",
                  "odoo_tag_name": "Tag", "odoo_priority": "Priority at least"}
        help_texts = {"name": "", "accept_within": "empty: it stays at this level", "remind_after": "",
                      "notify_emails": "one per line", "odoo_tag_name": "", "odoo_priority": "",
                      "notify_on_accept": "", "notify_on_deescalate": ""}

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = self.fields["also_tell"].choices = choices
        priority = self.fields["odoo_priority"]
        priority.choices = [("", "leave as it is"), *priority.choices[1:]]
        self.fields["accept_within"].min_value = self.fields["remind_after"].min_value = ONE_MINUTE

    def clean_notify_emails(self):
        lines = [line.strip() for line in (self.cleaned_data.get("notify_emails") or "").replace(",", "\n")
                 .splitlines() if line.strip()]
        for line in lines:
            try:
                validate_email(line)
            except ValidationError:
                raise ValidationError(f"“{line[:60]}” is not an email address.") from None
        return "\n".join(dict.fromkeys(lines))


class BaseLevelFormSet(forms.BaseFormSet):
    def __init__(self, *args, policy: EscalationPolicy, choices, **kwargs):
        self.policy, self.choices = policy, choices
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = "Remove this level"

    def get_form_kwargs(self, index):
        # Each its own level: a ModelForm writes the posted values onto its instance. Tied to the
        # policy being edited, so that a level's check of its marker sees the policy's tag as posted.
        return {"instance": EscalationLevel(policy=self.policy), "choices": self.choices}

    def kept_forms(self) -> list[LevelForm]:
        """The levels the draft keeps: not removed, and not a blank one added and left empty."""
        initial = self.initial_form_count()
        return [form for index, form in enumerate(self.forms)
                if not self._should_delete_form(form) and (index < initial or form.has_changed())]

    def clean(self):
        if any(self.errors):
            return
        if not self.kept_forms():
            raise ValidationError("A policy needs at least one level: whom its escalations go to first.")
        removed = {form: form.cleaned_data.get("id") for form in self.deleted_forms}
        removed = {form: level_id for form, level_id in removed.items() if level_id}
        in_use = levels_in_use([i for i in removed.values() if i in self.policy_level_ids()])
        for form, level_id in removed.items():
            if level_id in in_use:
                form.add_error("DELETE", "It stays: escalations went through it and their history names it. "
                                         "Rename it or change its people instead.")
        for form in self.kept_forms():
            if not form.notify["emails"]:
                form.add_error("members", "Nobody would be told of this level's escalations: pick a person, "
                                          "or add an address.")

    def policy_level_ids(self) -> set[int]:
        return set(self.policy.levels.values_list("pk", flat=True)) if self.policy.pk else set()


LevelFormSet = forms.formset_factory(LevelForm, formset=BaseLevelFormSet, extra=0, can_delete=True,
                                     max_num=MAX_LEVELS, absolute_max=MAX_LEVELS, validate_max=True)


class PolicyEditor:
    """The policy form and its levels, bound to a POST or filled from the policy (or a proposal)."""

    def __init__(self, *, team: Team, policy: EscalationPolicy | None, data=None,
                 proposal: Proposal | None = None, add_level: bool = False):
        self.team, self.policy, self.proposal = team, policy, proposal
        instance = policy or EscalationPolicy(team=team)
        if proposal is not None and policy is None:
            for name, value in proposal.draft.values.items():
                setattr(instance, "calendar_id" if name == "calendar" else name, value)
        known = list(policy.levels.prefetch_related("members", "notify_users")) if policy else []
        member_ids = {u.pk for level in known for u in level.members.all()} | {
            u.pk for level in known for u in level.notify_users.all()}
        self.people = people(also_ids=member_ids)
        self.people_by_id = {u.pk: u for u in self.people}
        choices = [(u.pk, u.shown_name) for u in self.people]
        if data is not None and add_level:
            data = _with_one_more_level(data)
        self.form = PolicyForm(data, instance=instance)
        self.levels = LevelFormSet(data, prefix="levels", policy=instance, choices=choices,
                                   initial=None if data is not None else self._levels_initial(known))
        for form in self.levels.forms:
            form.notify = _notify_words(form, self.people_by_id)
        self.touched = set(data.get("touched", "").split()) if data is not None else set()
        self.policy_id = policy.pk if policy else None

    def _levels_initial(self, known) -> list[dict]:
        if known:
            return [_initial_of(level) for level in known]
        if self.proposal is not None:
            return [{**d.values, "members": list(d.member_ids), "also_tell": list(d.also_tell_ids)}
                    for d in self.proposal.draft.levels]
        return [{"name": "Team lead", "accept_within": timedelta(minutes=30)}]

    def is_valid(self) -> bool:
        # Both, always: the levels' check of their marker reads the policy's tag the policy form set.
        policy_ok = self.form.is_valid()
        return self.levels.is_valid() and policy_ok

    def hide_untouched_errors(self) -> None:
        """Keep the errors of the fields a person has touched; any touched field shows the form's own."""
        for form in [self.form, *self.levels.forms]:
            for name in list(form.errors):
                shown = form.add_prefix(name) in self.touched if name != "__all__" else bool(self.touched)
                if not shown:
                    del form._errors[name]
        if not self.touched:
            self.levels._non_form_errors = ErrorList()

    def draft(self) -> PolicyDraft:
        """The policy as validated (call is_valid first)."""
        instance = self.form.instance
        values = {name: getattr(instance, "calendar_id" if name == "calendar" else name)
                  for name in POLICY_FIELDS}
        levels = tuple(
            LevelDraft(values={name: getattr(form.instance, name) for name in LEVEL_FIELDS},
                       member_ids=tuple(form.cleaned_data["members"]),
                       also_tell_ids=tuple(form.cleaned_data["also_tell"]), id=form.cleaned_data.get("id"))
            for form in self.levels.kept_forms()
        )
        stages = tuple(s.pk for s in self.form.cleaned_data["paused_stages"])
        return PolicyDraft(values=values, paused_stage_ids=stages, levels=levels)


def posted_revision(data) -> int | None:
    """The policy's revision the page was opened at, as posted (none: not checked)."""
    raw = (data.get("revision") or "").strip()
    return int(raw) if _plain_id(raw) else None


def posted_policy_id(data) -> int | None:
    """The policy the page was editing (none: a new one), as posted; the domain checks it is the team's."""
    raw = (data.get("policy_id") or "").strip()
    return int(raw) if _plain_id(raw) else None


def _initial_of(level: EscalationLevel) -> dict:
    members = [u.pk for u in level.members.all()]
    also = [u.pk for u in level.notify_users.all() if u.pk not in members]
    return {"id": level.pk, "name": level.name, "accept_within": level.accept_within,
            "remind_after": level.remind_after, "notify_emails": level.notify_emails,
            "notify_on_accept": level.notify_on_accept, "notify_on_deescalate": level.notify_on_deescalate,
            "odoo_tag_name": level.odoo_tag_name, "odoo_priority": level.odoo_priority,
            "members": members, "also_tell": also}


def _with_one_more_level(data):
    data = data.copy()
    total = data.get("levels-TOTAL_FORMS", "0")
    count = int(total) if total.isascii() and total.isdigit() and len(total) < 4 else 0
    data["levels-TOTAL_FORMS"] = str(min(count + 1, MAX_LEVELS))
    return data


def _ids(values) -> list[int]:
    values = values if isinstance(values, list | tuple) else []
    return [int(str(value)) for value in values if _plain_id(value)]


def _notify_words(form: LevelForm, people_by_id: dict) -> dict:
    """Who this level's notices would go to, from what the form holds now (valid or not): the
    level's people and the others to tell (by name, each address once) and its extra addresses;
    `missing`: the chosen people who cannot be told, and why."""
    chosen = dict.fromkeys(_ids(form["members"].value()) + _ids(form["also_tell"].value()))
    names, missing, emails = [], [], {}
    for user in (people_by_id[pk] for pk in chosen if pk in people_by_id):
        email = (user.email or "").strip().lower()
        if not user.is_active:
            missing.append(f"{user.shown_name} (no longer active)")
        elif not _is_email(email):
            missing.append(f"{user.shown_name} (no email address)")
        elif email not in emails:
            emails[email] = user.shown_name
            names.append(user.shown_name)
    addresses = []
    for line in str(form["notify_emails"].value() or "").replace(",", "\n").splitlines():
        address = line.strip().lower()
        if address and address not in emails and _is_email(address):
            emails[address] = address
            addresses.append(address)
    return {"names": names, "addresses": addresses, "missing": missing, "emails": list(emails)}


def _is_email(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True
