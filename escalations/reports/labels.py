"""The words for the rollup's keys: triggers, levels, end reasons, write-back kinds and outcomes, and
the names of the rules, stages and agents the keys hold ids of (a query each, only for ids present)."""

from __future__ import annotations

from escalations.models import (
    Agent,
    AutomationRule,
    EndReason,
    OdooAction,
    ReportFact,
    Stage,
    Trigger,
)

from . import writeback
from .escalations import ESCALATED, NOT_ESCALATED
from .handoffs import UNASSIGNED, UNKNOWN
from .read import Reading
from .sla import BREACHED, MET

Figure = ReportFact.Figure

FIXED = {
    Figure.SLA: {MET: "Met", BREACHED: "Breached"},
    Figure.CLOSED: {ESCALATED: "Escalated", NOT_ESCALATED: "Not escalated"},
    Figure.RAISED: dict(Trigger.choices),
    Figure.ENDED: {
        EndReason.SOLVED: "Ticket solved", EndReason.DE_ESCALATED: "De-escalated by a lead",
        EndReason.OUT_OF_SCOPE: "Left the policy's scope", EndReason.DELETED: "Ticket archived or deleted",
    },
    Figure.ACTION: dict(OdooAction.Kind.choices),
    Figure.ACTION_END: {
        writeback.FAILED: "Failed", writeback.CANCELLED: "Cancelled",
        writeback.CHANGED: "Changed by Odoo", writeback.PENDING: "Still pending",
    },
    Figure.CONFIRMED: {writeback.CONFIRMED: "Applied anyway after Odoo's copy changed"},
}


def _ids(keys: list[str]) -> list[int]:
    return [int(k) for k in keys if k.isdigit()]


def key_labels(reading: Reading) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {figure: dict(words) for figure, words in FIXED.items()}
    labels[Figure.LEVEL] = {k: f"Level {k}" for k in reading.keys(Figure.LEVEL)}
    labels[Figure.TIMEOUT] = {k: f"To level {k}" for k in reading.keys(Figure.TIMEOUT)}
    labels[Figure.DEESCALATED] = {k: (k[:1].upper() + k[1:]) or "No reason given"
                                  for k in reading.keys(Figure.DEESCALATED)}
    rule_keys = {k for f in (Figure.AUTOMATED, Figure.UNDONE, Figure.HANDED) for k in reading.keys(f)}
    rules = AutomationRule.objects.in_bulk(_ids(sorted(rule_keys))) if rule_keys else {}
    rule_names = {k: rules[int(k)].name if k.isdigit() and int(k) in rules else "A deleted rule"
                  for k in rule_keys}
    for figure in (Figure.AUTOMATED, Figure.UNDONE, Figure.HANDED):
        labels[figure] = rule_names
    stage_keys = reading.keys(Figure.HANDOFF_STAGE)
    stages = Stage.objects.in_bulk(_ids(stage_keys)) if stage_keys else {}
    labels[Figure.HANDOFF_STAGE] = {
        k: stages[int(k)].name if k.isdigit() and int(k) in stages else "Not recorded" for k in stage_keys}
    agent_keys = reading.keys(Figure.HANDOFF_AGENT)
    agents = Agent.objects.in_bulk(_ids(agent_keys)) if agent_keys else {}
    labels[Figure.HANDOFF_AGENT] = {k: _agent(k, agents) for k in agent_keys}
    return labels


def _agent(key: str, agents: dict[int, Agent]) -> str:
    if key == UNASSIGNED:
        return "Unassigned"
    if key == UNKNOWN:
        return "Not recorded (before an assignment in Odoo)"
    agent = agents.get(int(key)) if key.isdigit() else None
    return agent.name if agent else f"Odoo user {key}"
