"""Reading changed tickets from Odoo in keyset pages, one page ahead of the code that saves them.

Pages are ordered by (write_date, id) and each starts strictly after the last row of the one before.
Keyset, not offset: 50 tickets written in the same second across a page boundary are each read once,
and a ticket written while we page moves behind us and is read again at the end.

While the mirror saves page N, a background thread already reads page N+1 (its tickets, their SLA
records, and any team, stage, user or tag they point at that the mirror lacks). The thread is the
only user of the Odoo client while pages are read; it touches no database.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from escalations.odoo.client import OdooClient
from escalations.odoo.schema import HelpdeskSchema


@dataclass
class Page:
    rows: list[dict]
    sla_rows: list[dict]
    last: bool
    # Odoo rows of records the tickets point at and the mirror lacks: "team", "stage", "agent", "tag".
    referenced: dict[str, list[dict]] = field(default_factory=dict)


def after_domain(after: tuple[str, int] | None) -> list:
    """Odoo domain for rows strictly after the (write_date, id) key."""
    if after is None:
        return []
    write_date, last_id = after
    return ["|", ("write_date", ">", write_date), "&", ("write_date", "=", write_date), ("id", ">", last_id)]


class PageReader:
    def __init__(
        self, client: OdooClient, schema: HelpdeskSchema, *, after: tuple[str, int] | None,
        page_size: int, known_ids: dict[str, set[int]],
    ):
        self.client = client
        self.schema = schema
        self.after = after
        self.page_size = page_size
        self.known_ids = known_ids  # updated as referenced records are fetched
        self.fields = schema.ticket_read_fields()

    def __iter__(self) -> Iterator[Page]:
        write_field = self.schema.ticket_fields["write_date"]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-pages") as pool:
            future = pool.submit(self.read_page, self.after)
            while future is not None:
                page = future.result()
                if page is None:
                    return
                future = None
                if not page.last:
                    last = page.rows[-1]
                    future = pool.submit(self.read_page, (last[write_field], last["id"]))
                yield page

    def read_page(self, after: tuple[str, int] | None) -> Page | None:
        rows = self.client.search_read(
            "helpdesk.ticket", after_domain(after), self.fields, order="write_date asc, id asc",
            limit=self.page_size, active_test=False,
        )
        if not rows:
            return None
        sla_rows = []
        if self.schema.sla_model:
            sla_rows = self.client.search_read(
                self.schema.sla_model, [("ticket_id", "in", [r["id"] for r in rows])], self.schema.sla_fields
            )
        return Page(rows, sla_rows, last=len(rows) < self.page_size, referenced=self._referenced(rows))

    def _referenced(self, rows: list[dict]) -> dict[str, list[dict]]:
        s = self.schema
        wanted = {
            "team": (s.team_model, s.team_fields, self._m2o_ids(rows, "team")),
            "stage": (s.stage_model, s.stage_fields, self._m2o_ids(rows, "stage")),
            "agent": ("res.users", s.user_fields, self._m2o_ids(rows, "assignee")),
            "tag": (s.tag_model, s.tag_fields, self._m2m_ids(rows, "tags")),
        }
        fetched = {}
        for kind, (model, fields, ids) in wanted.items():
            missing = sorted(ids - self.known_ids[kind])
            if missing:
                fetched[kind] = self.client.read(model, missing, fields)
                self.known_ids[kind].update(missing)
        return fetched

    def _m2o_ids(self, rows: list[dict], ours: str) -> set[int]:
        name = self.schema.ticket_fields.get(ours)
        return {r[name][0] for r in rows if name and r.get(name)}

    def _m2m_ids(self, rows: list[dict], ours: str) -> set[int]:
        name = self.schema.ticket_fields.get(ours)
        return {i for r in rows if name for i in (r.get(name) or [])}
