"""What saving a draft would do now: the engine's own evaluation over the mirror, rolled back.

The drafts are written and the teams' clocks refreshed in a transaction that is always rolled back;
inside it the engine's steps run as an evaluation runs them (end, move up, then raise trigger by
trigger, escalations.engine.evaluate), the raising scoped to the drafts' policies. Nothing of it
is kept: no escalation, event, marker or notice, and nothing is sent (work handed to a worker waits
for a commit that never comes). So the counts are what the next evaluation would do, by the same
code, for as long as the mirror does not change.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from escalations.engine.progress import escalations_end, escalations_move_up
from escalations.engine.raise_ import escalations_raise_trigger
from escalations.engine.triggers import TRIGGERS
from escalations.models import Escalation, Team
from escalations.sla import refresh_clocks

from .draft import PolicyDraft
from .save import policy_write

TICKETS_SHOWN = 8


@dataclass(frozen=True)
class RaisedTicket:
    ticket_id: int
    reference: str
    name: str
    trigger: str


@dataclass
class Preview:
    """What the next evaluation would do under one team's draft."""

    team_id: int
    raised: int = 0
    by_trigger: dict[str, int] = field(default_factory=dict)  # in the engine's order of triggers
    moved_up: int = 0
    ended: int = 0
    tickets: list[RaisedTicket] = field(default_factory=list)  # the first raised, most urgent first


def policy_preview(*, team: Team, draft: PolicyDraft, policy_id: int | None,
                   now: datetime | None = None) -> Preview:
    """What saving `draft` as the team's policy would raise, move up and end now."""
    return policies_preview(drafts=[(team, draft, policy_id)], now=now, tickets_shown=TICKETS_SHOWN)[team.pk]


def policies_preview(*, drafts: list[tuple[Team, PolicyDraft, int | None]], now: datetime | None = None,
                     tickets_shown: int = 0) -> dict[int, Preview]:
    """policy_preview for several teams at once (the first run: every team's proposal), by team id."""
    now = now or timezone.now()
    token = uuid.uuid4().hex[:24]
    with transaction.atomic():
        policies = {team.pk: policy_write(team=team, draft=draft, policy_id=policy_id).pk
                    for team, draft, policy_id in drafts}
        refresh_clocks(team_ids=list(policies), now=now)
        escalations_end(now=now, token=f"{token}e")
        escalations_move_up(now=now, token=f"{token}u")
        ids = list(policies.values())

        def scoped(build):
            return lambda *, now: build(now=now).filter(e_policy__in=ids)

        # The raising step of escalations.engine.raise_.escalations_raise, trigger by trigger in its
        # order, scoped to these policies: a ticket that fires two triggers is raised for the first.
        for number, (trigger, build) in enumerate(TRIGGERS):
            escalations_raise_trigger(trigger=trigger, build=scoped(build), now=now,
                                      token=f"{token}r{number}")
        previews = {team_id: _read(team_id, policy_id, token, tickets_shown)
                    for team_id, policy_id in policies.items()}
        transaction.set_rollback(True)
    return previews


def _read(team_id: int, policy_id: int, token: str, tickets_shown: int) -> Preview:
    mine = Escalation.objects.filter(policy_id=policy_id)
    raised = mine.filter(run_token__startswith=f"{token}r")
    counts = Counter(raised.values_list("trigger", flat=True))
    preview = Preview(
        team_id=team_id, raised=sum(counts.values()),
        by_trigger={trigger: counts[trigger] for trigger, _ in TRIGGERS if counts[trigger]},
        moved_up=mine.filter(run_token=f"{token}u").count(), ended=mine.filter(run_token=f"{token}e").count(),
    )
    if tickets_shown and preview.raised:
        urgent = raised.order_by(F("ticket__clock__deadline").asc(nulls_last=True), "ticket_id")
        first = urgent[:tickets_shown]
        preview.tickets = [RaisedTicket(*row) for row in first.values_list(
            "ticket_id", "ticket__reference", "ticket__name", "trigger")]
    return preview
