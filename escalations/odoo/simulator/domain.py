"""Odoo prefix domains, compiled into predicates over raw records.

Follows `odoo/osv/expression.py`: implicit `&` between terms, `!` and `|` in prefix form, dotted paths
through relations (a many2one path ignores `active`, an x2many path honours it), negative operators
(`!=`, `not in`, `not like`, `not ilike`) matching empty values, `=?` ignoring an empty value, and
`child_of`/`parent_of` over the model's parent field. Sub-paths are evaluated once into id sets, the
way Odoo turns them into sub-queries, so a predicate costs a few dict lookups per record.
"""

import re
from datetime import date, datetime

OPERATORS = {
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
}
NEGATIVE = {"!=", "not like", "not ilike", "not in"}
TRUE_LEAF, FALSE_LEAF = (1, "=", 1), (0, "=", 1)


def is_leaf(token) -> bool:
    return isinstance(token, (list, tuple)) and len(token) == 3 and token[1] in OPERATORS


def normalize(domain) -> list:
    """Add the implicit `&` operators, as `expression.normalize_domain` does."""
    if not domain:
        return [TRUE_LEAF]
    result, expected = [], 1
    for token in domain:
        if expected == 0:
            result.insert(0, "&")
            expected = 1
        if isinstance(token, (list, tuple)):
            if not is_leaf(token) and tuple(token) not in (TRUE_LEAF, FALSE_LEAF):
                raise ValueError(f"Invalid leaf {list(token)!r}")
            expected -= 1
            token = tuple(token)
        elif token in ("&", "|"):
            expected += 1
        elif token != "!":
            raise ValueError(f"Invalid domain term {token!r}")
        result.append(token)
    if expected:
        raise ValueError(f"Domain {domain} is syntactically not correct.")
    return result


def top_level_leaves(normalized: list) -> list:
    """Leaves that every match must satisfy (an all-`&` prefix), used to pick an index."""
    if all(t == "&" or isinstance(t, tuple) for t in normalized):
        return [t for t in normalized if isinstance(t, tuple)]
    return []


class Compiler:
    def __init__(self, store):
        self.store = store
        self.now = store.clock.db_now()

    def compile(self, model: str, domain) -> callable:
        tokens = normalize(domain)
        pred, rest = self._node(model, tokens)
        return pred

    def matching_ids(self, model: str, domain, active_test: bool) -> set:
        domain = list(domain)
        if active_test and self.store.model(model).has_active and not _mentions(domain, "active"):
            domain = [("active", "=", True)] + domain
        pred = self.compile(model, domain)
        return {rid for rid, rec in self.store.tables[model].items() if pred(rec)}

    def _node(self, model, tokens):
        head, rest = tokens[0], tokens[1:]
        if head == "!":
            inner, rest = self._node(model, rest)
            return (lambda r: not inner(r)), rest
        if head in ("&", "|"):
            left, rest = self._node(model, rest)
            right, rest = self._node(model, rest)
            if head == "&":
                return (lambda r: left(r) and right(r)), rest
            return (lambda r: left(r) or right(r)), rest
        return self._leaf(model, head), rest

    def _leaf(self, model, leaf):
        if leaf == TRUE_LEAF:
            return lambda r: True
        if leaf == FALSE_LEAF:
            return lambda r: False
        path, op, value = leaf
        md = self.store.model(model)
        fname, _, rest = str(path).partition(".")
        fd = md.fields.get(fname)
        if fd is None:
            raise ValueError(f"Invalid field {model}.{fname} in leaf {leaf!r}")
        if rest:
            return self._path(model, fd, rest, op, value, leaf)
        if fd.search:
            return self.compile(model, self.store.searches[fd.search](self.store, op, value))
        if fd.related:
            return self._leaf(model, (fd.related, op, value))
        if not fd.searchable:
            raise ValueError(f"Non-stored field {model}.{fname} cannot be searched.")
        get = self._getter(model, fd)
        if op == "=?":
            if value is False or value is None:
                return lambda r: True
            op = "="
        if fd.type == "many2one" or fname == "id":
            return self._relational(fd.relation or model, get, op, value, multi=False)
        if fd.type in ("one2many", "many2many"):
            return self._relational(fd.relation, get, op, value, multi=True)
        if fd.type == "boolean":
            return _boolean(get, op, value)
        return scalar_test(get, op, _convert(fd.type, op, value))

    def _getter(self, model, fd):
        if fd.type == "one2many" or (fd.compute and not fd.store):
            store, name = self.store, fd.name
            return lambda r: store.value(model, r, name)
        name = fd.name
        return lambda r: r.get(name)

    def _path(self, model, fd, rest, op, value, leaf):
        if fd.type not in ("many2one", "one2many", "many2many"):
            raise ValueError(f"Invalid field {model}.{fd.name} in leaf {leaf!r}")
        # Odoo: many2one paths search the comodel with active_test=False, x2many paths with it on.
        ids = self.matching_ids(fd.relation, [(rest, op, value)], active_test=fd.type != "many2one")
        get = self._getter(model, fd)
        if fd.type == "many2one":
            return lambda r: get(r) in ids
        return lambda r: any(i in ids for i in get(r) or ())

    def _relational(self, comodel, get, op, value, multi):
        if op in ("child_of", "parent_of"):
            ids = self._hierarchy(comodel, self._ids_of(comodel, value), op)
            return _ids_test(get, ids, negative=False, multi=multi)
        if op in ("=", "!=", "in", "not in") and not _is_text(value):
            values = value if isinstance(value, (list, tuple)) else [value]
            ids = {v for v in values if v is not False and v is not None}
            with_empty = any(v is False or v is None for v in values)
            return _ids_test(get, ids, negative=op in NEGATIVE, multi=multi, with_empty=with_empty)
        if op in ("<", ">", "<=", ">=") and not multi:
            return scalar_test(get, op, value)
        # A name (or names) given for a relation: Odoo runs a name search on the comodel.
        positive = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}.get(op, op)
        ids = self._name_ids(comodel, positive, value)
        return _ids_test(get, ids, negative=op in NEGATIVE, multi=multi)

    def _name_ids(self, comodel, op, value) -> set:
        store = self.store
        names = value if isinstance(value, (list, tuple)) else [value]
        test = scalar_test(lambda s: s, "in" if op == "in" else op, names if op == "in" else value)
        return {
            rid
            for rid, rec in store.tables[comodel].items()
            if rec.get("active", True) and test(store.display_name(comodel, rec))
        }

    def _ids_of(self, comodel, value) -> set:
        if _is_text(value):
            return self._name_ids(comodel, "ilike", value)
        values = value if isinstance(value, (list, tuple)) else [value]
        return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}

    def _hierarchy(self, comodel, ids: set, op) -> set:
        parent = self.store.model(comodel).parent_name
        if not parent:
            return ids
        table = self.store.tables[comodel]
        result, frontier = set(ids), set(ids)
        if op == "parent_of":
            while frontier:
                frontier = {table[i].get(parent) for i in frontier if i in table} - result - {None}
                result |= frontier
            return result
        while frontier:
            frontier = {rid for rid, rec in table.items() if rec.get(parent) in frontier} - result
            result |= frontier
        return result


def _mentions(domain, fname) -> bool:
    return any(isinstance(t, (list, tuple)) and len(t) == 3 and t[0] == fname for t in domain)


def _is_text(value) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)


def _ids_test(get, ids, negative, multi, with_empty=False):
    if multi:

        def hit(r):
            vals = get(r) or ()
            return any(v in ids for v in vals) or (with_empty and not vals)
    else:

        def hit(r):
            v = get(r)
            return v in ids if v else with_empty

    return (lambda r: not hit(r)) if negative else hit


def _boolean(get, op, value):
    if op in ("in", "not in"):
        wanted = {bool(v) for v in value}
        return (lambda r: bool(get(r)) in wanted) if op == "in" else (lambda r: bool(get(r)) not in wanted)
    if op in ("=", "!="):
        want = bool(value)
        return (lambda r: bool(get(r)) == want) if op == "=" else (lambda r: bool(get(r)) != want)
    return scalar_test(get, op, value)


def _convert(ftype, op, value):
    if isinstance(value, (list, tuple)):
        return [_convert(ftype, op, v) for v in value]
    if not isinstance(value, str) or op in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        return value
    if ftype == "datetime":
        if len(value) == 10:  # a date given for a datetime: end of day for `>` / `<=`, as Odoo does
            value += " 23:59:59" if op in (">", "<=") else " 00:00:00"
        return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    if ftype == "date":
        return date.fromisoformat(value[:10])
    return value


def _empty(v) -> bool:
    return v is None or v is False or v == ""


def scalar_test(get, op, value):
    """A test of one value against an operator (`get` reads the value from a record)."""
    if op in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        pattern = str(value) if op.startswith("=") else f"%{value}%"
        rx = _like_regex(pattern, ignore_case="ilike" in op)
        if op in NEGATIVE:
            return lambda r: _empty(get(r)) or not rx.match(str(get(r)))
        return lambda r: not _empty(get(r)) and bool(rx.match(str(get(r))))
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        with_empty = any(v is False or v is None for v in values)
        wanted = {v for v in values if v is not False and v is not None}
        hit = lambda r: (get(r) in wanted) if not _empty(get(r)) else with_empty  # noqa: E731
        return hit if op == "in" else (lambda r: not hit(r))
    if value is False or value is None:
        if op == "=":
            return lambda r: _empty(get(r))
        if op == "!=":
            return lambda r: not _empty(get(r))
        return lambda r: False
    if op == "=":
        return lambda r: get(r) == value
    if op == "!=":
        return lambda r: _empty(get(r)) or get(r) != value
    compare = {
        "<": lambda a: a < value,
        ">": lambda a: a > value,
        "<=": lambda a: a <= value,
        ">=": lambda a: a >= value,
    }[op]
    return lambda r: not _empty(get(r)) and _safe(compare, get(r))


def _safe(compare, v) -> bool:
    try:
        return compare(v)
    except TypeError:
        return False


def _like_regex(pattern: str, ignore_case: bool):
    out, escaped = [], False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.S | (re.I if ignore_case else 0))
