"""A ticket's conversation from Odoo's chatter, on the ticket page: the customer's emails and the internal
notes, newest first, sanitized, and a plain sentence instead of an error page when Odoo is down."""

import pytest
from django.urls import reverse

from escalations.conversation import LIMIT, ConversationUnavailable, message_body, ticket_conversation
from escalations.odoo import names
from escalations.odoo.client import OdooClient

pytestmark = pytest.mark.django_db

FLAVOURS = [("enterprise", 17), ("oca", 16)]


def post(ticket, body, *, email: bool) -> int:
    """A customer's email (as Odoo's mail gateway stores one) or an internal note, in the chatter."""
    client = OdooClient.connect()
    if not email:
        return client.message_post(names.TICKET, ticket.odoo_id, body=body, internal=True)
    kwargs = {"body": body, "message_type": "email", "subtype_xmlid": "mail.mt_comment",
              "author_id": ticket.customer_id}
    if client.server_version.startswith(("17", "18")):
        kwargs["body_is_html"] = True
    return client.call(names.TICKET, "message_post", [[ticket.odoo_id]], kwargs, retry=False)


@pytest.mark.parametrize("simulator", FLAVOURS, indirect=True)
def test_the_customers_email_and_the_internal_note_newest_first_scripts_removed(ticket, client, lead):
    email = post(ticket, "<p>Still <b>broken</b> <script>alert('x')</script>after the update</p>", email=True)
    note = post(ticket, "<p>Called the customer <img src=x onerror=alert(1)></p>", email=False)

    messages = ticket_conversation(ticket.odoo_id)
    assert [m.odoo_id for m in messages[:2]] == [note, email]
    newest, customer = messages[0], messages[1]
    assert (newest.internal, newest.label) == (True, "Internal note")
    assert (customer.internal, customer.label, customer.kind) == (False, "Email", "email")
    assert customer.author == ticket.customer_name
    assert str(customer.body) == "<p>Still <b>broken</b> after the update</p>"
    assert str(newest.body) == "<p>Called the customer </p>"
    assert all(m.at is not None for m in messages)
    assert [m.at for m in messages] == sorted((m.at for m in messages), reverse=True)

    client.force_login(lead)
    html = client.get(reverse("ticket-conversation", args=[ticket.odoo_id])).content.decode()
    assert html.index("Called the customer") < html.index("Still <b>broken</b>")
    assert '<li class="chatter-message internal">' in html and "Internal note" in html
    assert "<script" not in html and "alert(" not in html and "onerror" not in html


def test_only_the_last_messages_are_read(ticket):
    for n in range(LIMIT + 2):
        post(ticket, f"<p>note {n}</p>", email=False)
    messages = ticket_conversation(ticket.odoo_id)
    assert len(messages) == LIMIT and str(messages[0].body) == f"<p>note {LIMIT + 1}</p>"


def test_odoo_down_shows_a_plain_sentence_not_an_error_page(ticket, odoo, client, lead):
    client.force_login(lead)
    odoo.faults.set("refuse")
    try:
        response = client.get(reverse("ticket-conversation", args=[ticket.odoo_id]))
        with pytest.raises(ConversationUnavailable):
            ticket_conversation(ticket.odoo_id)
    finally:
        odoo.faults.set(None)
    assert response.status_code == 200
    assert "Odoo could not be reached: the conversation is not shown." in response.content.decode()


def test_the_conversation_needs_a_login_and_a_known_ticket(ticket, client, lead):
    url = reverse("ticket-conversation", args=[ticket.odoo_id])
    assert client.get(url).status_code == 302
    client.force_login(lead)
    assert client.get(reverse("ticket-conversation", args=[999999])).status_code == 404


def test_bodies_keep_text_structure_and_links_only():
    body = message_body('<div style="color:red" onclick="x()"><a href="https://ex.com" target="_blank">l</a>'
                        '<iframe src="https://evil"></iframe><style>p{}</style><p>ok</p></div>')
    assert str(body) == ('<div><a href="https://ex.com" rel="noopener noreferrer">l</a><p>ok</p></div>')
    assert message_body('<a href="javascript:alert(1)">x</a>') == '<a rel="noopener noreferrer">x</a>'
    assert message_body(False) == ""
