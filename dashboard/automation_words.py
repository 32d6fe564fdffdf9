"""A rule's scope, trigger and action in the short words of the rules page.

The rule's many-to-many parts must be prefetched (teams, stages, tags, customers, add_tags) and its
move_to loaded with it: the page describes every rule with a fixed number of queries.
"""

from __future__ import annotations

from escalations.models import AutomationRule
from escalations.models.policy import PRIORITIES

Trigger, Action = AutomationRule.Trigger, AutomationRule.Action
PRIORITY_NAMES = dict(PRIORITIES)
# Past this many names a part of the scope is counted, not listed: a row stays one or two lines.
NAMES_SHOWN = 3


def _names(objects, *, one: str, many: str) -> str:
    names = [str(o) for o in objects]
    if len(names) > NAMES_SHOWN:
        return f"{len(names)} {many}"
    return f"{one if len(names) == 1 else many} {', '.join(names)}"


def rule_scope_words(rule: AutomationRule) -> list[str]:
    """The parts of the scope a rule narrows, each in a few words; empty: every open ticket."""
    parts = []
    if teams := list(rule.teams.all()):
        parts.append(_names(teams, one="team", many="teams"))
    if stages := list(rule.stages.all()):
        parts.append(_names(stages, one="stage", many="stages"))
    if tags := list(rule.tags.all()):
        parts.append(_names(tags, one="tag", many="any of the tags"))
    if rule.priorities:
        names = [PRIORITY_NAMES.get(str(p), str(p)) for p in rule.priorities]
        parts.append(f"priority {' or '.join(names)}")
    if customers := list(rule.customers.all()):
        parts.append(_names(customers, one="customer", many="customers"))
    if keywords := rule.keywords:
        parts.append("title with " + " or ".join(f"“{k}”" for k in keywords))
    return parts


def minutes_words(minutes: int | None) -> str:
    if not minutes:
        return "? minutes"
    if minutes % (60 * 24) == 0:
        days = minutes // (60 * 24)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def rule_trigger_words(rule: AutomationRule) -> str:
    if rule.trigger == Trigger.CREATED:
        return "When a ticket is created"
    if rule.trigger == Trigger.CHANGED:
        return "When someone changes a ticket"
    if rule.trigger == Trigger.IDLE:
        return f"Assignee idle {minutes_words(rule.idle_minutes)} (working time)"
    return f"Every {minutes_words(rule.every_minutes)}"


def rule_action_words(rule: AutomationRule) -> str:
    if rule.action == Action.ASSIGN:
        words = f"Assign, {rule.get_assign_method_display().lower()}"
        if rule.max_open_per_agent:
            words += f", at most {rule.max_open_per_agent} open each"
        return words
    if rule.action == Action.SET_PRIORITY:
        return f"Set priority {PRIORITY_NAMES.get(rule.set_priority, '?')}"
    if rule.action == Action.ADD_TAGS:
        names = [str(t) for t in rule.add_tags.all()]
        return f"Add tag{'s' if len(names) != 1 else ''} {', '.join(names) or '?'}"
    if rule.action == Action.MOVE:
        return f"Move to {rule.move_to or '?'}"
    if rule.action == Action.REMIND:
        return "Remind the assignee"
    return f"Hand over to escalation, level {rule.escalate_level or '?'}"
