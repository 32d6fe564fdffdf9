"""The history rows of the engine's set-based writes: one INSERT .. SELECT per write.

Each write stamps the rows it changed with its own token (`Escalation.run_token`), in the same
transaction as this insert, so the events describe exactly the rows that write changed: rows a
concurrent evaluation wrote carry that run's token and get that run's events.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import CharField, DateTimeField, F, IntegerField, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Coalesce, JSONObject

from escalations.models import Escalation, EscalationEvent, EscalationLevel

from .sql import insert_select

COLUMNS = ["escalation", "kind", "at", "actor", "rule", "from_level", "to_level", "from_level_name",
           "to_level_name", "reason", "facts"]


def _null():
    return Value(None, output_field=IntegerField())


def _level_name(level_id):
    name = EscalationLevel.objects.filter(pk=OuterRef(level_id)).values("name")[:1]
    return Coalesce(Subquery(name), Value(""), output_field=CharField())


def _insert(*, token: str, kind: str, now: datetime, rule, from_level, to_level, facts) -> None:
    rows = Escalation.objects.filter(run_token=token).order_by().annotate(
        v_kind=Value(kind), v_at=Value(now, output_field=DateTimeField()), v_actor=_null(),
        v_rule=rule, v_from=from_level, v_to=to_level, v_reason=Value("", output_field=TextField()),
        v_facts=facts,
    ).annotate(
        # The levels' names as they are now, beside their ids (the page shows these words for good).
        v_from_name=_level_name("v_from"), v_to_name=_level_name("v_to"),
    ).values_list("pk", "v_kind", "v_at", "v_actor", "v_rule", "v_from", "v_to", "v_from_name", "v_to_name",
                  "v_reason", "v_facts")
    insert_select(EscalationEvent, COLUMNS, rows, returning=False)


def events_insert_raised(*, token: str, now: datetime) -> None:
    _insert(token=token, kind=EscalationEvent.Kind.RAISED, now=now, rule=F("trigger"),
            from_level=_null(), to_level=F("level_id"), facts=F("facts"))


def events_insert_moved_up(*, token: str, now: datetime) -> None:
    # The engine moves one level per write, so the level it came from is the one just below.
    previous = EscalationLevel.objects.filter(
        policy_id=OuterRef("policy_id"), number__lt=OuterRef("level__number")
    ).order_by("-number").values("id")[:1]
    _insert(token=token, kind=EscalationEvent.Kind.MOVED_UP, now=now,
            rule=Value("not accepted in time"), from_level=Subquery(previous), to_level=F("level_id"),
            facts=JSONObject(level_since=F("level_since")))


def events_insert_ended(*, token: str, now: datetime) -> None:
    _insert(token=token, kind=EscalationEvent.Kind.ENDED, now=now, rule=F("end_reason"),
            from_level=F("level_id"), to_level=_null(), facts=JSONObject(end_reason=F("end_reason")))
