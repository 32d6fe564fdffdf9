"""A small history for the reports' tests, every time chosen by hand, so that each figure can be
counted on paper (the comments say what each row should count as).

Two weeks, in UTC: week A is Mon 16 to Sun 22 Nov 2026, week B Mon 23 to Sun 29 Nov (NOW, Wed 25 Nov
09:30, is in it). Team X has tickets t1..t6 and t9, team Y has t7.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from escalations.models import (
    AutomationChange,
    AutomationRule,
    EndReason,
    Escalation,
    EscalationEvent,
    OdooAction,
    SlaStatus,
    Ticket,
    TicketStageChange,
)
from tests.conftest import T0
from tests.factories import (
    AgentFactory,
    ClosedStageFactory,
    EscalationPolicyFactory,
    StageFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

NOW = T0  # Wed 25 Nov 2026 09:30 UTC


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    x: object
    y: object
    tickets: dict[str, Ticket]
    stages: dict[str, object]
    agents: dict[str, object]
    rules: dict[str, AutomationRule]
    escalations: dict[str, Escalation]
    actions: dict[str, OdooAction]


def _sla(ticket, deadline, reached=None, state=SlaStatus.State.RUNNING, odoo_id=None):
    return SlaStatus.objects.create(ticket=ticket, odoo_id=odoo_id or ticket.pk, name="Resolution",
                                    deadline=deadline, reached_at=reached, state=state)


def _event(escalation, kind, when, *, to_level=None, from_level=None, actor=None, reason="", rule=""):
    return EscalationEvent.objects.create(escalation=escalation, kind=kind, at=when, to_level=to_level,
                                          from_level=from_level, actor=actor, reason=reason, rule=rule)


def build_world(*, lead_user=None) -> World:
    """The history; `lead_user` acts as the lead (made if not given: a move by a person has an actor)."""
    lead_user = lead_user or UserFactory(username="world-lead")
    x_policy, y_policy = EscalationPolicyFactory(team=TeamFactory(name="Team X")), EscalationPolicyFactory(
        team=TeamFactory(name="Team Y"))
    x, y = x_policy.team, y_policy.team
    new, progress = StageFactory(name="New"), StageFactory(name="In progress")
    waiting = StageFactory(name="Waiting")
    solved = ClosedStageFactory(name="Solved")
    ana, ben, cai = AgentFactory(name="Ana"), AgentFactory(name="Ben"), AgentFactory(name="Cai")

    def ticket(name, team=x, **fields):
        return TicketFactory(name=name, team=team, stage=fields.pop("stage", progress), assignee=fields.pop(
            "assignee", ana), **fields)

    t = {
        # met in week A (17 Nov 09:00), 1 h left; closed then, not escalated; automation changed it and
        # nobody did anything after: the honest-limit figure (odoo_write_uid 1 is OdooBot, no person)
        "t1": ticket("t1", stage=solved, created_at=at(17, 6), closed_at=at(17, 9), odoo_write_uid=1),
        # breached in week A at its deadline (18 Nov 10:00), reached 2 h late; escalated, closed
        "t2": ticket("t2", stage=solved, created_at=at(18, 6), closed_at=at(18, 12), assignee=ben,
                     assigned_at=at(18, 9, 51)),
        # breached in week A (22 Nov 23:00), never reached: no overrun measured
        "t3": ticket("t3", created_at=at(22, 18), assignee=cai, assigned_at=at(22, 20)),
        # met in week B by its closing (24 Nov 08:00), 2 h left; escalated, closed
        "t4": ticket("t4", stage=solved, created_at=at(23, 9), closed_at=at(24, 8)),
        # one deadline met, one still running: not counted yet
        "t5": ticket("t5", created_at=at(22, 9)),
        # a deadline still ahead: not counted yet
        "t6": ticket("t6", created_at=at(24, 8)),
        # team Y: met in week A (17 Nov 09:30), 30 min left
        "t7": ticket("t7", team=y, created_at=at(17, 7)),
        # met on Mon 23 Nov 03:00 UTC: week B in UTC, but Sunday 22:00 (week A) in New York; 2 h left;
        # closed then, not escalated; a person wrote it last (not the honest-limit figure)
        "t9": ticket("t9", stage=solved, created_at=at(22, 20), closed_at=at(23, 3), odoo_write_uid=ana.pk),
    }
    _sla(t["t1"], at(17, 10), reached=at(17, 9), state=SlaStatus.State.MET)
    _sla(t["t2"], at(18, 10), reached=at(18, 12), state=SlaStatus.State.FAILED)
    _sla(t["t3"], at(22, 23))
    _sla(t["t4"], at(24, 10))
    _sla(t["t5"], at(23, 12), reached=at(23, 11), state=SlaStatus.State.MET)
    _sla(t["t5"], at(26, 12), odoo_id=99_005)
    _sla(t["t6"], at(27, 12))
    _sla(t["t7"], at(17, 10), reached=at(17, 9, 30), state=SlaStatus.State.MET)
    _sla(t["t9"], at(23, 5), reached=at(23, 3), state=SlaStatus.State.MET)

    # t2's path: New 06:00-07:00, In progress 07:00-08:30, Waiting 08:30-12:00 (its breach at 10:00)
    path = ((at(18, 6), new, None), (at(18, 7), progress, new), (at(18, 8, 30), waiting, progress),
            (at(18, 12), solved, waiting))
    for when, stage, before in path:
        TicketStageChange.objects.create(ticket=t["t2"], stage=stage, from_stage=before, at=when)

    escalations = _escalations(t, x_policy, y_policy, lead_user)
    actions = _actions(t, escalations, ana, ben, lead_user)
    rules = _automation(t)
    # As the sync left them, a day before: a rollup pass at NOW counts nothing as just rewritten.
    Ticket.objects.update(synced_at=at(24, 9))
    return World(x=x, y=y, tickets=t, stages={"new": new, "progress": progress, "waiting": waiting,
                                               "solved": solved},
                 agents={"ana": ana, "ben": ben, "cai": cai}, rules=rules, escalations=escalations,
                 actions=actions)


def _escalations(t, x_policy, y_policy, lead_user) -> dict[str, Escalation]:
    x1, x2 = x_policy.levels.get(number=1), x_policy.levels.get(number=2)
    y1, y2 = y_policy.levels.get(number=1), y_policy.levels.get(number=2)

    def escalation(name, ticket, policy, level, trigger, raised, **fields):
        return Escalation.objects.create(ticket=ticket, policy=policy, level=level, trigger=trigger,
                                         trigger_key=name, raised_at=raised, level_since=raised, **fields)

    # e1 (week A): at risk, moved up by the engine after 30 min, accepted 50 min after raised, ended solved
    e1 = escalation("e1", t["t2"], x_policy, x2, "sla_at_risk", at(18, 9), accepted_at=at(18, 9, 50),
                    ended_at=at(18, 12), end_reason=EndReason.SOLVED)
    _event(e1, "raised", at(18, 9), to_level=x1, rule="sla_at_risk")
    _event(e1, "moved_up", at(18, 9, 30), from_level=x1, to_level=x2, rule="not accepted in time")
    _event(e1, "accepted", at(18, 9, 50), to_level=x2, actor=lead_user)
    _event(e1, "ended", at(18, 12), from_level=x2, rule="solved")
    # e2 (week A): breached, accepted after 10 min, de-escalated: "customer answered"
    e2 = escalation("e2", t["t3"], x_policy, x1, "sla_breached", at(22, 23, 5), accepted_at=at(22, 23, 15),
                    ended_at=at(22, 23, 30), end_reason=EndReason.DE_ESCALATED)
    _event(e2, "raised", at(22, 23, 5), to_level=x1)
    _event(e2, "accepted", at(22, 23, 15), to_level=x1, actor=lead_user)
    _event(e2, "de_escalated", at(22, 23, 30), from_level=x1, actor=lead_user, reason="  Customer answered ")
    # e3 (week B): by hand; moved up and back down by a lead (no timeout, but level 2 reached); first
    # accepted after 60 min, that acceptance undone, accepted again; ended solved
    e3 = escalation("e3", t["t4"], x_policy, x1, "manual", at(23, 10), accepted_at=at(23, 11, 30),
                    ended_at=at(24, 8), end_reason=EndReason.SOLVED)
    _event(e3, "raised", at(23, 10), to_level=x1)
    _event(e3, "moved_up", at(23, 10, 10), from_level=x1, to_level=x2, actor=lead_user)
    _event(e3, "moved_down", at(23, 10, 20), from_level=x2, to_level=x1, actor=lead_user)
    _event(e3, "accepted", at(23, 11), to_level=x1, actor=lead_user)
    _event(e3, "accept_undone", at(23, 11, 10), to_level=x1)
    _event(e3, "accepted", at(23, 11, 30), to_level=x1, actor=lead_user)
    _event(e3, "ended", at(24, 8), from_level=x1, rule="solved")
    # e4 (team Y, week A): no update, moved up by the engine, still open
    e4 = escalation("e4", t["t7"], y_policy, y2, "no_update", at(17, 8))
    _event(e4, "raised", at(17, 8), to_level=y1)
    _event(e4, "moved_up", at(17, 8, 30), from_level=y1, to_level=y2)
    # e5 (week B): Odoo tag, de-escalated: "Customer Answered" (counted with e2's reason)
    e5 = escalation("e5", t["t6"], x_policy, x1, "tag", at(24, 9), ended_at=at(24, 9, 10),
                    end_reason=EndReason.DE_ESCALATED)
    _event(e5, "raised", at(24, 9), to_level=x1)
    _event(e5, "de_escalated", at(24, 9, 10), from_level=x1, actor=lead_user, reason="Customer Answered")
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4, "e5": e5}


def _actions(t, e, ana, ben, lead_user) -> dict[str, OdooAction]:
    State, Kind = OdooAction.State, OdooAction.Kind

    def action(ticket, kind, created, state, **fields):
        return OdooAction.objects.create(ticket=ticket, kind=kind, created_at=created, state=state, **fields)

    return {
        # week A: accept (applied: t2 goes from Ana to Ben at 09:51), a failed note, a cancelled reassign
        "a1": action(t["t2"], Kind.ACCEPT, at(18, 9, 50), State.SENT, escalation=e["e1"],
                     created_by=lead_user, applied_at=at(18, 9, 51),
                     seen_values={"user_id": [ana.pk, ana.name]},
                     applied_values={"user_id": [ben.pk, ben.name]}),
        "a2": action(t["t2"], Kind.NOTE, at(18, 10), State.FAILED, created_by=lead_user),
        "a3": action(t["t3"], Kind.REASSIGN, at(22, 23, 20), State.CANCELLED, created_by=lead_user),
        # week B: a reassign applied after confirmation, a marker Odoo changed, two still pending
        "a4": action(t["t4"], Kind.REASSIGN, at(23, 10, 30), State.SENT, confirmed=True, created_by=lead_user,
                     applied_at=at(23, 10, 31)),
        "a5": action(t["t4"], Kind.MARK, at(23, 10), State.CHANGED),
        "a6": action(t["t6"], Kind.NOTE, at(24, 9), State.QUEUED, created_by=lead_user),
        "a7": action(t["t6"], Kind.DE_ESCALATE, at(24, 9, 10), State.STALE, created_by=lead_user),
    }


def _automation(t) -> dict[str, AutomationRule]:
    r1 = AutomationRule.objects.create(name="Round robin", action=AutomationRule.Action.ASSIGN)
    r2 = AutomationRule.objects.create(name="Urgent VIP", action=AutomationRule.Action.SET_PRIORITY)
    Outcome = AutomationChange.Outcome

    def change(rule, ticket, when, outcome=Outcome.QUEUED, **fields):
        AutomationChange.objects.create(rule=rule, ticket=ticket, action=rule.action, occasion_at=when,
                                        at=when, summary=rule.name, outcome=outcome, **fields)

    change(r1, t["t1"], at(16, 10))  # week A, r1
    change(r2, t["t1"], at(17, 8))  # week A, r2
    change(r1, t["t9"], at(23, 1), Outcome.UNDONE, undone_at=at(23, 2))  # week B: a change, and its undo
    change(r2, t["t5"], at(17, 12), Outcome.HANDED)  # week A: handed to a person
    return {"r1": r1, "r2": r2}


WEEK_A, WEEK_B = 0, 1  # the weeks' indexes in a reading of these two weeks
HOUR = 3600
