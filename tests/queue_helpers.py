"""Build queue rows without the engine: a ticket, its clock, and an open escalation at a level."""

from datetime import timedelta

from escalations.models import Trigger
from tests.conftest import T0
from tests.wall_factories import escalated_ticket


def escalated(level, *, left: timedelta | None = timedelta(hours=3), accepted_by=None,
              raised=T0 - timedelta(minutes=20), **ticket):
    """An open escalation, raised by hand at `level`, of a new ticket of the level's team whose nearest
    deadline is `left` from T0 (at risk an hour before it)."""
    return escalated_ticket(
        team=level.policy.team, left=left, now=T0, ticket_fields=ticket, policy=level.policy, level=level,
        trigger=Trigger.MANUAL, raised_at=raised, level_since=raised, accepted_by=accepted_by,
        accepted_at=raised + timedelta(minutes=1) if accepted_by else None,
    )
