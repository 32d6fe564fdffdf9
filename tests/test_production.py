"""The production topology, started as production starts it: the make targets that the Procfile, the
Dockerfile and compose.yaml call (`make release`, `make web`, `make worker`, `make beat`), with the
production settings (DEBUG off, hashed static files), on PostgreSQL and Redis whatever the suite runs
on (a database of its own; the tests' Redis database), against the Odoo simulator and a real SMTP
server.

The release step, two gunicorn processes, two Celery workers and one beat; /readyz green on both web
processes once beat's sync ran; policies set up, then beat's evaluation raises escalations and the
workers email their notices; a lead logs in on one web process and makes 100 actions through both at
once. Each action is applied once in Odoo (one chatter note with its id), each notice sent once (one
email with its id), and /metrics counts the actions and their requests."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests import workers
from tests.conftest import API_KEY, start_simulator
from tests.ports import free_port
from tests.scratch_postgres import scratch_database
from tests.smtp import SmtpServer

pytestmark = pytest.mark.celery_worker

ACTIONS = 100
ACCEPTS = 20  # of the 100; the others are notes
SEED = (
    "from escalations.management.demo_data import demo_logins_ensure, demo_policies_ensure; "
    "from escalations.sla import refresh_clocks; "
    "password = demo_logins_ensure(); demo_policies_ensure(); refresh_clocks(); print('PASSWORD', password)"
)


class Topology:
    """The processes, each `make <target>` in its own process group, with its output in a file."""

    def __init__(self, folder: Path, env: dict):
        self.folder, self.env = folder, env
        self.processes: dict[str, subprocess.Popen] = {}

    def make(self, target: str, *, name: str | None = None, **env) -> subprocess.Popen:
        name = name or target
        with (self.folder / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                ["make", "--no-print-directory", target, f"PY={sys.executable}"], cwd=settings.BASE_DIR,
                env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.processes[name] = process
        return process

    def manage(self, *command: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
                         for path in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        # 1. every process asked to stop as a deploy asks (SIGTERM: gunicorn drains, Celery finishes its
        #    tasks); 2. whatever is left, killed, so that nothing outlives the test.
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)
            if process.poll() is None:
                process.wait(timeout=10)


def _signal_group(process, signum) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


@pytest.fixture
def odoo():
    server = start_simulator(tickets=120)
    yield server
    server.faults.clear()
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def topology(tmp_path, odoo, smtp):
    broker = workers.worker_broker_url()
    workers.purge_queue(broker)
    (tmp_path / "prometheus").mkdir()
    with scratch_database("production") as database:
        # The suite's own environment, less what production never has (conftest's async-unsafe
        # switch, which the deployment check refuses), plus production's variables.
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update({
            "DJANGO_SETTINGS_MODULE": "dashboard.settings", "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database, "CELERY_BROKER_URL": broker, "VAR_DIR": str(tmp_path / "var"),
            "ODOO_URL": odoo.url, "ODOO_DB": odoo.state.db_name, "ODOO_USER": "console@example.com",
            "ODOO_API_KEY": API_KEY, "ODOO_TIMEOUT": "5", "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
            # Beat's periods shortened from minutes to seconds; everything else as in production.
            "SYNC_INTERVAL_SECONDS": "2", "ENGINE_INTERVAL_SECONDS": "2", "BEAT_HEARTBEAT_SECONDS": "1",
            "OUTBOX_SWEEP_SECONDS": "2", "NOTICE_SWEEP_INTERVAL_SECONDS": "5",
            "AUTOMATION_INTERVAL_SECONDS": "3600", "OUTBOX_RETRY_BASE_SECONDS": "1",
            "OUTBOX_RETRY_MAX_SECONDS": "2",
            "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4", "CELERY_WORKER_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
        })
        logs = tmp_path / "logs"
        logs.mkdir()
        processes = Topology(logs, env)
        try:
            yield processes
        finally:
            processes.stop()
            print(processes.logs())  # shown by pytest when the test failed


def test_two_web_processes_two_workers_and_one_beat_apply_each_action_once_and_send_each_notice_once(
    topology, odoo, smtp
):
    webs = release_and_start(topology)
    # Policies for every team (as the demo's); beat's next evaluation raises the escalations.
    password = topology.manage("shell", "-c", SEED).split("PASSWORD ", 1)[1].strip()
    with psycopg.connect(topology.env["DATABASE_URL"], autocommit=True) as db:
        assert workers.wait_for(lambda: len(open_escalations(db)) >= ACCEPTS), topology.logs()
        actions = planned_actions(open_escalations(db))

        # A lead, logged in on one web process, acts through both, eight requests at a time.
        lead = Browser(webs[0])
        lead.log_in("lead", password)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda i: lead.post(webs[i % 2], *actions[i][1]), range(ACTIONS)))
        assert answers == [200] * ACTIONS

        assert workers.wait_for(lambda: action_states(db) == {"sent": ACTIONS}, timeout=60), (
            action_states(db), topology.logs())
        assert_each_action_applied_once(db, odoo, actions)
        assert_each_notice_sent_once(db, smtp, topology)
        assert_metrics_count_the_actions(db, webs[1])
    assert_static_files_are_hashed_compressed_and_kept(webs[1])


def release_and_start(topology: Topology) -> list[str]:
    """The release step on the empty database, then the processes; returns the web processes' URLs
    once both say ready (the database and the broker answer, beat's sync ran, a worker ran its
    heartbeat)."""
    release = subprocess.run(["make", "--no-print-directory", "release", f"PY={sys.executable}"],
                             cwd=settings.BASE_DIR, env=topology.env, capture_output=True, text=True,
                             timeout=180)
    assert release.returncode == 0 and "release done" in release.stdout, release.stdout + release.stderr
    webs = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    for number, web in enumerate(webs):
        topology.make("web", name=f"web-{number}", PORT=web.rsplit(":", 1)[1])
    topology.make("worker", name="worker-0")
    topology.make("worker", name="worker-1")
    topology.make("beat")
    for web in webs:
        assert workers.wait_for(lambda web=web: status(web + "/readyz") == 200, timeout=60), topology.logs()
    assert json.load(urllib.request.urlopen(webs[0] + "/readyz", timeout=5))["status"] == "ok"
    return webs


def assert_each_action_applied_once(db, odoo, actions) -> None:
    """One chatter note in Odoo per action (it carries the action's id), each note's text once, and
    the accepted tickets assigned to the lead."""
    uids = [str(uid) for (uid,) in db.execute(
        "SELECT action_uid FROM escalations_odooaction WHERE created_by_id IS NOT NULL")]
    bodies = [m["body"] for m in odoo.state.call(
        "mail.message", "search_read", [[("model", "=", "helpdesk.ticket")]], {"fields": ["body"]})]
    assert [sum(uid in body for body in bodies) for uid in uids] == [1] * ACTIONS
    for i in range(ACCEPTS, ACTIONS):
        assert sum(f"topology note {i}." in body for body in bodies) == 1
    lead_agent = db.execute("SELECT p.agent_id FROM escalations_profile p JOIN auth_user u "
                            "ON u.id = p.user_id WHERE u.username = 'lead'").fetchone()[0]
    assert {odoo_assignee(odoo, ticket) for ticket, _ in actions[:ACCEPTS]} == {lead_agent}


def assert_each_notice_sent_once(db, smtp, topology) -> None:
    """One email per notice row sent (a digest is one row), carrying its id. A notice sent twice
    would leave its id twice in the mailbox, however long the test waited."""
    def emailed():
        return sorted(int(r.message["X-Escalation-Notice"]) for r in smtp.mailbox.received)

    def sent():
        return sorted(n for (n,) in db.execute("SELECT id FROM escalations_notice WHERE state = 'sent'"))

    assert workers.wait_for(lambda: notices_settled(db) and emailed() == sent(), timeout=60), (
        notice_states(db), emailed(), sent(), topology.logs())
    assert sent()


def assert_metrics_count_the_actions(db, web: str) -> None:
    """/metrics, from either web process: the outbox's rows, and both processes' action requests
    (their counts added up through PROMETHEUS_MULTIPROC_DIR)."""
    sent_before = sent_actions(db)  # the engine's markers may still be on their way
    metrics = urllib.request.urlopen(web + "/metrics", timeout=10).read().decode()
    shown = sample(metrics, "console_outbox_actions", state="sent")
    assert ACTIONS <= sent_before <= shown <= sent_actions(db)
    posts = sum(sample(metrics, "console_http_request_duration_seconds_count", view=view, method="POST")
                for view in ("action-accept", "action-note"))
    assert posts == ACTIONS


def assert_static_files_are_hashed_compressed_and_kept(web: str) -> None:
    """The copies the release step made: named after their content, gzipped, kept for a year."""
    login_page = urllib.request.urlopen(web + "/login/", timeout=10).read().decode()
    css = re.search(r"/static/css/console\.[0-9a-f]{12}\.css", login_page)
    assert css, login_page
    request = urllib.request.Request(web + css.group(0), headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Content-Encoding"] == "gzip"
        assert "immutable" in answer.headers["Cache-Control"]


# -- the lead's browser, without a browser --------------------------------------------------------------


class Browser:
    """Cookies (the session and CSRF token) for 127.0.0.1 are one jar for both web processes: cookies
    do not depend on the port, and the session lives in the database both read."""

    def __init__(self, web: str):
        self.web = web
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def csrf(self) -> str:
        return next(c.value for c in self.cookies if c.name == "csrftoken")

    def log_in(self, username: str, password: str) -> None:
        self.opener.open(self.web + "/login/", timeout=10).read()
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": self.csrf()}).encode()
        with self.opener.open(self.web + "/login/", data=form, timeout=30) as answer:
            assert "/login/" not in answer.url, "the lead's login was refused"

    def post(self, web: str, path: str, data: dict) -> int:
        # As htmx posts from the page: the partial answer, not a redirect to the queue.
        request = urllib.request.Request(web + path, data=urllib.parse.urlencode(data).encode(),
                                         headers={"X-CSRFToken": self.csrf(), "HX-Request": "true"})
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code


def planned_actions(tickets: list[int]) -> list[tuple[int, tuple[str, dict]]]:
    """ACCEPTS accepts (one per escalated ticket), then notes spread over the same tickets."""
    accepts = [(t, (f"/tickets/{t}/accept/", {})) for t in tickets[:ACCEPTS]]
    notes = [(tickets[i % len(tickets)], (f"/tickets/{tickets[i % len(tickets)]}/note/",
                                          {"body": f"Production topology note {i}."}))
             for i in range(len(accepts), ACTIONS)]
    return [(t, request) for t, request in accepts + notes]


# -- what the test reads ------------------------------------------------------------------------------


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None  # not listening yet


def open_escalations(db) -> list[int]:
    return [t for (t,) in db.execute(
        "SELECT ticket_id FROM escalations_escalation WHERE ended_at IS NULL ORDER BY ticket_id")]


def action_states(db) -> dict[str, int]:
    return dict(db.execute("SELECT state, count(*) FROM escalations_odooaction "
                           "WHERE created_by_id IS NOT NULL GROUP BY state").fetchall())


def sent_actions(db) -> int:
    return db.execute("SELECT count(*) FROM escalations_odooaction WHERE state = 'sent'").fetchone()[0]


def notices_settled(db) -> bool:
    """None on its way: each sent, failed, or held for later (a digest, quiet hours)."""
    on_its_way = "SELECT 1 FROM escalations_notice WHERE state IN ('pending', 'inflight', 'awaiting_retry')"
    return bool(notice_states(db)) and not db.execute(on_its_way).fetchall()


def notice_states(db) -> dict[str, int]:
    return dict(db.execute("SELECT state, count(*) FROM escalations_notice GROUP BY state").fetchall())


def odoo_assignee(odoo, ticket: int) -> int:
    (row,) = odoo.state.call("helpdesk.ticket", "read", [[ticket], ["user_id"]], {})
    return row["user_id"][0]


def sample(metrics: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples that carry these labels (and any others)."""
    total = 0.0
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{key}="{value}"' in match.group(1) for key, value in labels.items()):
            total += float(match.group(2))
    return total
