"""The mirror's assignee history: Odoo keeps none a console can read (Enterprise's `assign_date` is the
first assignment's only), so the sync notes each change of assignee it sees, and the hand-offs report
puts a breach's time on each holder, reassignments made in Odoo included."""

from datetime import timedelta

import pytest

from escalations.models import ReportFact, Ticket, TicketAssigneeChange
from escalations.reports.handoffs import handoff_facts_insert
from escalations.sync.run import sync_odoo
from tests.conftest import T0
from tests.factories import AgentFactory, TicketFactory

pytestmark = pytest.mark.django_db
HOUR = 3600


def test_each_change_of_assignee_in_odoo_is_noted_with_who_before_and_when(odoo, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    state = odoo.state
    sync_odoo(full=True)
    assert not TicketAssigneeChange.objects.exists()  # a new ticket's first assignee is its own row's
    ticket = next(t for t in Ticket.objects.open().exclude(assignee=None).select_related("team")
                  if t.team.members.exclude(pk=t.assignee_id).exists())
    first, other = ticket.assignee_id, ticket.team.members.exclude(pk=ticket.assignee_id).first().pk

    state.clock.advance(timedelta(minutes=5))
    state.call("helpdesk.ticket", "write", [[ticket.pk], {"user_id": other}])
    sync_odoo()
    state.clock.advance(timedelta(minutes=5))
    state.call("helpdesk.ticket", "write", [[ticket.pk], {"user_id": False}])
    sync_odoo()
    sync_odoo(full=True)  # everything read again: nothing new to note

    changes = list(TicketAssigneeChange.objects.filter(ticket=ticket).values_list(
        "from_assignee_id", "assignee_id", "at"))
    assert [c[:2] for c in changes] == [(first, other), (other, None)]
    assert changes[1][1:] == (None, Ticket.objects.get(pk=ticket.pk).odoo_write_date)
    assert changes[1][2] - changes[0][2] == timedelta(minutes=5)  # Odoo's times, not the sync's
    assert TicketAssigneeChange.objects.count() == 2


def test_hand_offs_count_reassignments_made_in_odoo_for_each_holder(db):
    ana, ben, cai = AgentFactory(), AgentFactory(), AgentFactory()
    # Assigned to Ana at its creation (Odoo's assign_date, the first assignment), then moved in Odoo.
    ticket = TicketFactory(assignee=cai, created_at=T0, assigned_at=T0)
    for before, after, hours in ((ana, ben, 1), (ben, cai, 3)):
        TicketAssigneeChange.objects.create(ticket=ticket, from_assignee=before, assignee=after,
                                            at=T0 + timedelta(hours=hours))

    handoff_facts_insert(breached=[(ticket.pk, T0 + timedelta(hours=4), ticket.team_id)])

    held = dict(ReportFact.objects.filter(figure=ReportFact.Figure.HANDOFF_AGENT, ticket=ticket)
                .values_list("key", "seconds"))
    assert held == {str(ana.pk): HOUR, str(ben.pk): 2 * HOUR, str(cai.pk): HOUR}
