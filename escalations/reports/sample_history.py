"""Made-up history for the reports' benchmark and screenshots: teams, tickets with their SLA records and
stage paths, escalations with their events, write-backs and automated changes over a span of days,
written in bulk (COPY on PostgreSQL for the mirror's plain rows, bulk_create for the rest).

Deterministic for a seed. Shaped like a support desk: most tickets solved within a working day, about
one in eight breached, one in five escalated, the write-backs mostly applied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from escalations import bulk
from escalations.models import (
    Agent,
    AutomationChange,
    AutomationRule,
    EndReason,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    OdooAction,
    SlaStatus,
    Stage,
    Team,
    Ticket,
    TicketStageChange,
    Trigger,
)

TEAMS = ["First line", "Billing", "Hardware", "Network", "Accounts", "Field service", "Integrations",
         "Mobile", "Data", "Security"]
AGENTS = ["Ana Lopez", "Ben Okafor", "Chloé Martin", "Dev Patel", "Eva Novak", "Farid Haddad", "Grace Kim",
          "Hugo Silva", "Ines Costa", "Jon Berg", "Kira Sato", "Lars Holm", "Mia Rossi", "Noah Adler"]
STAGES = [(1, "New", False), (2, "In progress", False), (3, "Waiting for customer", False),
          (4, "Solved", True)]
REASONS = ["Customer answered, back on track", "Duplicate of another ticket",
           "Handled by the account manager",
           "Waiting on a supplier", "Raised by mistake", "Fixed by a workaround"]
TRIGGERS = [Trigger.SLA_AT_RISK] * 5 + [Trigger.SLA_BREACHED] * 2 + [Trigger.NO_UPDATE] * 2 + [
    Trigger.REOPENED, Trigger.UNASSIGNED, Trigger.TAG, Trigger.MANUAL]
FIRST_TICKET = 2_000_000


@dataclass
class HistoryCounts:
    tickets: int = 0
    escalations: int = 0
    events: int = 0
    actions: int = 0
    automated: int = 0


def _setup(teams: int) -> tuple[list[Team], dict[int, list[EscalationLevel]], list[Agent],
                                list[AutomationRule]]:
    Stage.objects.bulk_create([Stage(odoo_id=i, name=n, sequence=i, is_closed=c) for i, n, c in STAGES])
    agents = Agent.objects.bulk_create([Agent(odoo_id=100 + i, name=n) for i, n in enumerate(AGENTS)])
    made, levels = [], {}
    for number in range(teams):
        team = Team.objects.create(odoo_id=10 + number, name=TEAMS[number % len(TEAMS)] + (
            f" {number // len(TEAMS) + 1}" if number >= len(TEAMS) else ""), use_sla=True)
        policy = EscalationPolicy.objects.create(team=team, at_risk_within=timedelta(hours=1))
        levels[team.pk] = [
            EscalationLevel.objects.create(policy=policy, number=1, name="Team lead",
                                           accept_within=timedelta(minutes=30)),
            EscalationLevel.objects.create(policy=policy, number=2, name="Senior support",
                                           accept_within=timedelta(hours=1)),
            EscalationLevel.objects.create(policy=policy, number=3, name="Head of support"),
        ]
        made.append(team)
    rules = [AutomationRule.objects.create(name=name, enabled=True, action=action) for name, action in (
        ("Round robin, first line", AutomationRule.Action.ASSIGN), ("VIP customers to urgent",
                                                                  AutomationRule.Action.SET_PRIORITY),
        ("Tag billing words", AutomationRule.Action.ADD_TAGS), ("Remind idle assignees",
                                                               AutomationRule.Action.REMIND),
        ("Waiting too long: hand over", AutomationRule.Action.ESCALATE))]
    return made, levels, agents, rules


def history_create(*, tickets: int, escalations: int, actions: int, days: int, now: datetime, teams: int = 8,
                   seed: int = 18) -> HistoryCounts:
    """`tickets` over the last `days` days before `now`, of which `escalations` escalated; `actions`
    write-backs in all (escalations' own first, the rest notes and reassignments)."""
    with transaction.atomic():  # one commit: SQLite would sync the disk for every row
        counts = _history_create(tickets=tickets, escalations=escalations, actions=actions, days=days,
                                 now=now, teams=teams, seed=seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts


def _history_create(*, tickets: int, escalations: int, actions: int, days: int, now: datetime, teams: int,
                    seed: int) -> HistoryCounts:
    rng = random.Random(seed)
    team_rows, levels, agents, rules = _setup(teams)
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    ticket_rows, sla_rows, stage_rows, life = [], [], [], []
    for i in range(tickets):
        odoo_id = FIRST_TICKET + i
        created = start + timedelta(seconds=span * i / tickets + rng.uniform(0, 600))
        team = team_rows[i % len(team_rows)]
        agent = agents[rng.randrange(len(agents))]
        # Solved after a lognormal time (median 3 h); the newest tickets often still open.
        took = timedelta(hours=rng.lognormvariate(1.1, 1.0))
        closed = created + took if created + took < now else None
        deadline = created + timedelta(hours=rng.choice((4, 8, 8, 24)))
        stage = 4 if closed else rng.choice((2, 2, 3))
        ticket_rows.append({
            "odoo_id": odoo_id, "reference": f"HD{odoo_id - FIRST_TICKET + 1:06d}",
            "name": f"Ticket {odoo_id - FIRST_TICKET + 1}", "team_id": team.pk, "stage_id": stage,
            "assignee_id": agent.pk, "priority": rng.choice("0112"), "customer_id": None, "customer_name": "",
            "customer_email": "", "active": True, "created_at": created,
            "assigned_at": created + timedelta(minutes=rng.randint(1, 40)), "closed_at": closed,
            "stage_changed_at": closed or created, "odoo_write_date": closed or created,
            "odoo_write_uid": agent.pk, "sla_deadline": None if closed else deadline,
            "synced_at": closed or created,  # when the sync last saw a change
            "odoo_digest": "", "deleted_at": None, "invisible_since": None,
        })
        if i % 10:  # nine in ten under an SLA
            state = ("met" if closed <= deadline else "failed") if closed else "running"
            sla_rows.append({"ticket_id": odoo_id, "odoo_id": odoo_id, "name": "Resolution",
                             "deadline": deadline, "reached_at": closed, "state": state, "odoo_status": ""})
        stage_rows.append({"ticket_id": odoo_id, "stage_id": 1, "from_stage_id": None, "at": created})
        moved = created + timedelta(minutes=rng.randint(5, 90))
        if closed is None or moved < closed:
            stage_rows.append({"ticket_id": odoo_id, "stage_id": 2, "from_stage_id": 1, "at": moved})
            if rng.random() < 0.3:
                waiting = moved + (((closed or now) - moved) * rng.uniform(0.2, 0.6))
                stage_rows.append({"ticket_id": odoo_id, "stage_id": 3, "from_stage_id": 2, "at": waiting})
                stage_rows.append({"ticket_id": odoo_id, "stage_id": 2, "from_stage_id": 3,
                                   "at": waiting + ((closed or now) - waiting) / 2})
            if closed:
                stage_rows.append({"ticket_id": odoo_id, "stage_id": 4, "from_stage_id": 2, "at": closed})
        life.append((odoo_id, team.pk, created, closed, deadline, agent))
    bulk.insert(Ticket, ticket_rows)
    bulk.insert(SlaStatus, sla_rows)
    bulk.insert(TicketStageChange, stage_rows)
    counts = HistoryCounts(tickets=tickets)
    picked = rng.sample(life, min(escalations, len(life)))
    _escalations_create(rng, picked, levels, agents, now=now, counts=counts, actions=actions)
    _automation_create(rng, life, rules, agents, now=now, counts=counts)
    return counts


def _escalations_create(rng, picked, levels, agents, *, now, counts: HistoryCounts, actions: int) -> None:
    rows = []
    for odoo_id, team_id, created, closed, deadline, _ in picked:
        raised = min(max(created + timedelta(minutes=10), deadline - timedelta(hours=1)),
                     (closed or now) - timedelta(minutes=1))
        if raised <= created:
            raised = created + (((closed or now) - created) / 2)
        rows.append((odoo_id, team_id, raised, closed))
    policy_levels = levels
    escalation_rows, plans = [], []
    for n, (odoo_id, team_id, raised, closed) in enumerate(rows):
        team_levels = policy_levels[team_id]
        trigger = TRIGGERS[rng.randrange(len(TRIGGERS))]
        timeouts = 0 if rng.random() < 0.8 else rng.choice((1, 1, 2))
        level = team_levels[timeouts]
        accept_after = timedelta(minutes=rng.lognormvariate(2.6, 0.8))  # median some 13 minutes
        accepted = raised + timedelta(minutes=30 * timeouts) + accept_after
        ended, reason, why = None, "", ""
        if rng.random() < 0.12:
            ended, reason, why = accepted + timedelta(minutes=rng.randint(5, 120)), EndReason.DE_ESCALATED, \
                REASONS[rng.randrange(len(REASONS))]
        elif closed is not None:
            ended, reason = closed, EndReason.SOLVED
        if ended is not None and ended > now:
            ended, reason, why = None, "", ""
        if accepted >= (ended or now):
            accepted = None
        escalation_rows.append(Escalation(
            ticket_id=odoo_id, policy_id=level.policy_id, level=level, trigger=trigger, trigger_key=f"k{n}",
            raised_at=raised, level_since=raised + timedelta(minutes=30 * timeouts), accepted_at=accepted,
            ended_at=ended, end_reason=reason))
        plans.append((team_levels, timeouts, accepted, ended, reason, why))
    made = Escalation.objects.bulk_create(escalation_rows, batch_size=2_000)
    holders = {odoo_id: agent for odoo_id, _, _, _, _, agent in picked}
    counts.escalations = len(made)
    events, action_rows = [], []
    for escalation, (team_levels, timeouts, accepted, ended, reason, why) in zip(made, plans, strict=True):
        at = escalation.raised_at
        events.append(EscalationEvent(escalation=escalation, kind="raised", at=at, to_level=team_levels[0],
                                      to_level_name=team_levels[0].name, rule=escalation.trigger))
        for step in range(timeouts):
            events.append(EscalationEvent(
                escalation=escalation, kind="moved_up", at=at + timedelta(minutes=30 * (step + 1)),
                from_level=team_levels[step], to_level=team_levels[step + 1], rule="not accepted in time",
                to_level_name=team_levels[step + 1].name))
        if accepted:
            events.append(EscalationEvent(escalation=escalation, kind="accepted", at=accepted,
                                          to_level=escalation.level, to_level_name=escalation.level.name))
        if ended:
            kind = "de_escalated" if reason == EndReason.DE_ESCALATED else "ended"
            events.append(EscalationEvent(escalation=escalation, kind=kind, at=ended, reason=why, rule=reason,
                                          from_level=escalation.level, from_level_name=escalation.level.name))
        holder = holders[escalation.ticket_id]
        action_rows += _escalation_actions(rng, escalation, accepted, ended, agents, holder)
    EscalationEvent.objects.bulk_create(events, batch_size=5_000)
    counts.events = len(events)
    action_rows += _other_actions(rng, max(0, actions - len(action_rows)), made, agents, holders, now=now)
    OdooAction.objects.bulk_create(action_rows[:actions] if actions else action_rows, batch_size=5_000)
    counts.actions = min(len(action_rows), actions) if actions else len(action_rows)


def _state(rng) -> tuple[str, bool]:
    roll = rng.random()
    if roll < 0.02:
        return OdooAction.State.FAILED, False
    if roll < 0.035:
        return OdooAction.State.CANCELLED, False
    if roll < 0.045:
        return OdooAction.State.CHANGED, False
    return OdooAction.State.SENT, roll > 0.985


def _action(rng, *, ticket_id, escalation, kind, at, agent=None, holder=None) -> OdooAction:
    """A write-back; `agent`: the one it assigns the ticket to, `holder`: the assignee the lead saw."""
    state, confirmed = _state(rng)
    applied = state in OdooAction.APPLIED_STATES
    values = {"user_id": [agent.pk, agent.name]} if agent is not None else {}
    seen = {"user_id": [holder.pk, holder.name] if holder else False}
    return OdooAction(ticket_id=ticket_id, escalation=escalation, kind=kind, created_at=at, state=state,
                      confirmed=confirmed, payload={"values": {"user_id": agent.pk} if agent else {}},
                      applied_at=at + timedelta(seconds=2) if applied else None,
                      seen_values=seen, applied_values=values if applied and values else None)


def _escalation_actions(rng, escalation, accepted, ended, agents, holder) -> list[OdooAction]:
    rows = [_action(rng, ticket_id=escalation.ticket_id, escalation=escalation, kind=OdooAction.Kind.MARK,
                    at=escalation.raised_at)]
    if accepted:
        rows.append(_action(rng, ticket_id=escalation.ticket_id, escalation=escalation,
                            kind=OdooAction.Kind.ACCEPT, at=accepted, holder=holder,
                            agent=agents[rng.randrange(len(agents))]))
    if ended:
        rows.append(_action(rng, ticket_id=escalation.ticket_id, escalation=escalation,
                            kind=OdooAction.Kind.MARK, at=ended))
    return rows


def _other_actions(rng, count: int, made: list[Escalation], agents, holders, *, now) -> list[OdooAction]:
    rows = []
    for n in range(count):
        escalation = made[n % len(made)]
        kind = (OdooAction.Kind.REASSIGN, OdooAction.Kind.NOTE, OdooAction.Kind.ESCALATE)[n % 3]
        at = min(escalation.raised_at + timedelta(minutes=rng.randint(1, 240)), now - timedelta(minutes=1))
        agent = agents[rng.randrange(len(agents))] if kind == OdooAction.Kind.REASSIGN else None
        rows.append(_action(rng, ticket_id=escalation.ticket_id, escalation=escalation, kind=kind, at=at,
                            agent=agent, holder=holders.get(escalation.ticket_id)))
    return rows


def _automation_create(rng, life, rules, agents, *, now, counts: HistoryCounts) -> None:
    changes = []
    for n, (odoo_id, _, created, _, _, agent) in enumerate(life):
        if n % 9:
            continue
        rule = rules[rng.randrange(len(rules))]
        at = created + timedelta(minutes=rng.randint(1, 20))
        if at >= now:
            continue
        handed = rng.random() < 0.1
        undone = not handed and rng.random() < 0.05
        changes.append(AutomationChange(
            rule=rule, ticket_id=odoo_id, action=rule.action, occasion_at=at, at=at, summary=rule.name,
            outcome=(AutomationChange.Outcome.HANDED if handed else
                     AutomationChange.Outcome.UNDONE if undone else AutomationChange.Outcome.QUEUED),
            undone_at=min(at + timedelta(hours=2), now) if undone else None,
            after={"user_id": agent.pk} if rule.action == AutomationRule.Action.ASSIGN else {}))
    AutomationChange.objects.bulk_create(changes, batch_size=5_000)
    counts.automated = len(changes)
