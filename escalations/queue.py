"""The escalation queue: open escalations, most urgent first, with their counts per SLA state.

One read model for its three readers: the supervisor dashboard, the wall display and the JSON feed.
Whatever the number of escalations, a queue costs a fixed number of queries: the counts (one
aggregate), one page of rows (one join), and the page's write-backs still on their way to Odoo.

The SLA state is worked out in the database from the ticket's clock (escalations.sla), so that the
queue can be filtered and counted by it; the countdown itself ticks in the browser.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Case
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

from escalations.models import (
    Agent,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    OdooAction,
    SyncState,
    Ticket,
    Trigger,
)
from escalations.odoo.links import ticket_url
from escalations.sla import AT_RISK, BREACHED, NO_SLA, ON_TRACK, PAUSED, sla_state_expression

SLA_STATES = (BREACHED, AT_RISK, ON_TRACK, PAUSED, NO_SLA)
# A failed write-back, or one Odoo changed, stays on its row this long, so that the lead sees it without
# it lingering forever.
SHOW_FAILED_FOR = timedelta(hours=24)
# Write-backs not in Odoo yet: what they set is what the row shows, marked as on its way.
ON_ITS_WAY = (OdooAction.State.QUEUED, OdooAction.State.INFLIGHT, OdooAction.State.AWAITING_RETRY)
# The moment each trigger fired for, from the facts it stored (escalations.engine.triggers); a trigger
# without one (a tag, by hand) counts from when the escalation was raised.
ATTENTION_FACT = {
    Trigger.SLA_BREACHED: "deadline", Trigger.SLA_AT_RISK: "at_risk_at", Trigger.NO_UPDATE: "last_update",
    Trigger.UNASSIGNED: "created_at", Trigger.REOPENED: "reopened_at",
}
SLA_TRIGGERS = (Trigger.SLA_BREACHED, Trigger.SLA_AT_RISK)


@dataclass(frozen=True)
class QueueFilters:
    """What the lead narrowed the queue to; every field optional."""

    team_id: int | None = None
    level: int | None = None  # the level's number, across policies
    sla: str | None = None
    mine: bool = False


@dataclass
class QueueRow:
    ticket: Ticket
    sla: str
    escalation: Escalation | None = None  # None on the "at risk, not escalated" tab
    actions: list[OdooAction] = field(default_factory=list)
    odoo_url: str = ""
    can_act: bool = False  # set by the view, for this viewer

    @property
    def deadline(self) -> datetime | None:
        clock = getattr(self.ticket, "clock", None)
        return clock.deadline if clock else None

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the escalation waits for someone to accept it at its level."""
        if self.escalation is None or self.escalation.accepted_at is not None:
            return None
        return self.escalation.level_since

    @cached_property
    def attention_since(self) -> datetime | None:
        """Since when the ticket has needed attention: the moment its trigger fired for (the breach, the
        at-risk time, the last update...), not when the console noticed it nor its latest move up."""
        e = self.escalation
        if e is None:
            clock = getattr(self.ticket, "clock", None)
            return clock.at_risk_at if clock else None
        moment = parse_datetime(str((e.facts or {}).get(ATTENTION_FACT.get(e.trigger, ""), "") or ""))
        return min(moment, e.raised_at) if moment else e.raised_at

    @property
    def at_level_since(self) -> datetime | None:
        return self.escalation.level_since if self.escalation else None

    @cached_property
    def sla_changed(self) -> str:
        """Why an escalation raised for its SLA shows another SLA state now: "met" (no deadline runs any
        more), "paused", or "new deadline" (the one it was raised for was met or moved); "" when the
        state still says what the trigger said."""
        e = self.escalation
        if e is None or e.trigger not in SLA_TRIGGERS:
            return ""
        if self.sla == "paused":
            return "paused"
        if self.deadline is None:
            return "met"
        raised_for = parse_datetime(str((e.facts or {}).get("deadline") or ""))
        if raised_for is not None and raised_for != self.deadline:
            return "new deadline"
        return ""

    @cached_property
    def pending_assignee(self) -> str:
        """The assignee a write-back on its way to Odoo sets (accept, reassign): the row shows it at once."""
        for action in reversed(self.actions):
            if action.state in ON_ITS_WAY and getattr(action, "assignee_name", None):
                return action.assignee_name
        return ""

    def fingerprint(self) -> tuple:
        t, e = self.ticket, self.escalation
        return (
            t.pk, t.name, t.assignee_id, t.team_id, t.stage_id, t.priority, str(t.odoo_write_date),
            str(self.deadline), self.sla,
            (e.pk, e.level_id, e.accepted_by_id, str(e.level_since)) if e else None,
            tuple((a.pk, a.state) for a in self.actions),
        )


@dataclass
class Queue:
    rows: list[QueueRow]
    counts: dict[str, int]  # total, unassigned, unaccepted and one per SLA state
    total: int  # rows matching the filters (the counts ignore the SLA filter, to serve as its tabs)

    @property
    def version(self) -> str:
        """Changes whenever anything shown changes (not the ticking time): polling compares it."""
        data = repr(([row.fingerprint() for row in self.rows], sorted(self.counts.items()), self.total))
        return hashlib.sha1(data.encode()).hexdigest()[:16]


def sla_expression(now: datetime, prefix: str = "ticket__") -> Case:
    """The SLA state of a ticket's clock at `now`, by the rule escalations.sla.sla_state follows."""
    return sla_state_expression(now, clock=f"{prefix}clock__")


def _mine(user) -> Q:
    """Escalations for this person: accepted by them, waiting at a level they are on, or assigned to them."""
    waiting_for_me = Exists(EscalationLevel.members.through.objects.filter(
        escalationlevel_id=OuterRef("level_id"), user_id=user.pk))
    agent_id = getattr(getattr(user, "profile", None), "agent_id", None)
    mine = Q(accepted_by=user) | (Q(accepted_at__isnull=True) & waiting_for_me)
    if agent_id:
        mine |= Q(ticket__assignee_id=agent_id)
    return mine


def open_escalations(*, now: datetime, filters: QueueFilters = QueueFilters(), user=None,
                     team_ids: list[int] | None = None) -> QuerySet[Escalation]:
    """Open escalations with their `sla` state annotated, filtered but for the SLA state."""
    qs = Escalation.objects.filter(ended_at__isnull=True).annotate(sla=sla_expression(now))
    if team_ids is not None:
        qs = qs.filter(ticket__team_id__in=team_ids)
    if filters.team_id:
        qs = qs.filter(ticket__team_id=filters.team_id)
    if filters.level:
        qs = qs.filter(level__number=filters.level)
    if filters.mine and user is not None and user.is_authenticated:
        qs = qs.filter(_mine(user))
    return qs


def queue_counts(escalations: QuerySet[Escalation]) -> dict[str, int]:
    """Everything the counters show, in one aggregate query."""
    aggregates = {state: Count("pk", filter=Q(sla=state)) for state in SLA_STATES}
    return escalations.aggregate(
        total=Count("pk"),
        unassigned=Count("pk", filter=Q(ticket__assignee__isnull=True)),
        unaccepted=Count("pk", filter=Q(accepted_at__isnull=True)),
        **aggregates,
    )


def urgency_order(prefix: str = "ticket__") -> list:
    """Breached first (the longest overdue first), then the least time left; no running SLA last."""
    return [F(f"{prefix}clock__deadline").asc(nulls_last=True)]


def escalation_queue(*, now: datetime, filters: QueueFilters = QueueFilters(), user=None,
                     team_ids: list[int] | None = None, limit: int = 50, offset: int = 0,
                     server_version: str = "") -> Queue:
    """One page of the queue, most urgent first, with the counts; four queries whatever its size."""
    base = open_escalations(now=now, filters=filters, user=user, team_ids=team_ids)
    counts = queue_counts(base)
    if filters.sla:
        base = base.filter(sla=filters.sla)
    total = counts.get(filters.sla, 0) if filters.sla else counts["total"]
    order = [*urgency_order(), "level_since", "pk"]
    # The page's ids first, from a narrow sort (escalation, ticket, clock), then the wide rows of those
    # alone: in one query, PostgreSQL joined every open escalation with its team, stage, assignee,
    # level and acceptor before keeping 50 (as a subquery too), three times the time of both queries.
    page_ids = list(base.order_by(*order).values_list("pk", flat=True)[offset:offset + limit])
    page = list(
        Escalation.objects.filter(pk__in=page_ids).annotate(sla=sla_expression(now))
        .select_related("ticket__team", "ticket__stage", "ticket__assignee", "ticket__clock", "level",
                        "accepted_by")
        .order_by(*order)
    )
    rows = [QueueRow(ticket=e.ticket, escalation=e, sla=e.sla) for e in page]
    _attach(rows, now=now, server_version=server_version)
    return Queue(rows=rows, counts=counts, total=total)


def at_risk_not_escalated(*, now: datetime, filters: QueueFilters = QueueFilters(), user=None,
                          team_ids: list[int] | None = None, limit: int = 50, offset: int = 0,
                          server_version: str = "") -> Queue:
    """Open tickets at risk or breached that no open escalation covers yet (the queue's second tab).
    Not those Odoo no longer shows the console: their deadline is as last read, and Odoo would refuse
    an escalation's writes (the sync line counts them)."""
    escalated = Escalation.objects.filter(ticket=OuterRef("pk"), ended_at__isnull=True)
    qs = (
        Ticket.objects.open()
        .filter(clock__at_risk_at__lte=now, clock__paused=False, invisible_since__isnull=True)
        .exclude(Exists(escalated))
        .annotate(sla=sla_expression(now, prefix=""))
    )
    if team_ids is not None:
        qs = qs.filter(team_id__in=team_ids)
    if filters.team_id:
        qs = qs.filter(team_id=filters.team_id)
    if filters.mine and user is not None:
        qs = qs.filter(assignee_id=getattr(getattr(user, "profile", None), "agent_id", None))
    counts = qs.aggregate(
        total=Count("pk"), unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        **{state: Count("pk", filter=Q(sla=state)) for state in SLA_STATES},
    )
    if filters.sla:
        qs = qs.filter(sla=filters.sla)
    order = [*urgency_order(prefix=""), "pk"]
    page_ids = list(qs.order_by(*order).values_list("pk", flat=True)[offset:offset + limit])  # narrow first
    page = list(Ticket.objects.filter(pk__in=page_ids).annotate(sla=sla_expression(now, prefix=""))
                .select_related("team", "stage", "assignee", "clock").order_by(*order))
    rows = [QueueRow(ticket=t, sla=t.sla) for t in page]
    _attach(rows, now=now, server_version=server_version)
    total = counts.get(filters.sla, 0) if filters.sla else counts["total"]
    return Queue(rows=rows, counts=counts, total=total)


def queue_row(ticket_id: int, *, now: datetime, server_version: str = "") -> QueueRow | None:
    """One ticket's row as the queue shows it (after an action): its open escalation, if any."""
    escalation = (
        Escalation.objects.filter(ticket_id=ticket_id, ended_at__isnull=True)
        .annotate(sla=sla_expression(now))
        .select_related("ticket__team", "ticket__stage", "ticket__assignee", "ticket__clock", "level",
                        "accepted_by")
        .first()
    )
    if escalation is not None:
        row = QueueRow(ticket=escalation.ticket, escalation=escalation, sla=escalation.sla)
    else:
        ticket = (Ticket.objects.filter(pk=ticket_id).annotate(sla=sla_expression(now, prefix=""))
                  .select_related("team", "stage", "assignee", "clock").first())
        if ticket is None:
            return None
        row = QueueRow(ticket=ticket, sla=ticket.sla)
    _attach([row], now=now, server_version=server_version)
    return row


def _attach(rows: list[QueueRow], *, now: datetime, server_version: str) -> None:
    """The write-backs not (yet) applied in Odoo, and the Odoo link, for each row: one query."""
    waiting = waiting_actions([row.ticket.pk for row in rows], now=now)
    for row in rows:
        row.actions = waiting.get(row.ticket.pk, [])
        row.odoo_url = odoo_link(row.ticket.pk, server_version=server_version)


def odoo_link(ticket_id: int, *, server_version: str) -> str:
    """Where a ticket opens in Odoo, for the pages (which never import escalations.odoo themselves)."""
    return ticket_url(ticket_id, server_version=server_version)


def waiting_actions(ticket_ids: list[int], *, now: datetime) -> dict[int, list[OdooAction]]:
    """Actions pending, waiting for confirmation, or failed or changed by Odoo recently, per ticket, in the
    order made."""
    if not ticket_ids:
        return {}
    recent_failure = Q(state__in=[OdooAction.State.FAILED, OdooAction.State.CHANGED]) & Q(
        created_at__gte=now - SHOW_FAILED_FOR)
    shown = Q(state__in=[*OdooAction.SENDABLE_STATES, OdooAction.State.INFLIGHT, OdooAction.State.STALE])
    # The agent an accept or a reassign sets, by name, in the same query (its id is in the payload).
    assignee = Agent.objects.filter(pk=Cast(OuterRef("assignee_key"), IntegerField())).values("name")[:1]
    waiting: dict[int, list[OdooAction]] = {}
    for action in (OdooAction.objects.filter(ticket__in=ticket_ids).filter(shown | recent_failure)
                   .annotate(assignee_key=KT("payload__values__user_id"), assignee_name=Subquery(assignee))
                   .select_related("created_by").order_by("pk")):
        waiting.setdefault(action.ticket_id, []).append(action)
    return waiting


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    return None if deadline is None else int((deadline - now).total_seconds())


__all__ = [
    "SLA_STATES", "Queue", "QueueFilters", "QueueRow", "at_risk_not_escalated", "escalation_queue",
    "odoo_link", "open_escalations", "queue_counts", "queue_row", "seconds_left", "sla_expression",
    "urgency_order", "waiting_actions",
]


# -- the change stamp ----------------------------------------------------------------------------------

# A screen shows times that change by themselves (an SLA turning at risk, a sync growing stale): the
# stamp changes at least this often, so that an open screen re-reads the queue once a minute at most.
STAMP_PERIOD_SECONDS = 60


def change_stamp(*, now: datetime) -> str:
    """What changes whenever anything a queue, a wall or the feed shows may have changed, read in ONE
    query over indexes, without reading the queue: an unchanged poll then costs next to nothing.

    Every change to an escalation writes an event (raise, accept, move up, de-escalate, end, undo);
    every write-back is an outbox row whose state shows on its ticket's row (a new row moves the
    highest id, one that lands or goes stale moves the counts of those on their way); the mirror's
    tickets change with a sync page, which moves the cursor, or with a webhook's targeted read, which
    stamps `pushed_at` (escalations.push); the sync's health shows on every
    screen. Plus the minute: SLA states and staleness change with time alone, and clocks recomputed
    after a policy change move nothing above, so a screen re-reads at least once a minute."""
    actions, events = OdooAction._meta.db_table, EscalationEvent._meta.db_table
    state = SyncState._meta.db_table
    pending = [OdooAction.State.QUEUED, OdooAction.State.INFLIGHT, OdooAction.State.AWAITING_RETRY]
    sql = (
        f'SELECT (SELECT MAX(id) FROM "{events}"), (SELECT MAX(id) FROM "{actions}"), '
        f'(SELECT COUNT(*) FROM "{actions}" WHERE state IN (%s, %s, %s)), '
        f'(SELECT COUNT(*) FROM "{actions}" WHERE state = %s), '
        f's.cursor_write_date, s.cursor_odoo_id, s.last_success_at, s.last_error, s.auth_failed_at, '
        f's.invisible_tickets, s.pushed_at FROM (SELECT 1 AS one) AS one LEFT JOIN "{state}" AS s ON s.id = 1'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*pending, OdooAction.State.STALE])
        row = cursor.fetchone()
    minute = int(now.timestamp()) // STAMP_PERIOD_SECONDS
    return hashlib.blake2b(repr((row, minute)).encode(), digest_size=8).hexdigest()
