"""Seed configuration per flavour: stages, teams, tags and SLA policies (a mixin of BaseSeeder)."""

from .helpdesk import EE, OCA
from .seed_data import TAGS, TEAMS

# (name, priority, target, hours, exclude waiting) per team calendar; VIP (24/7) gets shorter times.
EE_POLICIES = [
    ("Urgent: first response within {h} hours", "3", "progress", 4, False),
    ("Urgent: solved within {h} hours", "3", "solved", 16, True),
    ("High: first response within {h} hours", "2", "progress", 8, False),
    ("Medium: solved within {h} hours", "1", "solved", 24, True),
    ("Low: solved within {h} hours", "0", "solved", 40, True),
]


class HelpdeskSetup:
    def helpdesk(self) -> None:
        self.names = EE if self.state.flavour == "enterprise" else OCA
        if self.state.flavour == "enterprise":
            self._ee_stages()
            self._teams(member_field="member_ids")
            self.tags = {
                t: self.make("helpdesk.tag", {"name": t, "color": i % 11}) for i, t in enumerate(TAGS)
            }
            self.types = [
                self.make("helpdesk.ticket.type", {"name": n, "sequence": i})
                for i, n in enumerate(["Question", "Issue", "Incident"])
            ]
            self._ee_policies()
        else:
            self._oca_stages()
            self._teams(member_field="user_ids")
            self.tags = {
                t: self.make("helpdesk.ticket.tag", {"name": t, "color": i % 11, "sequence": i})
                for i, t in enumerate(TAGS)
            }
            self._oca_catalogues()
            self._oca_policies()

    def _ee_stages(self) -> None:
        rows = [
            ("new", "New", 0, False),
            ("progress", "In Progress", 1, False),
            ("waiting", "Waiting on Customer", 2, False),
            ("solved", "Solved", 3, True),
            ("cancelled", "Cancelled", 4, True),
        ]
        self.stage_ids = {
            key: self.make(
                "helpdesk.stage",
                {"name": name, "sequence": seq, "fold": fold},
                f"helpdesk.stage_{key if key != 'progress' else 'in_progress'}",
            )
            for key, name, seq, fold in rows
        }

    def _oca_stages(self) -> None:
        rows = [
            ("new", "New", 1, False, True),
            ("progress", "In Progress", 2, False, False),
            ("waiting", "Awaiting", 3, False, False),
            ("solved", "Done", 4, True, False),
            ("cancelled", "Cancelled", 5, True, False),
            ("rejected", "Rejected", 6, True, False),
        ]
        self.stage_ids = {
            key: self.make(
                "helpdesk.ticket.stage",
                {"name": name, "sequence": seq, "closed": closed, "fold": closed, "unattended": unattended},
                f"helpdesk_mgmt.helpdesk_ticket_stage_{key if key != 'progress' else 'in_progress'}",
            )
            for key, name, seq, closed, unattended in rows
        }

    def _teams(self, member_field: str) -> None:
        self.teams = []
        for i, name in enumerate(TEAMS):
            calendar = self.calendar_ids["around" if i == 3 else "standard"]
            vals = {
                "name": name,
                "sequence": i,
                "company_id": self.company,
                "use_sla": True,
                "resource_calendar_id": calendar,
                member_field: [(6, 0, self.members[i])],
            }
            if member_field == "member_ids":
                vals.update(
                    stage_ids=[(6, 0, list(self.stage_ids.values()))],
                    color=i + 1,
                    alias_name=name.lower().replace(" ", "-"),
                )
            else:
                vals.update(user_id=self.leads[i], color=i + 1)
            self.teams.append(self.make(self.names.team, vals))
        if member_field == "member_ids":
            for sid in self.stage_ids.values():
                self.store.update("helpdesk.stage", sid, {"team_ids": list(self.teams)}, now=self.t0, uid=1)

    def _ee_policies(self) -> None:
        self.policy_hours = {}
        for ti, team in enumerate(self.teams):
            vip = ti == 3
            for name, priority, target, hours, exclude in EE_POLICIES:
                hours = hours / 2 if vip else hours
                self.make(
                    "helpdesk.sla",
                    {
                        "name": f"{TEAMS[ti]} - " + name.format(h=f"{hours:g}"),
                        "team_id": team,
                        "priority": priority,
                        "stage_id": self.stage_ids[target],
                        "time": hours,
                        "exclude_stage_ids": [(6, 0, [self.stage_ids["waiting"]] if exclude else [])],
                    },
                )
            self.policy_hours[ti] = 2.0 if vip else 4.0

    def _oca_catalogues(self) -> None:
        self.channels = [
            self.make(
                "helpdesk.ticket.channel",
                {"name": n, "sequence": i},
                f"helpdesk_mgmt.helpdesk_ticket_channel_{n.lower()}",
            )
            for i, n in enumerate(["Web", "Email", "Phone", "Other"])
        ]
        software = self.make("helpdesk.ticket.category", {"name": "Software", "sequence": 1})
        self.categories = [
            software,
            self.make("helpdesk.ticket.category", {"name": "Login", "parent_id": software}),
            self.make("helpdesk.ticket.category", {"name": "Hardware", "sequence": 2}),
            self.make("helpdesk.ticket.category", {"name": "Billing", "sequence": 3}),
        ]

    def _oca_policies(self) -> None:
        self.policy_hours = {ti: 2.0 if ti == 3 else 4.0 for ti in range(len(self.teams))}
        stages = self.stage_ids
        if self.state.version <= 16:
            # 16: the first matching policy wins and there is no domain; the tag policy comes first.
            self.make(
                "helpdesk.sla",
                {
                    "name": "Escalated: 4 hours",
                    "team_ids": [(6, 0, self.teams)],
                    "hours": 4,
                    "days": 0,
                    "tag_ids": [(6, 0, [self.tags["Escalate"]])],
                    "stage_ids": [(6, 0, [stages["new"], stages["progress"]])],
                },
            )
            self.make(
                "helpdesk.sla",
                {
                    "name": "Standard: 1 working day",
                    "team_ids": [(6, 0, self.teams)],
                    "hours": 0,
                    "days": 1,
                    "stage_ids": [(6, 0, [stages["new"], stages["progress"], stages["waiting"]])],
                },
            )
            return
        for ti, team in enumerate(self.teams):
            short = self.policy_hours[ti]
            rows = [
                (f"Urgent response: {short:g} hours", short, 0, "progress", "[('priority', '=', '3')]", []),
                (
                    f"High response: {short * 2:g} hours",
                    short * 2,
                    0,
                    "progress",
                    "[('priority', '=', '2')]",
                    [],
                ),
                (
                    "Resolution: 3 days",
                    0,
                    3,
                    "solved",
                    "[('priority', 'in', ['0', '1'])]",
                    [stages["waiting"]],
                ),
            ]
            for name, hours, days, target, domain, ignore in rows:
                self.make(
                    "helpdesk.sla",
                    {
                        "name": f"{TEAMS[ti]} - {name}",
                        "team_ids": [(6, 0, [team])],
                        "hours": int(hours),
                        "days": days,
                        "stage_id": stages[target],
                        "domain": domain,
                        "ignore_stage_ids": [(6, 0, ignore)],
                    },
                )

    def response_hours(self, team_index: int) -> float:
        return self.policy_hours[team_index]

    def flavour_create_values(self, plan) -> dict:
        if self.state.flavour == "enterprise":
            return {"ticket_type_id": self.rng.choice(self.types)} if self.state.version <= 17 else {}
        category = {"Login": 1, "Hardware": 2, "Invoice": 3, "Refund": 3}.get(plan["tag"], 0)
        return {"channel_id": self.rng.choice(self.channels), "category_id": self.categories[category]}
