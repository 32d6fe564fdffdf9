"""Deterministic demo data: a support company with teams, agents, customers and tickets at every point
of their life (new, in progress, waiting, solved, cancelled, archived, at risk, breached).

Everything derives from `random.Random(seed)` and the build `now`; tickets are created and moved
through the same ORM path as RPC writes, each step at its own past moment, so dates, SLA rows and
`write_date` values are exactly what Odoo would hold after living through that history.
"""

import gc
import random
from datetime import datetime, timedelta

from . import orm
from .orm import SUPERUSER_ID, Env
from .seed_base import BaseSeeder
from .seed_data import DESCRIPTIONS, MONTHS, SUBJECTS
from .state import SimulatorState

# kind -> weight; at_risk/breached are placed against an SLA deadline, the others by age.
KINDS = {
    "new": 12,
    "progress": 22,
    "waiting": 10,
    "solved": 36,
    "cancelled": 7,
    "archived": 5,
    "at_risk": 4,
    "breached": 4,
}
AGES_H = {
    "new": (0.2, 40),
    "progress": (1, 120),
    "waiting": (6, 200),
    "solved": (24, 24 * 28),
    "cancelled": (2, 24 * 28),
    "archived": (24 * 7, 24 * 30),
}
PRIORITY_WEIGHTS = {"0": 30, "1": 40, "2": 20, "3": 10}


def build_state(
    flavour="enterprise", version=17, seed=42, tickets=300, api_key=None, now=None, admin_password=None,
    deprecated_rpc=True, other_databases=(), admin_api_key=None,
) -> SimulatorState:
    """`deprecated_rpc=False` (Odoo 19+) starts with /xmlrpc, /xmlrpc/2 and /jsonrpc switched off;
    `other_databases` are served beside ours, so that JSON-2 callers must name it; `admin_api_key` is
    an API key of the administrator (login "admin", in Administration/Settings), which may set up
    automation rules: the integration user may not."""
    state = SimulatorState(flavour=flavour, version=version, now=now, admin_password=admin_password,
                           deprecated_rpc=deprecated_rpc)
    state.set_other_databases(other_databases)
    # The seed allocates hundreds of thousands of long-lived dicts; the cyclic GC would rescan them
    # over and over (it more than doubles the build time at 20k tickets). They hold no cycles to free.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with state.lock:
            state.store.bulk = True
            if hasattr(state.sla, "flush"):
                state.sla.pending = {}
            seeder = TicketSeeder(state, random.Random(seed), state.clock.db_now())
            seeder.run(tickets)
            if hasattr(state.sla, "flush"):
                state.sla.flush(state.store, seeder.env)
            state.store.bulk_done()
            state.add_api_key(state.integration_uid, api_key or None)
            if admin_password:
                state.passwords[2] = admin_password
            if admin_api_key:
                state.add_api_key(state.admin_uid, admin_api_key)
            state.run_sla_cron()
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()  # one full pass now, so no long pause lands in the middle of a later RPC
    return state


class TicketSeeder(BaseSeeder):
    def run(self, count: int) -> None:
        self.setup()
        plans = sorted((self.plan(i) for i in range(count)), key=lambda p: p["created"])
        for plan in plans:
            self.live_ticket(plan)

    # -- planning ------------------------------------------------------------------------------

    def plan(self, i: int) -> dict:
        rng = self.rng
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        team = rng.choices(range(len(self.teams)), weights=[35, 35, 20, 10])[0]
        priority = rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()))[0]
        subject, tag = rng.choice(SUBJECTS)
        plan = {
            "kind": kind,
            "team": team,
            "priority": priority,
            "tag": tag,
            "customer": rng.choice(self.customers),
            "subject": self._fill(subject),
            "description": rng.choice(DESCRIPTIONS),
        }
        if kind in ("at_risk", "breached"):
            plan["priority"] = "3"
            plan["created"] = self._created_for_deadline(plan)
        else:
            low, high = AGES_H[kind]
            plan["created"] = self.now - timedelta(hours=low + (high - low) * rng.random() ** 1.6)
        plan["created"] = plan["created"].replace(microsecond=0)
        return plan

    def _created_for_deadline(self, plan) -> datetime:
        """Place an urgent ticket so its 4h response deadline falls within the next hour (at risk)
        or a few hours ago (breached). Where the team's calendar has no working time around now
        (night, weekend), the 24/7 VIP team takes the ticket so the deadline is really that close."""
        margin = self.rng.uniform(0.15, 0.9) if plan["kind"] == "at_risk" else -self.rng.uniform(0.5, 6)
        for team in (plan["team"], len(self.teams) - 1):
            cal, hours = self.team_calendar(team), self.response_hours(team)
            created = cal.plan_hours(-(hours - margin), self.now)
            deadline = cal.plan_hours(hours, created) if created else None
            if (
                deadline
                and (deadline - self.now) <= timedelta(hours=1)
                and (margin < 0) == (deadline < self.now)
            ):
                plan["team"] = team
                return created
        plan["team"] = len(self.teams) - 1
        return self.now - timedelta(hours=self.response_hours(plan["team"]) - margin)

    def _fill(self, subject: str) -> str:
        rng = self.rng
        return subject.format(
            n=rng.randint(1000, 9999),
            month=rng.choice(MONTHS),
            year=self.now.year - 1,
            name=rng.choice(self.customer_names),
        )

    # -- living through the history -----------------------------------------------------------

    def live_ticket(self, plan) -> None:
        t = plan["created"]
        kind, team = plan["kind"], plan["team"]
        customer = self.store.get("res.partner", plan["customer"])
        vals = {
            "name": plan["subject"],
            "description": f"<p>{plan['description']}</p>",
            "team_id": self.teams[team],
            "priority": plan["priority"],
            "partner_id": customer["id"],
            "partner_email": customer.get("email") or False,
        }
        if plan["tag"] and self.rng.random() < 0.4:
            vals["tag_ids"] = [(6, 0, [self.tags[plan["tag"]]])]
        if kind in ("at_risk", "breached", "new", "progress") and self.rng.random() < 0.08:
            vals.setdefault("tag_ids", [(6, 0, [])])[0][2].append(self.tags["Escalate"])
        vals.update(self.flavour_create_values(plan))
        tid = orm.create(self.env(t), "helpdesk.ticket", [vals])[0]
        self.customer_email(tid, customer, plan, t)
        for when, uid, change in self.history(plan, t):
            orm.write(self.env(when, uid), "helpdesk.ticket", [tid], change)

    def history(self, plan, t):
        """(moment, user, values) steps that bring a new ticket to its planned state."""
        kind, rng, stages = plan["kind"], self.rng, self.stage_ids
        agent = rng.choice(self.members[plan["team"]])
        steps = []
        assign = kind not in ("new", "at_risk", "breached", "cancelled") or rng.random() < 0.3
        start = kind in ("progress", "waiting", "solved", "archived")
        if assign and start and rng.random() < 0.7:
            # Most agents take a ticket and start it in one save.
            t = self._after(t, 0.05, 4)
            steps.append((t, agent, {"user_id": agent, "stage_id": stages["progress"]}))
            assign = start = False
        if assign:
            t = self._after(t, 0.05, 3)
            steps.append((t, agent, {"user_id": agent}))
        if start:
            t = self._after(t, 0.01, 4)
            steps.append((t, agent, {"stage_id": stages["progress"]}))
        if kind == "waiting" or (kind in ("solved", "archived") and rng.random() < 0.3):
            t = self._after(t, 0.5, 24)
            steps.append((t, agent, {"stage_id": stages["waiting"]}))
            if kind != "waiting":
                t = self._after(t, 1, 48)
                steps.append((t, agent, {"stage_id": stages["progress"]}))
        if kind in ("solved", "archived"):
            t = self._after(t, 0.5, 72)
            steps.append((t, agent, {"stage_id": stages["solved"]}))
        if kind == "cancelled":
            t = self._after(t, 0.2, 48)
            steps.append((t, agent if assign else SUPERUSER_ID, {"stage_id": stages["cancelled"]}))
        if kind == "archived":
            t = self._after(t, 24, 24 * 5)
            steps.append((t, agent, {"active": False}))
        return steps

    def _after(self, t, low_h, high_h) -> datetime:
        latest = self.now - timedelta(seconds=30)
        nxt = t + timedelta(hours=self.rng.uniform(low_h, high_h))
        return max(t, min(nxt, latest)).replace(microsecond=0)

    def customer_email(self, tid, customer, plan, t) -> None:
        # Stored directly (mail.message has no side effects): the seed's hottest loop.
        self.store.insert(
            "mail.message",
            {
                "model": "helpdesk.ticket",
                "res_id": tid,
                "message_type": "email",
                "is_internal": False,
                "subtype_id": self.subtypes["comment"],
                "author_id": customer["id"],
                "partner_ids": [],
                "email_from": f"{customer['name']} <{customer.get('email')}>",
                "date": t,
                "body": f"<p>{plan['description']}</p>",
                "subject": plan["subject"],
                "record_name": plan["subject"],
            },
            now=t,
            uid=SUPERUSER_ID,
        )

    def env(self, t, uid=SUPERUSER_ID) -> Env:
        return Env(self.store, uid, {}, self.state.version, self.state.flavour, t, su=True)
