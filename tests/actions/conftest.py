"""Fixtures shared by the action tests: the mirrored ticket's policy and an escalation of it (the ticket
and a lead of its team come from tests/conftest.py)."""

import pytest

from escalations.engine import escalation_raise_manual
from tests.factories import EscalationPolicyFactory


@pytest.fixture
def policy(ticket):
    return EscalationPolicyFactory(team=ticket.team)


@pytest.fixture
def escalation(policy, ticket, agent):
    return escalation_raise_manual(ticket=ticket, level=policy.levels.get(number=1), user=agent, reason="VIP")
