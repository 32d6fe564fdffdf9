"""The queue page and its htmx partials, through the test client: rows in urgency order, filters in the
URL, a fixed number of queries whatever the rows, 204 when polling finds nothing new, actions in place."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from escalations.actions import action_accept
from escalations.enqueue import SEND_ODOO_ACTION
from escalations.models import AuditEntry, Escalation, OdooAction, SyncState, Trigger
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
    assert html.count('/accept/"') == 3  # an Accept button per row for the team's lead


def test_past_one_page_the_pager_moves_by_urgency_and_keeps_the_filters(
        client, team_lead, level1, monkeypatch):
    from dashboard.views import queue as queue_view

    monkeypatch.setattr(queue_view, "PAGE_SIZE", 2)
    for minutes in (10, 20, 30):
        escalated(level1, left=timedelta(minutes=minutes))
    client.force_login(team_lead)

    first = html_of(client.get(reverse("queue"), {"sla": "at_risk"}))
    second = html_of(client.get(reverse("queue"), {"sla": "at_risk", "page": "2"}))

    assert "Page 1 of 2" in first and "Less urgent →</a>" in first and "More urgent" not in first
    assert 'href="?sla=at_risk&amp;page=2"' in first
    assert "Page 2 of 2" in second and "← More urgent</a>" in second and "Less urgent" not in second


@pytest.mark.parametrize("rows", [3, 40])
def test_the_page_and_its_partial_run_a_fixed_number_of_queries(client, team_lead, level1, rows,
                                                                  django_assert_num_queries):
    for minutes in range(rows):
        escalated(level1, left=timedelta(minutes=minutes - 10))
    client.force_login(team_lead)
    client.get(reverse("queue"))  # the sync state's row is created once
    # user (the session is in the cache), change stamp, sync state, counts, the page's ids, its rows,
    # write-backs, the viewer's roles (2: their groups, read once per request, and the teams they lead),
    # the team filter, the bulk bar's agents
    with django_assert_num_queries(11):
        assert html_of(client.get(reverse("queue"))).count('class="queue-row') == rows
    # the same but the bulk bar, which the partial does not render (the team filter is a query to clean)
    with django_assert_num_queries(10):
        html_of(client.get(reverse("queue"), {"team": level1.policy.team_id}, **HTMX))
    # the second tab is empty (every ticket is escalated): no page ids, so no rows nor write-backs to
    # read, no bulk bar
    with django_assert_num_queries(8):
        html_of(client.get(reverse("queue"), {"tab": "at_risk"}))


@pytest.mark.parametrize("rows", [3, 40])
def test_a_supervisor_s_page_and_polls_cost_the_queries_the_readme_quotes(client, level1, rows,
                                                                          django_assert_num_queries):
    # The README's figures, measured by benchmark_queue as a superuser (who needs no role query).
    for minutes in range(rows):
        escalated(level1, left=timedelta(minutes=minutes - 10))
    client.force_login(UserFactory(is_superuser=True))
    SyncState.load()  # the sync state's row is created once
    since = since_of(html_of(client.get(reverse("queue"))))
    # user (the session is in the cache), change stamp, sync state, counts, the page's ids, its rows,
    # write-backs, the team filter's choices, the bulk bar's agents
    with django_assert_num_queries(9):
        assert html_of(client.get(reverse("queue"))).count('class="queue-row') == rows
    # the same but the team filter and the bulk bar, which the partial does not render
    with django_assert_num_queries(7):
        html_of(client.get(reverse("queue"), {"since": "old"}, **HTMX))
    # nothing changed: the user and the change stamp, before anything of the queue is read
    with django_assert_num_queries(2):
        assert client.get(reverse("queue"), {"since": since}, **HTMX).status_code == 204


def since_of(html: str) -> str:
    return html.split("since=")[1].split('"')[0].split("&")[0]


def test_polling_gets_an_empty_204_until_something_shown_changes(client, team_lead, level1):
    escalation = escalated(level1, reference="T-POLL")
    SyncState.load()  # the sync state's row is created once
    client.force_login(team_lead)
    since = since_of(html_of(client.get(reverse("queue"), **HTMX)))

    unchanged = client.get(reverse("queue"), {"since": since}, **HTMX)
    assert unchanged.status_code == 204 and unchanged.content == b""

    # A sync renames the ticket: it moves the sync's cursor, so the stamp.
    escalation.ticket.name = "Renamed in Odoo"
    escalation.ticket.save()
    SyncState.objects.filter(pk=1).update(cursor_write_date=T0, cursor_odoo_id=escalation.ticket_id)
    changed = client.get(reverse("queue"), {"since": since}, **HTMX)
    assert "Renamed in Odoo" in html_of(changed) and 'id="queue-body"' in changed.content.decode()
    since = since_of(changed.content.decode())
    assert client.get(reverse("queue"), {"since": since}, **HTMX).status_code == 204


@pytest.mark.parametrize("rows", [3, 40])
def test_an_unchanged_poll_by_a_lead_costs_two_queries(client, team_lead, level1, rows,
                                                       django_assert_num_queries):
    for minutes in range(rows):
        escalated(level1, left=timedelta(minutes=minutes - 10))
    SyncState.load()
    client.force_login(team_lead)
    since = since_of(html_of(client.get(reverse("queue"), {"team": level1.policy.team_id}, **HTMX)))
    # the user (the session comes from the cache) and the change stamp: nothing of the queue is read
    with django_assert_num_queries(2):
        response = client.get(reverse("queue"), {"team": level1.policy.team_id, "since": since}, **HTMX)
    assert response.status_code == 204
    # An action moves the stamp: the next poll renders the rows again, with the action on its row.
    escalation = Escalation.objects.filter(ended_at__isnull=True).first()
    action_accept(ticket=escalation.ticket, user=team_lead)
    changed = client.get(reverse("queue"), {"team": level1.policy.team_id, "since": since}, **HTMX)
    row = html_of(changed).split(f'id="ticket-{escalation.ticket_id}"')[1].split("</tbody>")[0]
    assert f'class="pending-assignee" title="On its way to Odoo; {escalation.ticket.assignee.name}' in row
    assert f'<span class="on-its-way">→ Odoo</span> {team_lead.profile.agent.name}</span>' in row


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


def post_htmx(client: Client, url: str, data: dict):
    return client.post(url, data, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, **HTMX)


def waiting_write_back(escalation, *, by, state=OdooAction.State.AWAITING_RETRY) -> OdooAction:
    """An accept Odoo did not take yet (it was down): it waits out its backoff."""
    return OdooAction.objects.create(
        ticket=escalation.ticket, escalation=escalation, kind=OdooAction.Kind.ACCEPT, created_by=by,
        created_at=T0 - timedelta(minutes=2), state=state, attempts=3,
        next_attempt_at=T0 + timedelta(minutes=2),
        last_error="Odoo could not be reached: timeout", payload={"values": {}})


@pytest.fixture
def enqueued(monkeypatch):
    """The tasks handed to the broker (in a test, once `committed()` ends: the commit callbacks run)."""
    sent = []
    monkeypatch.setattr("escalations.enqueue.enqueue", lambda task, row_id, **kw: sent.append((task, row_id)))
    return sent


def test_retry_now_sends_a_waiting_write_back_at_once_for_the_lead_who_made_it(
        team_lead, level1, enqueued, django_capture_on_commit_callbacks):
    escalation = escalated(level1, reference="T-RETRY")
    action = waiting_write_back(escalation, by=team_lead)
    client = csrf_client(team_lead)
    row = html_of(client.get(reverse("queue")))
    assert f'hx-post="/actions/{action.pk}/retry/"' in row and "Retry now" in row

    with django_capture_on_commit_callbacks(execute=True):
        response = post_htmx(client, reverse("action-retry", args=[action.pk]), {"render": "row"})

    assert "Sending it to Odoo now." in html_of(response)
    action.refresh_from_db()
    assert action.next_attempt_at == T0 and action.state == OdooAction.State.AWAITING_RETRY
    assert enqueued == [(SEND_ODOO_ACTION, action.pk)]
    # Once a worker took it, there is nothing left to hurry: a second click sends nothing.
    OdooAction.objects.filter(pk=action.pk).update(state=OdooAction.State.INFLIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        again = post_htmx(client, reverse("action-retry", args=[action.pk]), {"render": "row"})
    assert "no longer waiting" in html_of(again) and len(enqueued) == 1


def test_retry_now_is_for_its_maker_or_a_supervisor_only(team_lead, level1, policy, enqueued,
                                                          django_capture_on_commit_callbacks):
    escalation = escalated(level1, reference="T-THEIRS")
    action = waiting_write_back(escalation, by=team_lead)
    colleague = make_lead(UserFactory(username="colleague"), teams=[policy.team], agent=AgentFactory())
    client = csrf_client(colleague)
    assert "Retry now" not in html_of(client.get(reverse("queue")))

    with django_capture_on_commit_callbacks(execute=True):
        refused = post_htmx(client, reverse("action-retry", args=[action.pk]), {"render": "row"})

    assert refused.status_code == 403 and "Only the lead who made this change" in refused.content.decode()
    action.refresh_from_db()
    assert action.next_attempt_at == T0 + timedelta(minutes=2) and enqueued == []
    boss = csrf_client(make_lead(UserFactory(username="boss"), supervisor=True))
    with django_capture_on_commit_callbacks(execute=True):
        retried = post_htmx(boss, reverse("action-retry", args=[action.pk]), {"render": "row"})
    assert retried.status_code == 200
    assert enqueued == [(SEND_ODOO_ACTION, action.pk)]


def test_bulk_accept_makes_one_action_per_ticket_and_reports_each(team_lead, level1):
    mine = [escalated(level1, reference=f"T-BULK{i}") for i in range(2)]
    theirs = escalated(EscalationPolicyFactory().levels.get(number=1), reference="T-ELSEWHERE")
    client = csrf_client(team_lead)
    tickets = [e.ticket_id for e in mine] + [theirs.ticket_id]

    response = post_htmx(client, reverse("action-bulk"), {"do": "accept", "tickets": tickets})

    html = html_of(response)
    assert response["HX-Trigger"] == "queue-changed"
    assert html.count("taken by you, on its way to Odoo") == 2
    assert "<b>T-ELSEWHERE</b>:\n    not done" in html
    accepted = OdooAction.objects.filter(kind=OdooAction.Kind.ACCEPT).values_list("ticket_id", flat=True)
    assert sorted(accepted) == sorted(e.ticket_id for e in mine)
    assert AuditEntry.objects.count() == 2  # each its own action, with its own audit entry
    assert Escalation.objects.filter(accepted_by=team_lead).count() == 2


def test_bulk_reassign_needs_an_agent_and_reassigns_each(team_lead, level1):
    rows = [escalated(level1, reference=f"T-RE{i}") for i in range(2)]
    target = AgentFactory(name="Zoe Zimmer")
    client = csrf_client(team_lead)
    tickets = [e.ticket_id for e in rows]
    refused = post_htmx(client, reverse("action-bulk"), {"do": "reassign", "tickets": tickets})
    assert refused.status_code == 400 and "Choose the agent" in refused.content.decode()
    assert not OdooAction.objects.exists()

    html = html_of(post_htmx(client, reverse("action-bulk"),
                             {"do": "reassign", "tickets": tickets, "agent": target.pk}))

    assert html.count("reassigned, on its way to Odoo") == 2
    actions = OdooAction.objects.filter(kind=OdooAction.Kind.REASSIGN)
    assert [a.payload["values"]["user_id"] for a in actions] == [target.pk, target.pk]
    queue = html_of(client.get(reverse("queue")))
    assert queue.count('<span class="on-its-way">→ Odoo</span> Zoe Zimmer</span>') == 2  # what will be


def test_the_agent_picker_lists_the_team_s_active_members_never_the_console_nor_odoobot(
        client, team_lead, level1, settings):
    team = level1.policy.team
    member = AgentFactory(name="Mia Member")
    gone = AgentFactory(name="Mia Archived", active=False)
    AgentFactory(name="Mia Outsider")
    console = AgentFactory(name="Mia Console")
    integration = AgentFactory(name="Mia Integration", login="console@example.com")
    bot = AgentFactory(odoo_id=1, name="Mia OdooBot")
    team.members.set([member, gone, console, integration, bot])
    SyncState.objects.update_or_create(pk=1, defaults={"odoo_uid": console.pk})
    settings.ODOO_USER = "console@example.com"
    client.force_login(team_lead)

    found = html_of(client.get(reverse("agent-search"), {"q": "mia", "team": team.pk, "for": "agent-3"}))
    assert "Mia Member" in found and found.count("<option") == 2  # "Keep the assignee" and her

    # A team without members mirrored: every active agent, still never the console nor OdooBot.
    other = EscalationPolicyFactory().team
    found = html_of(client.get(reverse("agent-search"), {"q": "mia", "team": other.pk}))
    assert "Mia Member" in found and "Mia Outsider" in found
    for never in ("Mia Archived", "Mia Console", "Mia Integration", "Mia OdooBot"):
        assert never not in found
    escalation = escalated(level1)
    form = html_of(client.get(reverse("action-form", args=[escalation.ticket_id, "reassign"]), **HTMX))
    assert "Mia Member" in form and "Mia Outsider" not in form and f'"team": "{team.pk}"' in form


def test_a_row_says_why_it_was_raised_and_what_its_sla_is_now(client, team_lead, level1):
    escalation = escalated(level1, left=timedelta(hours=4), reference="T-MET")
    escalation.trigger = Trigger.SLA_BREACHED
    escalation.facts = {"deadline": (T0 - timedelta(days=3)).isoformat()}
    escalation.save()
    client.force_login(team_lead)

    row = html_of(client.get(reverse("queue"))).split('id="ticket-')[1]

    assert "SLA breached" in row and "On track" in row
    assert "SLA now: new deadline" in row  # not "On track" beside "SLA breached" without a word
    attention = (T0 - timedelta(days=3)).isoformat()
    assert f'data-age="{attention}">3d 0h<' in row


def test_all_open_tickets_take_the_queue_s_filters_and_a_text_search(client, team_lead, level1):
    from tests.factories import TicketClockFactory, TicketFactory

    team = level1.policy.team
    TicketClockFactory(deadline=T0 - timedelta(minutes=5), ticket__team=team, ticket__reference="T-LATE",
                       ticket__name="Printer on fire", ticket__customer_name="Globex")
    TicketClockFactory(deadline=T0 + timedelta(hours=5), ticket__team=team, ticket__reference="T-CALM",
                       ticket__name="Question about invoices", ticket__customer_name="Initech")
    TicketFactory(team=team, reference="T-MINE", assignee=team_lead.profile.agent, name="Mine")
    TicketFactory(reference="T-OTHER-TEAM", name="Printer elsewhere")
    client.force_login(team_lead)

    def shown(**params) -> set[str]:
        html = html_of(client.get(reverse("tickets"), params))
        return {ref for ref in ("T-LATE", "T-CALM", "T-MINE", "T-OTHER-TEAM") if f">{ref}<" in html}

    assert shown() == {"T-LATE", "T-CALM", "T-MINE", "T-OTHER-TEAM"}
    assert shown(team=team.pk) == {"T-LATE", "T-CALM", "T-MINE"}
    assert shown(sla="breached") == {"T-LATE"}
    assert shown(mine="on") == {"T-MINE"}
    assert shown(q="printer") == {"T-LATE", "T-OTHER-TEAM"}  # the title
    assert shown(q="globex") == {"T-LATE"}  # the customer
    assert shown(q="t-calm") == {"T-CALM"}  # the reference
    assert shown(q="printer", team=team.pk) == {"T-LATE"}
    assert shown(team="nope", sla="<x>", page="-3") == {"T-LATE", "T-CALM", "T-MINE", "T-OTHER-TEAM"}
    html = html_of(client.get(reverse("tickets"), {"q": "nothing like it"}))
    assert "No open ticket matches these filters." in html and 'value="nothing like it"' in html
