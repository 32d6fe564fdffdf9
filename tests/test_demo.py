"""The demo's own set-up: logins and a policy per team, so that the demo escalates from the start."""

import pytest
from django.contrib.auth import authenticate

from escalations.engine import evaluate_escalations
from escalations.management.demo_data import demo_logins_ensure, demo_policies_ensure
from escalations.models import Escalation, EscalationPolicy, Team
from escalations.sla import refresh_clocks
from escalations.sync.run import sync_odoo

pytestmark = pytest.mark.django_db


def test_demo_logins_get_a_fresh_password_each_start():
    first = demo_logins_ensure()
    second = demo_logins_ensure()
    assert first != second
    assert authenticate(username="lead", password=second) is not None
    assert authenticate(username="lead", password=first) is None
    assert authenticate(username="admin", password=second).is_superuser


def test_demo_policies_make_the_seeded_helpdesk_escalate(odoo):
    demo_logins_ensure()
    sync_odoo(full=True)
    assert demo_policies_ensure() == Team.objects.filter(active=True).count()
    assert demo_policies_ensure() == 0  # once per team
    refresh_clocks()

    result = evaluate_escalations()

    assert result.raised > 0
    assert EscalationPolicy.objects.get(team__name="Billing").levels.count() == 2
    assert not Escalation.objects.exclude(level__number=1).exists()
    assert evaluate_escalations().raised == 0
