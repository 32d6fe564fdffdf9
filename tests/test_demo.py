"""The demo's own set-up: logins and a policy per team, so that the demo escalates from the start."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

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
    login = RequestFactory().post("/login/")  # django-axes counts logins by request
    assert authenticate(login, username="lead", password=second) is not None
    assert authenticate(login, username="lead", password=first) is None
    assert authenticate(login, username="admin", password=second).is_superuser


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


def test_the_demo_ships_two_routine_rules_that_act_on_the_seeded_helpdesk(odoo):
    from django.utils import timezone

    from escalations.automation.run import automation_run, plan_pass
    from escalations.management.demo_data import demo_rules_ensure
    from escalations.models import AutomationRule

    sync_odoo(full=True)
    assert demo_rules_ensure() == 2
    assert demo_rules_ensure() == 0  # once
    assign, urgent = AutomationRule.objects.order_by("pk")
    assert assign.enabled and urgent.enabled and assign.teams.exists()
    assert not assign.teams.exclude(odoo_assigns="").exists()
    (plan,) = plan_pass([urgent], now=timezone.now())
    assert plan.changes and all(p.values == {"priority": "3"} for p in plan.changes)
    run = automation_run()
    assert run.changes == len(plan.changes)
