"""The product's own 400, 403, 404 and 500 pages, in its look, for pages and for htmx requests: never
Django's debug page (DEBUG is off by default) nor its bare defaults."""

import pytest
from django.test import RequestFactory
from django.views import defaults

from tests.factories import UserFactory
from tests.wall_factories import escalated_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    client.force_login(UserFactory(username="someone"))
    return client


def test_a_missing_ticket_is_the_products_404_page(signed_in):
    response = signed_in.get("/tickets/987654/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in html and "Back to the escalation queue" in html and 'class="brand"' in html
    assert "Using the URLconf" not in html  # Django's debug 404


def test_a_missing_ticket_asked_by_htmx_is_a_message_to_swap_in(signed_in):
    response = signed_in.get("/tickets/987654/row/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    assert "Reload the page" in response.content.decode() and "<html" not in response.content.decode()


def test_a_refusal_is_the_products_403_page(signed_in):
    ticket = escalated_ticket().ticket
    response = signed_in.post(f"/tickets/{ticket.pk}/accept/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode() and 'class="brand"' in response.content.decode()


def test_a_malformed_request_is_the_products_400_page_with_the_reason(signed_in):
    response = signed_in.get("/agents/", {"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode() and 'class="brand"' in response.content.decode()
    partial = signed_in.get("/agents/", {"q": "\x00"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 400 and "NUL character" in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_the_500_page_needs_no_request_and_says_nothing_was_lost():
    response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "Nothing you sent was lost" in html
