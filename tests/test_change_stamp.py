"""The change stamp an open screen polls with: one query, and it moves with whatever a screen shows."""

from datetime import timedelta

import pytest

from escalations.engine import escalation_raise_manual
from escalations.models import EscalationEvent, OdooAction, SyncState
from escalations.queue import change_stamp
from tests.conftest import T0
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_the_stamp_is_one_query_and_stays_put_while_nothing_changes(django_assert_num_queries):
    SyncState.load()
    with django_assert_num_queries(1):
        first = change_stamp(now=T0)
    assert change_stamp(now=T0 + timedelta(seconds=30)) == first


@pytest.fixture
def escalation(policy, agent):
    ticket = TicketFactory(team=policy.team)
    return escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent, reason="",
                                   now=T0)


def test_the_stamp_moves_with_events_actions_their_states_the_sync_and_the_minute(escalation):
    now = T0
    seen = [change_stamp(now=now)]

    def moved():
        stamp = change_stamp(now=now)
        assert stamp not in seen
        seen.append(stamp)

    EscalationEvent.objects.create(escalation=escalation, kind="accepted", at=now)
    moved()
    action = OdooAction.objects.create(ticket=escalation.ticket, kind=OdooAction.Kind.NOTE, created_at=now)
    moved()
    OdooAction.objects.filter(pk=action.pk).update(state=OdooAction.State.STALE)
    moved()
    OdooAction.objects.filter(pk=action.pk).update(state=OdooAction.State.SENT)
    moved()
    SyncState.objects.update_or_create(pk=1, defaults={"cursor_write_date": now, "cursor_odoo_id": 9})
    moved()
    SyncState.objects.filter(pk=1).update(last_error="Odoo is unreachable")
    moved()
    TicketFactory()  # a mirror row alone (no sync page: no cursor) is not a change any screen shows yet
    assert change_stamp(now=now) == seen[-1]
    now += timedelta(minutes=1)
    moved()
