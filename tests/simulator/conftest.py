"""Fixtures for the simulator's conformance tests: servers on free ports, real clients logged in.

Nothing here touches a database: the simulator is plain Python and these tests drive it through
`odoorpc` and `xmlrpc.client` over HTTP, as the app and Odoo's own clients would.
"""

from datetime import UTC, datetime

import odoorpc
import pytest

from escalations.odoo.simulator.seed import build_state
from escalations.odoo.simulator.server import SimulatorServer

API_KEY = "k-123"
LOGIN = "console@example.com"
# A Friday, 10:00 in Brussels: working hours, with a weekend two SLA-hours away.
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_server():
    """Start simulators on demand; all are stopped at teardown."""
    servers = []

    def start(flavour="enterprise", version=17, tickets=60, seed=42, now=NOW, **kw):
        state = build_state(
            flavour=flavour, version=version, seed=seed, tickets=tickets, api_key=API_KEY, now=now, **kw
        )
        server = SimulatorServer(state, host="127.0.0.1", port=0).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def state(server):
    return server.state


def connect(server, api_key=API_KEY, timeout=10):
    odoo = odoorpc.ODOO("127.0.0.1", port=server.port, timeout=timeout)
    odoo.login("helpdesk", LOGIN, api_key)
    return odoo


@pytest.fixture
def odoo(server):
    return connect(server)


def kw(odoo, model, method, args, **kwargs):
    """`execute_kw` with the user's context, like odoorpc's model proxies send it."""
    kwargs.setdefault("context", odoo.env.context)
    return odoo.execute_kw(model, method, args, kwargs)
