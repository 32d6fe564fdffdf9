"""The markers in Odoo of the engine's set-based writes: one INSERT .. SELECT of MARK outbox rows per write.

Like the events (escalations.engine.events), each write finds its rows by its run token, in the same
transaction, so the outbox rows follow exactly the escalations that write changed, and commit with
them. Only levels with a marker give rows; the payload is the one escalations.outbox.markers.marker_payload
builds for a person's action, built here in SQL.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, JSONObject

from escalations.enqueue import SEND_ODOO_ACTION, enqueue_on_commit
from escalations.models import Escalation, EscalationLevel, OdooAction

from .sql import RandomUuid, insert_select

COLUMNS = ["ticket", "escalation", "kind", "payload", "created_at", "next_attempt_at", "state", "attempts",
           "last_error", "stale_changes", "confirmed", "action_uid"]
NO_TAG = Value("", output_field=CharField())
HAS_MARKER = Q(level__odoo_tag_name__gt="") | Q(level__odoo_priority__gt="")


def _insert(*, token: str, now: datetime, add, remove, priority, condition: Q) -> list[int]:
    at = Value(now, output_field=DateTimeField())
    # Every column an annotation, named in the order of COLUMNS, so the SELECT lists them in that order.
    rows = Escalation.objects.filter(run_token=token).annotate(m_remove=remove).filter(condition).annotate(
        m_ticket=F("ticket_id"), m_escalation=F("pk"), m_kind=Value(OdooAction.Kind.MARK),
        m_payload=JSONObject(mark=JSONObject(add=add, remove=F("m_remove"), priority=priority)),
        m_created_at=at, m_next_attempt_at=at, m_state=Value(OdooAction.State.QUEUED),
        m_attempts=Value(0, output_field=IntegerField()), m_last_error=Value(""),
        m_stale_changes=Value([], output_field=JSONField()),
        m_confirmed=Value(False, output_field=BooleanField()), m_action_uid=RandomUuid(),
    ).order_by("ticket_id").values_list(*(f"m_{column}" for column in COLUMNS))
    ids = insert_select(OdooAction, COLUMNS, rows)
    for pk in ids:
        enqueue_on_commit(SEND_ODOO_ACTION, pk)
    return ids


def markers_insert_raised(*, token: str, now: datetime) -> list[int]:
    """Set the marker of the level each escalation was raised at."""
    return _insert(token=token, now=now, add=F("level__odoo_tag_name"), remove=NO_TAG,
                   priority=F("level__odoo_priority"), condition=HAS_MARKER)


def markers_insert_moved_up(*, token: str, now: datetime) -> list[int]:
    """Set the new level's marker and take the previous level's tag off."""
    # The engine moves one level per write, so the level it came from is the one just below.
    previous = EscalationLevel.objects.filter(
        policy_id=OuterRef("policy_id"), number__lt=OuterRef("level__number")
    ).order_by("-number").values("odoo_tag_name")[:1]
    return _insert(token=token, now=now, add=F("level__odoo_tag_name"),
                   remove=Coalesce(Subquery(previous), NO_TAG), priority=F("level__odoo_priority"),
                   condition=HAS_MARKER | Q(m_remove__gt=""))


def markers_insert_ended(*, token: str, now: datetime) -> list[int]:
    """Take the tag off tickets whose escalation ended, unless the ticket is gone from Odoo."""
    return _insert(token=token, now=now, add=NO_TAG, remove=F("level__odoo_tag_name"), priority=NO_TAG,
                   condition=Q(m_remove__gt="", ticket__deleted_at__isnull=True))
