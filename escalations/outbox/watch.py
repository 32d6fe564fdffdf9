"""The ticket fields an action watches in Odoo, compared by value, and what the outbox says of them.

An action is made from a page, and what the lead saw there is the mirror at that moment
(`mirror_values`, stored on the action). Before writing, the outbox compares what Odoo holds with what
the console expects there: what the lead saw, moved on by the console's own actions applied since.
A watched field that differs makes the action stale, unless Odoo already holds the very value the
action writes (`stale_changes`). A write_date that moved while no watched value did (a cron rewriting
unchanged values, a recompute, the action's own earlier attempt) never does.

After writing, the outbox reads the ticket back: an assignee or team other than the action meant makes
it "changed by Odoo" (`kept_by_odoo`), in the words a lead would use.

Values are kept in Odoo's read format: a many2one is `[id, name]` or False, so that a name can be shown
and an id compared; the values an action writes are plain ids.
"""

from __future__ import annotations

from escalations.models import Agent, Team, Ticket
from escalations.odoo.values import m2o_id, m2o_name

# The fields shown to the lead when a ticket changed in Odoo since they loaded it.
WATCHED = {"user_id": "assignee", "team_id": "team", "stage_id": "stage", "priority": "priority",
           "name": "title"}
MANY2ONE = {"user_id", "team_id", "stage_id"}

Values = dict[str, object]


def _m2o(record) -> list | bool:
    return [record.pk, record.name] if record is not None else False


def mirror_values(ticket: Ticket) -> Values:
    """What a page showed of the ticket: the mirror's watched fields, and the mirror's write_date."""
    return {"user_id": _m2o(ticket.assignee), "team_id": _m2o(ticket.team),
            "stage_id": _m2o(ticket.stage), "priority": ticket.priority, "name": ticket.name,
            "write_date": ticket.odoo_write_date.isoformat()}


def odoo_values(remote: dict) -> Values:
    return {field: remote[field] for field in WATCHED if field in remote}


def ident(field: str, value):
    """What a value is, for comparing: a many2one's id (from a read or a written id), None when empty."""
    if field in MANY2ONE:
        return m2o_id(value) if isinstance(value, (list, tuple)) else (value or None)
    return value if value not in (False, None, "") else None


def _shown(field: str, value) -> str:
    if field in MANY2ONE:
        return m2o_name(value) if isinstance(value, (list, tuple)) else _name_of(field, value)
    return str(value) if value not in (False, None, "") else ""


def _name_of(field: str, odoo_id) -> str:
    """A written id's name, from the mirror (the action holds only the id)."""
    if not odoo_id:
        return ""
    model = {"user_id": Agent, "team_id": Team}.get(field)
    name = model.objects.filter(pk=odoo_id).values_list("name", flat=True).first() if model else None
    return name or f"Odoo record #{odoo_id}"


def holds(remote: Values, writes: dict) -> bool:
    """Odoo holds every value the action writes."""
    return all(field in remote and ident(field, remote[field]) == ident(field, value)
               for field, value in writes.items())


def stale_changes(remote: Values, expected: Values, writes: dict) -> list[str]:
    """The watched fields Odoo changed since the page, in plain words; empty when nothing did."""
    changes = []
    for field, label in WATCHED.items():
        if field not in remote or field not in expected:
            continue
        now, was = ident(field, remote[field]), ident(field, expected[field])
        if now == was or (field in writes and now == ident(field, writes[field])):
            continue
        changes.append(f"the {label} is now {_shown(field, remote[field]) or 'empty'} "
                       f"(was {_shown(field, expected[field]) or 'empty'})")
    return changes


def effect(before: Values, after: Values, writes: dict) -> Values:
    """The watched fields an action changed in Odoo: what it wrote, and what Odoo's own rules changed in
    answer (the assignee and the stage follow a team change). A note alone changes none."""
    if not writes:
        return {}
    return {field: value for field, value in after.items()
            if field in writes or ident(field, value) != ident(field, before.get(field))}


def kept_by_odoo(before: Values, after: Values, writes: dict) -> list[str]:
    """Where Odoo kept another assignee or team than the action meant, in plain words; empty if none.

    What the action meant: the values it wrote, and for the other of the two fields what Odoo held just
    before the write (a reassign to a team means "and the same assignee").
    """
    said = []
    meant_user = writes["user_id"] if "user_id" in writes else before.get("user_id")
    if ident("user_id", after.get("user_id")) != ident("user_id", meant_user):
        said.append(_assignee_words(after.get("user_id"), meant_user, wrote="user_id" in writes,
                                    team_changed="team_id" in writes))
    meant_team = writes["team_id"] if "team_id" in writes else before.get("team_id")
    if ident("team_id", after.get("team_id")) != ident("team_id", meant_team):
        kept = _shown("team_id", after.get("team_id"))
        meant = _shown("team_id", meant_team)
        if "team_id" not in writes:
            said.append(f"Odoo moved the ticket to the team {kept}" if kept
                        else "Odoo took the ticket out of its team")
        else:
            said.append(f"Odoo kept the ticket in the team {kept} instead of {meant}" if kept
                        else f"Odoo left the ticket without a team instead of putting it in {meant}")
    return said


def _assignee_words(now, meant, *, wrote: bool, team_changed: bool) -> str:
    kept, meant_name = _shown("user_id", now), _shown("user_id", meant)
    if kept and wrote:
        return f"Odoo kept {kept} as the assignee instead of {meant_name}"
    if kept and not meant_name:
        why = " (the team assigns its tickets itself)" if team_changed else ""
        return f"Odoo kept {kept} as the assignee{why}"
    if kept:
        return f"Odoo kept {kept} as the assignee instead of {meant_name}"
    if wrote:
        return f"Odoo left the ticket unassigned instead of assigning it to {meant_name}"
    why = " (Odoo unassigns someone who is not a member of the ticket's new team)" if team_changed else ""
    return f"Odoo took {meant_name} off the ticket{why}"
