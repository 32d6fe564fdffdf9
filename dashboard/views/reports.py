"""The Reports page: how the support operation did, per team and per week, as charts with their tables;
a CSV per section; and the tickets behind any bar.

Supervisors read every team, team leads their own (escalations.reports.scope). The figures come from
the rollup beat keeps (escalations.reports.rollup); these views only read it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from dashboard.report_charts import chart_table, draw
from dashboard.report_forms import BehindForm, ReportFilterForm
from dashboard.timezones import viewer_time_zone
from escalations.models import ReportFact, ReportRollup, Team
from escalations.reports.labels import key_labels
from escalations.reports.read import Reading, facts_behind, report_read
from escalations.reports.scope import report_team_ids
from escalations.reports.sections import Behind, Chart, Section, report_sections
from escalations.reports.weeks import days_span, weeks_until

TICKETS_PAGE = 100
# The tickets-behind list's column for a figure that measures a time.
SECONDS_LABELS = {
    ReportFact.Figure.SLA: "Time left when reached", ReportFact.Figure.ACCEPTED: "Time to accept",
    ReportFact.Figure.HANDOFF_STAGE: "Time before the breach",
    ReportFact.Figure.HANDOFF_AGENT: "Time before the breach",
}


@dataclass
class Scope:
    team_ids: set[int] | None  # None: every team
    teams: list[tuple[int, str]]  # the team filter's choices


def _scope(request) -> Scope:
    team_ids = report_team_ids(request.user)
    # The top bar's Reports link asks the same (templatetags.report_tags): answered, no second query.
    request.user.may_read_reports = True
    teams = Team.objects.order_by("name", "pk")
    if team_ids is not None:
        teams = teams.filter(pk__in=team_ids)
    return Scope(team_ids, list(teams.values_list("pk", "name")))


def _read(request, scope: Scope) -> tuple[ReportFilterForm, dict, Reading]:
    form = ReportFilterForm(request.GET, teams=scope.teams,
                            all_label="All teams" if scope.team_ids is None else "All my teams")
    values = form.values()
    zone = timezone.get_current_timezone()
    weeks = weeks_until(last_day=values["until"], count=values["weeks"], zone=zone)
    team_ids = {values["team"]} if values["team"] is not None else scope.team_ids
    return form, values, report_read(weeks=weeks, team_ids=team_ids, zone=zone)


def _linker(values: dict, reading: Reading):
    """The URL of the tickets behind a bar, with the page's team."""
    base = reverse("report-tickets")
    first, last = reading.weeks[0].first_day, reading.weeks[-1].last_day

    def link(behind: Behind) -> str:
        params = [("figure", behind.figure)]
        if behind.key is not None:
            params.append(("key", behind.key))
        params += [("not", k) for k in behind.others_than]
        week = behind.week
        params += [("first", (week.first_day if week else first).isoformat()),
                   ("last", (week.last_day if week else last).isoformat())]
        if values["team"] is not None:
            params.append(("team", values["team"]))
        return f"{base}?{urlencode(params)}"

    return link


def _drawn(sections: list[Section], link) -> list[dict]:
    return [{"section": section, "charts": [
        {"chart": chart, "drawing": draw(chart, link), "table": chart_table(chart, link)}
        for chart in section.charts
    ]} for section in sections]


@require_GET
@login_required
def report_page(request):
    scope = _scope(request)
    form, values, reading = _read(request, scope)
    link = _linker(values, reading)
    context = {
        "form": form, "values": values, "weeks": reading.weeks, "first_day": reading.weeks[0].first_day,
        "last_day": reading.weeks[-1].last_day,
        "sections": _drawn(report_sections(reading), link),
        "zone_name": timezone.get_current_timezone_name(),
        "browser_zone": viewer_time_zone(request) is not None,
        "rollup": ReportRollup.objects.filter(pk=1).first(),
        "query": request.GET.urlencode(),
    }
    return render(request, "dashboard/reports/page.html", context)


# -- CSV, a section at a time ------------------------------------------------------------------------------


def _period(reading: Reading, chart: Chart, i: int) -> str:
    week = chart.categories[i].week
    if week is not None:
        return week.first_day.isoformat()
    return f"{reading.weeks[0].first_day.isoformat()} to {reading.weeks[-1].last_day.isoformat()}"


def _csv_value(value, unit: str):
    if value is None:
        return ""
    if unit == "seconds":
        return round(value / 60, 1)
    return value


def _csv_measure(label: str, unit: str) -> str:
    return {"seconds": f"{label} (minutes)", "percent": f"{label} (%)"}.get(unit, label)


def csv_rows(reading: Reading, section: Section):
    yield ["chart", "period", "measure", "value"]
    for chart in section.charts:
        for series in [*chart.series, *chart.columns]:
            for i, value in enumerate(series.values):
                category = chart.categories[i]
                label = series.label if category.week else f"{category.label}: {series.label}"
                yield [chart.title, _period(reading, chart, i), _csv_measure(label, series.unit),
                       _csv_value(value, series.unit)]


@require_GET
@login_required
def report_csv(request, section: str):
    scope = _scope(request)
    _, values, reading = _read(request, scope)
    chosen = next((s for s in report_sections(reading) if s.slug == section), None)
    if chosen is None:
        raise Http404("No such report section.")
    first, last = reading.weeks[0].first_day, reading.weeks[-1].last_day
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reports-{section}-{first}-to-{last}.csv"'
    csv.writer(response).writerows(csv_rows(reading, chosen))
    return response


# -- the tickets behind a bar ------------------------------------------------------------------------------


def _behind_words(form: BehindForm, labels: dict) -> str:
    figure = form.cleaned_data["figure"]
    words = ReportFact.Figure(figure).label
    if form.has_key:
        key = form.cleaned_data["key"]
        words += f": {labels.get(figure, {}).get(key, key) or '—'}"
    elif form.others_than:
        words += ": the others"
    return words


@require_GET
@login_required
def report_tickets(request):
    scope = _scope(request)
    form = BehindForm(request.GET, teams=scope.teams)
    if not form.is_valid():
        raise BadRequest("This link to a report's tickets is damaged: open it again from the Reports page.")
    data = form.cleaned_data
    team = data["team"]
    zone = timezone.get_current_timezone()
    start, end = days_span(first_day=data["first"], last_day=data["last"], zone=zone)
    rows = facts_behind(figure=data["figure"], key=data["key"] if form.has_key else None,
                        others_than=form.others_than, start=start, end=end,
                        team_ids={team} if team is not None else scope.team_ids)
    page = Paginator(rows, TICKETS_PAGE).get_page(data.get("page") or 1)
    labels = _labels_of(page)
    context = {
        "page": page, "form": form, "what": _behind_words(form, labels), "first": data["first"],
        "last": data["last"], "team": dict(scope.teams).get(team), "labels": labels.get(data["figure"], {}),
        "back": reverse("reports") + "?" + urlencode({k: v for k, v in (
            ("team", team or ""), ("until", data["last"].isoformat())) if v}),
        "zone_name": timezone.get_current_timezone_name(),
        "seconds_label": SECONDS_LABELS.get(data["figure"]),
    }
    return render(request, "dashboard/reports/tickets.html", context)


def _labels_of(page) -> dict:
    """The words for the keys on this page of rows (names of rules, stages, agents: a query each)."""
    reading = Reading(weeks=[])
    for fact in page:
        reading.counts[fact.figure, fact.key, 0] = 1
    return key_labels(reading)



