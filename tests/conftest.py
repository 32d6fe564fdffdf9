"""Fixtures shared by the whole suite: a running Odoo simulator and the app pointed at it."""

import os
from datetime import UTC, datetime

import pytest

# The Playwright sync API runs an event loop in the main thread; Django's DB access at test set-up
# would refuse to run next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from escalations.odoo.simulator.seed import build_state
from escalations.odoo.simulator.server import SimulatorServer

API_KEY = "test-api-key-0123456789"
T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # a Wednesday, mid-morning


@pytest.fixture(scope="session", autouse=True)
def static_root():
    """Whitenoise serves STATIC_ROOT, which collectstatic makes in production and the settings do not
    make: the suite makes it (empty), as the demo does."""
    from django.conf import settings

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (the process's local memory): wrong wall tokens one test
    sends must not count against the next (dashboard.token_guesses), nor one test's sessions linger."""
    from django.core.cache import cache

    cache.clear()


def start_simulator(*, flavour="enterprise", version=17, tickets=60, seed=7, now=T0):
    state = build_state(
        flavour=flavour, version=version, seed=seed, tickets=tickets, api_key=API_KEY, now=now
    )
    server = SimulatorServer(state, host="127.0.0.1", port=0)
    server.start()
    return server


@pytest.fixture
def simulator(request):
    """A simulator (Enterprise 17 unless the test is parametrized with `flavour_version`)."""
    flavour, version = getattr(request, "param", ("enterprise", 17))
    server = start_simulator(flavour=flavour, version=version)
    yield server
    server.stop()


@pytest.fixture
def odoo(settings, simulator):
    """The app's settings pointed at the running simulator; returns the simulator."""
    settings.ODOO_URL = simulator.url
    settings.ODOO_WEB_URL = simulator.url
    settings.ODOO_DB = simulator.state.db_name
    settings.ODOO_USER = "console@example.com"
    settings.ODOO_API_KEY = API_KEY
    settings.ODOO_TIMEOUT = 5
    return simulator


FLAVOURS = [("enterprise", 16), ("enterprise", 17), ("enterprise", 18), ("oca", 16), ("oca", 17), ("oca", 18)]
# Odoo 19, which the console speaks JSON-2 to: added to a few key tests, not the whole matrix.
JSON2_FLAVOURS = [("enterprise", 19), ("oca", 19)]


# -- the named cast: a team lead, an agent of the team, and someone from elsewhere --------------------


@pytest.fixture
def lead(db):
    from tests.factories import UserFactory

    return UserFactory(username="lead", first_name="Lena", last_name="Lead")


@pytest.fixture
def agent(db):
    from tests.factories import UserFactory

    return UserFactory(username="agent", first_name="Abel", last_name="Agent")


@pytest.fixture
def outsider(db):
    from tests.factories import UserFactory

    return UserFactory(username="outsider", first_name="Otto", last_name="Outsider")


# -- a mirrored ticket of the simulator, and a lead of its team who may act on it -----------------


@pytest.fixture
def ticket(odoo):
    from escalations.sync.run import sync_odoo
    from tests.outbox_helpers import a_ticket

    sync_odoo(full=True)
    return a_ticket()


@pytest.fixture
def team_lead(lead, ticket):
    from tests.outbox_helpers import free_agent, make_lead

    return make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))


# -- a real SMTP server on loopback, with the app's email settings pointed at it --------------------


@pytest.fixture
def smtp(settings):
    from tests.smtp import SmtpServer, point_settings_at

    server = SmtpServer().start()
    point_settings_at(settings, server.port)
    yield server
    server.stop()


# -- a team's two-level escalation policy (modules with their own `policy` override it) -------------


@pytest.fixture
def policy(db):
    from tests.factories import EscalationPolicyFactory

    return EscalationPolicyFactory()


@pytest.fixture
def level1(policy):
    return policy.levels.get(number=1)
