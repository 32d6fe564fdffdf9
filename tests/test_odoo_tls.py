"""Odoo over HTTPS, as every production Odoo is reached: the simulator serves TLS with a certificate
made for the test, and both transports (odoorpc's JSON-RPC before Odoo 19, our JSON-2 client from 19)
verify it against the trusted authorities, which SSL_CERT_FILE names here. A certificate nobody trusts
is refused in plain words, and nothing is read."""

import subprocess

import pytest

from escalations.models import Ticket
from escalations.odoo.client import OdooClient
from escalations.odoo.errors import OdooUnavailable
from escalations.odoo.simulator.seed import build_state
from escalations.odoo.simulator.server import SimulatorServer, server_tls
from escalations.sync.run import sync_odoo
from tests.conftest import API_KEY, T0

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made by openssl for this run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def simulator(request, certificate):
    """The suite's simulator (see conftest's `odoo`, which points the settings at it), serving HTTPS with
    the run's certificate; its Odoo version from the test's parameter."""
    state = build_state(flavour="enterprise", version=request.param, seed=7, tickets=20, api_key=API_KEY,
                        now=T0)
    server = SimulatorServer(state, host="127.0.0.1", port=0, tls=server_tls(*map(str, certificate))).start()
    yield server
    server.stop()


@pytest.mark.parametrize("simulator", [17, 19], indirect=True, ids=["json-rpc", "json-2"])
def test_the_sync_reads_odoo_over_https_verifying_its_certificate(odoo, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the authority this machine trusts
    assert odoo.url.startswith("https://")

    result = sync_odoo(full=True)

    assert result.created == 20 and Ticket.objects.count() == 20
    client = OdooClient.connect()
    assert client.protocol == ("json2" if odoo.state.version >= 19 else "jsonrpc")


@pytest.mark.parametrize("simulator", [17, 19], indirect=True, ids=["json-rpc", "json-2"])
def test_a_certificate_nobody_trusts_is_refused_in_plain_words(odoo):
    with pytest.raises(OdooUnavailable) as refused:
        OdooClient.connect()

    assert "Odoo's TLS certificate was refused" in refused.value.message
    assert "SSL_CERT_FILE" in refused.value.message
    assert not Ticket.objects.exists()
