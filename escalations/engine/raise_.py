"""Raising: each trigger's firing tickets become escalations at their policy's first level.

One `INSERT .. SELECT .. ON CONFLICT DO NOTHING` per trigger, plus one for its events and one for
its markers in Odoo. The SELECT leaves out tickets that already have an open escalation, occurrences
already raised once under the same policy, and occurrences older than a lead's de-escalation of the
ticket under that policy; the unique
constraints catch what a concurrent evaluation inserted meanwhile, so two workers never raise the
same thing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import DateTimeField, Exists, OuterRef, QuerySet, Subquery, Value

from escalations.models import EndReason, Escalation, EscalationLevel

from .events import events_insert_raised
from .markers import markers_insert_raised
from .sql import insert_select
from .triggers import TRIGGERS

COLUMNS = ["ticket", "policy", "level", "trigger", "trigger_key", "facts", "raised_at", "level_since",
           "end_reason", "run_token"]


def candidates(qs: QuerySet, *, trigger: str, now: datetime, token: str) -> QuerySet:
    """The rows to insert for one trigger's queryset (see escalations.engine.triggers)."""
    first_level = EscalationLevel.objects.filter(policy_id=OuterRef("e_policy")).order_by("number")
    ticket_escalations = Escalation.objects.filter(ticket_id=OuterRef("e_ticket"))
    already_open = ticket_escalations.filter(ended_at__isnull=True)
    # An occurrence belongs to the policy that raised it: a ticket moved to another team (whose policy
    # ended the old escalation as out of scope) is raised there for the same breach, since nobody on
    # the new team has been told; a breach keeps its deadline when both teams have equal SLAs.
    under_policy = ticket_escalations.filter(policy_id=OuterRef("e_policy"))
    already_raised = under_policy.filter(trigger=trigger, trigger_key=OuterRef("e_key"))
    # The de-escalation rule: a lead who de-escalated a ticket has seen everything that had
    # happened to it by then; only what happens afterwards raises it again (under that policy).
    seen_by_lead = under_policy.filter(
        end_reason=EndReason.DE_ESCALATED, ended_at__gte=OuterRef("e_occurred_at")
    )
    at = Value(now, output_field=DateTimeField())
    return qs.annotate(
        e_level=Subquery(first_level.values("id")[:1]), e_trigger=Value(trigger), e_raised_at=at,
        e_level_since=at, e_end_reason=Value(""), e_token=Value(token),
    ).filter(
        ~Exists(already_open), ~Exists(already_raised), ~Exists(seen_by_lead), e_level__isnull=False,
    ).order_by("e_ticket").values_list(
        "e_ticket", "e_policy", "e_level", "e_trigger", "e_key", "e_facts", "e_raised_at", "e_level_since",
        "e_end_reason", "e_token",
    )


def escalations_raise_trigger(*, trigger: str, build: Callable[..., QuerySet], now: datetime,
                              token: str) -> list[int]:
    """Raise one trigger's escalations and write their events, in one transaction."""
    rows = candidates(build(now=now), trigger=trigger, now=now, token=token)
    with transaction.atomic():
        # Ordered by ticket, so two concurrent evaluations wait on each other's rows in the same
        # order and cannot deadlock.
        ids = insert_select(Escalation, COLUMNS, rows)
        if ids:
            events_insert_raised(token=token, now=now)
            markers_insert_raised(token=token, now=now)
    return ids


def escalations_raise(*, now: datetime, token: str) -> list[int]:
    raised: list[int] = []
    for number, (trigger, build) in enumerate(TRIGGERS):
        raised += escalations_raise_trigger(trigger=trigger, build=build, now=now, token=f"{token}r{number}")
    return raised
