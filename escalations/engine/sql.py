"""The few SQL pieces the engine needs that Django's ORM does not give, on PostgreSQL and SQLite alike.

Queries are still built as Django querysets; these helpers only format a timestamp, measure seconds
between two timestamps, make a random UUID per row, and turn a compiled SELECT into
`INSERT .. SELECT .. ON CONFLICT DO NOTHING`.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import CharField, Func, IntegerField, QuerySet, UUIDField


class IsoUtc(Func):
    """A timestamp as ISO 8601 text in UTC to the second, e.g. 2026-11-25T09:30:00Z.

    Used for trigger keys, which must spell the same instant the same way on every run.
    """

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        inner, params = compiler.compile(self.source_expressions[0])
        return f"""to_char(({inner}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""", params

    def as_sqlite(self, compiler, connection, **extra_context):
        inner, params = compiler.compile(self.source_expressions[0])
        # "%%" because the backend formats the statement with its parameters.
        return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', {inner})", params


class SecondsBetween(Func):
    """Whole seconds from `earlier` to `later` (negative when `later` comes first)."""

    output_field = IntegerField()

    def __init__(self, later, earlier):
        super().__init__(later, earlier)

    def _compile_both(self, compiler):
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return later, earlier, [*later_params, *earlier_params]

    def as_sql(self, compiler, connection, **extra_context):
        later, earlier, params = self._compile_both(compiler)
        return f"CAST(EXTRACT(EPOCH FROM (({later}) - ({earlier}))) AS bigint)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        later, earlier, params = self._compile_both(compiler)
        return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)", params


class RandomUuid(Func):
    """A new random UUID for each row, for the outbox rows the engine inserts (OdooAction.action_uid,
    which Python fills with uuid4 for rows it creates itself)."""

    output_field = UUIDField()

    def as_sql(self, compiler, connection, **extra_context):
        return "gen_random_uuid()", []  # built into PostgreSQL since 13

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps a UUID as 32 hex digits on SQLite.
        return "lower(hex(randomblob(16)))", []


def insert_select(model, columns: list[str], queryset: QuerySet, *, returning: bool = True) -> list[int]:
    """INSERT the rows the queryset selects into the model's table, skipping any that would break a
    unique constraint; returns the ids of the rows inserted (none asked: an empty list).

    `queryset` must be a values_list() whose columns match `columns` in order. SQLite needs a WHERE
    clause in the SELECT to parse `ON CONFLICT` after it; every engine query has one.
    """
    select, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) {select} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql + (" RETURNING id" if returning else ""), params)
        return [row[0] for row in cursor.fetchall()] if returning else []
