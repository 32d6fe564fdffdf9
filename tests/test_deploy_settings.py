"""Production settings from the environment pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

from tests.workers import worker_broker_url

# What HTTPS=true must settle: HSTS, the redirect, and both cookies over TLS only.
SETTLED_BY_HTTPS = ["security.W004", "security.W008", "security.W012", "security.W016"]


def deploy_check(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "HTTPS", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=settings.BASE_DIR, capture_output=True,
        text=True, env={**clean, "VAR_DIR": str(tmp_path), "DEBUG": "false",
                        "SECRET_KEY": secrets.token_urlsafe(50),
                        # HTTPS=true refuses an http:// address (the wall's first URL carries a token).
                        "DASHBOARD_BASE_URL": "https://console.example.com", **env},
    )
    return result.returncode, result.stdout + result.stderr


def test_https_production_settings_pass_the_deploy_check(tmp_path):
    code, output = deploy_check(tmp_path, HTTPS="true")
    assert code == 0, output
    assert not [warning for warning in SETTLED_BY_HTTPS if warning in output], output
    # Subdomains and the preload list are the site owner's choice: opt-in, and then silent too; with a
    # shared cache (dashboard.W001 otherwise), nothing is left to say.
    code, output = deploy_check(tmp_path, HTTPS="true", SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
                                SECURE_HSTS_PRELOAD="true", CACHE_URL=worker_broker_url())
    assert code == 0 and "no issues" in output, output


def test_without_https_the_deploy_check_warns_about_cookies(tmp_path):
    code, output = deploy_check(tmp_path)
    assert "security.W012" in output and "security.W016" in output
