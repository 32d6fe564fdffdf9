"""Bulk writes of mirror rows (dicts keyed by attribute name) into their tables.

A full sync writes some 100,000 rows, and `bulk_create` spends more time preparing each value in
Python (a model instance, then each field's conversion) than the database spends storing it. So:
- PostgreSQL: new rows go in with a binary COPY (psycopg's C-speed path); rows to merge go through a
  temporary table, then `INSERT .. ON CONFLICT DO UPDATE`;
- SQLite: one `executemany` of a plain INSERT (with `ON CONFLICT .. DO UPDATE` to merge), the values
  passed as the sqlite3 module takes them;
- anything else: `bulk_create`, with `update_conflicts` to merge. Same result everywhere.

Only for the mirror models, whose columns hold plain values (ints, text, booleans, aware datetimes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL


def among(model, field: str, ids: Collection[int]) -> Q | RawSQL:
    """A filter on rows whose `field` (a primary or foreign key) is one of `ids`, the ids passed as one
    parameter: an `IN` list of a page's 500 ids costs more to build and quote than the query costs to
    run. PostgreSQL takes them as an array, SQLite as a JSON array (json_each); elsewhere `__in`."""
    column = f'"{model._meta.db_table}"."{model._meta.get_field(field).column}"'
    if connection.vendor == "postgresql":
        return RawSQL(f"{column} = ANY(%s)", [list(ids)], output_field=BooleanField())
    if connection.vendor == "sqlite":
        sql = f"{column} IN (SELECT value FROM json_each(%s))"
        return RawSQL(sql, [json.dumps(list(ids))], output_field=BooleanField())
    return Q(**{f"{field}__in": list(ids)})


def insert(model, rows: list[dict]) -> None:
    """Insert new rows; an auto-increment id is left to the database's sequence."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _copy(cursor, model._meta.db_table, fields, rows)
    elif connection.vendor == "sqlite":
        _sqlite_write(model._meta.db_table, fields, rows)
    else:
        model.objects.bulk_create([model(**row) for row in rows])


def upsert(model, rows: list[dict], *, update_fields: list[str], unique_field: str = "odoo_id",
           kept_while_same: tuple[str, list[str]] | None = None) -> None:
    """Insert the rows, or update `update_fields` of those whose key is already there.

    `kept_while_same=(field, kept)`: where the row already there has the same `field` value, the `kept`
    fields (among update_fields) keep their value (PostgreSQL and SQLite; elsewhere they are updated)."""
    if not rows:
        return
    updates = _updates(model, update_fields, kept_while_same)
    if connection.vendor == "postgresql":
        _pg_upsert(model, rows, updates=updates, unique_field=unique_field)
    elif connection.vendor == "sqlite":
        key = model._meta.get_field(unique_field).column
        _sqlite_write(model._meta.db_table, model._meta.concrete_fields, rows,
                      conflict=f'ON CONFLICT ("{key}") DO UPDATE SET {updates}')
    else:
        model.objects.bulk_create(
            [model(**row) for row in rows],
            update_conflicts=True, unique_fields=[unique_field], update_fields=update_fields,
        )


def _pg_upsert(model, rows: list[dict], *, updates: str, unique_field: str) -> None:
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    staging = f"staging_{table}"
    columns = _column_list(fields)
    key = model._meta.get_field(unique_field).column
    # The staging table lives until the end of this transaction (the caller's, when there is one).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f'CREATE TEMPORARY TABLE "{staging}" (LIKE "{table}") ON COMMIT DROP')
        _copy(cursor, staging, fields, rows)
        cursor.execute(
            f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{staging}" '
            f'ON CONFLICT ("{key}") DO UPDATE SET {updates}'
        )
        cursor.execute(f'DROP TABLE "{staging}"')


def _updates(model, update_fields: list[str], kept_while_same: tuple[str, list[str]] | None) -> str:
    column = lambda name: model._meta.get_field(name).column  # noqa: E731
    same, kept = kept_while_same or ("", [])
    table = model._meta.db_table

    def update(name: str) -> str:
        c = column(name)
        if name not in kept:
            return f'"{c}" = EXCLUDED."{c}"'
        s = column(same)
        return (f'"{c}" = CASE WHEN "{table}"."{s}" = EXCLUDED."{s}" THEN "{table}"."{c}" '
                f'ELSE EXCLUDED."{c}" END')

    return ", ".join(update(name) for name in update_fields)


def _column_list(fields) -> str:
    return ", ".join(f'"{f.column}"' for f in fields)


def _copy(cursor, table: str, fields, rows: list[dict]) -> None:
    values = _getter(fields)
    # cursor.cursor is psycopg's own cursor under Django's wrapper.
    with cursor.cursor.copy(f'COPY "{table}" ({_column_list(fields)}) FROM STDIN (FORMAT BINARY)') as copy:
        copy.set_types(_binary_types(tuple(fields)))
        for row in rows:
            copy.write_row(values(row))


@lru_cache(maxsize=64)
def _binary_types(fields: tuple) -> list[str]:
    """The columns' types for a binary COPY: psycopg then writes each row in C, where the text format
    formats each value in Python (a datetime costs more than the database spends storing it), and the
    server has no text to parse. Once per column list: each look-up goes through the connection's
    proxy, and a full sync makes hundreds of COPYs."""
    return [f.db_type(connection).split("(")[0] for f in fields]  # "varchar(64)" -> "varchar"


def _getter(fields) -> Callable[[dict], tuple]:
    """The row's values in the order of `fields`, as a tuple (itemgetter: one C call per row)."""
    names = [f.attname for f in fields]
    if len(names) == 1:
        return lambda row: (row[names[0]],)
    return itemgetter(*names)


def _sqlite_write(table: str, fields, rows: list[dict], *, conflict: str = "") -> None:
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f'INSERT INTO "{table}" ({_column_list(fields)}) VALUES ({placeholders}) {conflict}'
    values = _sqlite_values(tuple((f.attname, f.get_internal_type() == "DateTimeField") for f in fields))
    with connection.cursor() as cursor:
        cursor.executemany(sql, map(values, rows))  # the sqlite3 module binds each row in C


@lru_cache(maxsize=64)
def _sqlite_values(columns: tuple[tuple[str, bool], ...]) -> Callable[[dict], tuple]:
    """A function giving a row's values in the order of `columns` (attribute name, whether a datetime),
    its datetimes as SQLite text: one call per row, the tuple built in one expression (a loop over each
    row's values cost more than the database's insert)."""
    items = ", ".join(f"dt(row[{name!r}])" if datetime_ else f"row[{name!r}]" for name, datetime_ in columns)
    return eval(f"lambda row: ({items},)", {"dt": _sqlite_datetime})  # names are model attributes


@lru_cache(maxsize=1 << 16)
def _sqlite_datetime(value: datetime | None) -> str | None:
    """An aware datetime as Django's SQLite backend stores it: its UTC time, naive, as text (str() of
    it without the "+00:00"). Rows share many (the sync's time on every row; a ticket's creation and
    its clock's window start; an SLA deadline and its clock's), so each is converted once."""
    return None if value is None else value.astimezone(UTC).isoformat(" ")[:-6]
