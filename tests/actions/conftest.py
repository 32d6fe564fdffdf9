"""Fixtures shared by the action tests: a mirrored ticket, its team's policy, a lead of that team."""

import pytest

from escalations.engine import escalation_raise_manual
from escalations.sync import sync_odoo
from tests.factories import EscalationPolicyFactory
from tests.outbox_helpers import a_ticket, free_agent, make_lead


@pytest.fixture
def ticket(odoo):
    sync_odoo(full=True)
    return a_ticket()


@pytest.fixture
def policy(ticket):
    return EscalationPolicyFactory(team=ticket.team)


@pytest.fixture
def team_lead(lead, ticket):
    return make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))


@pytest.fixture
def escalation(policy, ticket, agent):
    return escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent, reason="VIP")
