"""Percentiles of the rollup's durations per figure and week: PostgreSQL's `percentile_cont` where
the database is PostgreSQL, the same interpolation in Python elsewhere (SQLite, the demo), over the
rows of the weeks shown only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from math import floor

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, QuerySet

FRACTIONS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Spread:
    """How a figure's durations spread in one week: how many, and the 10th, 50th, 90th percentile."""

    count: int
    p10: float | None
    p50: float | None
    p90: float | None


class PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(ordered: list[float], fraction: float) -> float | None:
    """`percentile_cont`: linear interpolation between the two nearest ranks of the sorted values."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spreads(rows: QuerySet, *, group: str) -> dict[tuple, Spread]:
    """{(figure, group value): Spread} over `rows` (rollup rows with `seconds`, annotated with `group`)."""
    rows = rows.filter(seconds__isnull=False).order_by()
    if connection.vendor == "postgresql":
        grouped = rows.values("figure", group).annotate(
            n=Count("pk"), **{f"p{round(f * 100)}": PercentileCont("seconds", fraction=f) for f in FRACTIONS})
        return {(r["figure"], r[group]): Spread(r["n"], r["p10"], r["p50"], r["p90"]) for r in grouped}
    values: dict[tuple, list[float]] = defaultdict(list)
    for figure, where, seconds in rows.values_list("figure", group, "seconds"):
        values[figure, where].append(seconds)
    out = {}
    for key, seconds in values.items():
        seconds.sort()
        out[key] = Spread(len(seconds), *(percentile(seconds, f) for f in FRACTIONS))
    return out
