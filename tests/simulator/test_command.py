"""`manage.py odoo_simulator`: flags, the printed API key, Ctrl-C, and the state file."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]



def wait_for(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read())
        try:
            return json.load(urllib.request.urlopen(url, timeout=1))
        except OSError:
            time.sleep(0.1)
    raise AssertionError("simulator did not start")


def test_command_serves_prints_a_key_and_saves_state_on_ctrl_c(tmp_path):
    port, state_file = free_port(), tmp_path / "state.json"
    env = {k: v for k, v in os.environ.items() if k != "ODOO_API_KEY"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "odoo_simulator",
            "--port",
            str(port),
            "--flavour",
            "oca",
            "--odoo-version",
            "16",
            "--tickets",
            "15",
            "--state-file",
            str(state_file),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = wait_for(f"http://127.0.0.1:{port}/__simulator__/status", proc)
        assert (status["flavour"], status["version"], status["tickets"]["total"]) == ("oca", 16, 15)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, output
    assert "generated API key: " in output and "16.0" in output
    assert json.loads(state_file.read_text())["flavour"] == "oca"


def test_command_serves_odoo_19_with_the_deprecated_services_switched_off():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "odoo_simulator", "--port", str(port), "--odoo-version", "19",
         "--no-deprecated-rpc", "--tickets", "5", "--api-key", "k-19"],
        cwd=ROOT, env=os.environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        status = wait_for(f"http://127.0.0.1:{port}/__simulator__/status", proc)
        assert (status["version"], status["deprecated_rpc"]["enabled"]) == (19, False)
        version = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/web/version", timeout=5))
        assert version["version"] == "19.0+e"
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, output
    refused = subprocess.run(
        [sys.executable, "manage.py", "odoo_simulator", "--odoo-version", "18", "--no-deprecated-rpc"],
        cwd=ROOT, env=os.environ, capture_output=True, text=True,
    )
    assert refused.returncode != 0 and "--no-deprecated-rpc needs --odoo-version 19" in refused.stderr


def test_the_benchmarks_start_the_simulator_whatever_their_generated_key_begins_with(monkeypatch):
    """One generated key in 64 begins with '-', which argparse reads as an option unless it is passed
    as `--api-key=KEY`: the benchmark's simulator then never started."""
    from django.conf import settings

    from escalations import benchmarks
    from escalations.odoo.client import OdooClient, OdooConfig

    key = "-begins-with-a-dash-0123"
    monkeypatch.setattr(benchmarks.secrets, "token_urlsafe", lambda n: key)
    for name in ("ODOO_URL", "ODOO_API_KEY"):  # simulator_process points the settings at it
        monkeypatch.setattr(settings, name, getattr(settings, name))
    with benchmarks.simulator_process(tickets=3, port=free_port(), log_name="test-benchmark-simulator.log"):
        assert settings.ODOO_API_KEY == key
        client = OdooClient.connect(OdooConfig.from_settings())
        assert len(client.search("helpdesk.ticket", [])) == 3
