"""`python manage.py demo`: the whole product on one machine, on the embedded defaults.

Starts the Odoo simulator (live), mirrors it once, then runs the web app and a Celery worker with
beat as child processes, and stops all of them on Ctrl-C. The simulator's API key is generated for
this run and handed to the children through the environment, so no key is stored anywhere.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from escalations.engine import evaluate_escalations
from escalations.management.demo_data import (
    demo_logins_ensure,
    demo_policies_ensure,
    demo_rules_ensure,
)
from escalations.odoo.errors import OdooError
from escalations.sla import refresh_clocks
from escalations.sync.run import sync_odoo
from escalations.walls import demo_wall_ensure, wall_url


class Command(BaseCommand):
    help = "Run the demo: Odoo simulator (live), web app, Celery worker and beat. Ctrl-C stops it all."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="web app port (default 8000)")
        parser.add_argument("--odoo-port", type=int, default=8069, help="simulator port (default 8069)")
        parser.add_argument("--flavour", choices=["enterprise", "oca"], default="enterprise")
        # 19: the console speaks JSON-2 to it (ODOO_PROTOCOL=auto), and nothing else.
        parser.add_argument("--odoo-version", type=int, choices=[16, 17, 18, 19], default=17)
        parser.add_argument("--tickets", type=int, default=300)

    def handle(self, *args, port, odoo_port, flavour, odoo_version, tickets, **options):
        for p in (port, odoo_port):
            if _port_in_use(p):
                raise CommandError(f"Port {p} is already in use; stop what runs there or pass another port.")
        # Whitenoise serves STATIC_ROOT, which production fills with collectstatic: the demo makes it
        # empty (runserver serves the files), so that no process warns that it is missing.
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0)
        password = demo_logins_ensure()
        wall_token = demo_wall_ensure()  # a fresh URL at each start, like the password
        api_key = secrets.token_urlsafe(24)
        odoo_url = f"http://127.0.0.1:{odoo_port}"
        env = {**os.environ, "ODOO_URL": odoo_url, "ODOO_API_KEY": api_key, "PYTHONUNBUFFERED": "1"}
        # The notices link to this run's address; unless mail is configured, they go to files rather
        # than flooding the terminal (the first evaluation sends dozens).
        env.setdefault("DASHBOARD_BASE_URL", f"http://127.0.0.1:{port}")
        mail = "as configured"
        if not (settings.EMAIL_URL or os.environ.get("EMAIL_HOST")):
            mail = settings.VAR_DIR / "demo-mail"
            env["EMAIL_URL"] = f"file://{mail}"
        settings.ODOO_URL = settings.ODOO_WEB_URL = odoo_url
        settings.ODOO_API_KEY = api_key

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = []
        # A SIGTERM (from a supervisor, or `timeout`) stops the children too, like Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            children.append(subprocess.Popen(
                [*manage, "odoo_simulator", "--port", str(odoo_port), "--live", "--flavour", flavour,
                 "--odoo-version", str(odoo_version), "--tickets", str(tickets)],
                env=env,
            ))
            _wait_for_port(odoo_port)
            self._first_sync()
            children.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--beat", "--pool", "solo",
                 "--loglevel", "INFO", "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
                env=env, cwd=settings.BASE_DIR,
            ))
            children.append(subprocess.Popen(
                [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env,
            ))
            _wait_for_port(port)
            self.stdout.write(self.style.SUCCESS(
                f"\nEscalation console: http://127.0.0.1:{port}/\n"
                f"  team lead login: lead / {password}\n"
                f"  admin login:     admin / {password}   (http://127.0.0.1:{port}/admin/)\n"
                f"  wall display:    {wall_url(wall_token, base_url=f'http://127.0.0.1:{port}')}\n"
                f"  notice emails:   {mail}\n"
                f"  Odoo simulator:  {odoo_url} ({flavour} {odoo_version}, live)\n"
                "Ctrl-C stops everything.\n"
            ))
            _wait_for_any_exit(children)
        except KeyboardInterrupt:
            pass
        finally:
            _stop(children)

    def _first_sync(self):
        try:
            result = sync_odoo(full=True)
        except OdooError as exc:
            raise CommandError(f"First sync with the simulator failed: {exc.message}") from exc
        self.stdout.write(result.summary())
        if demo_policies_ensure():
            refresh_clocks()  # the new policies' at-risk thresholds
        demo_rules_ensure()
        self.stdout.write(evaluate_escalations().summary())


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_in_use(port):
            return
        time.sleep(0.1)
    raise CommandError(f"Nothing started listening on port {port} within {timeout:.0f}s")


def _wait_for_any_exit(children) -> None:
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    raise CommandError("A demo process stopped unexpectedly; stopping the others")


def _stop(children) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
