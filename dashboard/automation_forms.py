"""The rules page's form: a ModelForm over AutomationRule, checked by the domain's rule_problems.

Saving never switches a rule on, and saving a rule that is on switches it off: what it matches may
have changed, so it is previewed again before it acts (the form says so).
"""

from __future__ import annotations

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.forms.models import construct_instance

from escalations.automation.rules import rule_problems
from escalations.models import AutomationRule, Customer, Stage, Tag, Team, Ticket
from escalations.models.policy import PRIORITIES

# Where rule_problems has no form field to point at (it does for all its keys today).
WHOLE_RULE = None


# Odoo ids are PostgreSQL integers. A forged id past them is refused before the lookup: SQLite cannot even
# bind a number past 64 bits in the `IN (...)` that checks a multiple choice.
MAX_ODOO_ID = 2**31 - 1


class OdooIdsField(forms.ModelMultipleChoiceField):
    def clean(self, value):
        for pk in map(str, value if isinstance(value, list | tuple) else []):
            if not (pk.isascii() and pk.isdigit() and len(pk) <= 10 and int(pk) <= MAX_ODOO_ID):
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": pk[:20]})
        return super().clean(value)


class RuleForm(forms.ModelForm):
    priorities = forms.TypedMultipleChoiceField(
        choices=PRIORITIES, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="none: every priority",
    )

    class Meta:
        model = AutomationRule
        fields = [
            "name", "teams", "stages", "tags", "priorities", "customers", "title_keywords",
            "trigger", "idle_minutes", "every_minutes",
            "action", "assign_method", "max_open_per_agent", "set_priority", "add_tags", "move_to",
            "escalate_level",
        ]
        field_classes = {name: OdooIdsField for name in ("teams", "stages", "tags", "customers", "add_tags")}
        widgets = {
            "teams": forms.CheckboxSelectMultiple, "stages": forms.CheckboxSelectMultiple,
            "tags": forms.CheckboxSelectMultiple, "add_tags": forms.CheckboxSelectMultiple,
            "customers": forms.SelectMultiple(attrs={"size": 6}),
            "title_keywords": forms.TextInput(attrs={"placeholder": "refund, invoice"}),
        }
        labels = {
            "title_keywords": "Keywords in the title", "idle_minutes": "Idle for (working minutes)",
            "every_minutes": "Every (minutes)", "assign_method": "Assign by", "max_open_per_agent":
            "Open tickets per agent, at most", "set_priority": "Priority to set", "move_to": "Move to stage",
            "escalate_level": "Escalation level", "add_tags": "Tags to add",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rule = self.instance

        def chosen(part: str) -> Q:  # what the rule names already stays on offer
            return Q(pk__in=getattr(rule, part).all()) if rule.pk else Q(pk__in=[])

        self.fields["teams"].queryset = Team.objects.filter(Q(active=True) | chosen("teams")).order_by("name")
        # A rule looks at open tickets only: a closing stage in its scope would never match.
        self.fields["stages"].queryset = Stage.objects.filter(
            Q(is_closed=False) | chosen("stages")).order_by("sequence", "name")
        self.fields["tags"].queryset = self.fields["add_tags"].queryset = Tag.objects.order_by("name")
        # The whole address book may be huge: offer the customers with open tickets (and those the rule
        # already names), which are the only ones a rule over open tickets can match.
        has_open = Exists(Ticket.objects.open().filter(customer=OuterRef("pk")))
        customers = Customer.objects.filter(has_open | chosen("customers"))
        self.fields["customers"].queryset = customers.order_by("name")
        self.fields["customers"].help_text = "customers with open tickets; none: every customer"
        # Automation never closes a ticket: a closing stage is not even offered.
        self.fields["move_to"].queryset = Stage.objects.filter(is_closed=False).order_by("sequence", "name")
        for name in ("teams", "stages", "tags"):
            self.fields[name].help_text = f"none: every {name[:-1]}"

    def clean(self):
        data = super().clean()
        # The rule as it would be saved (ModelForm's _post_clean sets the same values again right
        # after), so that the domain checks it; its many-to-many parts go as ids.
        rule = construct_instance(self, self.instance, self._meta.fields)
        problems = rule_problems(
            rule, team_ids=[t.pk for t in data.get("teams") or []],
            add_tag_ids=[t.pk for t in data.get("add_tags") or []],
        )
        for field, message in problems.items():
            self.add_error(field if field in self.fields else WHOLE_RULE, message)
        return data

    def save(self, commit=True):
        # Never on from a save: the supervisor previews it first, then switches it on.
        self.instance.enabled = False
        return super().save(commit=commit)
