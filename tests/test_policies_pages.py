"""The Policies pages: supervisors only; the list of teams; the editor with human durations, people by
name, inline checks, a preview and an atomic save; the proposal from Odoo's SLA; the queue's first run;
the admin titled as the product."""

import itertools
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations.engine import evaluate_escalations
from escalations.models import EscalationLevel, EscalationPolicy, SlaStatus
from escalations.sla import refresh_clocks
from tests.conftest import T0
from tests.factories import (
    EscalationPolicyFactory,
    TeamFactory,
    TicketFactory,
    TicketStageChangeFactory,
    UserFactory,
)
from tests.malformed import BAD_IDS, HUGE, MARK, check
from tests.outbox_helpers import make_lead

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def at_t0():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def sue(client):
    user = make_lead(UserFactory(username="sue", first_name="Sue", last_name="Pervisor"), supervisor=True)
    client.force_login(user)
    return user


@pytest.fixture
def ana():
    return UserFactory(username="alopez", first_name="Ana", last_name="Lopez", email="ana@example.com")


@pytest.fixture
def ben():
    return UserFactory(username="bode", first_name="Ben", last_name="Ode", email="ben@example.com")


def due(team, *, left: timedelta, reference: str = ""):
    ticket = TicketFactory(team=team, **({"reference": reference} if reference else {}))
    SlaStatus.objects.create(ticket=ticket, odoo_id=ticket.pk, name="Urgent: response within 4 hours",
                             deadline=T0 + left)
    return ticket


def form_data(*levels, policy_id="", touched="", **values) -> dict:
    data = {
        "policy_id": policy_id, "touched": touched, "active": "on", "on_sla_at_risk": "on",
        "at_risk_within": "",
        "at_risk_percent": "25", "on_sla_breached": "on", "no_update_after": "", "unassigned_priority": "",
        "unassigned_after": "", "escalate_tag": "", "allow_manual": "on", "target": "", "calendar": "",
        "levels-TOTAL_FORMS": str(len(levels)), "levels-INITIAL_FORMS": str(len(levels)),
        "levels-MIN_NUM_FORMS": "0", "levels-MAX_NUM_FORMS": "9",
    }
    for index, level in enumerate(levels):
        data.update({f"levels-{index}-{name}": value for name, value in level.items()})
    data.update(values)
    return {name: value for name, value in data.items() if value is not None}


def checked(html: str, name: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'name="{name}" value="(\d+)" id="[^"]+" checked', html)]


def edit_url(team) -> str:
    return reverse("policy-edit", args=[team.pk])


# -- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "reader"])
def test_only_supervisors_reach_the_policies_pages(client, who):
    team = TeamFactory()
    user = UserFactory(username=who)
    if who == "lead":
        make_lead(user, teams=[team])
    client.force_login(user)
    for response in (client.get(reverse("policies")), client.get(edit_url(team)),
                     client.post(edit_url(team), form_data({"name": "L1"})),
                     client.post(reverse("policy-check", args=[team.pk]), form_data(), **HTMX),
                     client.post(reverse("policy-preview", args=[team.pk]), form_data(), **HTMX)):
        assert response.status_code == 403
    assert "Not allowed" in client.get(reverse("policies")).content.decode()  # the product's own 403 page
    assert not EscalationPolicy.objects.exists()


def test_signed_out_people_are_sent_to_log_in(client):
    assert reverse("login") in client.get(reverse("policies"))["Location"]


# -- the list --------------------------------------------------------------------------------------


def test_the_list_shows_each_team_with_its_policy_or_ways_to_create_one(client, sue, ana):
    covered = EscalationPolicyFactory(team__name="Billing", no_update_after=timedelta(days=1, hours=4))
    covered.levels.get(number=1).members.add(ana)
    bare = TeamFactory(name="Support")

    html = client.get(reverse("policies")).content.decode()

    row = html[html.index(f'id="team-{covered.team.pk}"'):html.index(f'id="team-{bare.pk}"')]
    assert "no update for 1d 4h" in row and "L1 Team lead: Ana Lopez · 30m to accept" in row
    assert "alopez" not in row and "Create from Odoo" not in row and f'href="{edit_url(covered.team)}"' in row
    rest = html[html.index(f'id="team-{bare.pk}"'):]
    assert "No policy yet" in rest
    assert f'href="{edit_url(bare)}?from=odoo">Create from Odoo\'s SLA policies' in rest


# -- the editor ------------------------------------------------------------------------------------


def test_the_editor_shows_durations_and_people_as_people_write_them(client, sue, ana, ben):
    policy = EscalationPolicyFactory(no_update_after=timedelta(days=1, hours=4),
                                     unassigned_priority="2", unassigned_after=timedelta(minutes=90))
    lead = policy.levels.get(number=1)
    lead.members.set([ana, ben])
    lead.notify_emails = "oncall@example.com"
    lead.save()

    html = client.get(edit_url(policy.team)).content.decode()

    assert 'name="no_update_after" value="1d 4h"' in html and 'name="unassigned_after" value="1h 30m"' in html
    assert 'name="levels-0-accept_within" value="30m"' in html
    assert "Ana Lopez" in html and "Ben Ode" in html and "alopez" not in html and "bode" not in html
    assert "<b>Will notify:</b> Ana Lopez, Ben Ode, oncall@example.com" in html
    assert "Django administration" not in html


def test_a_new_policy_with_two_levels_is_saved_from_the_form_with_human_durations(client, sue, ana, ben):
    team = TeamFactory(name="Support")

    response = client.post(edit_url(team), form_data(
        {"name": "Team lead", "accept_within": "30m", "members": [ana.pk]},
        {"name": "Managers", "accept_within": "", "members": [ben.pk], "notify_emails": "oncall@example.com",
         "remind_after": "1d 4h", "odoo_tag_name": "Escalated L2", "odoo_priority": "3"},
        no_update_after="2 hours", unassigned_priority="2", unassigned_after="45m", at_risk_within="1h"))

    assert response.status_code == 302 and response["Location"].endswith(f"#team-{team.pk}")
    policy = EscalationPolicy.objects.get(team=team)
    assert (policy.no_update_after, policy.unassigned_after, policy.at_risk_within, policy.at_risk_share) == (
        timedelta(hours=2), timedelta(minutes=45), timedelta(hours=1), 0.25)
    one, two = policy.levels.order_by("number")
    assert (one.name, one.accept_within, list(one.members.all())) == (
        "Team lead", timedelta(minutes=30), [ana])
    assert (two.remind_after, two.odoo_tag_name, two.odoo_priority) == (
        timedelta(days=1, hours=4), "Escalated L2", "3")
    assert set(two.notify_users.all()) == {ben} and two.notify_emails == "oncall@example.com"
    listed = client.get(response["Location"]).content.decode()
    assert "Saved the escalation policy of Support" in listed


def test_a_bad_duration_is_refused_in_words_and_nothing_is_saved(client, sue, ana):
    team = TeamFactory()
    response = client.post(edit_url(team), form_data(
        {"name": "Team lead", "accept_within": "30m", "members": [ana.pk]},
        {"name": "Managers", "accept_within": "1.5h", "notify_emails": "oncall@"},
        unassigned_priority="2", unassigned_after="soon"))

    assert response.status_code == 400
    html = response.content.decode()
    after = html[html.index('id="err-unassigned_after"'):].split("</div>")[0]
    assert "Write a duration such as" in after and "Set both the priority" not in html  # said once, there
    assert "Use whole numbers: “1h 30m” rather than “1.5h”." in html
    assert "“oncall@” is not an email address." in html
    assert 'value="1.5h"' in html  # what was typed stays
    assert not EscalationPolicy.objects.exists() and not EscalationLevel.objects.exists()


def test_a_level_nobody_would_hear_of_is_refused(client, sue):
    response = client.post(edit_url(TeamFactory()), form_data({"name": "Team lead"}))
    assert response.status_code == 400
    assert "Nobody would be told of this level&#x27;s escalations" in response.content.decode()


def test_a_new_policy_for_a_team_that_got_one_meanwhile_is_refused_and_the_other_kept(client, sue, ana):
    policy = EscalationPolicyFactory(no_update_after=timedelta(hours=8))
    response = client.post(edit_url(policy.team), form_data(
        {"name": "Mine", "members": [ana.pk]}, no_update_after="1h"))

    assert response.status_code == 409
    assert "has a policy already: someone saved one while you were editing" in response.content.decode()
    policy.refresh_from_db()
    assert policy.no_update_after == timedelta(hours=8)
    assert list(policy.levels.values_list("name", flat=True)) == ["Team lead", "Senior support"]


def test_a_save_from_a_page_opened_before_someone_elses_save_is_refused_and_keeps_what_was_typed(
        client, sue, ana):
    policy = EscalationPolicyFactory(no_update_after=timedelta(hours=8))
    level_ids = list(policy.levels.order_by("number").values_list("pk", flat=True))
    page = client.get(edit_url(policy.team)).content.decode()
    opened = re.search(r'name="revision" value="(\d+)"', page)[1]

    def mine(revision):
        return form_data({"id": level_ids[0], "name": "Team lead", "members": [ana.pk]},
                         {"id": level_ids[1], "name": "Senior support", "members": [ana.pk]},
                         policy_id=str(policy.pk), no_update_after="3h", revision=revision)

    # Someone else saves first, from the same revision.
    theirs = mine(opened) | {"no_update_after": "1h"}
    assert client.post(edit_url(policy.team), theirs).status_code == 302
    policy.refresh_from_db()
    assert policy.no_update_after == timedelta(hours=1) and policy.revision == int(opened) + 1

    refused = client.post(edit_url(policy.team), mine(opened))

    html = refused.content.decode()
    assert refused.status_code == 409 and "Someone saved the policy of" in html
    assert 'name="no_update_after" value="3h"' in html  # what was typed is still there
    policy.refresh_from_db()
    assert policy.no_update_after == timedelta(hours=1)  # theirs stays
    # Saving again from the refused page replaces theirs, knowingly.
    again = re.search(r'name="revision" value="(\d+)"', html)[1]
    assert again == str(policy.revision)
    assert client.post(edit_url(policy.team), mine(again)).status_code == 302
    policy.refresh_from_db()
    assert policy.no_update_after == timedelta(hours=3)


def test_a_level_escalations_went_through_cannot_be_removed_and_nothing_changes(client, sue, ana):
    policy = EscalationPolicyFactory()
    one, two = policy.levels.order_by("number")
    TicketStageChangeFactory(ticket=TicketFactory(team=policy.team))
    evaluate_escalations(now=T0)
    response = client.post(edit_url(policy.team), form_data(
        {"id": one.pk, "name": "Team lead", "members": [ana.pk], "DELETE": "on"},
        {"id": two.pk, "name": "Renamed", "members": [ana.pk]}, policy_id=str(policy.pk)))

    assert response.status_code == 400
    assert "It stays: escalations went through it" in response.content.decode()
    names = policy.levels.order_by("number").values_list("name", flat=True)
    assert list(names) == ["Team lead", "Senior support"]


def test_adding_a_level_keeps_what_was_typed_and_saves_nothing(client, sue, ana):
    team = TeamFactory()
    response = client.post(edit_url(team), form_data(
        {"name": "Team lead", "accept_within": "2h", "members": [ana.pk]}, add_level="1", touched=""))

    html = response.content.decode()
    assert response.status_code == 200 and "Level 2" in html and 'name="levels-1-name"' in html
    assert 'name="levels-0-accept_within" value="2h"' in html
    assert 'class="field-error"' not in html  # the new level is not painted red before anyone touched it
    assert not EscalationPolicy.objects.exists()


def test_checking_as_one_types_shows_the_touched_fields_errors_and_who_is_told(client, sue, ana, ben):
    team = TeamFactory()
    nora = UserFactory(username="nora", first_name="Nora", last_name="Nomail", email="")
    data = form_data({"name": "", "members": [ana.pk, ben.pk, nora.pk],
                      "notify_emails": "oncall@example.com"},
                     no_update_after="soon", unassigned_after="2x",
                     touched="no_update_after levels-0-members")

    response = client.post(reverse("policy-check", args=[team.pk]), data, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    no_update = html[html.index('id="err-no_update_after"'):].split("</div>")[0]
    assert 'hx-swap-oob="true"' in no_update and "Write a duration such as" in no_update
    untouched = html[html.index('id="err-unassigned_after"'):].split("</div>")[0]
    assert 'class="field-error"' not in untouched
    assert 'class="field-error"' not in html[html.index('id="err-levels-0-name"'):].split("</div>")[0]
    assert "<b>Will notify:</b> Ana Lopez, Ben Ode, oncall@example.com" in html
    assert "Not told: Nora Nomail (no email address)." in html
    assert not EscalationPolicy.objects.exists()


def test_the_preview_says_what_the_policy_would_raise_and_end_now(client, sue, ana):
    team = TeamFactory()
    due(team, left=timedelta(minutes=-5), reference="LATE")
    due(team, left=timedelta(hours=3), reference="CALM")
    data = form_data({"name": "Team lead", "members": [ana.pk]})

    html = client.post(reverse("policy-preview", args=[team.pk]), data, **HTMX).content.decode()

    assert "This policy would raise <b>1</b> escalation now and end <b>0</b>." in html
    assert "LATE" in html and "CALM" not in html and "SLA breached" in html
    assert not EscalationPolicy.objects.exists()
    client.post(edit_url(team), data)
    assert evaluate_escalations(now=T0).raised == 1


def test_a_form_with_errors_gets_no_preview_but_says_why(client, sue):
    html = client.post(reverse("policy-preview", args=[TeamFactory().pk]), form_data(
        {"name": "L1", "notify_emails": "x@example.com"}, no_update_after="soon"), **HTMX).content.decode()
    assert "Fix the marked fields to see what this would do now." in html


# -- the proposal from Odoo's SLA policies ---------------------------------------------------------


def test_the_proposal_fills_the_editor_and_is_not_offered_for_a_team_with_a_policy(client, sue):
    team = TeamFactory(name="Support")
    for _ in range(3):
        ticket = TicketFactory(team=team, created_at=T0 - timedelta(hours=1))
        SlaStatus.objects.create(ticket=ticket, odoo_id=ticket.pk, name="Urgent: response within 4 hours",
                                 deadline=T0 + timedelta(hours=3))
    lena = make_lead(UserFactory(username="lena", first_name="Lena", last_name="Lead"), teams=[team])

    html = client.get(edit_url(team) + "?from=odoo").content.decode()

    assert "Proposed from Odoo's SLA policies for Support" in html
    assert "Urgent: response within 4 hours: <b>4h</b>" in html
    assert 'name="at_risk_percent" value="25"' in html and 'name="levels-0-accept_within" value="30m"' in html
    assert checked(html, "levels-0-members") == [lena.pk] and checked(html, "levels-1-members") == [sue.pk]
    assert not EscalationPolicy.objects.exists()

    covered = EscalationPolicyFactory()
    assert "Proposed from" not in client.get(edit_url(covered.team) + "?from=odoo").content.decode()


def test_the_proposals_explanation_stays_while_levels_are_added(client, sue):
    team = TeamFactory(name="Support")
    ticket = TicketFactory(team=team, created_at=T0 - timedelta(hours=1))
    SlaStatus.objects.create(ticket=ticket, odoo_id=ticket.pk, name="Urgent: response within 4 hours",
                             deadline=T0 + timedelta(hours=3))
    assert 'name="from" value="odoo"' in client.get(edit_url(team) + "?from=odoo").content.decode()

    added = client.post(edit_url(team), form_data({"name": "Team lead", "members": [sue.pk]}, add_level="1",
                                                   **{"from": "odoo"})).content.decode()

    assert "Level 2" in added and "Proposed from Odoo's SLA policies for Support" in added
    assert "Urgent: response within 4 hours: <b>4h</b>" in added and 'name="from" value="odoo"' in added
    plain = client.post(edit_url(team), form_data({"name": "Team lead", "members": [sue.pk]}, add_level="1"))
    assert "Proposed from" not in plain.content.decode()  # a policy begun by hand has no proposal to explain


# -- the queue's first run -------------------------------------------------------------------------


def test_the_queue_says_no_team_has_a_policy_and_the_proposals_would_raise(client, sue):
    team = TeamFactory(name="Support")
    due(team, left=timedelta(minutes=-5))
    due(team, left=timedelta(minutes=-50))

    page = client.get(reverse("queue")).content.decode()
    assert "No team has an escalation policy yet" in page and reverse("policies-first-run") in page

    counts = client.get(reverse("policies-first-run"), **HTMX).content.decode()
    assert "the console would raise <b>2</b> escalations now" in counts
    assert "Support: <b>2</b>" in counts and f"{edit_url(team)}?from=odoo" in counts
    assert not EscalationPolicy.objects.exists()

    EscalationPolicyFactory()
    assert "No team has an escalation policy yet" not in client.get(reverse("queue")).content.decode()


def test_the_first_run_costs_the_queue_one_query_only_while_it_is_empty(client, sue):
    def asks_for_a_policy() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("queue")).status_code == 200
        return sum('SELECT 1 AS "a" FROM "escalations_escalationpolicy"' in q["sql"] for q in captured)

    assert asks_for_a_policy() == 1
    policy = EscalationPolicyFactory()
    due(policy.team, left=timedelta(minutes=-5))
    refresh_clocks()
    evaluate_escalations(now=T0)
    assert asks_for_a_policy() == 0  # an escalation needs a policy: the queue shows one, so none is asked


def test_people_who_set_nothing_up_see_the_first_run_without_the_editor_links(client):
    due(TeamFactory(), left=timedelta(minutes=-5))
    client.force_login(UserFactory())
    counts = client.get(reverse("policies-first-run"), **HTMX).content.decode()
    assert "<b>1</b> escalation now" in counts and "?from=odoo" not in counts
    assert "A supervisor sets up the policies" in counts


# -- the admin -------------------------------------------------------------------------------------


def test_the_admin_is_titled_as_the_product(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    html = client.get("/admin/").content.decode()
    assert "Escalation console: administration" in html and "Django administration" not in html
    assert "<title>People, wall displays and records | Escalation console admin</title>" in html


# -- bad input -------------------------------------------------------------------------------------

FIELDS = ["no_update_after", "at_risk_percent", "unassigned_priority", "escalate_tag", "calendar",
          "paused_stages", "target", "policy_id", "touched", "levels-TOTAL_FORMS", "levels-INITIAL_FORMS",
          "levels-0-id", "levels-0-name", "levels-0-accept_within", "levels-0-members", "levels-0-also_tell",
          "levels-0-notify_emails", "levels-0-odoo_priority", "levels-0-DELETE"]


# A sample of tests.malformed's corpus per field (every value of it for every field takes a minute).
BAD_VALUES = ["abc", str(2**64), "-1", "\x00", MARK + HUGE[:50_000]]


def test_malformed_input_gets_an_answer_never_an_error(client, sue, ana):
    team = TeamFactory()
    routes = [edit_url(team), reverse("policy-preview", args=[team.pk])]
    for field, value in itertools.product(FIELDS, BAD_VALUES):
        data = form_data({"name": "Lead", "members": [ana.pk]}, **{field: value})
        for url in routes:
            check(client.post(url, data, **HTMX), sent=value)
        EscalationPolicy.objects.filter(team=team).delete()  # saved: the value was harmless (a tag, say)
    for bad_id, route in itertools.product(BAD_IDS, ["", "check/", "preview/"]):
        check(client.get(f"/policies/{bad_id}/{route}"))
        check(client.post(f"/policies/{bad_id}/{route}", form_data({"name": "Lead", "members": [ana.pk]})))
    assert client.get(reverse("policies")).status_code == 200
