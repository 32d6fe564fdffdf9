"""The queue page and its htmx partials, through the test client: rows in urgency order, filters in the
URL, a fixed number of queries whatever the rows, 204 when polling finds nothing new, actions in place."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations.models import OdooAction
from tests.conftest import T0
from tests.factories import AgentFactory, EscalationPolicyFactory, UserFactory
from tests.outbox_helpers import make_lead
from tests.queue_helpers import escalated

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def team_lead(lead, policy):
    return make_lead(lead, teams=[policy.team], agent=AgentFactory())


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_queue_needs_a_login(client):
    response = client.get(reverse("queue"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_rows_most_urgent_first_with_state_words_countdowns_and_counts(client, team_lead, level1):
    escalated(level1, left=timedelta(hours=5), reference="T-ON")
    escalated(level1, left=timedelta(minutes=-7), reference="T-LATE")
    escalated(level1, left=timedelta(minutes=30), reference="T-RISK")
    client.force_login(team_lead)

    html = html_of(client.get(reverse("queue")))

    assert html.index("T-LATE") < html.index("T-RISK") < html.index("T-ON")
    assert "Breached" in html and "At risk" in html and "On track" in html  # words, not colour alone
    late_deadline = (T0 - timedelta(minutes=7)).isoformat()
    assert f'data-deadline="{late_deadline}"' in html and ">-7m 00s<" not in html  # ticks in the browser
    assert "<b>3</b> escalated" in html and "<b>1</b> Breached" in html
    assert html.count('hx-post="/tickets/') == 3  # an Accept button per row for the team's lead


@pytest.mark.parametrize("rows", [3, 40])
def test_the_page_and_its_partial_run_a_fixed_number_of_queries(client, team_lead, level1, rows,
                                                                  django_assert_num_queries):
    for minutes in range(rows):
        escalated(level1, left=timedelta(minutes=minutes - 10))
    client.force_login(team_lead)
    client.get(reverse("queue"))  # the sync state's row is created once
    # session, user, sync state, counts, rows, write-backs, the viewer's roles (3), the team filter
    with django_assert_num_queries(10):
        assert html_of(client.get(reverse("queue"))).count('class="queue-row') == rows
    with django_assert_num_queries(10):
        html_of(client.get(reverse("queue"), {"team": level1.policy.team_id}, **HTMX))
    # the second tab is empty (every ticket is escalated): no write-backs to read
    with django_assert_num_queries(9):
        html_of(client.get(reverse("queue"), {"tab": "at_risk"}))


@pytest.mark.parametrize("rows", [3, 40])
def test_a_supervisor_s_page_and_polls_cost_the_queries_the_readme_quotes(client, level1, rows,
                                                                          django_assert_num_queries):
    # The README's figures, measured by benchmark_queue as a superuser (who needs no role query).
    for minutes in range(rows):
        escalated(level1, left=timedelta(minutes=minutes - 10))
    client.force_login(UserFactory(is_superuser=True))
    first = html_of(client.get(reverse("queue")))  # the sync state's row is created once
    since = first.split("since=")[1].split('"')[0].split("&")[0]
    # session, user, sync state, counts, rows, write-backs, the team filter's choices
    with django_assert_num_queries(7):
        assert html_of(client.get(reverse("queue"))).count('class="queue-row') == rows
    # the same but the team filter, which the partial does not render
    with django_assert_num_queries(6):
        html_of(client.get(reverse("queue"), {"since": "old"}, **HTMX))
    with django_assert_num_queries(6):
        assert client.get(reverse("queue"), {"since": since}, **HTMX).status_code == 204


def test_polling_gets_an_empty_204_until_something_shown_changes(client, team_lead, level1):
    escalation = escalated(level1, reference="T-POLL")
    client.force_login(team_lead)
    first = html_of(client.get(reverse("queue"), **HTMX))
    since = first.split("since=")[1].split('"')[0].split("&")[0]

    unchanged = client.get(reverse("queue"), {"since": since}, **HTMX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    escalation.ticket.name = "Renamed in Odoo"
    escalation.ticket.save()
    changed = client.get(reverse("queue"), {"since": since}, **HTMX)
    assert "Renamed in Odoo" in html_of(changed) and 'id="queue-body"' in changed.content.decode()


def test_filters_are_read_from_the_url_and_bad_values_are_ignored(client, team_lead, level1, policy):
    other = EscalationPolicyFactory().levels.get(number=1)
    escalated(level1, left=timedelta(minutes=-1), reference="T-MINE-LATE")
    escalated(policy.levels.get(number=2), left=timedelta(hours=4), reference="T-L2")
    escalated(other, left=timedelta(minutes=-1), reference="T-OTHER")
    client.force_login(team_lead)

    html = html_of(client.get(reverse("queue"), {"team": policy.team_id, "sla": "breached"}))
    assert "T-MINE-LATE" in html and "T-L2" not in html and "T-OTHER" not in html
    html = html_of(client.get(reverse("queue"), {"level": "2"}))
    assert "T-L2" in html and "T-MINE-LATE" not in html and "T-OTHER" not in html
    html = html_of(client.get(reverse("queue"), {"team": "nope", "level": "99", "sla": "<x>", "page": "-4"}))
    assert "T-MINE-LATE" in html and "T-OTHER" in html
    mine = html_of(client.get(reverse("queue"), {"mine": "on"}))
    assert "No open escalation matches these filters" in mine


def test_read_only_users_see_the_queue_without_buttons(client, level1):
    escalated(level1, reference="T-RO")
    client.force_login(UserFactory())
    html = html_of(client.get(reverse("queue")))
    assert "T-RO" in html and "hx-post" not in html and "read only" in html


def test_the_at_risk_tab_lists_tickets_not_escalated_yet(client, team_lead, level1):
    from tests.factories import TicketClockFactory

    escalated(level1, left=timedelta(minutes=5), reference="T-ESC")
    TicketClockFactory(deadline=T0 + timedelta(minutes=15), ticket__reference="T-WATCH",
                       ticket__team=level1.policy.team)
    client.force_login(team_lead)
    html = html_of(client.get(reverse("queue"), {"tab": "at_risk"}))
    assert "T-WATCH" in html and "T-ESC" not in html and "Escalate…" in html


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("queue"))
    return client


def test_accept_in_place_returns_the_row_with_its_pending_write_back(team_lead, level1):
    escalation = escalated(level1, reference="T-ACC")
    client = csrf_client(team_lead)
    seen = escalation.ticket.odoo_write_date.isoformat()
    response = client.post(reverse("action-accept", args=[escalation.ticket_id]),
                           {"render": "row", "seen_write_date": seen},
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **HTMX)
    html = html_of(response)
    assert html.lstrip().startswith(f'<tbody id="ticket-{escalation.ticket_id}"')
    assert "You took this ticket" in html and "Accepted by Lena Lead" in html
    assert "Accept</span> by Lena Lead:" in html and "Pending" in html
    assert OdooAction.objects.get().kind == OdooAction.Kind.ACCEPT
    assert ">Accept</button>" not in html  # accepted: the button is gone


def test_a_refused_action_says_why_in_the_row(level1):
    escalation = escalated(level1, reference="T-NO")
    stranger = make_lead(UserFactory(first_name="Sam"), teams=[], agent=AgentFactory())
    client = csrf_client(stranger)
    response = client.post(reverse("action-deescalate", args=[escalation.ticket_id]),
                           {"render": "row", "reason": "fine"},
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **HTMX)
    assert response.status_code == 403
    assert not OdooAction.objects.exists()


def test_invalid_input_is_a_400_with_the_row_and_the_reason(team_lead, level1):
    escalation = escalated(level1, reference="T-BAD")
    client = csrf_client(team_lead)
    response = client.post(reverse("action-deescalate", args=[escalation.ticket_id]),
                           {"render": "row", "reason": ""},
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="ticket-' in html and "Please check the form" in html and "reason" in html


def test_the_row_forms_open_in_place(client, team_lead, level1):
    escalation = escalated(level1, reference="T-FORM")
    AgentFactory(name="Zoe Zimmer", email="zoe@example.com")
    client.force_login(team_lead)
    for kind, field in [("reassign", 'name="agent"'), ("deescalate", 'name="reason"'),
                        ("escalate", 'name="level"'), ("note", 'name="body"')]:
        html = html_of(client.get(reverse("action-form", args=[escalation.ticket_id, kind]), **HTMX))
        assert 'class="row-form"' in html and field in html, kind
    assert client.get(reverse("action-form", args=[escalation.ticket_id, "delete"])).status_code == 404
    found = html_of(client.get(reverse("agent-search"), {"q": "zimm", "for": "agent-7"}))
    assert "Zoe Zimmer" in found and found.count("<option") == 2 and 'id="agent-7"' in found
    forged = html_of(client.get(reverse("agent-search"), {"q": "", "for": '"><script>'}))
    assert "<script>" not in forged and 'id="agent"' in forged
    closed = html_of(client.get(reverse("queue-row", args=[escalation.ticket_id]), **HTMX))
    assert 'class="row-form"' not in closed and "T-FORM" in closed


def test_forms_of_another_teams_ticket_are_refused(client, level1):
    escalation = escalated(level1)
    client.force_login(make_lead(UserFactory(), teams=[], agent=AgentFactory()))
    assert client.get(reverse("action-form", args=[escalation.ticket_id, "reassign"])).status_code == 403


def test_links_change_one_filter_and_keep_the_others(client, team_lead, level1, policy):
    escalated(level1, left=timedelta(minutes=-1))
    client.force_login(team_lead)
    html = html_of(client.get(reverse("queue"), {"team": policy.team_id, "sla": "at_risk", "since": "x"}))
    assert f'href="?team={policy.team_id}&amp;sla=breached"' in html
    assert f'href="?team={policy.team_id}&amp;tab=at_risk"' in html  # a tab resets the SLA filter
    assert "since=x" not in html.split('hx-get="')[0]


def test_a_refusal_inside_a_row_comes_back_as_the_row_with_the_reason(client, level1):
    escalation = escalated(level1, reference="T-GONE")
    client.force_login(make_lead(UserFactory(), teams=[], agent=AgentFactory()))
    response = client.get(reverse("action-form", args=[escalation.ticket_id, "reassign"]),
                          HTTP_HX_TARGET=f"ticket-{escalation.ticket_id}", **HTMX)
    assert response.status_code == 403
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tbody id="ticket-{escalation.ticket_id}"')
    assert "You may not act on this ticket." in html and "read only" in html and "<html" not in html
    page = client.get(reverse("action-form", args=[escalation.ticket_id, "reassign"]))
    assert page.status_code == 403 and "T-GONE" not in page.content.decode()


def test_de_escalating_a_ticket_without_an_open_escalation_says_so(team_lead, level1):
    escalation = escalated(level1, reference="T-DONE")
    escalation.ended_at = T0
    escalation.save()
    client = csrf_client(team_lead)
    response = client.post(reverse("action-deescalate", args=[escalation.ticket_id]),
                           {"render": "row", "reason": "fine now"},
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **HTMX)
    assert response.status_code == 409 and "This ticket has no open escalation." in response.content.decode()
    assert not OdooAction.objects.exists()


def test_a_filter_changed_in_place_also_updates_the_tabs_links(client, team_lead, level1, policy):
    escalated(level1)
    client.force_login(team_lead)
    html = html_of(client.get(reverse("queue"), {"team": policy.team_id}, **HTMX))
    assert html.lstrip().startswith('<div id="queue-body"')
    assert 'id="queue-tabs" aria-label="Queue" hx-swap-oob="true"' in html
    assert f'href="?team={policy.team_id}&amp;tab=at_risk"' in html
    page = html_of(client.get(reverse("queue")))
    assert page.count('id="queue-tabs"') == 1 and "hx-swap-oob" not in page
