"""Run the bundled Odoo Helpdesk simulator: `python manage.py odoo_simulator --port 8069`.

Only parses flags and binds a port; the simulator itself lives in `escalations.odoo.simulator`.
"""

import gc
import os
import secrets
import signal
import ssl
import threading

from django.core.management.base import BaseCommand, CommandError

from escalations.odoo.simulator.live import LiveActivity
from escalations.odoo.simulator.persist import load, save
from escalations.odoo.simulator.seed import build_state
from escalations.odoo.simulator.seed_base import INTEGRATION_LOGIN
from escalations.odoo.simulator.server import SimulatorServer, server_tls


class Command(BaseCommand):
    help = ("Serve a simulated Odoo Helpdesk over JSON-RPC and XML-RPC, and JSON-2 from version 19 (for the "
            "demo and the tests).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8069)
        parser.add_argument("--flavour", choices=["enterprise", "oca"], default="enterprise")
        parser.add_argument("--odoo-version", type=int, choices=[16, 17, 18, 19], default=17)
        parser.add_argument("--no-deprecated-rpc", action="store_true",
                            help="Odoo 19: answer 404 on /xmlrpc, /xmlrpc/2 and /jsonrpc, as an Odoo with "
                                 "its deprecated RPC services switched off (JSON-2 only)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--tickets", type=int, default=300)
        parser.add_argument("--live", action="store_true", help="keep tickets moving in the background")
        parser.add_argument("--live-interval", type=float, default=5.0, help="seconds between live steps")
        parser.add_argument("--api-key", default=None, help="default: $ODOO_API_KEY, else a generated one")
        parser.add_argument("--admin-api-key", default=None,
                            help="an API key of the administrator (login admin), who may set up automation "
                                 "rules (manage.py odoo_webhooks); default: $ODOO_ADMIN_API_KEY, else none")
        parser.add_argument("--state-file", default=None, help="load state from / save it to this JSON file")
        parser.add_argument("--certfile", default=None,
                            help="serve HTTPS with this PEM certificate (and --keyfile), as Odoo does behind "
                                 "its proxy; the console must trust it (SSL_CERT_FILE)")
        parser.add_argument("--keyfile", default=None, help="the certificate's private key (PEM)")

    def handle(self, *args, **opts):
        if opts["no_deprecated_rpc"] and opts["odoo_version"] < 19:
            raise CommandError("--no-deprecated-rpc needs --odoo-version 19: the RPC services are deprecated "
                               "from Odoo 19 only")
        api_key = opts["api_key"] or os.environ.get("ODOO_API_KEY") or ""
        generated = not api_key
        api_key = api_key or secrets.token_hex(20)
        state = self._state(opts, api_key)
        admin_key = opts["admin_api_key"] or os.environ.get("ODOO_ADMIN_API_KEY") or ""
        if admin_key and state.admin_uid:
            state.add_api_key(state.admin_uid, admin_key)
        # This process only serves the simulator: move the seeded records out of the cyclic GC's reach,
        # or a full collection (over a million objects at 20k tickets) stalls an RPC for ~150 ms.
        gc.freeze()
        try:
            server = SimulatorServer(state, host=opts["host"], port=opts["port"], tls=_tls(opts)).start()
        except OSError as exc:
            raise CommandError(f"cannot listen on {opts['host']}:{opts['port']}: {exc}") from exc
        live = LiveActivity(state, opts["live_interval"], seed=opts["seed"]).start() if opts["live"] else None
        self._announce(server, state, api_key, generated)
        self._wait_for_interrupt()
        # A second Ctrl-C must not cut the shutdown short: the state file is written last.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.stdout.write("Stopping the simulator...")
        if live:
            live.stop()
        server.stop()
        if opts["state_file"]:
            save(state, opts["state_file"])
            self.stdout.write(f"State saved to {opts['state_file']}")

    def _state(self, opts, api_key):
        path = opts["state_file"]
        if path and os.path.exists(path):
            state = load(path)
            state.add_api_key(state.integration_uid, api_key)
            self.stdout.write(f"Loaded state from {path}")
            return state
        self.stdout.write(f"Seeding {opts['tickets']} tickets ({opts['flavour']} {opts['odoo_version']})...")
        return build_state(
            flavour=opts["flavour"],
            version=opts["odoo_version"],
            seed=opts["seed"],
            tickets=opts["tickets"],
            api_key=api_key,
            deprecated_rpc=not opts["no_deprecated_rpc"],
        )

    def _announce(self, server, state, api_key, generated):
        self.stdout.write(
            self.style.SUCCESS(f"Odoo simulator {state.server_version} listening on {server.url}")
        )
        self.stdout.write(f"  database: {state.db_name}   login: {INTEGRATION_LOGIN}")
        if generated:
            # Printed once so the operator can configure ODOO_API_KEY; never logged elsewhere.
            self.stdout.write(f"  generated API key: {api_key}")
        self.stdout.write("  Ctrl-C to stop.")

    @staticmethod
    def _wait_for_interrupt():
        """Block until Ctrl-C or SIGTERM. Both get explicit handlers: a process started in the
        background by a script inherits SIGINT as ignored, and would otherwise never stop on it."""
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _tls(opts) -> ssl.SSLContext | None:
    if not opts["certfile"]:
        return None
    try:
        return server_tls(opts["certfile"], opts["keyfile"])
    except (OSError, ssl.SSLError) as exc:
        raise CommandError(f"cannot load the certificate {opts['certfile']}: {exc}") from exc
