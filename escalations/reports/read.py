"""The Reports page's reading of the rollup: every figure of the weeks shown, counted in one query, and
the spread of its durations in one more, over the viewer's teams. Never the history tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.db import connection, transaction
from django.db.models import Case, Count, Expression, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.utils.timezone import localtime

from escalations.models import ReportFact

from .percentiles import Spread, spreads
from .weeks import Week

Figure = ReportFact.Figure
# The figures whose durations are read as a spread (median and percentiles) per week.
SPREAD_FIGURES = (Figure.SLA, Figure.ACCEPTED)


@dataclass
class Reading:
    weeks: list[Week]
    # (figure, key, week index) -> rows; (figure, key) -> seconds over all the weeks
    counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    seconds: dict[tuple[str, str], int] = field(default_factory=dict)
    spreads: dict[tuple[str, int], Spread] = field(default_factory=dict)

    def __post_init__(self):
        self._totals: dict[tuple, int] | None = None

    def _sums(self) -> dict[tuple, int]:
        """Totals by (figure, None, week), (figure, key, None) and (figure, None, None), added up once:
        a page asks for some 2,000 of them."""
        if self._totals is None:
            totals: dict[tuple, int] = defaultdict(int)
            for (f, k, w), n in self.counts.items():
                totals[f, None, w] += n
                totals[f, k, None] += n
                totals[f, None, None] += n
            self._totals = dict(totals)
        return self._totals

    def count(self, figure: str, key: str | None = None, week: int | None = None) -> int:
        if key is not None and week is not None:
            return self.counts.get((figure, key, week), 0)
        return self._sums().get((figure, key, week), 0)

    def keys(self, figure: str) -> list[str]:
        """The figure's keys seen in these weeks, the most counted first."""
        totals = {k: n for (f, k, w), n in self._sums().items()
                  if f == figure and k is not None and w is None}
        return sorted(totals, key=lambda k: (-totals[k], k))

    def spread(self, figure: str, week: int) -> Spread | None:
        return self.spreads.get((figure, week))


def facts_between(*, start: datetime, end: datetime, team_ids: Collection[int] | None) -> QuerySet:
    """The rollup's rows from `start` to `end`, of these teams (None: every team, and tickets of none)."""
    rows = ReportFact.objects.filter(at__gte=start, at__lt=end)
    return rows if team_ids is None else rows.filter(team_id__in=team_ids)


def report_read(*, weeks: list[Week], team_ids: Collection[int] | None, zone: tzinfo) -> Reading:
    if connection.vendor != "postgresql":
        return _read(weeks=weeks, team_ids=team_ids, zone=zone)
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner cannot know how few (figure, key, week) groups there are (it takes the columns as
        # independent): within the default 4 MB it sorts the weeks' rows on disk instead of hashing them
        # in memory, twice the time. Hashing 60,000 rows needs a few MB; for this transaction only.
        cursor.execute("SET LOCAL work_mem = '16MB'")
        return _read(weeks=weeks, team_ids=team_ids, zone=zone)


def _week_column(weeks: list[Week], zone: tzinfo) -> tuple[Expression, Callable]:
    """Each row's week, and how to turn that into the week's index.

    PostgreSQL truncates the time to its Monday in the zone (`date_trunc`, in C). SQLite would call a
    Python function for every row (Django's `TruncWeek` there), six times slower than the whole query:
    it compares the time with the weeks' ends instead, plain text comparisons.
    """
    if connection.vendor == "postgresql":
        by_day = {week.first_day: i for i, week in enumerate(weeks)}
        return TruncWeek("at", tzinfo=zone), lambda monday: by_day.get(localtime(monday, zone).date())
    ends = [When(at__lt=week.end, then=Value(i)) for i, week in enumerate(weeks)]
    return Case(*ends, output_field=IntegerField()), lambda index: index


def _read(*, weeks: list[Week], team_ids: Collection[int] | None, zone: tzinfo) -> Reading:
    reading = Reading(weeks=weeks)
    column, index = _week_column(weeks, zone)
    rows = facts_between(start=weeks[0].start, end=weeks[-1].end, team_ids=team_ids).annotate(
        week=column).order_by()
    for row in rows.values("figure", "key", "week").annotate(n=Count("pk"), total=Sum("seconds")):
        week = index(row["week"])
        if week is None:  # not possible: the rows are those of these weeks
            continue
        reading.counts[row["figure"], row["key"], week] = row["n"]
        if row["total"] is not None:
            pair = (row["figure"], row["key"])
            reading.seconds[pair] = reading.seconds.get(pair, 0) + row["total"]
    for (figure, week_value), spread in spreads(rows.filter(figure__in=SPREAD_FIGURES), group="week").items():
        week = index(week_value)
        if week is not None:
            reading.spreads[figure, week] = spread
    return reading


def facts_behind(*, figure: str, key: str | None, others_than: Collection[str], start: datetime,
                 end: datetime, team_ids: Collection[int] | None) -> QuerySet:
    """The rollup rows behind one bar, with their tickets, in time order: a figure's key (None: every key
    but `others_than`) from `start` to `end`, of these teams."""
    rows = facts_between(start=start, end=end, team_ids=team_ids).filter(figure=figure)
    if key is not None:
        rows = rows.filter(key=key)
    elif others_than:
        rows = rows.exclude(key__in=list(others_than))
    return rows.select_related("ticket__team", "ticket__stage", "ticket__assignee").order_by("at", "pk")
