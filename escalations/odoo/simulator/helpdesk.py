"""Helpdesk ticket side effects on create/write (odoo.md §4.1 Enterprise, §5.1 OCA).

One hook class, parameterized by the flavour's field names, because both editions do the same things
under different names: a reference from a sequence, a default stage from the team, the assignment date,
the close date on a folded (EE) / closed (OCA) stage, the last-stage-update date. The editions differ
where Odoo differs: EE stamps `assign_date` on the *first* assignment only and clears `close_date` on
reopen; OCA stamps `assigned_date` on *every* user change and never clears `closed_date`.

Odoo also changes the assignee it is given (odoo.md §8.6), through the `user_id` compute that depends on
`team_id` (so it runs on create and on a team change, and never overrides a `user_id` written in the
same call: Odoo protects the fields being written from their own compute):
- Enterprise, a team with `auto_assignment`: a ticket created without `user_id`, or moved to the team
  while unassigned, gets a member (`_determine_user_to_assign`): `randomly` = round robin after the
  assignee of the team's latest ticket, `balanced` = the member with the fewest open tickets of the team.
- OCA 16: an unassigned ticket created in or moved to a team gets the team's `alias_user_id`.
- OCA 16/17 with helpdesk_mgmt_assign_method, a team's `assign_method` other than `manual`: as
  Enterprise's (`randomly` and `sequential` both round robin), but `balanced` counts every team's tickets.
- OCA 17/18: an assignee who is not a member (`user_ids`) of the ticket's new team is taken off.
"""

from dataclasses import dataclass

from .calendar import calendar_for
from .query import parse_order, sort_ids


@dataclass(frozen=True)
class Names:
    team: str
    stage: str
    members: str
    assign: str
    close: str
    stage_update: str
    closed_flag: str  # stage field meaning "closed"


EE = Names(
    "helpdesk.team",
    "helpdesk.stage",
    "member_ids",
    "assign_date",
    "close_date",
    "date_last_stage_update",
    "fold",
)
OCA = Names(
    "helpdesk.ticket.team",
    "helpdesk.ticket.stage",
    "user_ids",
    "assigned_date",
    "closed_date",
    "last_stage_update",
    "closed",
)


class TicketHooks:
    def __init__(self, flavour: str, version: int, sla):
        self.flavour, self.version, self.sla = flavour, version, sla
        self.n = EE if flavour == "enterprise" else OCA

    # -- create --------------------------------------------------------------------------------

    def default_get(self, env) -> dict:
        team = self._default_team(env)
        return {"team_id": team} if team else {}

    def prepare_create(self, env, vals: dict) -> None:
        store, n = env.store, self.n
        if self.flavour == "enterprise":
            vals.setdefault("ticket_ref", str(store.next_sequence("helpdesk.ticket")))
            if not vals.get("team_id"):
                vals["team_id"] = self._default_team(env) or False
        else:
            vals.setdefault("number", f"HT{store.next_sequence('helpdesk.ticket.sequence'):05d}")
        team = store.get(n.team, vals.get("team_id")) if vals.get("team_id") else None
        if not vals.get("stage_id"):
            vals["stage_id"] = self.first_stage(store, vals.get("team_id")) or False
        if team and team.get("company_id"):
            vals.setdefault("company_id", team["company_id"])
        elif self.flavour == "oca":
            vals.setdefault("company_id", min(store.tables["res.company"], default=False))
        vals.update(self._partner_values(store, vals.get("partner_id"), vals))
        if team and "user_id" not in vals:
            assignee = self._team_assignee(store, team)
            if assignee:
                vals["user_id"] = assignee
        vals[n.stage_update] = env.now
        if vals.get("user_id"):
            vals[n.assign] = env.now
        if self._closed(store, vals.get("stage_id")):
            vals[n.close] = env.now
        if self.flavour == "oca":
            vals["unattended"] = self._stage_flag(store, vals.get("stage_id"), "unattended")

    def after_create(self, env, ids) -> None:
        self.sla.on_create(env, ids)

    # -- write ---------------------------------------------------------------------------------

    def prepare_write(self, env, rec: dict, vals: dict) -> dict:
        store, n, extra = env.store, self.n, {}
        if "team_id" in vals and vals["team_id"] != rec.get("team_id"):
            extra.update(self._team_change(store, rec, vals))
        if extra.get("user_id") and "user_id" not in vals:
            vals = {**vals, "user_id": extra["user_id"]}  # Odoo's own assignment stamps the date too
        if vals.get("user_id") and (self.flavour == "oca" or not rec.get(n.assign)):
            extra[n.assign] = env.now
            if self.flavour == "enterprise":
                extra["assign_hours"] = round(self._hours(store, rec, rec["create_date"], env.now))
        stage_id = vals.get("stage_id", extra.get("stage_id"))
        if "stage_id" in vals or "stage_id" in extra:
            extra[n.stage_update] = env.now
            extra.update(self._kanban_after_stage_change(vals))
            extra.update(self._close_values(env, rec, stage_id))
        if "partner_id" in vals:
            extra.update(self._partner_values(store, vals["partner_id"], vals))
        return extra

    def _kanban_after_stage_change(self, vals: dict) -> dict:
        """kanban_state after a stage change, as each package's `write` sets it (odoo.md §4.1, §5.1)."""
        if self.flavour == "enterprise":
            return {} if "kanban_state" in vals else {"kanban_state": "normal"}
        if self.version <= 16:  # `if "stage_id" in vals and "kanban_state" not in vals: ... = False`
            return {"kanban_state": False} if "stage_id" in vals and "kanban_state" not in vals else {}
        if self.version >= 18 and vals.get("stage_id"):  # `vals["kanban_state"] = "normal"`, always
            return {"kanban_state": "normal"}
        return {}  # OCA 17 leaves it alone

    def after_write(self, env, ids, vals, before) -> None:
        self.sla.on_write(env, ids, vals, before)

    def before_unlink(self, env, ids) -> None:
        pass  # SLA rows cascade through their required ticket_id (orm._cascade)

    # -- helpers -------------------------------------------------------------------------------

    def _close_values(self, env, rec, stage_id) -> dict:
        n = self.n
        if self._closed(env.store, stage_id):
            out = {n.close: env.now}
            if self.flavour == "enterprise":
                out["close_hours"] = round(self._hours(env.store, rec, rec["create_date"], env.now))
            return out
        if self.flavour == "enterprise":
            return {n.close: False, "closed_by_partner": False}
        return {}

    def _team_change(self, store, rec, vals) -> dict:
        n, team_id = self.n, vals["team_id"]
        out = {}
        stages = self.team_stages(store, team_id)
        if rec.get("stage_id") not in stages and "stage_id" not in vals:
            out["stage_id"] = self.first_stage(store, team_id) or False
        team = store.get(n.team, team_id) if team_id else None
        if team and team.get("company_id"):
            out["company_id"] = team["company_id"]
        if "user_id" in vals:
            return out  # written in the same call: protected from the compute
        if self.flavour == "oca" and self.version >= 17 and rec.get("user_id"):
            if team and rec["user_id"] not in (team.get(n.members) or []):
                out["user_id"] = False  # OCA 17/18 `_compute_user_id`: not a member of the new team
        elif not rec.get("user_id") and team:
            assignee = self._team_assignee(store, team)
            if assignee:
                out["user_id"] = assignee
        return out

    def _team_assignee(self, store, team: dict) -> int | None:
        """Who Odoo's `user_id` compute gives an unassigned ticket of `team` (None: nobody)."""
        method = team.get("assign_method") or "manual"
        if self.flavour == "oca" and method == "manual":
            return (team.get("alias_user_id") or None) if self.version <= 16 else None
        if self.flavour == "enterprise" and not team.get("auto_assignment"):
            return None
        users = store.tables["res.users"]
        # member_ids / user_ids read through active_test: archived users are never picked.
        members = sorted(u for u in team.get(self.n.members) or [] if users.get(u, {}).get("active"))
        if not members:
            return None
        tickets = [store.get("helpdesk.ticket", i)
                   for i in store.inverse_ids("helpdesk.ticket", "team_id", team["id"])]
        tickets = [t for t in tickets if t.get("active", True)]
        if method == "balanced":
            # Each member's open tickets (not in a folded/closed stage); fewest wins, lowest id first.
            # Enterprise counts the team's tickets; OCA's helpdesk_mgmt_assign_method every team's.
            if self.flavour == "oca":
                tickets = [t for t in store.tables["helpdesk.ticket"].values() if t.get("active", True)]
            open_count = dict.fromkeys(members, 0)
            for t in tickets:
                if t.get("user_id") in open_count and not self._closed(store, t.get("stage_id")):
                    open_count[t["user_id"]] += 1
            return min(open_count, key=open_count.get)
        # randomly (and OCA's sequential): the member after the assignee of the team's latest ticket.
        latest = max(tickets, key=lambda t: (t.get("create_date"), t["id"]), default=None)
        last = latest.get("user_id") if latest else None
        return members[(members.index(last) + 1) % len(members)] if last in members else members[0]

    def team_stages(self, store, team_id) -> list[int]:
        """Stages usable by a team, in stage order (EE: linked to the team; OCA: empty team_ids = all).
        Cached until a stage changes: every ticket creation asks."""
        cache = store.__dict__.setdefault("_team_stages", {})
        key = (team_id, store.model_changes[self.n.stage])
        if key not in cache:
            cache[key] = self._team_stages(store, team_id)
        return cache[key]

    def _team_stages(self, store, team_id) -> list[int]:
        model = self.n.stage
        ids = [
            sid
            for sid, s in store.tables[model].items()
            if s.get("active", True)
            and (team_id in (s.get("team_ids") or []) or (self.flavour == "oca" and not s.get("team_ids")))
        ]
        return sort_ids(store, model, ids, parse_order(store, model, store.model(model).order))

    def first_stage(self, store, team_id):
        stages = self.team_stages(store, team_id) if team_id else []
        if not stages and self.flavour == "oca":
            stages = self.team_stages(store, None)
        return stages[0] if stages else None

    def _default_team(self, env):
        store, n = env.store, self.n
        teams = sorted(store.tables[n.team].values(), key=lambda t: (t.get("sequence") or 0, t["id"]))
        teams = [t for t in teams if t.get("active", True)]
        mine = [t["id"] for t in teams if env.uid in (t.get(n.members) or [])]
        return (mine or [t["id"] for t in teams] or [None])[0]

    def _closed(self, store, stage_id) -> bool:
        return self._stage_flag(store, stage_id, self.n.closed_flag)

    def _stage_flag(self, store, stage_id, flag) -> bool:
        stage = store.get(self.n.stage, stage_id) if stage_id else None
        return bool(stage and stage.get(flag))

    def _hours(self, store, rec, start, end) -> float:
        team = store.get(self.n.team, rec.get("team_id")) if rec.get("team_id") else None
        cal = calendar_for(store, team.get("resource_calendar_id")) if team else None
        if cal is None:
            return max((end - start).total_seconds() / 3600, 0.0)
        return cal.work_hours(start, end)

    @staticmethod
    def _partner_values(store, partner_id, vals) -> dict:
        partner = store.get("res.partner", partner_id) if partner_id else None
        if partner is None:
            return {"commercial_partner_id": False}
        commercial = partner.get("commercial_partner_id") or partner["id"]
        out = {"commercial_partner_id": commercial}
        if not vals.get("partner_name"):
            out["partner_name"] = partner.get("name") or False
        if not vals.get("partner_email"):
            out["partner_email"] = partner.get("email") or False
        return out
