"""Fixtures for the browser tests: Debian's Chromium driven by Playwright's sync API.

For any page of the app (the wall, the dashboard):
- `browser`: one Chromium for the whole session (starting one costs about a second);
- `page`: a fresh context and page per test, so cookies and storage never leak between tests; its
  size comes from `browser_context_args`, which a test module may override (a wall is a 1080p TV);
  an uncaught JavaScript error in the page fails the test;
- every context, `page`'s or one a test opens with `browser.new_context()`, reports each
  `securitypolicyviolation` its pages fire: any refusal by the content security policy (an inline
  style, an eval, a script from elsewhere) fails the test that caused it;
- `screenshot(page, "name")`: saves var/artifacts/name.png (tests.artifacts) for a person to look at.

The server is pytest-django's `live_server`. It runs in a thread with its own database connection,
so tests that use it need `@pytest.mark.django_db(transaction=True)`: rows made inside a test's
transaction would be invisible to it on PostgreSQL. `serialized_rollback=True` restores what the
migrations wrote (the role groups), which a transactional test's flush would wipe for later tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.artifacts import artifacts_dir

# Playwright's sync API runs an event loop in this thread, and Django refuses database access next to
# a running loop unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# Runs in every page before its own scripts; the binding hands each violation to Python at once, so
# that one fired just before a navigation or a context's close is not lost with the page.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation([e.effectiveDirective, e.blockedURI || "inline", e.sourceFile + ":" + e.lineNumber,
                         e.sample].join(" "));
}, true);
"""
CSP_VIOLATIONS: list[str] = []


class PolicyWatchedBrowser:
    """The browser, whose every new context reports content security policy violations."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.expose_binding("__cspViolation", lambda source, text: CSP_VIOLATIONS.append(
            f"{source['frame'].url}: {text}"))
        context.add_init_script(REPORT_VIOLATIONS)
        return context


@pytest.fixture(scope="session")
def browser():
    # Fail, not skip: a missing browser must not turn the browser tests green (make test installs it).
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield PolicyWatchedBrowser(chromium)
        chromium.close()


@pytest.fixture(autouse=True)
def no_policy_violation():
    """Fails the test if a page it drove broke the content security policy (set up before `page`, so
    checked after its context is closed)."""
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, f"Content-Security-Policy violations: {CSP_VIOLATIONS}"


@pytest.fixture
def browser_context_args() -> dict:
    """A laptop screen; override in a module for another size, a locale or a time zone."""
    return {"viewport": {"width": 1440, "height": 900}, "locale": "en-GB", "timezone_id": "UTC"}


@pytest.fixture
def page(browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def screenshot():
    """`screenshot(page, "wall")` -> var/artifacts/wall.png, the visible screen as a person sees it."""

    def save(page, name: str, *, full_page: bool = False) -> Path:
        path = artifacts_dir() / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
