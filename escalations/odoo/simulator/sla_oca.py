"""OCA `helpdesk_mgmt_sla` SLA computation (odoo.md §5.3), two designs.

17/18 (`OcaSla`): one `helpdesk.ticket.sla` row per (ticket, matching policy). hours = policy hours +
calendar hours_per_day x days; deadline = plan_hours(hours - consumed_time, last_state_date or create
date). On every stage write each open row adds the working time consumed, then becomes `on_hold` in an
ignored stage (deadline False), `accomplished` when the new stage's sequence reaches the expected
stage's before the deadline, `expired` if the deadline has passed, else stays `in_progress`.
Ticket `sla_deadline` (min deadline of in-progress rows) and `sla_expired` are computed, NOT stored,
and `sla_expired` is searchable against now.

16 (`Oca16Sla`): the ticket's own STORED `sla_deadline`/`sla_expired`, written only by the periodic
`check_sla` cron (`run_cron`), first matching policy only, deadline from plan_days(days + 1) then
plan_hours(hours). Between cron runs they are stale, and a new ticket has no deadline yet.
"""

import ast

from . import orm
from .calendar import calendar_for
from .domain import Compiler

LINE = "helpdesk.ticket.sla"
TRIGGERS = ("team_id", "category_id", "tag_ids", "priority", "partner_id", "channel_id")


def _team(store, ticket):
    tid = ticket.get("team_id")
    return store.get("helpdesk.ticket.team", tid) if tid else None


def _calendar(store, ticket):
    team = _team(store, ticket)
    return calendar_for(store, team.get("resource_calendar_id")) if team else None


def _seq(store, stage_id) -> int:
    stage = store.get("helpdesk.ticket.stage", stage_id) if stage_id else None
    return (stage.get("sequence") or 0) if stage else 0


def _plan(store, ticket, hours, start):
    from datetime import timedelta

    cal = _calendar(store, ticket)
    if cal is None:
        return start + timedelta(hours=hours)
    return cal.plan_hours(hours, start)


def matches(store, sla, ticket, with_stage_filter=False) -> bool:
    team = _team(store, ticket)
    if not team or not team.get("use_sla") or not sla.get("active", True):
        return False
    if team["id"] not in (sla.get("team_ids") or []):
        return False
    if sla.get("category_ids") and ticket.get("category_id") not in sla["category_ids"]:
        return False
    if sla.get("tag_ids") and not set(sla["tag_ids"]) & set(ticket.get("tag_ids") or []):
        return False
    if with_stage_filter and sla.get("stage_ids") and ticket.get("stage_id") not in sla["stage_ids"]:
        return False
    return _domain_ok(store, sla.get("domain"), ticket)


def _domain_ok(store, text, ticket) -> bool:
    return _policy_filter(store, text)(ticket)


# Tables whose changes cannot alter a compiled policy filter (it reads the ticket itself directly).
_VOLATILE = ("helpdesk.ticket", LINE, "mail.message")


def _policy_filter(store, text):
    """The policy's `domain` text compiled once; recompiled only when other data changes, since a
    dotted path or a name in the domain is resolved against the other tables at compile time.
    (A filter on a time-relative field such as `sla_expired` would keep its compile-time "now";
    policies filter on priority, type or customer, not on that.)"""
    stamp = sum(n for m, n in store.model_changes.items() if m not in _VOLATILE)
    cache = store.__dict__.setdefault("_policy_filters", {})
    key = (text, stamp)
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        try:
            domain = ast.literal_eval(text) if text else []
        except (ValueError, SyntaxError):
            domain = None
        if domain is None:
            cache[key] = lambda rec: False  # an unreadable filter matches nothing
        elif not domain:
            cache[key] = lambda rec: True
        else:
            cache[key] = Compiler(store).compile("helpdesk.ticket", domain)
    return cache[key]


class OcaSla:
    def __init__(self, version: int):
        self.version = version

    def register(self, store) -> None:
        store.computes.update(
            {
                "oca_sla_line_expired": lambda s, r: _line_expired(r, s.clock.db_now()),
                "oca_sla_line_color": lambda s, r: {"accomplished": 10, "expired": 1, "on_hold": 3}.get(
                    "expired" if _line_expired(r, s.clock.db_now()) else r.get("state"), 0
                ),
                "oca_ticket_sla_ids": lambda s, t: sorted(
                    {s.get(LINE, i)["sla_id"] for i in s.inverse_ids(LINE, "ticket_id", t["id"])}
                ),
                "oca_ticket_sla_expired": _ticket_expired,
                "oca_ticket_sla_deadline": _ticket_deadline,
            }
        )
        store.searches.update(
            {"oca_sla_line_expired": _search_line_expired, "oca_ticket_sla_expired": _search_ticket_expired}
        )

    def on_create(self, env, ids) -> None:
        for tid in ids:
            self.refresh(env, tid)

    def on_write(self, env, ids, vals, before) -> None:
        for tid in ids:
            if any(f in vals for f in TRIGGERS):
                self.refresh(env, tid)
            if "stage_id" in vals:
                self.stage_recompute(env, tid)

    def refresh(self, env, tid) -> None:
        """`refresh_sla()`: add rows for newly matching policies, drop open rows that no longer match."""
        store = env.store
        ticket = store.get("helpdesk.ticket", tid)
        rows = {
            store.get(LINE, i)["sla_id"]: store.get(LINE, i)
            for i in store.inverse_ids(LINE, "ticket_id", tid)
        }
        wanted = {sid for sid, sla in store.tables["helpdesk.sla"].items() if matches(store, sla, ticket)}
        stale = [
            r["id"]
            for sid, r in rows.items()
            if sid not in wanted and r.get("state") in ("in_progress", "on_hold")
        ]
        orm.unlink(env, LINE, stale)
        cal = _calendar(store, ticket)
        for sla_id in sorted(wanted - set(rows)):
            sla = store.get("helpdesk.sla", sla_id)
            hours = (sla.get("hours") or 0) + (cal.hours_per_day if cal else 24.0) * (sla.get("days") or 0)
            deadline = _plan(store, ticket, hours, ticket["create_date"])
            orm.create(
                env,
                LINE,
                [
                    {
                        "ticket_id": tid,
                        "sla_id": sla_id,
                        "hours": hours,
                        "expected_stage_id": sla.get("stage_id") or False,
                        "deadline": deadline.strftime("%Y-%m-%d %H:%M:%S") if deadline else False,
                        "state": "in_progress",
                    }
                ],
            )

    def stage_recompute(self, env, tid) -> None:
        store, now = env.store, env.now
        ticket = store.get("helpdesk.ticket", tid)
        cal = _calendar(store, ticket)
        for lid in store.inverse_ids(LINE, "ticket_id", tid):
            row = store.get(LINE, lid)
            if row.get("state") in ("accomplished", "expired"):
                continue
            consumed = row.get("consumed_time") or 0.0
            if row.get("state") == "in_progress":
                start = row.get("last_state_date") or ticket["create_date"]
                consumed += cal.work_hours(start, now) if cal else (now - start).total_seconds() / 3600
            sla = store.get("helpdesk.sla", row["sla_id"])
            vals = {"consumed_time": round(consumed, 4), "last_state_date": now}
            if ticket.get("stage_id") in (sla.get("ignore_stage_ids") or []):
                vals.update(state="on_hold", deadline=None)
            else:
                deadline = _plan(store, ticket, max(row.get("hours", 0) - consumed, 0.0), now)
                if _seq(store, ticket.get("stage_id")) >= _seq(store, row.get("expected_stage_id")):
                    state = "accomplished" if not row.get("deadline") or now <= row["deadline"] else "expired"
                    vals.update(state=state)
                elif row.get("deadline") and row["deadline"] < now and row.get("state") == "in_progress":
                    vals.update(state="expired")
                else:
                    vals.update(state="in_progress", deadline=deadline)
            store.update(LINE, lid, vals, now=env.tx_now, uid=env.uid)


def _line_expired(row, now) -> bool:
    return row.get("state") == "expired" or bool(
        row.get("state") == "in_progress" and row.get("deadline") and row["deadline"] < now
    )


def _ticket_expired(store, ticket) -> bool:
    now = store.clock.db_now()
    return any(
        _line_expired(store.get(LINE, i), now) for i in store.inverse_ids(LINE, "ticket_id", ticket["id"])
    )


def _ticket_deadline(store, ticket):
    rows = [store.get(LINE, i) for i in store.inverse_ids(LINE, "ticket_id", ticket["id"])]
    deadlines = [r["deadline"] for r in rows if r.get("state") == "in_progress" and r.get("deadline")]
    return min(deadlines) if deadlines else None


def _positive(operator, value) -> bool:
    return bool(value) != (operator in ("!=", "not in", "<>"))


def _search_line_expired(store, operator, value):
    now = store.clock.db_now()
    ids = [i for i, r in store.tables[LINE].items() if _line_expired(r, now)]
    return [("id", "in" if _positive(operator, value) else "not in", ids)]


def _search_ticket_expired(store, operator, value):
    now = store.clock.db_now()
    ids = sorted({r["ticket_id"] for r in store.tables[LINE].values() if _line_expired(r, now)})
    return [("id", "in" if _positive(operator, value) else "not in", ids)]


class Oca16Sla:
    """helpdesk_mgmt_sla 16.0.1.x: nothing happens on create/write; the cron does it all."""

    def __init__(self, version: int):
        self.version = version

    def register(self, store) -> None:
        pass

    def on_create(self, env, ids) -> None:
        pass

    def on_write(self, env, ids, vals, before) -> None:
        pass

    def run_cron(self, env) -> int:
        """`helpdesk.sla.check_sla()`, in one transaction; returns how many tickets it wrote.

        Odoo's cron assigns `sla_deadline` and `sla_expired` on every open ticket a policy matches,
        whether they change or not, and an assignment always writes: every such ticket's write_date
        moves to the cron's stamp every 5 minutes (odoo.md §8.3). A ticket no policy matches is written
        only when its old deadline must be cleared."""
        store, now, written = env.store, env.now, 0
        policies = sorted(store.tables["helpdesk.sla"].values(), key=lambda s: s["id"])
        for tid, ticket in list(store.tables["helpdesk.ticket"].items()):
            stage = (
                store.get("helpdesk.ticket.stage", ticket.get("stage_id")) if ticket.get("stage_id") else None
            )
            if not ticket.get("active", True) or (stage and stage.get("closed")):
                continue
            deadline = None
            for sla in policies:
                if matches(store, sla, ticket, with_stage_filter=True):
                    deadline = self._deadline(store, ticket, sla)
                    break
            vals = {"sla_deadline": deadline, "sla_expired": bool(deadline and deadline < now)}
            if deadline is not None or any(ticket.get(k) != v for k, v in vals.items()):
                wire = {
                    "sla_deadline": deadline.strftime("%Y-%m-%d %H:%M:%S") if deadline else False,
                    "sla_expired": vals["sla_expired"],
                }
                orm.write(env, "helpdesk.ticket", [tid], wire)
                written += 1
        return written

    @staticmethod
    def _deadline(store, ticket, sla):
        cal = _calendar(store, ticket)
        created = ticket["create_date"]
        if cal is None:
            from datetime import timedelta

            return created + timedelta(days=sla.get("days") or 0, hours=sla.get("hours") or 0)
        start = cal.plan_days((sla.get("days") or 0) + 1, created)
        return cal.plan_hours(sla.get("hours") or 0, start) if start else None
