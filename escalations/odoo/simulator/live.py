"""`--live`: a background thread that keeps the demo moving like a support team at work.

Every interval it does one or two things through the same ORM path as RPC, as a real agent would:
a customer opens a ticket, an agent takes one, starts it, asks the customer, solves it, or reopens it.
For OCA 16 it also runs the SLA cron, since that is how deadlines appear there.
"""

import logging
import random
import threading

from .seed_data import DESCRIPTIONS, SUBJECTS

STEP_WEIGHTS = {"new_ticket": 3, "assign": 3, "start": 3, "wait": 1, "resume": 1, "solve": 3, "reopen": 1}


class LiveActivity:
    def __init__(self, state, interval: float = 5.0, seed: int | None = None):
        self.state, self.interval = state, float(interval)
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="odoo-simulator-live", daemon=True)

    def start(self) -> "LiveActivity":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the demo must keep going; the next step tries again
                logging.getLogger("escalations.odoo.simulator").exception("live step failed")

    def step(self) -> str:
        kind = self.rng.choices(list(STEP_WEIGHTS), weights=list(STEP_WEIGHTS.values()))[0]
        with self.state.transaction():  # one transaction: its webhooks go out once, at its end
            getattr(self, f"_{kind}")()
            self.state.run_sla_cron()
        return kind

    # -- the moves -----------------------------------------------------------------------------

    def _stages(self) -> dict:
        """key -> stage id, from the seed's external ids (names may have been edited)."""
        store, out = self.state.store, {}
        for rec in store.tables["ir.model.data"].values():
            if rec["model"] in ("helpdesk.stage", "helpdesk.ticket.stage"):
                key = rec["name"].replace("helpdesk_ticket_stage_", "").replace("stage_", "")
                out[
                    {
                        "in_progress": "progress",
                        "on_hold": "waiting",
                        "awaiting": "waiting",
                        "done": "solved",
                    }.get(key, key)
                ] = rec["res_id"]
        return out

    def _tickets(self, stage_key: str, assigned: bool | None = None) -> list[dict]:
        stage = self._stages().get(stage_key)
        return [
            t
            for t in self.state.store.tables["helpdesk.ticket"].values()
            if t.get("active")
            and t.get("stage_id") == stage
            and (assigned is None or bool(t.get("user_id")) == assigned)
        ]

    def _team_members(self, team_id) -> list[int]:
        model = "helpdesk.team" if self.state.flavour == "enterprise" else "helpdesk.ticket.team"
        team = self.state.store.get(model, team_id) if team_id else None
        members = (team or {}).get("member_ids" if self.state.flavour == "enterprise" else "user_ids") or []
        return list(members) or [self.state.integration_uid]

    def _write(self, ticket: dict, vals: dict) -> None:
        uid = ticket.get("user_id") or self.rng.choice(self._team_members(ticket.get("team_id")))
        self.state.call("helpdesk.ticket", "write", [[ticket["id"]], vals], uid=uid)

    def _new_ticket(self) -> None:
        store, rng = self.state.store, self.rng
        customers = [
            p
            for p in store.tables["res.partner"].values()
            if p.get("parent_id") and "@northwind" not in (p.get("email") or "")
        ]
        customer = rng.choice(customers) if customers else None
        teams = [
            t["id"]
            for t in store.tables[
                "helpdesk.team" if self.state.flavour == "enterprise" else "helpdesk.ticket.team"
            ].values()
            if t.get("active")
        ]
        subject, _ = rng.choice(SUBJECTS)
        vals = {
            "name": subject.format(
                n=rng.randint(1000, 9999), month="this month", year="last year", name="a colleague"
            ),
            "description": f"<p>{rng.choice(DESCRIPTIONS)}</p>",
            "team_id": rng.choice(teams),
            "priority": rng.choices(["0", "1", "2", "3"], weights=[3, 4, 2, 1])[0],
        }
        if customer:
            vals.update(partner_id=customer["id"], partner_email=customer.get("email") or False)
        self.state.call("helpdesk.ticket", "create", [vals])

    def _pick(self, stage_key, assigned=None):
        tickets = self._tickets(stage_key, assigned)
        return self.rng.choice(tickets) if tickets else None

    def _assign(self) -> None:
        ticket = self._pick("new", assigned=False)
        if ticket:
            agent = self.rng.choice(self._team_members(ticket.get("team_id")))
            self.state.call("helpdesk.ticket", "write", [[ticket["id"]], {"user_id": agent}], uid=agent)

    def _start(self) -> None:
        ticket = self._pick("new")
        if ticket:
            vals = {"stage_id": self._stages()["progress"]}
            if not ticket.get("user_id"):
                vals["user_id"] = self.rng.choice(self._team_members(ticket.get("team_id")))
            self._write(ticket, vals)

    def _wait(self) -> None:
        ticket = self._pick("progress")
        if ticket:
            self._write(ticket, {"stage_id": self._stages()["waiting"]})

    def _resume(self) -> None:
        ticket = self._pick("waiting")
        if ticket:
            self._write(ticket, {"stage_id": self._stages()["progress"]})

    def _solve(self) -> None:
        ticket = self._pick("progress")
        if ticket:
            self._write(ticket, {"stage_id": self._stages()["solved"]})

    def _reopen(self) -> None:
        ticket = self._pick("solved")
        if ticket:
            self._write(ticket, {"stage_id": self._stages()["progress"]})
