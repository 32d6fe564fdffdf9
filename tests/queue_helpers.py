"""Build queue rows without the engine: a ticket, its clock, and an open escalation at a level."""

from datetime import timedelta

from escalations.models import Escalation, Trigger
from tests.conftest import T0
from tests.factories import TicketClockFactory, TicketFactory


def escalated(level, *, left: timedelta | None = timedelta(hours=3), at_risk_before=timedelta(hours=1),
              accepted_by=None, raised=T0 - timedelta(minutes=20), **ticket):
    """An open escalation of a new ticket of the level's team whose nearest deadline is `left` from T0."""
    ticket = TicketFactory(team=level.policy.team, **ticket)
    deadline = T0 + left if left is not None else None
    TicketClockFactory(ticket=ticket, deadline=deadline,
                       at_risk_at=deadline - at_risk_before if deadline else None)
    return Escalation.objects.create(
        ticket=ticket, policy=level.policy, level=level, trigger=Trigger.MANUAL, trigger_key=str(ticket.pk),
        raised_at=raised, level_since=raised, accepted_by=accepted_by,
        accepted_at=raised + timedelta(minutes=1) if accepted_by else None,
    )
