"""What each rule would do now, from the mirror alone: no write anywhere, so the same plan is the
preview a supervisor sees before switching a rule on and what a pass then applies.

A plan item is one ticket: the Odoo write, the values before and after in plain words, and the
occasion it fires on; or, for a ticket that looks non-routine, the reason it goes to a person
instead. A rule that assigns on a team where Odoo assigns tickets itself plans nothing and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet

from escalations import bulk
from escalations.models import Agent, AutomationRule, EscalationLevel, Stage, Tag, Ticket
from escalations.models.policy import PRIORITIES
from escalations.outbox.routine import ADD, ForbiddenAutomation, check_routine

from . import assign, scope

Action = AutomationRule.Action
# The actions that change the ticket's own fields: only these are held back from non-routine tickets.
# A reminder and a hand-over to escalation bring a person in, which such a ticket needs anyway.
CHANGING = (Action.ASSIGN, Action.SET_PRIORITY, Action.ADD_TAGS, Action.MOVE)
PRIORITY_NAMES = dict(PRIORITIES)
# A rule not switched on yet is previewed as if it had been on for this long (created/changed rules).
PREVIEW_WINDOW = timedelta(days=1)


@dataclass
class Planned:
    rule_id: int
    ticket_id: int
    occasion_at: datetime
    action: str
    values: dict = field(default_factory=dict)  # the Odoo write ({} for a reminder or an escalation)
    # The written fields' values before, and after (the write), in Odoo's write format: what undo needs.
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    summary: str = ""  # in plain words, for the preview and the ledger
    handed: str = ""  # set: the ticket goes to a person, for this reason; nothing is written
    assigned_to: int | None = None
    level_id: int | None = None  # a hand-over to escalation: the level it is raised at


@dataclass
class Plan:
    rule: AutomationRule
    items: list[Planned] = field(default_factory=list)
    refused: str = ""  # why the rule does nothing at all
    # Round robin's pointer after these assignments, saved with them ({team id: agent id}).
    last_assigned: dict = field(default_factory=dict)
    # A hand-over to escalation: {team id: id of the level it raises at}, for the teams whose policy has it.
    levels: dict = field(default_factory=dict)

    @property
    def changes(self) -> list[Planned]:
        return [p for p in self.items if not p.handed]

    @property
    def handed(self) -> list[Planned]:
        return [p for p in self.items if p.handed]


class Names:
    """Names of agents, stages, tags and levels for the plain-words summaries: one query each, once
    per pass, on first use (these tables hold tens of rows, not thousands)."""

    @cached_property
    def agents(self) -> dict[int, str]:
        return dict(Agent.objects.values_list("odoo_id", "name"))

    @cached_property
    def stages(self) -> dict[int, str]:
        return dict(Stage.objects.values_list("odoo_id", "name"))

    @cached_property
    def tags(self) -> dict[int, str]:
        return dict(Tag.objects.values_list("odoo_id", "name"))


def plan_rule(rule: AutomationRule, *, now: datetime, console_uid: int | None, names: Names | None = None,
              preview: bool = False, limit: int | None = None) -> Plan:
    """The rule's plan now. `preview`: a rule that is off is planned as if switched on a day ago.
    `limit`: plan the first tickets only (oldest first): a pass needs no more than its cap."""
    names = names or Names()
    if rule.action == Action.ASSIGN:
        refusal = assign.refuse_odoo_assigned([t.pk for t in rule.teams.all()])
        if refusal:
            return Plan(rule, refused=refusal)
    if preview and not rule.enabled:
        rule.enabled_at = now - PREVIEW_WINDOW
    tickets = scope.fired(rule, scope.in_scope(rule), now=now, console_uid=console_uid)
    plan = Plan(rule, levels=_levels(rule) if rule.action == Action.ESCALATE else {})
    tickets = scope.hands_off(_needing(plan, tickets), now=now, console_uid=console_uid)
    columns = ["odoo_id", "team_id", "assignee_id", "priority", "stage_id", "occasion_at"]
    if rule.action in CHANGING:
        tickets = scope.person_reasons(tickets)
        columns += ["reopened", "person_tag", "escalated_before"]
    tickets = tickets.order_by("created_at", "odoo_id").values_list(*columns)
    rows = [dict(zip(columns, r, strict=True)) for r in (tickets[:limit] if limit is not None else tickets)]
    routine = []
    for row in rows:
        reason = _person_reason(row)
        if reason:
            plan.items.append(Planned(rule.pk, row["odoo_id"], row["occasion_at"], rule.action, handed=reason,
                                      summary=f"Handed to a person: {reason}"))
        else:
            routine.append(row)
    try:
        # The write the rule makes, held to the honest limit once per rule (the outbox checks each row
        # again before writing it).
        check_routine(_write_of(rule))
    except ForbiddenAutomation as refusal:
        return Plan(rule, refused=refusal.message)
    _BUILDERS[rule.action](plan, routine, names=names, now=now)
    return plan


def _write_of(rule: AutomationRule) -> dict:
    """The kind of Odoo write the rule's action makes (its values stand for every ticket's)."""
    return {
        Action.ASSIGN: {"user_id": 0}, Action.SET_PRIORITY: {"priority": rule.set_priority},
        Action.ADD_TAGS: {"tag_ids": [[ADD, t.pk] for t in rule.add_tags.all()]},
        Action.MOVE: {"stage_id": rule.move_to_id},
    }.get(rule.action, {})


def _person_reason(row: dict) -> str:
    if row.get("reopened"):
        return "the ticket was reopened"
    if row.get("person_tag"):
        return "the ticket carries a tag that asks for a person (e.g. VIP)"
    if row.get("escalated_before"):
        return "the ticket was escalated before"
    return ""


def _needing(plan: Plan, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Leave out tickets on which the action would change nothing."""
    rule = plan.rule
    if rule.action == Action.ASSIGN:
        return tickets.filter(assignee__isnull=True)
    if rule.action == Action.SET_PRIORITY:
        return tickets.exclude(priority=rule.set_priority)
    if rule.action == Action.ADD_TAGS:
        through = Ticket.tags.through
        wanted = [t.pk for t in rule.add_tags.all()]
        if not wanted:
            return tickets.none()
        missing = [Q(~Exists(through.objects.filter(ticket_id=OuterRef("pk"), tag_id=t))) for t in wanted]
        return tickets.filter(reduce(or_, missing))
    if rule.action == Action.MOVE:
        if rule.move_to_id is None:
            return tickets.none()
        return tickets.exclude(stage_id=rule.move_to_id)
    if rule.action == Action.REMIND:
        return tickets.filter(assignee__isnull=False)
    # ESCALATE: tickets of teams whose active policy has that level
    return tickets.filter(team_id__in=list(plan.levels))


def _levels(rule: AutomationRule) -> dict[int, int]:
    """{team id: level id} of the level the rule hands tickets over at."""
    levels = EscalationLevel.objects.filter(number=rule.escalate_level or 1, policy__active=True)
    return dict(levels.values_list("policy__team_id", "pk"))


def _assign(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    rule = plan.rule
    chosen = assign.assignees(rule, [(r["odoo_id"], r["team_id"]) for r in rows], now=now)
    plan.last_assigned = chosen.last_assigned
    how = rule.get_assign_method_display().lower()
    for row in rows:
        agent = chosen.agents.get(row["odoo_id"])
        if agent is None:
            continue  # nobody available now (leave, caps): the next pass tries again
        _add(plan, row, values={"user_id": agent}, before={"user_id": False},
             summary=f"Assigned to {names.agents.get(agent, agent)} ({how})", assigned_to=agent)


def _set_priority(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    key = plan.rule.set_priority
    for row in rows:
        _add(plan, row, values={"priority": key}, before={"priority": row["priority"]},
             summary=f"Priority {PRIORITY_NAMES.get(row['priority'])} → {PRIORITY_NAMES.get(key)}")


def _add_tags(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    wanted = sorted(t.pk for t in plan.rule.add_tags.all())
    through = Ticket.tags.through
    # The page's ids as one parameter (bulk.among): an IN list of thousands costs more to build than to run.
    matched = bulk.among(through, "ticket", [r["odoo_id"] for r in rows])
    has = set(through.objects.filter(matched, tag_id__in=wanted).values_list("ticket_id", "tag_id"))
    words = {}  # by the tuple of tags added: rows share a handful
    for row in rows:
        added = tuple(t for t in wanted if (row["odoo_id"], t) not in has)
        if added not in words:
            words[added] = "Tagged " + ", ".join(names.tags.get(t, str(t)) for t in added)
        _add(plan, row, values={"tag_ids": [[ADD, t] for t in added]}, summary=words[added])


def _move(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    target = plan.rule.move_to_id
    for row in rows:
        was, to = names.stages.get(row["stage_id"], ""), names.stages.get(target, "")
        _add(plan, row, values={"stage_id": target}, before={"stage_id": row["stage_id"] or False},
             summary=f"Moved from {was or 'no stage'} to {to}")


def _remind(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    for row in rows:
        who = names.agents.get(row["assignee_id"], "")
        _add(plan, row, values={}, assigned_to=row["assignee_id"],
             summary=f"Reminded {who}: no change for {plan.rule.idle_minutes or 0} working minutes"
             if plan.rule.trigger == AutomationRule.Trigger.IDLE else f"Reminded {who}")


def _escalate(plan: Plan, rows: list[dict], *, names: Names, now: datetime) -> None:
    for row in rows:
        _add(plan, row, values={},
             summary=f"Handed over to escalation, level {plan.rule.escalate_level}",
             level_id=plan.levels[row["team_id"]])


def _add(plan: Plan, row: dict, *, values: dict, before: dict | None = None, summary: str,
         assigned_to: int | None = None, level_id: int | None = None) -> None:
    plan.items.append(Planned(
        plan.rule.pk, row["odoo_id"], row["occasion_at"], plan.rule.action, values=values,
        before=before or {}, after=values, summary=summary, assigned_to=assigned_to, level_id=level_id,
    ))


_BUILDERS = {
    Action.ASSIGN: _assign, Action.SET_PRIORITY: _set_priority, Action.ADD_TAGS: _add_tags,
    Action.MOVE: _move, Action.REMIND: _remind, Action.ESCALATE: _escalate,
}
