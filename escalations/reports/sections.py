"""The Reports page's sections and their charts, in words: what each chart counts, its bars (or points)
per week or per key, and the extra columns of its table. Built from one Reading of the rollup; the
page draws them (dashboard.report_charts) and the CSV download writes the same numbers.

Each bar says which rollup rows are behind it (a figure, a key or every key but some, and a week or
the whole range), so that the page links it to those tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from escalations.models import EndReason, OdooAction, ReportFact, Trigger

from . import writeback
from .escalations import ESCALATED, NOT_ESCALATED
from .labels import key_labels
from .read import Reading
from .sla import BREACHED, MET
from .weeks import Week

Figure = ReportFact.Figure
TOP = 6  # series drawn per chart before the rest are put together as "other"
TOP_BARS = 15  # bars of a chart by key


@dataclass(frozen=True)
class Category:
    label: str
    week: Week | None = None  # a week's bars; None: the whole range
    key: str | None = None  # the rollup key behind a chart by key


@dataclass
class Series:
    label: str
    values: list[float | None]
    style: str  # "ok", "breach", "s0".."s7": colour and pattern (or, for lines, dash and marker)
    figure: str | None = None  # the rollup rows behind its bars; None: a derived figure, no link
    key: str | None = None  # None: every key of the figure (but `others_than`)
    others_than: tuple[str, ...] = ()
    unit: str = "count"  # "count", "seconds", "percent"


@dataclass(frozen=True)
class Behind:
    """The rollup rows behind one bar: a figure's key (None: every key but `others_than`), in a week
    (None: the whole range)."""

    figure: str
    key: str | None
    others_than: tuple[str, ...]
    week: Week | None


@dataclass
class Chart:
    slug: str
    title: str
    counts: str  # what it counts, in one sentence
    kind: str  # "stacked", "grouped", "lines", "hbars"
    categories: list[Category]
    series: list[Series]
    columns: list[Series] = field(default_factory=list)  # only in the table
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)

    def behind(self, series: Series, category: Category) -> Behind | None:
        if series.figure is None:
            return None
        if self.kind == "hbars":  # a bar per key, over the whole range
            if category.key is not None:
                return Behind(series.figure, category.key, (), None)
            return Behind(series.figure, None, series.others_than, None)
        return Behind(series.figure, series.key, series.others_than, category.week)


@dataclass
class Section:
    slug: str
    title: str
    charts: list[Chart]
    headline: str = ""


def _weeks(reading: Reading) -> list[Category]:
    return [Category(label=f"{w.first_day.day} {w.first_day:%b}", week=w) for w in reading.weeks]


def _per_week(reading: Reading, figure: str, key: str | None = None, others_than=()) -> list[int]:
    if others_than:
        return [sum(n for (f, k, w), n in reading.counts.items()
                    if f == figure and w == i and k not in others_than) for i in range(len(reading.weeks))]
    return [reading.count(figure, key, i) for i in range(len(reading.weeks))]


def _ratio(part: list[int], whole: list[int]) -> list[float | None]:
    return [round(100 * p / w, 1) if w else None for p, w in zip(part, whole, strict=True)]


def _by_key(reading: Reading, figure: str, keys: list[str], labels: dict, *, styles=None,
            other_label: str = "Other") -> list[Series]:
    """A series per key (the most counted first, TOP of them), then the rest as one."""
    shown = keys[:TOP] if len(keys) > TOP + 1 else keys
    series = [Series(labels.get(k, k), _per_week(reading, figure, k), (styles or {}).get(k, f"s{i}"),
                     figure=figure, key=k) for i, k in enumerate(shown)]
    if len(shown) < len(keys):
        rest = _per_week(reading, figure, others_than=tuple(shown))
        series.append(Series(other_label, rest, f"s{len(shown)}", figure=figure, others_than=tuple(shown)))
    return series


def _ordered(seen: list[str], order: list[str]) -> list[str]:
    """Known keys in their natural order (trigger, kind), then any other seen."""
    return [k for k in order if k in seen] + [k for k in seen if k not in order]


# -- SLA ---------------------------------------------------------------------------------------------


def sla_section(reading: Reading, labels: dict) -> Section:
    weeks = _weeks(reading)
    met, breached = _per_week(reading, Figure.SLA, MET), _per_week(reading, Figure.SLA, BREACHED)
    total = [m + b for m, b in zip(met, breached, strict=True)]
    spreads = [reading.spread(Figure.SLA, i) for i in range(len(weeks))]
    outcomes = Chart(
        "sla-outcomes", "SLA met and breached",
        "Tickets with an SLA deadline, in the week their outcome became known: breached at the first "
        "deadline missed, met when the last one was reached in time.",
        "stacked", weeks,
        [Series("Met", met, "ok", Figure.SLA, MET),
         Series("Breached", breached, "breach", Figure.SLA, BREACHED)],
        columns=[Series("Breach rate", _ratio(breached, total), "", unit="percent")],
    )
    margin = Chart(
        "sla-margin", "Time left when the SLA was reached",
        "For tickets whose deadlines were all reached: the time left on the tightest one when it was "
        "reached, below zero the overrun; the median, and what nine tickets in ten had at least.",
        "lines", weeks,
        [Series("Median", [s.p50 if s else None for s in spreads], "s0", Figure.SLA, unit="seconds"),
         Series("9 in 10 had at least", [s.p10 if s else None for s in spreads], "s1", Figure.SLA,
                unit="seconds")],
        columns=[Series("Tickets measured", [s.count if s else 0 for s in spreads], "")],
    )
    return Section("sla", "SLA", [outcomes, margin])


# -- escalations ---------------------------------------------------------------------------------------


def escalations_section(reading: Reading, labels: dict) -> Section:
    weeks = _weeks(reading)
    trigger_keys = _ordered(reading.keys(Figure.RAISED), list(Trigger.values))
    raised = Chart(
        "escalations-triggers", "Escalations raised, by trigger",
        "Escalations raised each week, by what raised them, under the team whose policy raised them.",
        "stacked", weeks, _by_key(reading, Figure.RAISED, trigger_keys, labels[Figure.RAISED]),
    )
    escalated = _per_week(reading, Figure.CLOSED, ESCALATED)
    closed = [e + n for e, n in zip(escalated, _per_week(reading, Figure.CLOSED, NOT_ESCALATED), strict=True)]
    rate = Chart(
        "escalations-rate", "Escalation rate",
        "Tickets closed each week, and how many of them had been escalated before they closed.",
        "stacked", weeks,
        [Series("Escalated", escalated, "breach", Figure.CLOSED, ESCALATED),
         Series("Not escalated", [c - e for c, e in zip(closed, escalated, strict=True)], "s4", Figure.CLOSED,
                NOT_ESCALATED)],
        columns=[Series("Escalation rate", _ratio(escalated, closed), "", unit="percent")],
    )
    level_keys = sorted(reading.keys(Figure.LEVEL), key=lambda k: (len(k), k))
    levels = Chart(
        "escalations-levels", "Highest level reached",
        "Escalations raised each week, by the highest level each has reached so far.",
        "stacked", weeks, _by_key(reading, Figure.LEVEL, level_keys, labels[Figure.LEVEL]),
    )
    spreads = [reading.spread(Figure.ACCEPTED, i) for i in range(len(weeks))]
    accept = Chart(
        "escalations-accept", "Time to accept",
        "From an escalation being raised to its first acceptance, in the week it was accepted: the "
        "median, and the time nine in ten were accepted within.",
        "lines", weeks,
        [Series("Median", [s.p50 if s else None for s in spreads], "s0", Figure.ACCEPTED, unit="seconds"),
         Series("9 in 10 within", [s.p90 if s else None for s in spreads], "s1", Figure.ACCEPTED,
                unit="seconds")],
        columns=[Series("Accepted", _per_week(reading, Figure.ACCEPTED), "", Figure.ACCEPTED)],
    )
    timeout_keys = sorted(reading.keys(Figure.TIMEOUT), key=lambda k: (len(k), k))
    timeouts = Chart(
        "escalations-timeouts", "Moved up: nobody accepted in time",
        "Escalations the console moved up a level because nobody at their level accepted them in time.",
        "stacked", weeks, _by_key(reading, Figure.TIMEOUT, timeout_keys, labels[Figure.TIMEOUT]) or
        [Series("Moved up", [0] * len(weeks), "s0", Figure.TIMEOUT)],
    )
    end_keys = _ordered(reading.keys(Figure.ENDED), list(EndReason.values))
    ended = Chart(
        "escalations-ended", "How escalations ended",
        "Escalations that ended each week: with the ticket solved, by a lead's de-escalation, or otherwise.",
        "stacked", weeks, _by_key(reading, Figure.ENDED, end_keys, labels[Figure.ENDED],
                                  styles={EndReason.SOLVED: "ok", EndReason.DE_ESCALATED: "s0"}),
    )
    return Section("escalations", "Escalations",
                   [raised, rate, levels, accept, timeouts, ended, _reasons(reading, labels)])


def _reasons(reading: Reading, labels: dict) -> Chart:
    keys = reading.keys(Figure.DEESCALATED)
    shown = keys[:TOP_BARS] if len(keys) > TOP_BARS + 1 else keys
    categories = [Category(labels[Figure.DEESCALATED].get(k, k), key=k) for k in shown]
    values = [reading.count(Figure.DEESCALATED, k) for k in shown]
    series = [Series("De-escalations", values, "s0", Figure.DEESCALATED)]
    if len(shown) < len(keys):
        rest = sum(reading.count(Figure.DEESCALATED, k) for k in keys[len(shown):])
        categories.append(Category(f"Other reasons ({len(keys) - len(shown)})", key=None))
        series = [Series("De-escalations", [*values, rest], "s0", Figure.DEESCALATED,
                         others_than=tuple(shown))]
    return Chart(
        "escalations-reasons", "Why leads de-escalated",
        "De-escalations in these weeks, by the lead's reason (the same words count together).",
        "hbars", categories, series,
    )


# -- write-back ------------------------------------------------------------------------------------------


def writeback_section(reading: Reading, labels: dict) -> Section:
    weeks = _weeks(reading)
    kinds = _ordered(reading.keys(Figure.ACTION), list(OdooAction.Kind.values))
    by_kind = Chart(
        "writeback-kinds", "Write-backs to Odoo, by kind",
        "Changes the console made in Odoo each week (leads' actions, escalation markers, automation), "
        "by kind.",
        "stacked", weeks, _by_key(reading, Figure.ACTION, kinds, labels[Figure.ACTION]),
    )
    words = labels[Figure.ACTION_END]
    outcomes = Chart(
        "writeback-outcomes", "Write-backs that did not simply go through",
        "Of each week's write-backs: those that failed, were cancelled, were changed by Odoo's own rules, "
        "are still pending, or were applied after a lead confirmed them over a change in Odoo.",
        "grouped", weeks,
        [Series(words[writeback.FAILED], _per_week(reading, Figure.ACTION_END, writeback.FAILED), "breach",
                Figure.ACTION_END, writeback.FAILED),
         Series(words[writeback.CANCELLED], _per_week(reading, Figure.ACTION_END, writeback.CANCELLED), "s1",
                Figure.ACTION_END, writeback.CANCELLED),
         Series(words[writeback.CHANGED], _per_week(reading, Figure.ACTION_END, writeback.CHANGED), "s2",
                Figure.ACTION_END, writeback.CHANGED),
         Series(words[writeback.PENDING], _per_week(reading, Figure.ACTION_END, writeback.PENDING), "s3",
                Figure.ACTION_END, writeback.PENDING),
         Series("Applied after confirmation", _per_week(reading, Figure.CONFIRMED), "s0", Figure.CONFIRMED)],
        columns=[Series("All write-backs", _per_week(reading, Figure.ACTION), "", Figure.ACTION)],
    )
    return Section("writeback", "Write-back", [by_kind, outcomes])


# -- automation --------------------------------------------------------------------------------------------


def automation_section(reading: Reading, labels: dict) -> Section:
    weeks = _weeks(reading)
    rules = Chart(
        "automation-rules", "Automated changes, by rule",
        "Routine changes automation rules made each week (undone ones included), by rule.",
        "stacked", weeks, _by_key(reading, Figure.AUTOMATED, reading.keys(Figure.AUTOMATED),
                                  labels[Figure.AUTOMATED], other_label="Other rules"),
    )
    unattended = _per_week(reading, Figure.UNATTENDED)
    people = Chart(
        "automation-people", "Undone, handed to people, closed with nobody",
        "Automated changes a lead undid (in the week of the undo), tickets a rule left to a person, and "
        "tickets automation changed that were then closed with no person's activity (it must stay 0).",
        "grouped", weeks,
        [Series("Undone", _per_week(reading, Figure.UNDONE), "s1", Figure.UNDONE),
         Series("Handed to a person", _per_week(reading, Figure.HANDED), "s0", Figure.HANDED),
         Series("Closed with no person's activity", unattended, "breach", Figure.UNATTENDED)],
    )
    total = sum(unattended)
    headline = (f"Tickets closed with no person's activity after automation in these weeks: {total}"
                + (". Automation never closes a ticket: look at them." if total else " (it must stay 0)."))
    return Section("automation", "Automation", [rules, people], headline=headline)


# -- hand-offs --------------------------------------------------------------------------------------------


def handoffs_section(reading: Reading, labels: dict) -> Section:
    breached = reading.count(Figure.SLA, BREACHED)
    charts = [
        _handoff(reading, labels, Figure.HANDOFF_STAGE, breached, slug="handoffs-stages",
                 title="Where the time went, by stage", by="the stage the ticket was in"),
        _handoff(reading, labels, Figure.HANDOFF_AGENT, breached, slug="handoffs-assignees",
                 title="Where the time went, by assignee", by="the person who held the ticket"),
    ]
    charts[1].note = ("The console sees its own assignments (accept, reassign, automation) and Odoo's latest "
                      "one; an earlier reassignment made in Odoo is not recorded, so its time counts for the "
                      "holder before it.")
    return Section("handoffs", "Hand-offs before a breach", charts)


def _handoff(reading: Reading, labels: dict, figure: str, breached: int, *, slug: str, title: str,
             by: str) -> Chart:
    keys = sorted(reading.keys(figure), key=lambda k: -reading.seconds.get((figure, k), 0))
    shown = keys[:TOP_BARS] if len(keys) > TOP_BARS + 1 else keys
    categories = [Category(labels[figure].get(k, k), key=k) for k in shown]
    hours = [reading.seconds.get((figure, k), 0) for k in shown]
    series_kw = {}
    if len(shown) < len(keys):
        categories.append(Category(f"Others ({len(keys) - len(shown)})", key=None))
        hours.append(sum(reading.seconds.get((figure, k), 0) for k in keys[len(shown):]))
        series_kw["others_than"] = tuple(shown)
    whole = sum(hours)
    return Chart(
        slug, title,
        f"For the {breached} ticket{'s' if breached != 1 else ''} breached in these weeks: the time from "
        f"creation to the breach, by {by}.",
        "hbars", categories,
        [Series("Time before the breach", hours, "s0", figure, unit="seconds", **series_kw)],
        columns=[
            Series("Share", [round(100 * h / whole, 1) if whole else None for h in hours], "",
                   unit="percent"),
            Series("Tickets", [reading.count(figure, c.key) if c.key is not None else
                               sum(reading.count(figure, k) for k in keys[len(shown):]) for c in categories],
                   "", figure, **series_kw),
        ],
    )


def report_sections(reading: Reading) -> list[Section]:
    labels = key_labels(reading)
    return [builder(reading, labels) for builder in
            (sla_section, escalations_section, writeback_section, automation_section, handoffs_section)]
