"""The Reports page, its CSV downloads and the tickets behind a bar: who sees which teams, what the
charts and tables say and link to, bad input, and what a page costs in SQL queries."""

from __future__ import annotations

import csv
import io
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from escalations.reports.rollup import report_rollup
from tests.factories import UserFactory
from tests.outbox_helpers import make_lead
from tests.report_world import NOW, build_world

TWO_WEEKS = {"weeks": "4", "until": "2026-11-25"}  # 2 Nov to 29 Nov: weeks A and B are the last two


@pytest.fixture
def world(db):
    world = build_world()
    report_rollup(now=NOW)
    return world


@pytest.fixture
def boss(db):
    return make_lead(UserFactory(username="boss", first_name="Bo", last_name="Boss"), supervisor=True)


@pytest.fixture
def x_lead(world):
    return make_lead(UserFactory(username="xlead"), teams=[world.x])


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def page(client, **params):
    response = client.get(reverse("reports"), params)
    assert response.status_code == 200
    return response.content.decode()


def tickets_behind(client, **params):
    response = client.get(reverse("report-tickets"), params)
    names = re.findall(r"<td><a href=\"/tickets/\d+/\">T\d+</a> (t\d)</td>", response.content.decode())
    return response, names


# -- who sees what -------------------------------------------------------------------------------------


def test_a_supervisor_sees_every_team_and_the_link_in_the_top_bar(client, world, boss):
    client.force_login(boss)
    html = page(client, **TWO_WEEKS)
    assert '<option value="" selected>All teams</option>' in html
    assert "Team X</option>" in html and "Team Y</option>" in html
    assert '<a href="/reports/" aria-current="page">Reports</a>' in html
    assert "Weeks run from Monday midnight, UTC time (the console's zone" in html


def test_a_team_lead_sees_only_the_teams_they_lead(client, world, x_lead):
    client.force_login(x_lead)
    html = page(client, **TWO_WEEKS)
    assert "All my teams" in html and "Team Y</option>" not in html
    # team Y's escalation (no update) is not counted; asking for team Y is ignored, and said so
    assert "No update" not in html
    html = page(client, team=world.y.pk, **TWO_WEEKS)
    assert "could not be read" in html and "No update" not in html
    response, names = tickets_behind(client, figure="raised", key="no_update", first="2026-11-16",
                                     last="2026-11-22", team=world.y.pk)
    assert response.status_code == 400
    response, names = tickets_behind(client, figure="sla", key="met", first="2026-11-16", last="2026-11-22")
    assert names == ["t1"]  # not team Y's t7


def test_people_who_lead_nothing_get_no_link_and_no_page(client, world):
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    assert client.get(reverse("reports")).status_code == 403
    assert client.get(reverse("report-csv", args=["sla"])).status_code == 403
    assert client.get(reverse("report-tickets"), {"figure": "sla"}).status_code == 403
    assert 'href="/reports/"' not in client.get(reverse("tickets")).content.decode()
    client.force_login(make_lead(UserFactory(username="lead-of-nothing")))  # a team lead with no team yet
    assert client.get(reverse("reports")).status_code == 403
    assert 'href="/reports/"' in client.get(reverse("tickets")).content.decode()
    client.logout()
    assert client.get(reverse("reports")).status_code == 302


# -- what the page says -----------------------------------------------------------------------------------


def test_each_chart_is_an_svg_with_its_words_a_legend_a_table_and_links_to_its_tickets(client, world, boss):
    client.force_login(boss)
    html = page(client, **TWO_WEEKS)
    assert html.count('<article class="chart-card') == 15
    sla = html.split('id="chart-sla-outcomes"', 1)[1].split("</article>", 1)[0]
    assert '<svg class="chart"' in sla and 'role="group"' in sla and "<desc" in sla
    assert "Tickets with an SLA deadline, in the week their outcome became known" in sla
    assert 'fill="url(#rp-breach)"' in sla and 'fill="url(#rp-ok)"' in sla
    breached_a = ("/reports/tickets/?figure=sla&amp;key=breached&amp;first=2026-11-16&amp;last=2026-11-22")
    assert f'<a href="{breached_a}" aria-label="Week of 16 Nov: Breached 2">' in sla
    assert f'<td><a href="{breached_a}">2</a></td>' in sla  # the table's cell
    assert "<th scope=\"row\">Breach rate</th><td>—</td><td>—</td><td>50.0 %</td><td>0.0 %</td>" in sla
    assert 'style=' not in html.split('<div class="reports">', 1)[1]  # the content security policy


def test_the_tickets_behind_a_bar_are_the_ones_counted(client, world, boss):
    client.force_login(boss)
    response, names = tickets_behind(client, figure="sla", key="breached", first="2026-11-16",
                                     last="2026-11-22")
    assert response.status_code == 200 and sorted(names) == ["t2", "t3"]
    html = response.content.decode()
    assert "<h1>SLA outcome: Breached</h1>" in html and "2 rows, one per ticket" in html
    assert "<td data-label=\"Time left when reached\">-2h 00m</td>" in html  # t2, reached 2 h late
    _, names = tickets_behind(client, figure="level", key="2", first="2026-11-16", last="2026-11-29",
                              team=world.x.pk)
    assert sorted(names) == ["t2", "t4"]  # e1 and e3; e4 is team Y's
    # "every key but": the bar of the rest when a chart shows its top keys apart
    _, names = tickets_behind(client, figure="raised", first="2026-11-16", last="2026-11-29",
                              **{"not": ["sla_at_risk", "manual"]})
    assert sorted(names) == ["t3", "t6", "t7"]


@pytest.mark.parametrize("params", [
    {"figure": "nonsense", "first": "2026-11-16", "last": "2026-11-22"},
    {"figure": "sla", "first": "2026-11-22", "last": "2026-11-16"},
    {"figure": "sla", "first": "1900-01-01", "last": "2026-11-16"},
    {"figure": "sla", "first": "2026-11-16"},
    {"figure": "sla", "key": "x" * 101, "first": "2026-11-16", "last": "2026-11-22"},
    {"figure": "sla", "first": "2026-11-16", "last": "2026-11-22", "page": "0"},
])
def test_a_damaged_link_to_tickets_is_a_400_not_an_error(client, world, boss, params):
    client.force_login(boss)
    response = client.get(reverse("report-tickets"), params)
    assert response.status_code == 400


def test_filters_that_do_not_parse_fall_back_to_their_defaults(client, world, boss):
    client.force_login(boss)
    html = page(client, weeks="many", until="yesterday-ish", team="abc")
    assert "could not be read" in html
    assert "8 weeks, 5 Oct 2026 to 29 Nov 2026" in html
    assert page(client, until="1066-10-14").count("could not be read") == 1


def test_the_csv_of_a_section_has_every_number_of_its_charts(client, world, boss):
    client.force_login(boss)
    response = client.get(reverse("report-csv", args=["sla"]), TWO_WEEKS)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="reports-sla-2026-11-02-to-2026-11-29.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["chart", "period", "measure", "value"]
    mine = [r for r in rows if r[1] in ("2026-11-16", "2026-11-23")]
    assert mine == [
        ["SLA met and breached", "2026-11-16", "Met", "2"],
        ["SLA met and breached", "2026-11-23", "Met", "2"],
        ["SLA met and breached", "2026-11-16", "Breached", "2"],
        ["SLA met and breached", "2026-11-23", "Breached", "0"],
        ["SLA met and breached", "2026-11-16", "Breach rate (%)", "50.0"],
        ["SLA met and breached", "2026-11-23", "Breach rate (%)", "0.0"],
        ["Time left when the SLA was reached", "2026-11-16", "Median (minutes)", "30.0"],
        ["Time left when the SLA was reached", "2026-11-23", "Median (minutes)", "120.0"],
        ["Time left when the SLA was reached", "2026-11-16", "9 in 10 had at least (minutes)", "-90.0"],
        ["Time left when the SLA was reached", "2026-11-23", "9 in 10 had at least (minutes)", "120.0"],
        ["Time left when the SLA was reached", "2026-11-16", "Tickets measured", "3"],
        ["Time left when the SLA was reached", "2026-11-23", "Tickets measured", "2"],
    ]
    assert len(rows) == 1 + 6 * 4  # two charts of three rows of numbers, across the four weeks
    handoffs = list(csv.reader(io.StringIO(client.get(reverse("report-csv", args=["handoffs"]),
                                                      TWO_WEEKS).content.decode())))
    assert ["Where the time went, by stage", "2026-11-02 to 2026-11-29", "Waiting: Time before the breach "
            "(minutes)", "90.0"] in handoffs
    assert client.get(reverse("report-csv", args=["nothing"]), TWO_WEEKS).status_code == 404


def test_the_page_costs_a_fixed_number_of_queries(client, world, boss, django_assert_num_queries):
    client.force_login(boss)
    page(client, **TWO_WEEKS)
    # user (the session is in the cache), the viewer's role, the team filter's teams, the rollup's
    # counts, the spread of its durations, the rules' names, the stages' and the agents' (hand-offs),
    # the rollup's bookkeeping, the Odoo key alert of the top bar; on PostgreSQL the reading's memory
    # (escalations.reports.read), in a transaction of its own: a savepoint and its release in the test's
    with django_assert_num_queries(10 + (3 if connection.vendor == "postgresql" else 0)):
        page(client, **TWO_WEEKS)


def test_before_the_first_count_the_page_says_so_and_draws_no_empty_chart(client, boss):
    client.force_login(boss)
    html = page(client)
    assert "Not counted yet: the first count runs within a few minutes of the worker starting." in html
    assert html.count("Nothing to count in these weeks.") == 15 and '<svg class="chart"' not in html
