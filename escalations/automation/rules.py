"""Checking a rule before it is saved or switched on, and switching it: plain functions the rules
page (and the admin, and tests) call."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from escalations.models import AutomationRule

from . import assign

Action, Trigger = AutomationRule.Action, AutomationRule.Trigger


def rule_problems(rule: AutomationRule, *, team_ids: list[int], add_tag_ids: list[int]) -> dict[str, str]:
    """What keeps the rule from working, by form field ("" for the whole rule), in plain words.
    Takes the many-to-many parts as ids, since a rule being created has none saved yet."""
    problems: dict[str, str] = {}
    if rule.trigger == Trigger.IDLE and not rule.idle_minutes:
        problems["idle_minutes"] = "Say after how many working minutes without a change the rule acts."
    if rule.trigger == Trigger.SCHEDULE and not rule.every_minutes:
        problems["every_minutes"] = "Say how often the rule runs, in minutes (5 or more)."
    if rule.action == Action.SET_PRIORITY and not rule.set_priority:
        problems["set_priority"] = "Choose the priority to set."
    if rule.action == Action.ADD_TAGS and not add_tag_ids:
        problems["add_tags"] = "Choose the tags to add."
    if rule.action == Action.MOVE:
        if rule.move_to_id is None:
            problems["move_to"] = "Choose the stage to move tickets to."
        elif rule.move_to.is_closed:
            problems["move_to"] = ("That stage closes the ticket. Automation never closes, solves or cancels "
                                   "a ticket: a person does.")
    if rule.action == Action.ESCALATE and not rule.escalate_level:
        problems["escalate_level"] = "Choose the escalation level to hand tickets over at."
    if rule.action == Action.REMIND and rule.trigger != Trigger.IDLE:
        problems["trigger"] = "A reminder goes to an idle assignee: use the idle trigger."
    if rule.action == Action.ASSIGN:
        refusal = assign.refuse_odoo_assigned(team_ids)
        if refusal:
            problems["teams"] = refusal
    return problems


def rule_switch(rule: AutomationRule, *, on: bool, now: datetime | None = None) -> AutomationRule:
    """Switch the rule on (from now: created and changed triggers act on what happens from here) or
    off. A rule with problems is not switched on: ValueError says why."""
    if on:
        problems = rule_problems(rule, team_ids=[t.pk for t in rule.teams.all()],
                                 add_tag_ids=[t.pk for t in rule.add_tags.all()])
        if problems:
            raise ValueError(" ".join(problems.values()))
        if not rule.enabled:
            rule.enabled, rule.enabled_at = True, now or timezone.now()
    else:
        rule.enabled = False
    rule.save(update_fields=["enabled", "enabled_at", "updated_at"])
    return rule
