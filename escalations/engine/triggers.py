"""Which open tickets fire each trigger now: one queryset-building function per trigger.

Each function returns a queryset annotated with the columns of a new escalation:
`e_ticket`, `e_policy`, `e_key` (names the occurrence: the same occurrence never raises twice),
`e_facts` (the values that fired it, shown to people) and `e_occurred_at` (when the occurrence
happened, for the de-escalation rule in `candidates`). Nothing here loops over tickets: the
querysets are compiled into `INSERT .. SELECT` by escalations.engine.raise_.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, JSONObject, Lower

from escalations.models import Ticket, TicketStageChange, Trigger

from .sql import IsoUtc, SecondsBetween

POLICY = "team__escalation_policy__"


def _at(now: datetime) -> Value:
    return Value(now, output_field=DateTimeField())


def _plus(timestamp: str, duration: str):
    return ExpressionWrapper(F(timestamp) + F(duration), output_field=DateTimeField())


def _minus(now: datetime, duration: str):
    return ExpressionWrapper(_at(now) - F(duration), output_field=DateTimeField())


def _visible_open_tickets():
    # A ticket Odoo no longer shows the console raises nothing: its mirrored values are stale (it
    # may be solved by now), and nobody could act on it from here. See escalations_move_up.
    return Ticket.objects.open().filter(invisible_since__isnull=True)


def _open_tickets(switch: dict) -> QuerySet:
    """Open tickets of teams whose active policy has the trigger switched on."""
    switch = {POLICY + name: value for name, value in switch.items()}
    return _visible_open_tickets().filter(**{POLICY + "active": True}, **switch).annotate(
        e_ticket=F("pk"), e_policy=F(POLICY + "id")
    )


def sla_at_risk(*, now: datetime) -> QuerySet:
    # Key: the deadline that went at risk; a new deadline (next SLA stage) is a new occurrence.
    return _open_tickets({"on_sla_at_risk": True}).filter(
        clock__paused=False, clock__at_risk_at__lte=now, clock__deadline__gt=now
    ).annotate(
        e_key=IsoUtc("clock__deadline"),
        e_occurred_at=F("clock__at_risk_at"),
        e_facts=JSONObject(
            deadline=IsoUtc("clock__deadline"), at_risk_at=IsoUtc("clock__at_risk_at"),
            seconds_left=SecondsBetween(F("clock__deadline"), _at(now)),
        ),
    )


def sla_breached(*, now: datetime) -> QuerySet:
    return _open_tickets({"on_sla_breached": True}).filter(
        clock__paused=False, clock__deadline__lte=now
    ).annotate(
        e_key=IsoUtc("clock__deadline"),
        e_occurred_at=F("clock__deadline"),
        e_facts=JSONObject(
            deadline=IsoUtc("clock__deadline"), seconds_left=SecondsBetween(F("clock__deadline"), _at(now)),
        ),
    )


def no_update(*, now: datetime) -> QuerySet:
    # Key: the last update that went stale; any later write in Odoo starts a new occurrence.
    return _open_tickets({"no_update_after__isnull": False}).filter(
        odoo_write_date__lte=_minus(now, POLICY + "no_update_after")
    ).annotate(
        e_key=IsoUtc("odoo_write_date"),
        e_occurred_at=_plus("odoo_write_date", POLICY + "no_update_after"),
        e_facts=JSONObject(
            last_update=IsoUtc("odoo_write_date"),
            seconds_idle=SecondsBetween(_at(now), F("odoo_write_date")),
        ),
    )


def unassigned(*, now: datetime) -> QuerySet:
    # Priorities are Odoo's one-character keys "0" to "3", so text order is priority order.
    return _open_tickets({"unassigned_after__isnull": False}).exclude(
        **{POLICY + "unassigned_priority": ""}
    ).filter(
        assignee__isnull=True,
        priority__gte=F(POLICY + "unassigned_priority"),
        created_at__lte=_minus(now, POLICY + "unassigned_after"),
    ).annotate(
        e_key=IsoUtc("created_at"),
        e_occurred_at=_plus("created_at", POLICY + "unassigned_after"),
        e_facts=JSONObject(
            priority=F("priority"), created_at=IsoUtc("created_at"),
            seconds_unassigned=SecondsBetween(_at(now), F("created_at")),
        ),
    )


def escalation_tag(*, now: datetime) -> QuerySet:
    # Odoo keeps no time for a tag being set; the ticket's last write is the latest it can have been,
    # so a tag that was already there when a lead de-escalated does not raise again.
    tagged = Ticket.tags.through.objects.filter(
        ticket_id=OuterRef("pk"), tag__name__iexact=OuterRef(POLICY + "escalate_tag")
    )
    return _open_tickets({}).exclude(**{POLICY + "escalate_tag": ""}).filter(Exists(tagged)).annotate(
        e_key=Lower(POLICY + "escalate_tag"),
        e_occurred_at=F("odoo_write_date"),
        e_facts=JSONObject(tag=F(POLICY + "escalate_tag")),
    )


def reopened(*, now: datetime) -> QuerySet:
    """The latest move of each open ticket from a closed stage back to an open one."""
    policy = "ticket__" + POLICY
    reopenings = TicketStageChange.objects.filter(from_stage__is_closed=True, stage__is_closed=False)
    later = reopenings.filter(ticket_id=OuterRef("ticket_id")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id"))
    )
    still_open = _visible_open_tickets().filter(pk=OuterRef("ticket_id"))
    return reopenings.filter(
        Exists(still_open), ~Exists(later), **{policy + "active": True, policy + "on_reopened": True}
    ).annotate(
        e_ticket=F("ticket_id"),
        e_policy=F(policy + "id"),
        e_key=Cast("id", CharField()),
        e_occurred_at=F("at"),
        e_facts=JSONObject(
            reopened_at=IsoUtc("at"), from_stage=F("from_stage__name"), stage=F("stage__name"),
        ),
    )


# The order in which they are tried: a ticket that fires several gets the first, its most
# urgent reason; the database keeps it to one open escalation.
TRIGGERS = [
    (Trigger.SLA_BREACHED, sla_breached),
    (Trigger.SLA_AT_RISK, sla_at_risk),
    (Trigger.REOPENED, reopened),
    (Trigger.TAG, escalation_tag),
    (Trigger.UNASSIGNED, unassigned),
    (Trigger.NO_UPDATE, no_update),
]
