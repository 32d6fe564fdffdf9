"""search(): domain + active_test + order + offset/limit, with a fast path for sync pages.

The fast path: a domain whose top level requires `write_date >= X` (or `>`), ordered by
`write_date asc, id asc` (the incremental-sync query), walks the store's (write_date, id) index from X
and stops once the page is full, so a page costs the same at 200 or 20,000 tickets.
"""

import itertools
from datetime import datetime

from .domain import Compiler, normalize, top_level_leaves

_FAST_ORDERS = ([("write_date", False), ("id", False)], [("write_date", False)])


def search(
    store, model: str, domain, *, offset=0, limit=None, order=None, active_test=True, rule=None
) -> list[int]:
    """Ids matching the domain; `rule` (rules.predicate) leaves out what the user may not see."""
    md = store.model(model)
    domain = list(domain or [])
    if (
        active_test
        and md.has_active
        and not any(isinstance(t, (list, tuple)) and len(t) == 3 and t[0] == "active" for t in domain)
    ):
        # Exactly Odoo's rule (`_where_calc`): any leaf on `active`, anywhere, disables the filter.
        domain = [("active", "=", True)] + domain
    terms = parse_order(store, model, order or md.order)
    offset = int(offset or 0)
    pred, table = Compiler(store).compile(model, domain), store.tables[model]
    if rule is not None:
        pred = _both(pred, rule)
    normalized = normalize(domain)
    if terms in _FAST_ORDERS:
        # Walk the (write_date, id) index from the domain's lower bound, stop when the page is full.
        start = _write_date_bound(normalized)
        ids = (i for i in store.ids_by_write_date(model, start) if pred(table[i]))
        return list(itertools.islice(ids, offset, (offset + limit) if limit else None))
    candidates = _candidates(store, model, normalized)
    if candidates is None and (start := _write_date_bound(normalized)) is not None:
        # A sync page of one busy second, ordered by id: only the rows written since that second.
        candidates = list(store.ids_by_write_date(model, start))
    ids = [i for i in (table if candidates is None else candidates) if i in table and pred(table[i])]
    ids = sort_ids(store, model, ids, terms)
    return ids[offset : offset + limit if limit else None]


def count(store, model: str, domain, *, limit=None, active_test=True, rule=None) -> int:
    n = len(search(store, model, domain, order="id", active_test=active_test, rule=rule))
    return min(n, limit) if limit else n


def _both(pred, rule):
    return lambda rec: pred(rec) and rule(rec)


def _write_date_bound(tokens: list):
    """A lower bound on write_date implied by the whole domain, or None.

    `&` takes the larger bound of its sides, `|` the smaller (both sides need one), a leaf
    `write_date >=|>|= X` gives X. This covers plain `>=` pages and keyset pages
    `| (write_date > X) & (write_date = X) (id > N)`. The predicate still checks every row."""

    def walk(pos):
        tok = tokens[pos]
        if tok in ("&", "|"):
            left, pos = walk(pos + 1)
            right, pos = walk(pos)
            if tok == "&":
                return (max((b for b in (left, right) if b is not None), default=None)), pos
            return (min(left, right) if left is not None and right is not None else None), pos
        if tok == "!":
            _, pos = walk(pos + 1)
            return None, pos
        path, op, value = tok if len(tok) == 3 else (None, None, None)
        if path == "write_date" and op in (">=", ">", "=") and isinstance(value, str) and value:
            return _parse(value, op), pos + 1
        return None, pos + 1

    return walk(0)[0]


def _candidates(store, model: str, tokens: list):
    """Ids that can match, from top-level `id`/indexed many2one leaves (None = no narrowing):
    SLA rows read with `('ticket_id', 'in', page_ids)` should not scan every SLA row."""
    result = None
    for path, op, value in top_level_leaves(tokens):
        if op not in ("=", "in") or not isinstance(value, (int, list, tuple)) or isinstance(value, bool):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            continue
        if path == "id":
            found = set(values)
        elif (model, path) in store._inverse and store.model(model).fields[path].type == "many2one":
            index = store._inverse[(model, path)]
            found = set().union(*(index.get(v, ()) for v in values))
        else:
            continue
        result = found if result is None else result & found
    return result


def _parse(value: str, op: str) -> datetime:
    if len(value) == 10:
        value += " 23:59:59" if op == ">" else " 00:00:00"
    return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")


def parse_order(store, model: str, order: str) -> list[tuple[str, bool]]:
    """ "write_date asc, id asc" -> [("write_date", False), ("id", False)] (True = descending)."""
    md = store.model(model)
    terms = []
    for part in str(order).split(","):
        words = part.strip().split()
        if not words:
            continue
        fname = words[0].strip('"')
        if fname not in md.fields or len(words) > 4:
            raise ValueError(f"Invalid field {fname!r} on model {model!r}")
        direction = words[1].lower() if len(words) > 1 else "asc"
        if direction not in ("asc", "desc"):
            raise ValueError(f"Invalid order {order!r} for model {model!r}")
        terms.append((fname, direction == "desc"))
    return terms


def sort_ids(store, model: str, ids: list[int], terms, _depth=0) -> list[int]:
    """Sort like PostgreSQL under Odoo: many2one by the comodel's own order, NULLs last when ascending
    and first when descending; ties end in id order (stable sorts starting from ids)."""
    table = store.tables[model]
    ids = sorted(ids)
    for fname, desc in reversed(terms):
        if fname == "id":
            ids.sort(reverse=desc)
            continue
        key = _key(store, model, fname, _depth)
        ids.sort(key=lambda i: key(table[i]), reverse=desc)
    return ids


def _key(store, model, fname, depth):
    fd = store.model(model).fields[fname]
    if fd.type == "many2one" and depth < 2:
        rank = _rank(store, fd.relation, depth)
        get = lambda r: rank.get(r.get(fname))  # noqa: E731
    elif fd.type in ("one2many", "many2many"):
        get = lambda r: None  # noqa: E731  (Odoo cannot order by x2many either; it ignores them)
    else:
        get = lambda r: store.value(model, r, fname)  # noqa: E731

    def key(rec):
        v = get(rec)
        if v is None or (v is False and fd.type != "boolean"):
            return (1, 0)
        return (0, v.lower() if isinstance(v, str) else v)

    return key


def _rank(store, comodel: str, depth: int) -> dict:
    md = store.model(comodel)
    ordered = sort_ids(
        store, comodel, list(store.tables[comodel]), parse_order(store, comodel, md.order), depth + 1
    )
    return {rid: pos for pos, rid in enumerate(ordered)}
