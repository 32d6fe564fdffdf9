"""/settings/notices/: each person changes their own quiet hours and reminders, reached from the link
in every notice email; bad input gets a clear message and changes nothing."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from escalations.engine import evaluate_escalations
from escalations.models import Notice, Profile
from escalations.notices.people import prefs_for
from tests.factories import EscalationPolicyFactory, ProfileFactory, TicketClockFactory

URL = "/settings/notices/"
VALID = {"time_zone": "Europe/Brussels", "quiet_from": "22:00", "quiet_to": "07:00",
         "deadline_reminders": "25, 5 %", "unaccepted_reminders": ""}


@pytest.fixture
def policy(db, lead):
    policy = EscalationPolicyFactory(team__name="Hardware support")
    policy.levels.get(number=1).members.set([lead])
    return policy


def test_the_page_asks_for_a_login_first(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={URL}"


@pytest.mark.django_db
def test_the_page_shows_the_defaults_the_levels_and_the_budget_without_inline_code(client, lead, policy):
    client.force_login(lead)
    client.cookies["tz"] = "America/New_York"  # the browser's zone, until the person saves one
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "L1 Team lead (Hardware support)" in html
    assert "at most 5 single notices every 10 minutes" in html
    assert 'value="50, 10"' in html and 'id="id_unaccepted_reminders" checked' in html
    assert '<option value="America/New_York" selected>' in html
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not Profile.objects.filter(user=lead).exists()  # looking saves nothing


@pytest.mark.django_db
def test_saving_stores_the_persons_own_settings(client, lead):
    client.force_login(lead)
    response = client.post(URL, VALID, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Your notice settings are saved." in response.content.decode()
    profile = Profile.objects.get(user=lead)
    assert (profile.time_zone, profile.quiet_from, profile.quiet_to, profile.deadline_reminders,
            profile.reminders_opt_out) == ("Europe/Brussels", time(22), time(7), "25,5", True)
    page = client.get(URL).content.decode()
    assert 'value="22:00"' in page and 'value="25, 5"' in page

    # Choosing the console's default again follows it; nothing at all means no deadline reminders.
    client.post(URL, {**VALID, "deadline_reminders": "10,50"})
    assert Profile.objects.get(user=lead).deadline_reminders == ""
    client.post(URL, {**VALID, "deadline_reminders": "", "quiet_from": "", "quiet_to": ""})
    profile = Profile.objects.get(user=lead)
    assert (profile.deadline_reminders, profile.quiet_from, profile.quiet_to) == ("none", None, None)
    assert prefs_for([lead.pk])[lead.pk].deadline_percents == ()


@pytest.mark.django_db
@pytest.mark.parametrize("change, field, message", [
    ({"quiet_to": ""}, "quiet_to", "Give both times of your quiet hours, or neither."),
    ({"quiet_to": "22:00"}, "quiet_to", "Quiet hours must end at another time than they start."),
    ({"quiet_from": "25:99"}, "quiet_from", "Give a time of day, e.g. 22:00."),
    ({"deadline_reminders": "half"}, "deadline_reminders",
     "Write whole percents separated by commas, e.g. 50, 10."),
    ({"deadline_reminders": "50, 150"}, "deadline_reminders", "Each share must be between 1 and 99 %."),
    ({"deadline_reminders": "90,80,70,60,50,40"}, "deadline_reminders", "At most 5 reminders per deadline."),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice."),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, lead, change, field, message):
    ProfileFactory(user=lead, agent=None, quiet_from=time(23), quiet_to=time(6))
    client.force_login(lead)
    response = client.post(URL, {**VALID, **change})
    assert response.status_code == 400
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    assert message.split(" e.g.")[0].replace("'", "&#x27;") in response.content.decode()
    profile = Profile.objects.get(user=lead)
    assert (profile.quiet_from, profile.quiet_to, profile.deadline_reminders) == (time(23), time(6), "")


@pytest.mark.django_db
def test_quiet_hours_saved_on_the_page_hold_the_next_nights_notices(client, lead, policy):
    client.force_login(lead)
    client.post(URL, VALID)
    night = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 00:30 in Brussels
    TicketClockFactory(ticket__team=policy.team, deadline=night + timedelta(minutes=50),
                       at_risk_at=night - timedelta(minutes=1))
    evaluate_escalations(now=night)
    notice = Notice.objects.get(email="lead@example.com")
    assert (notice.state, notice.release_at) == ("held", datetime(2026, 11, 26, 6, 0, tzinfo=UTC))


def test_a_get_only_or_post_only_method_is_refused(client, lead):
    client.force_login(lead)
    assert client.put(URL).status_code == 405
