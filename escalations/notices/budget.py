"""A person's notice budget: at most NOTICE_BUDGET single notices per sliding window of
NOTICE_BUDGET_WINDOW_MINUTES, at most one digest per window; and which notices pass quiet hours.

A budget belongs to an address (a user's or an extra address on a level), since that is what fills
up. It is read from the Notice rows themselves, so there is no counter to drift: the singles that went
or are going out in the window, its oldest one, the last digest, and the held notices already waiting
for a digest. On PostgreSQL the reading and the decision hold a transaction lock per address, so two
workers creating notices for one person at once cannot both spend the last single.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from escalations.models import EscalationLevel, Notice

Kind, State, Hold = Notice.Kind, Notice.State, Notice.Hold
# A single that went out or is going out spends the budget; a failed or held one did not reach anyone.
OUT = (State.PENDING, State.INFLIGHT, State.AWAITING_RETRY, State.SENT)
# Any number, as long as no other code takes advisory locks in this key space.
LOCK_SPACE = 15_001


def budget_window() -> timedelta:
    return timedelta(minutes=settings.NOTICE_BUDGET_WINDOW_MINUTES)


@dataclass
class Spent:
    """An address's window at one moment."""

    singles: int = 0
    oldest_single: datetime | None = None
    last_digest: datetime | None = None
    waiting_until: datetime | None = None  # when the held notices already waiting go out

    def room(self) -> int:
        return max(0, settings.NOTICE_BUDGET - self.singles)

    def next_digest_at(self, now: datetime) -> datetime:
        """The earliest a digest may go: at once, unless the singles have used the window (then when
        its oldest leaves it) or a digest went out in it (then one window after that one)."""
        at = now
        if self.singles >= settings.NOTICE_BUDGET and self.oldest_single is not None:
            at = max(at, self.oldest_single + budget_window())
        if self.last_digest is not None:
            at = max(at, self.last_digest + budget_window())
        return at


def lock_addresses(emails: Iterable[str]) -> None:
    """Hold each address's budget until the transaction ends. SQLite needs none: its transactions
    are IMMEDIATE (dashboard.settings), so writers already take turns. Sorted, so that two callers
    wait on each other in one order and never deadlock."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for email in sorted(set(emails)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_SPACE, email])


def spent_by_address(emails: Iterable[str], *, now: datetime) -> dict[str, Spent]:
    """Every address's window now, in two queries whatever the number of addresses."""
    emails = sorted(set(emails))
    spent = {email: Spent() for email in emails}
    singles = Q(state__in=OUT) & ~Q(kind=Kind.DIGEST)
    since = now - budget_window()
    # A notice that was held goes out when released, not when created.
    window = Notice.objects.filter(email__in=emails).filter(
        Q(created_at__gt=since) | Q(release_at__gt=since)
    ).alias(went=Coalesce("release_at", "created_at")).filter(went__gt=since).order_by()
    for row in window.values("email").annotate(
        singles=Count("id", filter=singles), oldest=Min("went", filter=singles),
        last_digest=Max("created_at", filter=Q(kind=Kind.DIGEST)),
    ):
        spent[row["email"]] = Spent(singles=row["singles"], oldest_single=row["oldest"],
                                    last_digest=row["last_digest"])
    waiting = Notice.objects.filter(email__in=emails, state=State.HELD, held_for=Hold.BUDGET).order_by()
    for row in waiting.values("email").annotate(until=Min("release_at")):
        spent[row["email"]].waiting_until = row["until"]
    return spent


def singles_in_window(email: str, *, now: datetime) -> int:
    return spent_by_address([email], now=now)[email].singles


def top_level_ids(level_ids: Iterable[int]) -> set[int]:
    """Of these levels, those that are the highest of their policy, in one query."""
    ids = {pk for pk in level_ids if pk is not None}
    if not ids:
        return set()
    highest = EscalationLevel.objects.filter(policy_id=OuterRef("policy_id")).order_by("-number")
    levels = EscalationLevel.objects.filter(pk__in=ids).annotate(top=Subquery(highest.values("number")[:1]))
    return {pk for pk, number, top in levels.values_list("pk", "number", "top") if number == top}


def passes_quiet_hours(notice: Notice, top_levels: set[int]) -> bool:
    """An escalation reaching its policy's top level is the one notice that wakes a person up."""
    return notice.kind in (Kind.ESCALATED, Kind.MOVED_UP) and notice.level_id in top_levels
