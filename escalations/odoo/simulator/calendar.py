"""Working calendars: weekly attendances in a time zone, minus leaves; plan working hours forward.

Mirrors `resource.calendar` (`_work_intervals_batch`, `plan_hours`, `plan_days`) closely enough for SLA
deadlines: attendances are local wall-clock times (so 08:00 Brussels is 07:00 UTC in winter and 06:00
UTC in summer, and a DST switch day still has exactly its attendances), leaves are UTC intervals.
All inputs and outputs are naive UTC datetimes, like Odoo's stored values.

What a calendar-level plan counts, as `_work_intervals_batch` with no resource does (Odoo 17/18):
- attendances of the calendar with no `resource_id`, no `display_type` (the "First week"/"Second
  week" section rows of a two-week calendar) and not lunch breaks;
- on a two-week calendar, only those of the local day's week type (`get_week_type`); Odoo reads an
  empty week type there as `int(False)`, the first week;
- minus leaves of kind "time off" for this calendar or for every calendar, with no `resource_id`:
  one person's time off does not close the team's calendar.

Speed: the seed plans tens of thousands of deadlines, so each local day's intervals are cached and
running totals (working seconds and working days before each day) let `work_hours` answer in O(1) and
`plan_hours`/`plan_days` jump straight to the right day, then finish with Odoo's interval loop.
"""

import bisect
import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 730  # Odoo gives up after 100 windows of 14 days; two years is the same idea
SPAN_DAYS = 64  # running totals grow by this many days at a time


def get_week_type(day: date) -> int:
    """Odoo's `resource.calendar.attendance.get_week_type`: the parity of the week counted from
    Monday 1 January of year 1 (never ISO week numbers, whose 53-week years would repeat a parity)."""
    return int(math.floor((day.toordinal() - 1) / 7) % 2)


class WorkCalendar:
    def __init__(self, tz: str, attendances, leaves=(), hours_per_day: float = 8.0):
        """attendances: (weekday 0=Mon, hour_from, hour_to[, date_from, date_to[, week_type]]), week_type
        0 or 1 on a two-week calendar, None for every week; leaves: (start, end)."""
        self.tz = ZoneInfo(tz or "UTC")
        self.attendances = [tuple(a) + (None, None, None)[len(a) - 3 :] for a in attendances]
        self.leaves = sorted(leaves)
        self.hours_per_day = hours_per_day or 8.0
        self._days: dict[date, list] = {}
        self._dates: dict[int, date] = {}
        self._anchor: date | None = None
        self._secs: list[float] = []  # _secs[i]: working seconds before day anchor + i
        self._count: list[int] = []  # _count[i]: working days before day anchor + i

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day not in self._days:
            spans = []
            week = get_week_type(day)
            for weekday, h_from, h_to, d_from, d_to, week_type in self.attendances:
                if weekday != day.weekday() or (d_from and day < d_from) or (d_to and day > d_to):
                    continue
                if week_type is not None and week_type != week:
                    continue
                spans.append((self._utc(day, h_from), self._utc(day, h_to)))
            self._days[day] = _subtract(sorted(spans), self.leaves)
        return self._days[day]

    def _utc(self, day: date, hours: float) -> datetime:
        # Build the local wall-clock time directly (not midnight + N hours) so 17:00 stays 17:00 local
        # on the days clocks change; hour_to = 24 means the next midnight.
        minutes = round(hours * 60)
        local = datetime.combine(
            day + timedelta(days=minutes // 1440), time((minutes % 1440) // 60, minutes % 60), self.tz
        )
        return local.astimezone(UTC).replace(tzinfo=None)

    def _local_date(self, dt: datetime) -> date:
        # Every zone offset is a multiple of 15 minutes, so the local date only changes on UTC
        # quarter-hours: memoize per quarter-hour (zoneinfo conversions cost microseconds each).
        key = dt.toordinal() * 96 + dt.hour * 4 + dt.minute // 15
        day = self._dates.get(key)
        if day is None:
            day = self._dates[key] = dt.replace(tzinfo=UTC).astimezone(self.tz).date()
        return day

    # -- running totals ------------------------------------------------------------------------

    def _index(self, day: date) -> int:
        """Position of `day` in the running totals, growing them (in steps) to cover it."""
        if self._anchor is None:
            self._anchor, self._secs, self._count = day, [0.0], [0]
        if day < self._anchor:
            self._prepend(day - timedelta(days=SPAN_DAYS))
        while (day - self._anchor).days >= len(self._secs) - 1:
            self._append(SPAN_DAYS)
        return (day - self._anchor).days

    def _day_totals(self, day: date) -> tuple[float, int]:
        spans = self.day_intervals(day)
        return sum((e - s).total_seconds() for s, e in spans), (1 if spans else 0)

    def _append(self, days: int) -> None:
        first = self._anchor + timedelta(days=len(self._secs) - 1)
        for i in range(days):
            secs, count = self._day_totals(first + timedelta(days=i))
            self._secs.append(self._secs[-1] + secs)
            self._count.append(self._count[-1] + count)

    def _prepend(self, new_anchor: date) -> None:
        secs, count = [0.0], [0]
        for i in range((self._anchor - new_anchor).days):
            day_secs, day_count = self._day_totals(new_anchor + timedelta(days=i))
            secs.append(secs[-1] + day_secs)
            count.append(count[-1] + day_count)
        self._secs = secs[:-1] + [v + secs[-1] for v in self._secs]
        self._count = count[:-1] + [v + count[-1] for v in self._count]
        self._anchor = new_anchor

    def worked_until(self, dt: datetime, day: date | None = None) -> float:
        """Working seconds from the anchor up to `dt`.

        work_hours(a, b) is worked_until(b) - worked_until(a)."""
        day = day or self._local_date(dt)
        idx = self._index(day)  # first: it may rebuild the running totals
        total = self._secs[idx]
        for s, e in self.day_intervals(day):
            if dt > s:
                total += (min(e, dt) - s).total_seconds()
        return total

    def work_hours(self, start: datetime, end: datetime) -> float:
        if not start or not end or end <= start:
            return 0.0
        begin = self.worked_until(start)  # first: an earlier day may extend the table backwards
        return max(self.worked_until(end) - begin, 0.0) / 3600

    # -- planning ------------------------------------------------------------------------------

    def forward(self, start: datetime, with_day=False, first: date | None = None):
        first = first or self._local_date(start) - timedelta(
            days=1
        )  # an attendance may start the UTC day before
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            for s, e in self.day_intervals(day):
                if e > start:
                    yield (max(s, start), e, day) if with_day else (max(s, start), e)

    def backward(self, end: datetime):
        day = self._local_date(end) + timedelta(days=1)
        for offset in range(MAX_DAYS):
            for s, e in reversed(self.day_intervals(day - timedelta(days=offset))):
                if s < end:
                    yield s, min(e, end)

    def plan_hours(self, hours: float, start: datetime) -> datetime | None:
        """The moment `hours` working hours after `start` (before it when negative); None if the
        calendar has no working time (Odoo returns False)."""
        if hours < 0:
            return self._plan_back(-hours, start)
        d0 = self._local_date(start)
        target = self.worked_until(start, d0) + hours * 3600
        i0 = self._index(d0)
        grown = 0
        while self._secs[-1] < target and grown < MAX_DAYS:  # make sure the table reaches the target
            self._append(SPAN_DAYS)
            grown += SPAN_DAYS
        j = bisect.bisect_left(self._secs, target) - 1  # the local day during which the total reaches it
        day, remaining = (
            (self._anchor + timedelta(days=j), target - self._secs[j]) if j > i0 else (d0, hours * 3600)
        )
        for s, e in self.day_intervals(day):
            if e <= start:
                continue
            s = max(s, start)
            span = (e - s).total_seconds()
            if span >= remaining:
                return _whole(s + timedelta(seconds=remaining))
            remaining -= span
        # Not reached on that day (hours=0 after the day's work, or float rounding): Odoo's own loop.
        remaining = timedelta(hours=hours)
        for s, e in self.forward(start, first=d0):
            if e - s >= remaining:
                return _whole(s + remaining)
            remaining -= e - s
        return None

    def _plan_back(self, hours: float, end: datetime) -> datetime | None:
        remaining = timedelta(hours=hours)
        for s, e in self.backward(end):
            if e - s >= remaining:
                return _whole(e - remaining)
            remaining -= e - s
        return None

    def plan_days(self, days: int, start: datetime) -> datetime | None:
        """Odoo's `plan_days` for days > 0: the end of the first interval of the `days`-th working day
        counted from `start` (so 1 day from Monday 10:00 is Monday's morning block end)."""
        d0 = self._local_date(start)
        first_today = next((e for s, e in self.day_intervals(d0) if e > start), None)
        if first_today is not None:
            if days == 1:
                return first_today
            days -= 1
        # The `days`-th working day strictly after d0.
        i0 = self._index(d0)
        wanted, grown = self._count[i0 + 1] + days, 0
        while self._count[-1] < wanted and grown < MAX_DAYS:
            self._append(SPAN_DAYS)
            grown += SPAN_DAYS
        i = bisect.bisect_left(self._count, wanted)
        if i >= len(self._count):
            return None
        spans = self.day_intervals(self._anchor + timedelta(days=i - 1))
        return spans[0][1] if spans else None


def _whole(dt: datetime) -> datetime:
    # Odoo's Datetime fields drop microseconds on assignment; deadlines are stored that way.
    return dt.replace(microsecond=0)


def _subtract(spans, leaves):
    out = []
    for s, e in spans:
        pieces = [(s, e)]
        for ls, le in leaves:
            if le <= s or ls >= e:
                continue
            pieces = [p for ps, pe in pieces for p in ((ps, min(pe, ls)), (max(ps, le), pe)) if p[1] > p[0]]
        out.extend(pieces)
    return out


def calendar_for(store, calendar_id, resource_id=None) -> WorkCalendar | None:
    """The WorkCalendar of a resource.calendar record, cached until any resource.* record changes.

    With no resource it is the calendar's own working time (what helpdesk SLA deadlines plan on);
    with one, that person's too: their own attendances added, their own time off taken out."""
    if not calendar_id or not store.exists("resource.calendar", calendar_id):
        return None
    cache = store.__dict__.setdefault("_calendar_cache", {})
    key = (calendar_id, resource_id, store.calendar_changes)
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        cal = store.get("resource.calendar", calendar_id)
        resource = store.get("resource.resource", resource_id) if resource_id else None
        two_weeks = bool(cal.get("two_weeks_calendar"))
        atts = [
            store.get("resource.calendar.attendance", i)
            for i in store.inverse_ids("resource.calendar.attendance", "calendar_id", calendar_id)
        ]
        cache[key] = WorkCalendar(
            (resource or cal).get("tz") or "UTC",  # a person's hours are in their own time zone
            [
                (
                    int(a["dayofweek"]), a["hour_from"], a["hour_to"], a.get("date_from"), a.get("date_to"),
                    int(a.get("week_type") or 0) if two_weeks else None,
                )
                for a in atts
                if a.get("day_period") != "lunch"
                and not a.get("display_type")
                and a.get("resource_id") in (None, resource_id)
            ],
            [
                (lv["date_from"], lv["date_to"])
                for lv in store.tables["resource.calendar.leaves"].values()
                if lv.get("calendar_id") in (None, calendar_id)
                and lv.get("resource_id") in (None, resource_id)
                and (lv.get("time_type") or "leave") == "leave"
            ],
            cal.get("hours_per_day") or 8.0,
        )
    return cache[key]
