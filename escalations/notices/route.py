"""How each new notice goes out: alone at once, or held for a digest or for the end of quiet hours;
and writing a batch of new notices with that decision.

Per address, for the notices one call creates (one evaluation, one person's action, one sweep):
1. In the person's quiet hours, all but escalations reaching the policy's top level are held until
   the quiet hours end.
2. If notices are already waiting for a digest, the new ones join them.
3. Otherwise, if they fit in what is left of the budget and none is a backlog, each goes alone.
4. Otherwise all of them are held for one digest, which goes as soon as the budget allows it: at
   once after a first sync, when the window frees up after a burst.
A backlog is an escalation whose trigger fired over NOTICE_BACKLOG_MINUTES before it was raised: the
console was not running, or the policy is new. One email then lists them all.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from escalations.enqueue import SEND_NOTICE, enqueue_on_commit
from escalations.models import Escalation, Notice, Trigger

from .budget import Spent, lock_addresses, passes_quiet_hours, spent_by_address, top_level_ids
from .digest import notice_release_held
from .people import prefs_for, prefs_of, user_of

Kind, State, Hold = Notice.Kind, Notice.State, Notice.Hold


def notices_insert(rows: list[Notice], *, now: datetime, new: list[QuerySet]) -> int:
    """Route, write and send a batch of new notices; returns how many rows were new.

    `new` are querysets that together select the rows this batch may have created (several when one
    would take too many parameters); of those, the ones stamped `now` are new (the unique constraints
    made repeats create nothing). Call it in the transaction that wrote the events, or right after:
    sending waits for the commit.
    """
    if not rows:
        return 0
    with transaction.atomic():
        notices_route(rows, now=now)
        Notice.objects.bulk_create(rows, ignore_conflicts=True)
        created = [row for part in new for row in part.filter(created_at=now).values_list("pk", "state")]
        for pk, state in created:
            if state == State.PENDING:
                enqueue_on_commit(SEND_NOTICE, pk)
        due = {row.email for row in rows if row.state == State.HELD and row.release_at <= now}
        if due:
            notice_release_held(now=now, emails=due)
    return len(created)


def notices_route(rows: list[Notice], *, now: datetime) -> None:
    """Set each row's state (pending or held) and, when held, why and until when."""
    by_address: dict[str, list[Notice]] = defaultdict(list)
    for row in rows:
        by_address[row.email].append(row)
    prefs = prefs_for(row.user_id for row in rows)
    lock_addresses(by_address)
    spent = spent_by_address(by_address, now=now)
    person = {email: prefs_of(prefs, user_of(mine)) for email, mine in by_address.items()}
    quiet = {email for email, pref in person.items() if pref.in_quiet_hours(now)}
    tops = top_level_ids(row.level_id for email in quiet for row in by_address[email])
    for email, mine in by_address.items():
        pref = person[email]
        if email in quiet:
            for row in mine:
                if not passes_quiet_hours(row, tops):
                    _hold(row, Hold.QUIET, pref.quiet_ends(now))
        _budget([row for row in mine if row.state != State.HELD], spent[email], now=now)


def _budget(rows: list[Notice], spent: Spent, *, now: datetime) -> None:
    if not rows:
        return
    if spent.waiting_until is not None:
        until = spent.waiting_until
    elif len(rows) <= spent.room() and not any(is_backlog(row, now=now) for row in rows):
        for row in rows:
            row.state = State.PENDING
        return
    else:
        until = spent.next_digest_at(now)
    for row in rows:
        _hold(row, Hold.BUDGET, until)


def _hold(row: Notice, why: str, until: datetime) -> None:
    row.state, row.held_for, row.release_at = State.HELD, why, until


def is_backlog(row: Notice, *, now: datetime) -> bool:
    """An escalation raised long after its trigger fired: found by a first sync or after an outage."""
    if row.kind != Kind.ESCALATED:
        return False
    fired = trigger_fired_at(row.escalation)
    return fired is not None and now - fired > timedelta(minutes=settings.NOTICE_BACKLOG_MINUTES)


def trigger_fired_at(escalation: Escalation) -> datetime | None:
    """When the trigger's condition became true, from the facts it recorded; None when the moment is
    the raising itself (a tag, by hand)."""
    facts = escalation.facts or {}
    policy = escalation.policy

    def moment(key: str, after: timedelta | None = timedelta()) -> datetime | None:
        at = parse_datetime(facts.get(key) or "")
        return at + after if at is not None and after is not None else None

    if escalation.trigger == Trigger.SLA_BREACHED:
        return moment("deadline")
    if escalation.trigger == Trigger.SLA_AT_RISK:
        return moment("at_risk_at")
    if escalation.trigger == Trigger.REOPENED:
        return moment("reopened_at")
    if escalation.trigger == Trigger.NO_UPDATE:
        return moment("last_update", policy.no_update_after)
    if escalation.trigger == Trigger.UNASSIGNED:
        return moment("created_at", policy.unassigned_after)
    return None
