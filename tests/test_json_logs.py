"""Logs as JSON lines (LOG_FORMAT=json): each with the request id or the Celery task id, and the ticket
where there is one; the API key and passwords never in them, in a full run (a sync and an action in a
real worker, logins through the web) nor when a line carries one by mistake."""

import io
import json
import logging
import logging.config

import pytest
from celery import current_app
from django.test import Client

from dashboard.logs import logging_config
from escalations.actions import action_accept
from escalations.engine import escalation_raise_manual
from escalations.logcontext import about_ticket
from escalations.models import OdooAction, Ticket
from escalations.outbox.send import outbox_send
from tests import workers
from tests.conftest import API_KEY
from tests.factories import EscalationPolicyFactory, UserFactory
from tests.outbox_helpers import a_ticket, free_agent, make_lead

pytestmark = pytest.mark.django_db
PASSWORD = "lena-real-password-4711"
WRONG = "lena-wrong-guess-0815"


def log_to(stream, *, log_format: str, level: str = "DEBUG") -> None:
    """The test process logs as LOG_FORMAT=<log_format> does, into `stream` instead of stderr."""
    logging.config.dictConfig(logging_config(log_format=log_format, level=level))
    for handler in logging.getLogger().handlers:
        handler.setStream(stream)


@pytest.fixture
def json_logs(settings):
    """Returns a reader of the lines logged so far."""
    stream = io.StringIO()
    log_to(stream, log_format="json")
    yield lambda: stream.getvalue().splitlines()
    logging.config.dictConfig(settings.LOGGING)


def parsed(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_line_is_one_json_object_with_time_level_logger_and_message(json_logs):
    logging.getLogger("escalations.anything").warning("Odoo said %s", "no")
    [line] = [entry for entry in parsed(json_logs()) if entry["logger"] == "escalations.anything"]
    assert line["message"] == "Odoo said no" and line["level"] == "WARNING"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert "request_id" not in line and "task_id" not in line and "ticket_id" not in line


def test_a_traceback_stays_inside_its_json_line(json_logs):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    lines = json_logs()
    [entry] = [e for e in parsed(lines) if e["logger"] == "x"]
    assert "ValueError: boom" in entry["exception"]
    assert all(line.startswith("{") for line in lines if line)


def test_the_request_id_comes_from_a_valid_header_and_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("given", ["", "two words", "x" * 129, '"quoted"', "new\nline"])
def test_a_missing_or_forged_request_id_is_replaced_by_a_new_one(client, given):
    headers = {"HTTP_X_REQUEST_ID": given} if given else {}
    first = client.get("/healthz", **headers)["X-Request-ID"]
    second = client.get("/healthz", **headers)["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0 and first != second


def test_lines_logged_during_a_request_carry_its_id_and_lines_about_a_ticket_its_id(json_logs, client):
    client.post("/login/", {"username": "nobody", "password": WRONG}, HTTP_X_REQUEST_ID="req-1")
    with about_ticket(4711):
        logging.getLogger("escalations.outbox").info("sending")
    logging.getLogger("escalations.outbox").info("after")
    entries = parsed(json_logs())
    failures = [e for e in entries if e["logger"].startswith("axes") and "failure" in e["message"].lower()]
    assert failures and all(e["request_id"] == "req-1" for e in failures)
    assert [e.get("ticket_id") for e in entries if e["logger"] == "escalations.outbox"] == [4711, None]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_secret_in_a_line_is_blanked_in_either_format(settings, log_format):
    settings.ODOO_API_KEY = "odoo-api-key-in-a-line-0001"
    settings.EMAIL_HOST_PASSWORD = "smtp-password-0002"
    settings.CELERY_BROKER_URL = f"redis{'://'}:broker-password-0003@127.0.0.1:6379/10"
    stream = io.StringIO()
    log_to(stream, log_format=log_format, level="INFO")
    try:
        logging.getLogger("odoorpc.rpc").warning(
            'POST {"args": ["db", 2, "%s"]} smtp %s broker %s', settings.ODOO_API_KEY,
            settings.EMAIL_HOST_PASSWORD, settings.CELERY_BROKER_URL)
        err = stream.getvalue()
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "POST" in err and err.count("[secret]") == 3
    assert "0001" not in err and "0002" not in err and "0003" not in err


def test_the_outbox_logs_each_send_with_its_ticket(json_logs, odoo, ticket, team_lead):
    action = action_accept(ticket=ticket, user=team_lead, seen_write_date=ticket.odoo_write_date)
    assert outbox_send(action.pk) == OdooAction.State.SENT
    [line] = [e for e in parsed(json_logs()) if e["message"] == f"Odoo action {action.pk} (accept): sent"]
    assert line["ticket_id"] == ticket.odoo_id


# -- a full run: a worker logging JSON, the web process too -----------------------------------------------


@pytest.fixture
def json_worker(odoo, tmp_path):
    env = {**workers.outbox_worker_env(odoo, tmp_path), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}
    path = tmp_path / "worker.log"
    with open(path, "w") as log:
        worker = workers.start_worker(env, log=log)
        yield path
        workers.stop_worker(worker)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_full_run_logs_json_lines_with_their_ids_and_never_the_api_key_or_a_password(
    odoo, json_worker, json_logs
):
    current_app.send_task("escalations.tasks.sync_full")
    assert workers.wait_for(lambda: Ticket.objects.exists()), json_worker.read_text()
    ticket = a_ticket()
    lead = UserFactory(username="lena")
    lead.set_password(PASSWORD)
    lead.save()
    make_lead(lead, teams=[ticket.team], agent=free_agent(ticket.assignee))
    level = EscalationPolicyFactory(team=ticket.team).levels.get(number=1)
    escalation_raise_manual(ticket=ticket, level=level, user=lead, reason="a VIP")

    Client().post("/login/", {"username": "lena", "password": WRONG}, HTTP_X_REQUEST_ID="wrong-1")
    web = Client()
    assert web.post("/login/", {"username": "lena", "password": PASSWORD}).status_code == 302
    web.post(f"/tickets/{ticket.pk}/accept/", {"seen_write_date": ticket.odoo_write_date.isoformat()},
             HTTP_X_REQUEST_ID="accept-1")
    # The web process speaks to Odoo too: the ticket page reads its conversation live.
    assert web.get(f"/tickets/{ticket.pk}/conversation/").status_code == 200
    assert workers.wait_for(lambda: OdooAction.objects.filter(state=OdooAction.State.SENT).exists()), \
        json_worker.read_text()
    action = OdooAction.objects.get()

    worker_lines = json_worker.read_text().splitlines()
    web_lines = json_logs()
    everything = "\n".join(worker_lines + web_lines)
    for secret in (API_KEY, PASSWORD, WRONG):
        assert secret not in everything

    worker = parsed(worker_lines)
    assert [e for e in worker if e.get("task_id") and "sync" in e["message"].lower()]
    [sent] = [e for e in worker if e["message"] == f"Odoo action {action.pk} (accept): sent"]
    assert sent["ticket_id"] == ticket.odoo_id and sent["task_id"]
    assert not [line for line in worker_lines if "succeeded in" in line and not line.startswith("{")]
    web = parsed(web_lines)
    assert [e for e in web if e.get("request_id") == "wrong-1" and "lena" in e["message"]]
