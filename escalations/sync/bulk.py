"""Bulk writes of mirror rows (dicts keyed by attribute name) into their tables.

On PostgreSQL the rows go in with COPY (psycopg's C-speed path), into a temporary table first when
they must be merged with `INSERT .. ON CONFLICT DO UPDATE`: a full sync writes some 100,000 rows,
and `bulk_create` spends more time preparing each value in Python than the database spends storing
it. Elsewhere (SQLite) it is `bulk_create(update_conflicts=True)`, which gives the same result; the
suite runs on both.

Only for the mirror models, whose columns hold plain values (ints, text, booleans, aware datetimes)
that psycopg adapts by itself.
"""

from __future__ import annotations

from django.db import connection, transaction


def upsert(model, rows: list[dict], *, update_fields: list[str], unique_field: str = "odoo_id") -> None:
    """Insert the rows, or update `update_fields` of those whose key is already there."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**row) for row in rows],
            update_conflicts=True, unique_fields=[unique_field], update_fields=update_fields,
        )
        return
    fields = model._meta.concrete_fields
    table = model._meta.db_table
    staging = f"staging_{table}"
    columns = _column_list(fields)
    updates = ", ".join(f'"{model._meta.get_field(n).column}" = EXCLUDED."{model._meta.get_field(n).column}"'
                        for n in update_fields)
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


def insert(model, rows: list[dict]) -> None:
    """Insert new rows; an auto-increment id is left to the database's sequence."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]
    with connection.cursor() as cursor:
        _copy(cursor, model._meta.db_table, fields, rows)


def _column_list(fields) -> str:
    return ", ".join(f'"{f.column}"' for f in fields)


def _copy(cursor, table: str, fields, rows: list[dict]) -> None:
    names = [f.attname for f in fields]
    # cursor.cursor is psycopg's own cursor under Django's wrapper.
    with cursor.cursor.copy(f'COPY "{table}" ({_column_list(fields)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
