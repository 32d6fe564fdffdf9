"""Reading changed tickets from Odoo in keyset pages, one page ahead of the code that saves them.

Odoo stores `write_date` to the microsecond (the writing transaction's start, shared by every record it
wrote) but sends it cut to whole seconds, and compares domains against the stored value. So a returned
`write_date` names a one-second bucket, not a key: `write_date = S` matches nothing written during S,
`write_date > S` matches all of it again, and a mass write of 1,200 tickets puts them all in one bucket.
A keyset on `(write_date, id)` as Odoo shows them would re-read the same page for ever.

The reader therefore keeps a `Position`: every ticket written before the second `second` is read, and
of those written during it, the ids up to `last_id` (and `seen`). Pages are ordered by `write_date, id`,
which is the stored order: within a second, by microsecond first, so the rows of the page's last second
are not a prefix by id and that second is not finished. What comes next:
- the page was short: everything is read;
- the page mixed seconds: the next page starts at its last second, leaving out the ids already read
  there (fewer than a page);
- the page lay inside one second: that second is read on its own, by id (`by_id`), then the rest.
Each changed ticket is read at most twice, whatever the page size and however many share a second.

While the mirror saves page N, a background thread reads the pages after it (their tickets, their SLA
records, and any team, stage, user or tag they point at that the mirror lacks) and maps them with
`prepare`, so that the main thread is left only the database work: Python runs one thread at a time,
and the mapping runs while the main thread waits on the database. The thread reads on without waiting
for the saving, up to `read_ahead` pages ahead (the next page's position depends only on the rows
read), so that Odoo is never kept waiting for a slow page write, nor the writing for a slow read. It
is the only user of the Odoo client while pages are read; it touches no database.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from escalations.odoo import names
from escalations.odoo.client import OdooClient
from escalations.odoo.errors import OdooAccessDenied
from escalations.odoo.schema import HelpdeskSchema
from escalations.odoo.values import odoo_datetime, to_odoo_datetime

SECOND = timedelta(seconds=1)
BY_WRITE_DATE = "write_date asc, id asc"
BY_ID = "id asc"


@dataclass(frozen=True)
class Position:
    second: datetime | None = None  # aware UTC, whole seconds; None: from the very first ticket
    last_id: int = 0
    seen: frozenset[int] = frozenset()  # ids of `second` read above `last_id`
    by_id: bool = False  # the rest of `second` is read alone, ordered by id

    def domain(self) -> list:
        if self.second is None:
            return []
        start, end = to_odoo_datetime(self.second), to_odoo_datetime(self.second + SECOND)
        rest_of_second = [("write_date", ">=", start), ("write_date", "<", end), ("id", ">", self.last_id)]
        if self.seen:
            rest_of_second.append(("id", "not in", sorted(self.seen)))
        if self.by_id:
            return rest_of_second
        if not self.last_id and not self.seen:
            return [("write_date", ">=", start)]
        return ["|", ("write_date", ">=", end), *["&"] * (len(rest_of_second) - 1), *rest_of_second]

    @property
    def order(self) -> str:
        return BY_ID if self.by_id else BY_WRITE_DATE

    @property
    def cursor(self) -> tuple[datetime, int] | None:
        """What the mirror may store as its cursor once the rows before this position are saved."""
        return None if self.second is None else (self.second, self.last_id)

    def after(self, rows: list[dict], *, full: bool, write_field: str) -> Position | None:
        """Where to read next after a page of `rows` read at this position; None when all is read."""
        if self.by_id:
            last_id = rows[-1]["id"] if rows else self.last_id
            return replace(self, last_id=last_id, seen=frozenset(i for i in self.seen if i > last_id),
                           by_id=full)
        if not rows:
            return None
        last = odoo_datetime(rows[-1][write_field])
        in_last = [r["id"] for r in rows if odoo_datetime(r[write_field]) == last]
        if not full:
            return None
        if len(in_last) == len(rows):
            # A whole page inside one second: read that second by id (re-reading this page's rows once).
            if last == self.second:
                return replace(self, by_id=True)
            return Position(last, 0, frozenset(), by_id=True)
        return Position(last, 0, frozenset(in_last))

    def done_at(self, rows: list[dict], write_field: str) -> Position:
        """The position after the last page (short or empty): its last second, every id read there."""
        last = odoo_datetime(rows[-1][write_field]) if rows else self.second
        ids = [r["id"] for r in rows if odoo_datetime(r[write_field]) == last]
        if last == self.second:
            ids += [self.last_id, *self.seen]
        return Position(last, max(ids, default=0))


@dataclass
class Page:
    rows: list[dict]
    sla_rows: list[dict]
    last: bool
    # Where the mirror's cursor may move once this page is saved.
    cursor: tuple[datetime, int] | None = None
    # Odoo rows of records the tickets point at and the mirror lacks: "team", "stage", "agent", "tag".
    referenced: dict[str, list[dict]] = field(default_factory=dict)
    prepared: Any = None  # what the reader's `prepare` made of rows and sla_rows


_END = object()


@dataclass
class _Failed:
    exc: BaseException


class PageReader:
    # Pages read ahead of the saving: the reader never waits for the database unless this many wait.
    read_ahead = 4

    def __init__(
        self, client: OdooClient, schema: HelpdeskSchema, *, start: Position, page_size: int,
        known_ids: dict[str, set[int]], prepare: Callable[[list[dict], list[dict]], Any] | None = None,
    ):
        self.client = client
        self.prepare = prepare
        self.schema = schema
        self.start = start
        self.page_size = page_size
        self.known_ids = known_ids  # updated as referenced records are fetched
        self.fields = schema.ticket_read_fields()
        self.write_field = schema.ticket_fields["write_date"]

    def __iter__(self) -> Iterator[Page]:
        pages: queue.Queue = queue.Queue(maxsize=self.read_ahead)
        stop = threading.Event()
        # The SLA records and the mapping of page N on a second thread, while this one asks Odoo for
        # page N+1's tickets: Odoo serves one request while we parse and map the answer to the other
        # (Odoo runs several workers; a page's SLA records depend only on its ticket ids).
        finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-page-details")

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def read_all() -> None:
            position = self.start
            try:
                while position is not None:
                    page, position = self.read_tickets(position)
                    if not (page.rows or page.last):  # an empty last page moves the cursor
                        continue
                    if not put(finishing.submit(self.finish_page, page)):
                        return
                put(_END)
            except BaseException as exc:  # handed to the consumer, which raises it
                put(_Failed(exc))

        reader = threading.Thread(target=read_all, name="odoo-pages", daemon=True)
        reader.start()
        try:
            while True:
                item = pages.get()
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.exc
                yield item.result()
        finally:
            stop.set()
            reader.join()
            finishing.shutdown(wait=True, cancel_futures=True)

    def read_page(self, position: Position) -> tuple[Page, Position | None]:
        """The page at `position`, and the position after it (None: nothing more to read)."""
        page, following = self.read_tickets(position)
        return self.finish_page(page), following

    def read_tickets(self, position: Position) -> tuple[Page, Position | None]:
        """The tickets of the page at `position` (and the records they point at that the mirror
        lacks), and the position after it (None: nothing more to read)."""
        rows = self.client.search_read(
            names.TICKET, position.domain(), self.fields, order=position.order,
            limit=self.page_size, active_test=False,
        )
        full = len(rows) >= self.page_size
        following = position.after(rows, full=full, write_field=self.write_field)
        end = following if following is not None else position.done_at(rows, self.write_field)
        page = Page(rows, [], last=following is None, cursor=end.cursor,
                    referenced=self._referenced(rows) if rows else {})
        return page, following

    def finish_page(self, page: Page) -> Page:
        """The page with its tickets' SLA records, mapped by `prepare`."""
        if self.schema.sla_model and page.rows:
            page.sla_rows = self.client.search_read(
                self.schema.sla_model, [("ticket_id", "in", [r["id"] for r in page.rows])],
                self.schema.sla_fields,
            )
        if self.prepare is not None:
            page.prepared = self.prepare(page.rows, page.sla_rows)
        return page

    def _referenced(self, rows: list[dict]) -> dict[str, list[dict]]:
        s = self.schema
        wanted = {
            "team": (s.team_model, s.team_fields, self._m2o_ids(rows, "team")),
            "stage": (s.stage_model, s.stage_fields, self._m2o_ids(rows, "stage")),
            "agent": (names.USER, s.user_fields, self._m2o_ids(rows, "assignee")),
            "tag": (s.tag_model, s.tag_fields, self._m2m_ids(rows, "tags")),
        }
        fetched = {}
        for kind, (model, fields, ids) in wanted.items():
            missing = sorted(ids - self.known_ids[kind])
            if missing:
                fetched[kind] = self._read(kind, model, missing, fields, rows)
                self.known_ids[kind].update(missing)
        return fetched

    def _read(self, kind: str, model: str, ids: list[int], fields: list[str], rows: list[dict]) -> list[dict]:
        try:
            return self.client.read(model, ids, fields)
        except OdooAccessDenied:
            if kind != "team":
                raise
            # Enterprise shows a plain helpdesk user the tickets it follows in a private team, but not
            # the team (a record rule); the tickets' team_id still names it, so the mirror keeps that.
            field = self.schema.ticket_fields["team"]
            names = {r[field][0]: r[field][1] for r in rows if r.get(field)}
            return [{"id": i, "name": names[i]} for i in ids]

    def _m2o_ids(self, rows: list[dict], ours: str) -> set[int]:
        name = self.schema.ticket_fields.get(ours)
        return {r[name][0] for r in rows if name and r.get(name)}

    def _m2m_ids(self, rows: list[dict], ours: str) -> set[int]:
        name = self.schema.ticket_fields.get(ours)
        return {i for r in rows if name for i in (r.get(name) or [])}
