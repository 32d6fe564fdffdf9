"""Two leads accepting one ticket at the same moment, each in its own connection: exactly one wins."""

import threading

import pytest
from django.db import connection

from escalations.actions import action_accept
from escalations.engine import EscalationChanged, escalation_raise_manual
from escalations.models import AuditEntry, Escalation, OdooAction
from escalations.sync.run import sync_odoo
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import a_ticket, free_agent, make_lead


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_accepts_exactly_one_wins_and_the_other_is_told_who(odoo, lead, outsider, agent):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    sync_odoo(full=True)
    ticket = a_ticket()
    policy = EscalationPolicyFactory(team=ticket.team)
    escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent, reason="VIP")
    first = make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    second = make_lead(outsider, teams=[ticket.team], agent=free_agent(ticket.assignee, first.profile.agent))

    for _ in range(5):  # several rounds: the race must hold every time, not once by luck
        OdooAction.objects.all().delete()
        AuditEntry.objects.all().delete()
        Escalation.objects.filter(ticket=ticket).update(accepted_at=None, accepted_by=None)
        barrier, outcomes = threading.Barrier(2), {}

        def accept(user, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                outcomes[user.username] = action_accept(ticket=ticket, user=user)
            except EscalationChanged as exc:
                outcomes[user.username] = exc.message
            finally:
                connection.close()

        threads = [threading.Thread(target=accept, args=(u,)) for u in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

        won = [name for name, out in outcomes.items() if isinstance(out, OdooAction)]
        lost = [out for out in outcomes.values() if isinstance(out, str)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        winner = first if won == ["lead"] else second
        assert f"{winner.get_full_name() or winner.username} has already accepted" in lost[0]
        assert OdooAction.objects.count() == AuditEntry.objects.count() == 1
        assert Escalation.objects.get(ticket=ticket).accepted_by == winner
