"""Error reports (SENTRY_DSN): off unless set; when set, what reaches the service carries the error and
no personal data. The service is a local HTTP server that keeps what it is sent."""

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.conf import settings

from dashboard.error_reports import scrub_event

PROBE = (
    "import json, django; django.setup(); import sentry_sdk; c = sentry_sdk.get_client(); "
    "o = c.options if c.is_active() else {}; print(json.dumps({'active': c.is_active(), "
    "'pii': o.get('send_default_pii'), 'locals': o.get('include_local_variables'), "
    "'bodies': o.get('max_request_body_size'), "
    "'before_send': getattr(o.get('before_send'), '__qualname__', None)}))"
)
REPORT = (
    "import django; django.setup(); import sentry_sdk\n"
    "sentry_sdk.set_user({'id': 7, 'email': 'lena@example.com', 'ip_address': '10.1.2.3'})\n"
    "try:\n"
    "    raise ValueError('ceo@acme.example waits; screen /wall/tok-secret-123/')\n"
    "except ValueError as exc:\n"
    "    sentry_sdk.capture_exception(exc)\n"
    "sentry_sdk.flush(10)\n"
)


def run(code: str, **env) -> subprocess.CompletedProcess:
    """A process loading the test settings, with SENTRY_DSN only when given."""
    base = {key: value for key, value in os.environ.items() if key != "SENTRY_DSN"}
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
                          env={**base, "DJANGO_SETTINGS_MODULE": "tests.settings", **env}, timeout=60)


@pytest.fixture
def sentry_server():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding == "br":
                pytest.fail("the SDK sent brotli; the test server reads gzip and deflate only")
            received.append(body.decode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], received
    server.shutdown()


def test_without_sentry_dsn_nothing_is_initialised():
    assert not sentry_sdk.get_client().is_active()  # this test process: no SENTRY_DSN
    result = run(PROBE)
    assert json.loads(result.stdout)["active"] is False, result.stderr


def test_with_sentry_dsn_the_sdk_is_asked_for_no_personal_data():
    result = run(PROBE, SENTRY_DSN="http://publickey@127.0.0.1:9/1")
    assert json.loads(result.stdout) == {"active": True, "pii": False, "locals": False, "bodies": "never",
                                         "before_send": "scrub_event"}, result.stderr


def test_a_report_reaches_the_service_with_the_error_and_without_emails_or_a_wall_token(sentry_server):
    port, received = sentry_server
    result = run(REPORT, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1")
    assert result.returncode == 0, result.stderr
    sent = "\n".join(received)
    assert "ValueError" in sent and "[email] waits" in sent and "/wall/[token]/" in sent
    assert "example.com" not in sent and "acme.example" not in sent and "tok-secret-123" not in sent
    assert "10.1.2.3" not in sent


def test_before_send_keeps_the_error_and_drops_bodies_cookies_headers_and_who():
    event = {
        "message": "mail to ceo@acme.example failed",
        "exception": {"values": [{"type": "SMTPRecipientsRefused", "value": "ceo@acme.example refused"}]},
        "request": {"method": "POST", "url": "https://console.example/wall/abc123/",
                    "data": {"password": "hunter2"}, "cookies": {"sessionid": "s"},
                    "headers": {"Cookie": "sessionid=s", "Authorization": "Bearer t"},
                    "query_string": "token=abc123", "env": {"REMOTE_ADDR": "10.1.2.3"}},
        "user": {"id": 7, "email": "lena@example.com", "username": "lena", "ip_address": "10.1.2.3"},
        "breadcrumbs": {"values": [{"message": "notice to ceo@acme.example"}]},
    }
    scrubbed = scrub_event(event, {})
    assert scrubbed["request"] == {"method": "POST", "url": "https://console.example/wall/[token]/"}
    assert scrubbed["user"] == {"id": 7}
    assert "breadcrumbs" not in scrubbed
    assert scrubbed["message"] == "mail to [email] failed"
    assert scrubbed["exception"]["values"][0] == {"type": "SMTPRecipientsRefused", "value": "[email] refused"}
