"""Records in memory: one dict per model mapping id -> raw values, plus the indexes that keep sync fast.

Raw values: None for empty, naive UTC datetimes (whole seconds), ints for many2one, id lists for
many2many. One2many values are not stored; they are derived from the comodel's many2one through an
index. Nothing here knows the wire format or helpdesk rules; `orm.py` and `helpdesk*.py` do.
"""

import bisect
from datetime import datetime

from .schema import ModelDef


class Store:
    def __init__(self, schema: dict[str, ModelDef], clock):
        self.schema = schema
        self.clock = clock
        self.tables: dict[str, dict[int, dict]] = {name: {} for name in schema}
        self.next_id: dict[str, int] = {name: 1 for name in schema}
        self.computes: dict = {}  # key -> fn(store, rec) -> raw value (non-stored computed fields)
        self.searches: dict = {}  # key -> fn(store, operator, value) -> domain (like Odoo's search=)
        self.sequences: dict[str, int] = {}
        self.hooks: dict = {}  # model -> side-effect hooks (see orm.py)
        self.forbidden: dict[int, set] = {}  # uid -> models that user may not access (AccessError)
        self.helpdesk_access: dict[int, str] = {}  # uid -> helpdesk group limiting what it sees (rules.py)
        self.system_uids: set[int] = set()  # members of Administration/Settings besides the superuser
        self.calendar_changes = 0  # bumped when resource.* records change: invalidates planned calendars
        # (model, many2one field) -> {target id: set(ids)}, for one2many reads and inverse lookups.
        self._inverse: dict[tuple[str, str], dict[int, set]] = {}
        # model -> sorted [(write_date, id)]: incremental sync pages by write_date stay O(page size).
        self._by_write_date: dict[str, list] = {name: [] for name in schema}
        for md in schema.values():
            for fd in md.fields.values():
                if fd.index:
                    self._inverse[(md.name, fd.name)] = {}
        self._register_one2many_indexes()
        # model -> [(field, index)]: the indexes a write to that model must maintain.
        self._indexed: dict[str, list] = {name: [] for name in schema}
        for (m, fname), index in self._inverse.items():
            self._indexed[m].append((fname, index))
        self.model_changes: dict[str, int] = {name: 0 for name in schema}  # cache keys (stage lists...)
        # While seeding, thousands of past-dated writes would each shift a big sorted list; the
        # seed turns this off and sorts the write_date indexes once at the end (`bulk_done`).
        self.bulk = False
        # While a call runs that may have to hide its writes until it commits (an Odoo 17 webhook is
        # sent before the commit): (model, id) -> the raw record before the call, None if it made it.
        self.journal: dict[tuple[str, int], dict | None] | None = None
        # The webhooks the running call's automation rules asked for (automation.py), sent by the state.
        self.pending_webhooks = None  # automation.Pending while a call runs

    def _register_one2many_indexes(self) -> None:
        for md in self.schema.values():
            for fd in md.fields.values():
                if fd.type == "one2many":
                    self._inverse.setdefault((fd.relation, fd.inverse_name), {})

    # -- reading -------------------------------------------------------------------------------

    def model(self, name: str) -> ModelDef:
        return self.schema[name]

    def get(self, model: str, rec_id) -> dict | None:
        return self.tables[model].get(rec_id)

    def exists(self, model: str, rec_id) -> bool:
        return rec_id in self.tables[model]

    def value(self, model: str, rec: dict, fname: str):
        """Raw value of any field, stored, computed, related or one2many."""
        fd = self.schema[model].fields[fname]
        if fd.related:
            return self._related(model, rec, fd.related)
        if fd.type == "one2many":
            return self.inverse_ids(fd.relation, fd.inverse_name, rec["id"], model=model)
        if fd.compute == "display_name":
            return self.display_name(model, rec)
        if fd.compute and not fd.store:
            return self.computes[fd.compute](self, rec)
        return rec.get(fname)

    def _related(self, model: str, rec: dict, path: str):
        first, _, rest = path.partition(".")
        target_id = rec.get(first)
        target_model = self.schema[model].fields[first].relation
        target = self.get(target_model, target_id) if target_id else None
        if target is None:
            return None
        return self.value(target_model, target, rest)

    def inverse_ids(self, comodel: str, inverse: str, target_id: int, model: str | None = None) -> list:
        ids = self._inverse[(comodel, inverse)].get(target_id, ())
        if inverse == "res_id" and model:
            # mail.message points at any model through (model, res_id), not a real many2one.
            table = self.tables[comodel]
            return sorted(i for i in ids if table[i].get("model") == model)
        return sorted(ids)

    def display_name(self, model: str, rec: dict) -> str:
        md = self.schema[model]
        if md.display_name:
            return md.display_name(self, rec)
        name = self.value(model, rec, md.rec_name) if md.rec_name in md.fields else None
        if isinstance(name, int) and md.fields[md.rec_name].type == "many2one":
            target_model = md.fields[md.rec_name].relation
            target = self.get(target_model, name)
            return self.display_name(target_model, target) if target else ""
        return name if name else f"{model},{rec['id']}"

    def ids_by_write_date(self, model: str, start=None, strict=False):
        """Iterate ids ordered by (write_date, id), from the first write_date >= start (> if strict)."""
        index = self._by_write_date[model]
        pos = 0
        if start is not None:
            pos = (
                bisect.bisect_right(index, (start, float("inf")))
                if strict
                else bisect.bisect_left(index, (start, 0))
            )
        return (index[i][1] for i in range(pos, len(index)))

    # -- writing -------------------------------------------------------------------------------

    def insert(self, model: str, values: dict, *, now: datetime, uid: int) -> int:
        rec_id = self.next_id[model]
        self.next_id[model] = rec_id + 1
        rec = dict(values, id=rec_id, create_date=now, write_date=now, create_uid=uid, write_uid=uid)
        self._journal(model, rec_id, None)
        self.tables[model][rec_id] = rec
        self._index_add(model, rec)
        if not self.bulk:
            bisect.insort(self._by_write_date[model], (now, rec_id))
        self._touched(model)
        return rec_id

    def update(self, model: str, rec_id: int, values: dict, *, now: datetime | None, uid: int | None) -> None:
        """Store values; `now=None` leaves write_date alone (for internal bookkeeping only)."""
        rec = self.tables[model][rec_id]
        self._journal(model, rec_id, rec)
        self._index_remove(model, rec, values)
        rec.update(values)
        if now is not None:
            self._move_write_date(model, rec, now)
            rec["write_uid"] = uid
        self._index_add(model, rec, values)
        self._touched(model)

    def delete(self, model: str, rec_id: int) -> None:
        self._journal(model, rec_id, self.tables[model].get(rec_id))
        rec = self.tables[model].pop(rec_id)
        self._index_remove(model, rec)
        self._touched(model)
        if self.bulk:
            return
        index = self._by_write_date[model]
        pos = bisect.bisect_left(index, (rec["write_date"], rec_id))
        if pos < len(index) and index[pos] == (rec["write_date"], rec_id):
            del index[pos]

    def _journal(self, model: str, rec_id: int, rec: dict | None) -> None:
        """Keep the record as it was before the running call first touched it (a copy: `update`
        changes records in place)."""
        if self.journal is not None and (model, rec_id) not in self.journal:
            self.journal[(model, rec_id)] = None if rec is None else dict(rec)

    def put(self, model: str, rec_id: int, rec: dict | None) -> None:
        """Make `rec` the record `rec_id` (None: no such record), indexes included: how a call's
        writes are hidden until it commits, and shown when it does."""
        table = self.tables[model]
        old = table.pop(rec_id, None)
        if old is not None:
            self._index_remove(model, old)
            index = self._by_write_date[model]
            pos = bisect.bisect_left(index, (old["write_date"], rec_id))
            if pos < len(index) and index[pos] == (old["write_date"], rec_id):
                del index[pos]
        if rec is not None:
            table[rec_id] = rec
            self._index_add(model, rec)
            bisect.insort(self._by_write_date[model], (rec["write_date"], rec_id))
        self._touched(model)

    def _touched(self, model: str) -> None:
        self.model_changes[model] += 1
        if model.startswith("resource."):
            self.calendar_changes += 1

    def next_sequence(self, code: str) -> int:
        self.sequences[code] = self.sequences.get(code, 0) + 1
        return self.sequences[code]

    def _move_write_date(self, model: str, rec: dict, now: datetime) -> None:
        if self.bulk:
            rec["write_date"] = now
            return
        old = (rec["write_date"], rec["id"])
        index = self._by_write_date[model]
        pos = bisect.bisect_left(index, old)
        if pos < len(index) and index[pos] == old:
            del index[pos]
        rec["write_date"] = now
        bisect.insort(index, (now, rec["id"]))

    def _index_add(self, model: str, rec: dict, only=None) -> None:
        for fname, index in self._indexed[model]:
            target = rec.get(fname)
            if target and (only is None or fname in only):
                index.setdefault(target, set()).add(rec["id"])

    def _index_remove(self, model: str, rec: dict, only=None) -> None:
        for fname, index in self._indexed[model]:
            target = rec.get(fname)
            if target and target in index and (only is None or fname in only):
                index[target].discard(rec["id"])

    def bulk_done(self) -> None:
        self.bulk = False
        for model, table in self.tables.items():
            self._by_write_date[model] = sorted((r["write_date"], r["id"]) for r in table.values())

    def rebuild_indexes(self) -> None:
        """After loading raw tables from a state file."""
        for index in self._inverse.values():
            index.clear()
        for model, table in self.tables.items():
            for rec in table.values():
                self._index_add(model, rec)
            self._by_write_date[model] = sorted((r["write_date"], r["id"]) for r in table.values())
