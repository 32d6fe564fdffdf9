"""Conversions between wire values (JSON/XML-RPC) and raw stored values, following odoo.md §3.

Read side: many2one `[id, display_name]` (plain id with load='_classic_write'), x2many id lists in the
comodel's order, `False` for empty scalars, UTC `YYYY-MM-DD HH:MM:SS` datetimes, 0/0.0 for empty numbers.
Write side: what Odoo's `convert_to_cache` accepts, including its quirks (a many2one given as a list
is silently emptied) and the errors it raises.
"""

from datetime import date, datetime

from .errors import ValidationError
from .query import parse_order, sort_ids

DT_FORMAT = "%Y-%m-%d %H:%M:%S"


def fmt_datetime(v) -> str | bool:
    # isoformat is several times faster than strftime and gives the same text for whole seconds
    if not v:
        return False
    return (v.replace(microsecond=0) if v.microsecond else v).isoformat(" ")


def parse_datetime(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d")
        return datetime.strptime(text[:19], DT_FORMAT)
    except ValueError:
        raise ValueError(f"time data {text!r} does not match format '{DT_FORMAT}'") from None


def to_wire(store, model: str, rec: dict, fname: str, load: str | None):
    return formatter(store, model, fname, load)(rec)


def formatter(store, model: str, fname: str, load: str | None):
    """A function raw record -> wire value for one field, built once per (model, field, load): reads
    of sync pages call it hundreds of thousands of times."""
    key = (model, fname, load)
    cache = store.__dict__.setdefault("_formatters", {})
    if key not in cache:
        cache[key] = _build_formatter(store, model, fname, load)
    return cache[key]


def _build_formatter(store, model, fname, load):
    fd = store.model(model).fields[fname]
    kind = fd.type
    plain = fd.store and not fd.related and not fd.compute and kind != "one2many"
    raw = (lambda r: r.get(fname)) if plain else (lambda r: store.value(model, r, fname))
    if kind == "many2one":
        comodel, tables = fd.relation, store.tables

        def m2o(r):
            v = raw(r)
            target = tables[comodel].get(v) if v else None
            if target is None:
                return False
            return [v, store.display_name(comodel, target)] if load == "_classic_read" else v

        return m2o
    if kind in ("one2many", "many2many"):
        return lambda r: _ordered_ids(store, fd.relation, raw(r) or [])
    if kind == "datetime":
        return lambda r: fmt_datetime(raw(r))
    if kind == "date":
        return lambda r: raw(r).isoformat() if raw(r) else False
    if kind == "boolean":
        return lambda r: bool(raw(r))
    if kind in ("integer", "many2one_reference"):
        return lambda r: raw(r) or 0
    if kind == "float":
        return lambda r: float(raw(r) or 0.0)
    if kind == "properties":
        return lambda r: raw(r) or []

    def scalar(r):
        v = raw(r)
        return False if v is None else v

    return scalar


def _ordered_ids(store, comodel: str, ids) -> list:
    ids = [i for i in ids if store.exists(comodel, i)]
    if len(ids) < 2:
        return list(ids)
    md = store.model(comodel)
    return sort_ids(store, comodel, ids, parse_order(store, comodel, md.order))


def to_raw(store, model: str, fname: str, value):
    """Convert one scalar or many2one wire value for storage (x2many commands are handled by orm)."""
    return converter(store, model, fname)(value)


def converter(store, model: str, fname: str):
    """A function wire value -> raw value for one field, built once per (model, field)."""
    key = (model, fname)
    cache = store.__dict__.setdefault("_converters", {})
    if key not in cache:
        cache[key] = _build_converter(store, model, store.model(model).fields[fname])
    return cache[key]


def _build_converter(store, model, fd):
    kind, fname = fd.type, fd.name
    if kind == "many2one":
        return lambda v: _many2one(store, model, fd, v)
    if kind == "boolean":
        return bool
    if kind == "integer":
        return lambda v: int(v or 0)
    if kind == "many2one_reference":
        return lambda v: int(v or 0) or None
    if kind == "float":
        return lambda v: float(v or 0.0)
    if kind == "datetime":
        return parse_datetime
    if kind == "date":
        return lambda v: date.fromisoformat(str(v)[:10]) if v else None
    if kind == "selection":
        keys = {k for k, _ in fd.selection}

        def selection(v):
            if v in (False, None, ""):
                return None
            if str(v) not in keys:
                raise ValueError(f"Wrong value for {model}.{fname}: {v!r}")
            return str(v)

        return selection
    if kind in ("char", "text", "html"):
        return lambda v: None if v is False or v is None else str(v)
    return lambda v: v


def _many2one(store, model, fd, value):
    # Odoo 17 `Many2one.convert_to_cache`: ints are ids, a tuple's first item is the id, anything else
    # (False, a JSON list, a string) becomes empty. Only a real id goes to PostgreSQL's foreign key.
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if not store.exists(fd.relation, value):
        table = model.replace(".", "_")
        raise ValidationError(
            "The operation cannot be completed: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            f"Model: {store.model(model).description} ({model})\n"
            f"Constraint: {table}_{fd.name}_fkey\n"
        )
    return value


def not_null_error(store, model: str, fname: str) -> ValidationError:
    md = store.model(model)
    return ValidationError(
        "The operation cannot be completed:\n"
        "- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
        f"Model: {md.description} ({model})\n"
        f"Field: {md.fields[fname].string} ({fname})\n"
    )
