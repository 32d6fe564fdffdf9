"""The honest limit, as code: what an automated change may write to Odoo.

Checked twice: when a rule plans a change (escalations.automation), and again by the outbox right
before it writes an automated change or its undo, so that no rule, however it was written or edited,
and no row changed in the database meanwhile, can:
- write a field other than the assignee, the priority, the tags or the stage;
- move a ticket to a stage that closes it (Enterprise `fold`, OCA `closed`: solved, cancelled, done),
  or archive it;
- remove a tag it did not add (only an undo removes, and only what its change added);
- post anything but an internal note (the outbox posts notes with the internal-note subtype only:
  there is no path to a message the customer sees).
"""

from __future__ import annotations

from escalations.models import AutomationChange, OdooAction, Stage
from escalations.models.automation import OCCASION_HANDED

ROUTINE_FIELDS = frozenset({"user_id", "priority", "tag_ids", "stage_id"})
PRIORITY_KEYS = frozenset({"0", "1", "2", "3"})
# Odoo's x2many commands: (4, id) links a tag, (3, id) unlinks it; nothing else (no (5,), (6, ..)).
ADD, REMOVE = 4, 3


class ForbiddenAutomation(Exception):
    """An automated change outside the honest limit; `message` says which, in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_routine(values: dict, *, undo: bool = False) -> None:
    """Raise ForbiddenAutomation unless `values` (an Odoo write) is a routine change."""
    for field in values:
        if field not in ROUTINE_FIELDS:
            raise ForbiddenAutomation(f"Automation may not change the field {field!r} of a ticket.")
    if "priority" in values and values["priority"] not in PRIORITY_KEYS:
        raise ForbiddenAutomation(f"{values['priority']!r} is not a priority.")
    if "user_id" in values and not (values["user_id"] is False or isinstance(values["user_id"], int)):
        raise ForbiddenAutomation("Automation assigns a ticket to one agent, by id.")
    for command in values.get("tag_ids", ()):
        allowed = (ADD, REMOVE) if undo else (ADD,)
        if not (isinstance(command, (list, tuple)) and len(command) == 2 and command[0] in allowed):
            raise ForbiddenAutomation("Automation only adds tags (and its undo removes what it added).")
    if "stage_id" in values:
        stage = values["stage_id"]
        if not isinstance(stage, int) or stage is False:
            raise ForbiddenAutomation("Automation moves a ticket to a stage, by id.")
        closing = Stage.objects.filter(pk=stage).values_list("is_closed", flat=True).first()
        if closing is None:
            raise ForbiddenAutomation("Automation moves tickets only to stages the console knows.")
        if closing:
            raise ForbiddenAutomation(
                "Automation never closes, solves or cancels a ticket: that stage closes it."
            )


def automation_handed(action: OdooAction, *, reason: str) -> None:
    """The outbox found, in Odoo, that the ticket of an automated change needs a person (a VIP
    customer, a long thread): its ledger row says so, and the rule leaves the ticket alone from now
    on (a handed row's occasion stands for every occasion of that rule and ticket)."""
    AutomationChange.objects.filter(odoo_action=action).update(
        outcome=AutomationChange.Outcome.HANDED, occasion_at=OCCASION_HANDED,
        summary=f"Handed to a person: {reason}"[:300])
