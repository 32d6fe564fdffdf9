"""A strict Content-Security-Policy and a Permissions-Policy on every page, error pages included; the
templates hold nothing the policy would refuse (the browser tests check the pages themselves)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import include, path, reverse

from tests.factories import UserFactory
from tests.wall_factories import escalated_ticket, sync_state, wall_display

pytestmark = pytest.mark.django_db

WANTED = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "object-src": "'none'",
    "base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'none'",
}


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("dashboard.urls"))]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_strict(response) -> None:
    policy = directives(response)
    assert {name: policy.get(name) for name in WANTED} == WANTED, policy
    assert "unsafe" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    assert "camera=()" in permissions and "geolocation=()" in permissions


@pytest.fixture
def signed_in(client, lead):
    client.force_login(lead)
    return client


def test_every_console_page_sends_the_policy(signed_in):
    sync_state()
    ticket = escalated_ticket().ticket
    for url in ("/", "/tickets/", f"/tickets/{ticket.odoo_id}/", "/automation/", "/automation/ledger/"):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
    # An htmx fragment too (a poll of the queue).
    assert_strict(signed_in.get("/", headers={"HX-Request": "true"}))


def test_the_login_page_the_wall_and_the_feed_send_it(client):
    sync_state()
    assert_strict(client.get(reverse("login")))
    _, token = wall_display()
    entered = client.get(reverse("wall", args=[token]))
    assert_strict(entered)
    assert_strict(client.get(entered["Location"]))
    assert_strict(client.get(reverse("api-queue"), {"token": token}))


def test_the_admin_sends_it(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/escalations/walldisplay/", "/admin/escalations/walldisplay/add/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
    assert_strict(Client().get("/admin/login/"))


def test_error_pages_send_it(signed_in):
    assert_strict(signed_in.get("/tickets/987654/"))  # 404
    assert_strict(signed_in.post(f"/tickets/{escalated_ticket().ticket.pk}/accept/"))  # 403
    assert_strict(signed_in.get("/agents/", {"q": "a\x00b"}))  # 400
    assert_strict(Client().get("/wall/not-a-token/"))  # the wall's 404


@pytest.mark.urls("tests.test_csp")
def test_the_500_page_sends_it():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert_strict(response)


TEMPLATES = Path(settings.BASE_DIR) / "templates"
# What a strict policy refuses in a page: inline scripts and handlers, style attributes and elements,
# htmx's hx-on (evaluated code) and trigger filters in [brackets] (evaluated too).
REFUSED = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=|<style|hx-on|hx-trigger="[^"]*\[|
                         javascript:|js:""", re.X)


def test_no_template_holds_inline_code_or_styles():
    found = [
        f"{page.relative_to(TEMPLATES)}: {match.group(0)}"
        for page in TEMPLATES.rglob("*.html") if "emails" not in page.parts  # emails are not pages
        for match in REFUSED.finditer(page.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_htmx_evaluates_nothing_and_injects_no_style():
    for page in ("base.html", "wall/wall.html"):
        html = (TEMPLATES / page).read_text(encoding="utf-8")
        assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html, page
