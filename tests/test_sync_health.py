"""When Odoo refuses the console: an expired API key shows on every page and the wall, and the admins get
one email per refusal; a portal integration user is named on the sync health line and by the command."""

import html

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from escalations.models import SyncState, Ticket
from escalations.odoo.errors import OdooAuthError, OdooUserNotInternal
from escalations.sync.run import sync_odoo
from tests.conftest import API_KEY
from tests.smtp import SmtpServer, point_settings_at
from tests.wall_factories import wall_display

pytestmark = pytest.mark.django_db

KEY_REFUSED = ("Odoo refused the console's API key (keys expire in Odoo 18 and later): create a new one "
               "and set ODOO_API_KEY")
ODOO_18 = pytest.mark.parametrize("simulator", [("enterprise", 18)], indirect=True, ids=["enterprise-18"])


@pytest.fixture
def admins(settings):
    User.objects.create_superuser("root", "root@example.com", "pw")
    User.objects.create_superuser("nomail", "", "pw")  # no address: nobody to write to
    settings.ADMINS = [("Ops", "ops@example.com")]
    return ["root@example.com", "ops@example.com"]


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def sync_refused():
    with pytest.raises(OdooAuthError):
        sync_odoo()


@ODOO_18
def test_an_expired_key_shows_on_every_page_and_the_wall(client, odoo, admin_user):
    sync_odoo(full=True)
    ticket = Ticket.objects.first()
    _, token = wall_display()
    client.get(reverse("wall", args=[token]))  # the screen trades its token for its pass
    wall = reverse("wall-screen")
    client.force_login(admin_user)
    urls = [reverse("queue"), reverse("tickets"), reverse("ticket", args=[ticket.odoo_id]), wall]
    for url in urls:
        assert KEY_REFUSED not in page(client, url)
    shown = page(client, wall).split('data-version="', 1)[1].split('"', 1)[0]

    odoo.state.expire_api_key(API_KEY)
    sync_refused()

    for url in urls:
        assert page(client, url).count(KEY_REFUSED) == 1, url
    # Screens left open get it with their next poll.
    poll = client.get(reverse("queue"), headers={"HX-Request": "true"})
    assert KEY_REFUSED in html.unescape(poll.content.decode())
    poll = client.get(wall, {"v": shown}, headers={"HX-Request": "true"})
    assert poll.status_code == 200 and KEY_REFUSED in html.unescape(poll.content.decode())


@ODOO_18
def test_the_admins_get_one_email_per_refusal(odoo, settings, smtp, admins):
    sync_odoo(full=True)
    odoo.state.expire_api_key(API_KEY)
    for _ in range(3):
        sync_refused()
    assert len(smtp.mailbox.received) == 1
    mail = smtp.mailbox.received[0]
    assert sorted(mail.rcpt_tos) == sorted(admins)
    assert mail.message["Subject"] == "Odoo refused the console's API key"
    body = mail.message.get_body(("plain",)).get_content()
    assert KEY_REFUSED in body and odoo.url in body and "console@example.com" in body
    assert API_KEY not in body

    # A new key: the sync works again; when that one is refused in turn, a new email.
    new_key = odoo.state.add_api_key(odoo.state.integration_uid)
    odoo.state.revoke_api_key(API_KEY)
    settings.ODOO_API_KEY = new_key
    sync_odoo()
    assert len(smtp.mailbox.received) == 1
    odoo.state.expire_api_key(new_key)
    sync_refused()
    sync_refused()
    assert len(smtp.mailbox.received) == 2


@ODOO_18
def test_the_email_is_claimed_once_even_by_two_workers(odoo, smtp, admins):
    from escalations.sync.key_refusal import key_refusal_notify

    sync_odoo(full=True)
    odoo.state.expire_api_key(API_KEY)
    sync_refused()
    # A second worker that saw the same refusal finds the episode already told.
    assert key_refusal_notify() is False
    assert len(smtp.mailbox.received) == 1
    assert SyncState.load().auth_refusal_notified_at is not None


@ODOO_18
def test_a_failed_email_is_tried_again_at_the_next_refusal(odoo, settings, admins):
    sync_odoo(full=True)
    odoo.state.expire_api_key(API_KEY)
    server = SmtpServer()  # a port nobody listens on yet
    point_settings_at(settings, server.port)
    sync_refused()  # the email fails: logged, the sync's own error stands
    assert SyncState.load().auth_refusal_notified_at is None
    server.start()
    try:
        sync_refused()
        assert len(server.mailbox.received) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("simulator", [("enterprise", 17), ("oca", 16)], indirect=True,
                         ids=lambda fv: f"{fv[0]}-{fv[1]}")
def test_a_portal_integration_user_is_named_by_the_command_and_the_health_line(client, odoo, admin_user):
    odoo.state.set_user_share(odoo.state.integration_uid, True)
    with pytest.raises(CommandError, match="is a portal user, not an internal user"):
        call_command("sync_odoo")
    with pytest.raises(OdooUserNotInternal):
        sync_odoo()
    client.force_login(admin_user)
    for url in (reverse("queue"), reverse("tickets")):
        text = page(client, url)
        assert "Odoo's user console@example.com (ODOO_USER) is a portal user" in text
        assert KEY_REFUSED not in text
