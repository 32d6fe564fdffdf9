"""A policy in the short words of the Policies page and the editor's preview, durations written as people
write them (dashboard.durations)."""

from __future__ import annotations

from escalations.models import EscalationLevel, EscalationPolicy, Trigger
from escalations.models.policy import PRIORITIES
from escalations.policies.people import person_name

from .durations import format_duration

PRIORITY_NAMES = dict(PRIORITIES)
TRIGGER_NAMES = dict(Trigger.choices)
PEOPLE_SHOWN = 3


def policy_trigger_words(policy: EscalationPolicy) -> list[str]:
    """What raises an escalation under the policy, a few words each."""
    parts = []
    if policy.on_sla_at_risk:
        parts.append(f"SLA at risk ({at_risk_words(policy)})")
    if policy.on_sla_breached:
        parts.append("SLA breached")
    if policy.no_update_after:
        parts.append(f"no update for {format_duration(policy.no_update_after)}")
    if policy.on_reopened:
        parts.append("reopened")
    if policy.unassigned_priority and policy.unassigned_after:
        priority = PRIORITY_NAMES.get(policy.unassigned_priority, policy.unassigned_priority)
        parts.append(f"{priority} or above unassigned for {format_duration(policy.unassigned_after)}")
    if policy.escalate_tag:
        parts.append(f"tag “{policy.escalate_tag}”")
    if policy.allow_manual:
        parts.append("by hand")
    return parts


def at_risk_words(policy: EscalationPolicy) -> str:
    parts = []
    if policy.at_risk_within:
        parts.append(f"{format_duration(policy.at_risk_within)} left")
    if policy.at_risk_share:
        parts.append(f"{round(policy.at_risk_share * 100)} % left")
    return " or ".join(parts) or "1h left"


def level_words(level: EscalationLevel) -> str:
    """"L1 Team lead: Ana Lopez, Ben Ode · 30m to accept"; members must be prefetched."""
    names = [person_name(u) for u in level.members.all()]
    people = ", ".join(names[:PEOPLE_SHOWN]) + (f" and {len(names) - PEOPLE_SHOWN} more"
                                                 if len(names) > PEOPLE_SHOWN else "")
    words = f"L{level.number} {level.name}: {people or 'nobody'}"
    if level.accept_within:
        words += f" · {format_duration(level.accept_within)} to accept"
    return words


def trigger_count_words(by_trigger: dict[str, int]) -> str:
    """"8 SLA breached, 4 SLA at risk"."""
    return ", ".join(f"{count} {TRIGGER_NAMES.get(trigger, trigger)}"
                     for trigger, count in by_trigger.items())
