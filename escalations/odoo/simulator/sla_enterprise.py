"""Enterprise SLA policies applied to tickets (odoo.md §4.5), from the EE `helpdesk_ticket.py` and
`helpdesk_sla_status.py` logic.

- A status row per matching policy (same team, *exact* priority, target stage not behind the ticket's
  stage, type/partner/tag filters). Re-applied when team/priority/type/tags/partner change, keeping
  reached rows; unreached rows are deleted and recreated (new ids), as Odoo does.
- Deadline: from the ticket's create date in the team's working calendar: whole days with
  `plan_days(days + 1)` keeping the creation time of day (UTC, as EE does), then the remaining hours
  with `plan_hours`. Computed once, except for policies with excluded stages.
- Excluded stages (simplified consumed-time approach, documented): while the ticket sits in one the
  deadline is False; on leaving it, the working hours spent there are added to the policy time and the
  deadline is planned again. Odoo reconstructs the same hours from stage tracking messages.
- Entering a stage marks unreached rows whose target sequence <= the new stage's as reached; moving
  back before a target clears `reached_datetime`.
- `status` is computed at read time against the clock. Ticket aggregates (`sla_deadline`,
  `sla_reached_late`, `sla_reached`, `sla_deadline_hours`) are STORED and only refreshed when the
  ticket's statuses change: `sla_reached_late` in particular goes stale (false) when a deadline passes
  with nobody touching the ticket. `sla_fail`/`sla_success` are computed against now and searchable.
"""

import math

from . import orm
from .calendar import calendar_for
from .domain import scalar_test
from .values import fmt_datetime

TRIGGERS = ("team_id", "priority", "ticket_type_id", "tag_ids", "partner_id")
STATUS = "helpdesk.sla.status"


class EnterpriseSla:
    def __init__(self, version: int):
        self.version = version
        # While seeding: ticket id -> (time, user) of its last SLA change. The aggregates depend only on
        # the statuses and that time, so refreshing once per ticket at the end gives the same values.
        self.pending: dict | None = None

    def register(self, store) -> None:
        store.computes.update(
            {
                "sla_status_status": lambda s, rec: status_of(rec, s.clock.db_now()),
                "sla_status_color": lambda s, rec: {"failed": 1, "reached": 10}.get(
                    status_of(rec, s.clock.db_now()), 0
                ),
                "ee_sla_fail": _fail,
                "ee_sla_success": lambda s, rec: bool(
                    rec.get("sla_deadline") and rec["sla_deadline"] > s.clock.db_now()
                ),
                "ticket_open_hours": _open_hours,
            }
        )
        store.searches.update(
            {
                "sla_status_status": _search_status,
                "ee_sla_fail": _search_fail,
                "ee_sla_success": _search_success,
            }
        )

    # -- hooks from TicketHooks ------------------------------------------------------------------

    def on_create(self, env, ids) -> None:
        for tid in ids:
            self.apply(env, tid, keep_reached=False)

    def on_write(self, env, ids, vals, before) -> None:
        for tid in ids:
            changed = False
            if any(f in vals for f in TRIGGERS):
                self.apply(env, tid, keep_reached=True)
                changed = True
            if "stage_id" in vals:
                self._freeze_bookkeeping(env, tid, before[tid])
                self.reach(env, tid)
                changed = True
            if changed:
                self.refresh_ticket(env, tid)

    # -- policy matching and status rows ---------------------------------------------------------

    def find(self, store, ticket) -> list[int]:
        team = store.get("helpdesk.team", ticket.get("team_id")) if ticket.get("team_id") else None
        if not team or not team.get("use_sla"):
            return []
        stage_seq = _seq(store, ticket.get("stage_id"))
        partners = _partner_family(store, ticket.get("partner_id"))
        tags = set(ticket.get("tag_ids") or [])
        found = []
        for sla in store.tables["helpdesk.sla"].values():
            if not sla.get("active", True) or sla.get("team_id") != team["id"]:
                continue
            if sla.get("priority") != ticket.get("priority") or _seq(store, sla.get("stage_id")) < stage_seq:
                continue
            types = sla.get("ticket_type_ids") or []
            if types and ticket.get("ticket_type_id") not in types:
                continue
            if sla.get("partner_ids") and not partners & set(sla["partner_ids"]):
                continue
            if sla.get("tag_ids") and not tags & set(sla["tag_ids"]):
                continue
            found.append(sla["id"])
        return sorted(found)

    def apply(self, env, tid: int, keep_reached: bool) -> None:
        store = env.store
        ticket = store.get("helpdesk.ticket", tid)
        rows = [store.get(STATUS, i) for i in store.inverse_ids(STATUS, "ticket_id", tid)]
        kept = [r for r in rows if keep_reached and r.get("reached_datetime")]
        orm.unlink(env, STATUS, [r["id"] for r in rows if r not in kept])
        kept_slas = {r["sla_id"] for r in kept}
        for sla_id in self.find(store, ticket):
            if sla_id in kept_slas:
                continue
            sla = store.get("helpdesk.sla", sla_id)
            # Inserted directly (the status model has no side effects of its own): hot in the seed.
            sid = store.insert(
                STATUS,
                {
                    "ticket_id": tid,
                    "sla_id": sla_id,
                    "sla_stage_id": sla["stage_id"],
                    "deadline": None,
                    "exceeded_hours": 0.0,
                    # a policy whose target is the ticket's current stage is reached at once
                    "reached_datetime": env.now if ticket.get("stage_id") == sla["stage_id"] else None,
                },
                now=env.tx_now,
                uid=env.uid,
            )
            self._plan(env, store.get(STATUS, sid), ticket)
        store.update(
            "helpdesk.ticket",
            tid,
            {
                "sla_ids": sorted(
                    {store.get(STATUS, i)["sla_id"] for i in store.inverse_ids(STATUS, "ticket_id", tid)}
                )
            },
            now=None,
            uid=None,
        )
        if not keep_reached:
            self.refresh_ticket(env, tid)

    def reach(self, env, tid: int) -> None:
        store = env.store
        ticket = store.get("helpdesk.ticket", tid)
        stage_seq = _seq(store, ticket.get("stage_id"))
        team_stages = {
            sid
            for sid, s in store.tables["helpdesk.stage"].items()
            if ticket.get("team_id") in (s.get("team_ids") or [])
        }
        for sid in store.inverse_ids(STATUS, "ticket_id", tid):
            row = store.get(STATUS, sid)
            target = row.get("sla_stage_id")
            reached_now = target in team_stages and _seq(store, target) <= stage_seq
            if reached_now and not row.get("reached_datetime"):
                self._set(env, row, {"reached_datetime": env.now})
            elif not reached_now and row.get("reached_datetime"):
                self._set(env, row, {"reached_datetime": None})
            self._plan(env, store.get(STATUS, sid), ticket)

    def _set(self, env, row, values) -> None:
        env.store.update(STATUS, row["id"], values, now=env.tx_now, uid=env.uid)
        self._exceeded(env, row)

    def _exceeded(self, env, row) -> None:
        deadline, reached = row.get("deadline"), row.get("reached_datetime")
        hours = 0.0
        if deadline and reached:
            cal = self._calendar(env.store, env.store.get("helpdesk.ticket", row["ticket_id"]))
            span = (
                cal.work_hours(min(deadline, reached), max(deadline, reached))
                if cal
                else abs((reached - deadline).total_seconds()) / 3600
            )
            hours = span if reached > deadline else -span
        env.store.update(STATUS, row["id"], {"exceeded_hours": hours}, now=None, uid=None)

    # -- deadlines -----------------------------------------------------------------------------

    def _plan(self, env, row, ticket) -> None:
        """EE `_compute_deadline`, including its reasons to keep an existing deadline."""
        store = env.store
        sla = store.get("helpdesk.sla", row["sla_id"])
        excluded = set(sla.get("exclude_stage_ids") or [])
        if row.get("deadline") and (row.get("reached_datetime") or not excluded):
            return
        if row.get("deadline") and status_of(row, env.now) == "failed":
            return
        if ticket.get("stage_id") == sla.get("stage_id") and row.get("deadline"):
            return
        frozen = row.get("_frozen_hours", 0.0)
        if excluded and ticket.get("stage_id") in excluded:
            deadline = None  # frozen while waiting in an excluded stage
        elif row.get("deadline") and row.get("_planned_with") == frozen:
            return  # same inputs as last time: the same deadline (saves replanning on every move)
        else:
            deadline = self.deadline(store, ticket, sla, frozen)
            store.update(STATUS, row["id"], {"_planned_with": frozen}, now=None, uid=None)
        if deadline != row.get("deadline"):
            store.update(STATUS, row["id"], {"deadline": deadline}, now=env.tx_now, uid=env.uid)
            self._exceeded(env, store.get(STATUS, row["id"]))

    def deadline(self, store, ticket, sla, frozen_hours=0.0):
        created = ticket["create_date"]
        cal = self._calendar(store, ticket)
        if cal is None:
            return created
        per_day = cal.hours_per_day or 8.0
        days = math.floor((sla.get("time") or 0.0) / per_day)
        start = created
        if days > 0:
            start = cal.plan_days(days + 1, created)
            if start is None:
                return None
            start = start.replace(hour=created.hour, minute=created.minute, second=created.second)
        return cal.plan_hours((sla.get("time") or 0.0) % per_day + frozen_hours, start)

    def _freeze_bookkeeping(self, env, tid, old_ticket) -> None:
        """Leaving an excluded stage: add the working hours spent there to the row's frozen time."""
        store = env.store
        old_stage, entered = old_ticket.get("stage_id"), old_ticket.get("date_last_stage_update")
        for sid in store.inverse_ids(STATUS, "ticket_id", tid):
            row = store.get(STATUS, sid)
            sla = store.get("helpdesk.sla", row["sla_id"])
            if (
                old_stage in (sla.get("exclude_stage_ids") or [])
                and entered
                and not row.get("reached_datetime")
            ):
                cal = self._calendar(store, old_ticket)
                spent = (
                    cal.work_hours(entered, env.now) if cal else (env.now - entered).total_seconds() / 3600
                )
                store.update(
                    STATUS, sid, {"_frozen_hours": row.get("_frozen_hours", 0.0) + spent}, now=None, uid=None
                )

    def flush(self, store, make_env) -> None:
        pending, self.pending = self.pending or {}, None
        for tid, (now, uid) in pending.items():
            if store.exists("helpdesk.ticket", tid):
                self.refresh_ticket(make_env(now, uid), tid)

    def refresh_ticket(self, env, tid: int) -> None:
        """The stored aggregates, computed like EE's SQL/`_compute_sla_*` methods at this moment."""
        if self.pending is not None:
            self.pending[tid] = (env.now, env.uid)
            return
        store = env.store
        rows = [store.get(STATUS, i) for i in store.inverse_ids(STATUS, "ticket_id", tid)]
        now = env.now
        open_deadlines = [r["deadline"] for r in rows if r.get("deadline") and not r.get("reached_datetime")]
        deadline = min(open_deadlines) if open_deadlines else None
        late = any(
            r.get("deadline")
            and (
                (r.get("reached_datetime") and r["deadline"] < r["reached_datetime"])
                or (not r.get("reached_datetime") and r["deadline"] < now)
            )
            for r in rows
        )
        cal = self._calendar(store, store.get("helpdesk.ticket", tid))
        hours = 0.0
        if deadline:
            hours = (
                (cal.work_hours(now, deadline) if cal else (deadline - now).total_seconds() / 3600)
                if deadline > now
                else -(cal.work_hours(deadline, now) if cal else (now - deadline).total_seconds() / 3600)
            )
        store.update(
            "helpdesk.ticket",
            tid,
            {
                "sla_deadline": deadline,
                "sla_reached_late": bool(late),
                "sla_reached": any((r.get("exceeded_hours") or 0) < 0 for r in rows),
                "sla_deadline_hours": round(hours, 2),
            },
            now=env.tx_now,
            uid=env.uid,
        )

    def _calendar(self, store, ticket):
        team = store.get("helpdesk.team", ticket.get("team_id")) if ticket and ticket.get("team_id") else None
        return calendar_for(store, team.get("resource_calendar_id")) if team else None


def status_of(row, now) -> str:
    deadline, reached = row.get("deadline"), row.get("reached_datetime")
    if reached and deadline:
        return "reached" if reached < deadline else "failed"
    return "ongoing" if not deadline or deadline > now else "failed"


def _fail(store, rec) -> bool:
    deadline = rec.get("sla_deadline")
    return bool((deadline and deadline < store.clock.db_now()) or rec.get("sla_reached_late"))


def _open_hours(store, rec) -> int:
    end = rec.get("close_date") or store.clock.db_now()
    return int((end - rec["create_date"]).total_seconds() // 3600)


def _positive(operator, value) -> bool:
    negative = operator in ("!=", "not in", "<>")
    return bool(value) != negative


def _search_fail(store, operator, value):
    now = fmt_datetime(store.clock.db_now())
    if _positive(operator, value):
        return ["|", ("sla_reached_late", "=", True), ("sla_deadline", "<", now)]
    return [
        "&",
        ("sla_reached_late", "=", False),
        "|",
        ("sla_deadline", "=", False),
        ("sla_deadline", ">=", now),
    ]


def _search_success(store, operator, value):
    now = fmt_datetime(store.clock.db_now())
    if _positive(operator, value):
        return [("sla_deadline", ">", now)]
    return ["|", ("sla_deadline", "=", False), ("sla_deadline", "<=", now)]


def _search_status(store, operator, value):
    # EE's own search compares columns in a way SQL-less domains cannot; evaluating the computed
    # status gives the result that search is meant to give.
    now = store.clock.db_now()
    test = scalar_test(lambda s: s, operator, value)
    return [("id", "in", [rid for rid, r in store.tables[STATUS].items() if test(status_of(r, now))])]


def _seq(store, stage_id) -> int:
    stage = store.get("helpdesk.stage", stage_id) if stage_id else None
    return (stage.get("sequence") or 0) if stage else 0


def _partner_family(store, partner_id) -> set:
    partner = store.get("res.partner", partner_id) if partner_id else None
    if not partner:
        return set()
    family = {partner["id"], partner.get("commercial_partner_id") or partner["id"]}
    if partner.get("parent_id"):
        family.add(partner["parent_id"])
    return family
