"""What every source of the rollup selects, in the order of the rollup's columns, and how a pass
narrows a source to the tickets it rebuilds."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import BigIntegerField, CharField, F, QuerySet, Value

from escalations.bulk import among

# The ReportFact columns an INSERT .. SELECT fills, in this order.
COLUMNS = ["figure", "key", "team", "at", "ticket", "seconds"]


def text(value: str) -> Value:
    return Value(value, output_field=CharField())


def no_seconds() -> Value:
    return Value(None, output_field=BigIntegerField())


def of_tickets(queryset: QuerySet, field: str, ticket_ids: Collection[int] | None) -> QuerySet:
    """The rows of these tickets (`field` holds the ticket's id); all rows when `ticket_ids` is None.

    Every source query keeps a WHERE clause: SQLite parses `INSERT .. SELECT .. ON CONFLICT` only
    after one (escalations.engine.sql.insert_select)."""
    if ticket_ids is None:
        return queryset.filter(**{f"{field}__isnull": False})
    return queryset.filter(among(queryset.model, field, ticket_ids))


def selected(queryset: QuerySet, *, figure, key, team, at, ticket, seconds=None) -> QuerySet:
    """The source's rows as the rollup's columns (each argument an expression or a field name)."""
    def expression(value):
        return F(value) if isinstance(value, str) else value

    return queryset.order_by().annotate(
        r_figure=text(figure), r_key=expression(key), r_team=expression(team), r_at=expression(at),
        r_ticket=expression(ticket), r_seconds=no_seconds() if seconds is None else expression(seconds),
    ).values_list("r_figure", "r_key", "r_team", "r_at", "r_ticket", "r_seconds")
