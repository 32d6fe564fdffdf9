"""The automation pages under malformed requests, as a supervisor, a logged-in stranger and an anonymous
visitor would send them: no 5xx, nothing saved or switched or undone by those without the right, and
the pages still answer for everybody afterwards (the corpus of tests/test_malformed_requests.py)."""

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalations.models import AutomationChange, AutomationRule, OdooAction
from tests.factories import StageFactory, TeamFactory, TicketFactory, UserFactory
from tests.malformed import BAD_IDS, BAD_NUMBERS, BAD_TEXTS, MARK, check
from tests.outbox_helpers import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    team = TeamFactory(name="Support EU")
    ticket = TicketFactory(team=team, odoo_write_uid=1, odoo_write_date=timezone.now() - timedelta(hours=1))
    rule = AutomationRule.objects.create(name="Urgent EU", trigger="schedule", every_minutes=60,
                                         action="set_priority", set_priority="3")
    rule.teams.set([team])
    change = AutomationChange.objects.create(
        rule=rule, ticket=ticket, action="set_priority", occasion_at=timezone.now(), at=timezone.now(),
        summary="Priority Medium → Urgent", before={"priority": "1"}, after={"priority": "3"})
    return {"team": team, "ticket": ticket, "rule": rule, "change": change, "stage": StageFactory()}


@pytest.fixture
def clients(world):
    boss, stranger, anonymous = Client(), Client(), Client()
    boss.force_login(make_lead(UserFactory(username="boss"), supervisor=True))
    stranger.force_login(UserFactory(username="stranger"))
    return {"boss": boss, "stranger": stranger, "anonymous": anonymous}


def snapshot() -> tuple:
    return (list(AutomationRule.objects.order_by("pk").values_list("pk", "name", "enabled", "set_priority")),
            list(AutomationChange.objects.order_by("pk").values_list("pk", "outcome")),
            OdooAction.objects.count())


def valid_form(world) -> dict:
    return {"name": "Rule", "teams": [world["team"].pk], "trigger": "schedule", "every_minutes": "60",
            "action": "set_priority", "set_priority": "3", "assign_method": "round_robin"}


ID_ROUTES = ["/automation/{}/edit/", "/automation/{}/preview/", "/automation/{}/switch/",
             "/automation/ledger/{}/undo/"]


def test_no_automation_route_answers_5xx_to_malformed_ids_and_methods(world, clients):
    before = snapshot()
    for client, route, bad_id, method in itertools.product(
            clients.values(), ID_ROUTES, BAD_IDS, ["get", "post", "delete"]):
        check(getattr(client, method)(route.format(bad_id)))
    for client, value in itertools.product(clients.values(), BAD_NUMBERS + [MARK]):
        check(client.get("/automation/ledger/", {"rule": value, "page": value}), sent=value)
    assert snapshot() == before


def test_strangers_and_visitors_cannot_write_switch_or_undo(world, clients):
    before = snapshot()
    rule, change = world["rule"], world["change"]
    for who in ("stranger", "anonymous"):
        client = clients[who]
        for url, body in (("/automation/new/", valid_form(world)),
                          (f"/automation/{rule.pk}/edit/", valid_form(world)),
                          (f"/automation/{rule.pk}/switch/", {"on": "1"}),
                          (f"/automation/ledger/{change.pk}/undo/", {})):
            response = client.post(url, body)
            check(response)
            assert response.status_code in (302, 403), (who, url, response.status_code)
    assert snapshot() == before


def test_a_supervisor_gets_clear_answers_to_malformed_rule_forms(world, clients):
    boss = clients["boss"]
    valid = valid_form(world)
    fields = {
        "name": BAD_TEXTS + [""], "teams": BAD_NUMBERS, "stages": BAD_NUMBERS, "tags": BAD_NUMBERS,
        "customers": BAD_NUMBERS, "priorities": ["9", MARK, "\x00"], "title_keywords": BAD_TEXTS,
        "trigger": ["never", MARK], "idle_minutes": BAD_NUMBERS, "every_minutes": BAD_NUMBERS,
        "action": ["close", "reply", MARK], "assign_method": [MARK], "max_open_per_agent": BAD_NUMBERS,
        "set_priority": ["9", MARK], "add_tags": BAD_NUMBERS, "move_to": BAD_NUMBERS,
        "escalate_level": BAD_NUMBERS,
    }
    for name, values in fields.items():
        for value in values:
            body = {**valid, name: value}
            check(boss.post("/automation/new/", body), sent=str(body))
            check(boss.post(f"/automation/{world['rule'].pk}/edit/", body), sent=str(body))
            check(boss.post(f"/automation/{world['rule'].pk}/switch/", {"on": value}), sent=str(value))
    # A rule that would close tickets is never saved, whatever the form says.
    closing = StageFactory(is_closed=True)
    check(boss.post("/automation/new/", {**valid, "action": "move", "move_to": closing.pk}))
    assert not AutomationRule.objects.filter(move_to=closing).exists()
    for client in clients.values():
        for page in ("/automation/", "/automation/ledger/", f"/automation/{world['rule'].pk}/preview/"):
            response = client.get(page)
            assert response.status_code in (200, 302), (page, response.status_code)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_in_any_rule_field_is_answered_without_5xx(world, clients, text):
    body = {**valid_form(world), "name": text, "title_keywords": text, "every_minutes": text,
            "teams": text, "priorities": text}
    check(clients["boss"].post("/automation/new/", body), sent=text)
