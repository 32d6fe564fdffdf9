"""Seed setup shared by both flavours: company, users, working calendars, customers, chatter subtypes,
the model registry (`ir.model`) and external ids (`ir.model.data`). Flavour-specific configuration
(stages, teams, tags, SLA policies) lives in `seed_helpdesk.py`."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import orm
from .calendar import calendar_for
from .orm import SUPERUSER_ID, Env
from .seed_data import AGENTS, COMPANIES, FIRST_NAMES, LAST_NAMES
from .seed_helpdesk import HelpdeskSetup

INTEGRATION_LOGIN = "console@example.com"
TZ = "Europe/Brussels"
# Belgian public holidays on fixed dates (moving feasts left out: close enough for a demo calendar).
HOLIDAYS = [
    (1, 1, "New Year"),
    (5, 1, "Labour Day"),
    (7, 21, "National Day"),
    (8, 15, "Assumption"),
    (11, 1, "All Saints' Day"),
    (11, 11, "Armistice Day"),
    (12, 25, "Christmas"),
]


class BaseSeeder(HelpdeskSetup):
    def __init__(self, state, rng, now: datetime):
        self.state, self.store, self.rng, self.now = state, state.store, rng, now
        self.t0 = now - timedelta(days=90)

    def setup_env(self, uid=SUPERUSER_ID) -> Env:
        return Env(self.store, uid, {}, self.state.version, self.state.flavour, self.t0, su=True)

    def make(self, model, vals, xmlid=None) -> int:
        rid = orm.create(self.setup_env(), model, [vals])[0]
        if xmlid:
            module, _, name = xmlid.partition(".")
            orm.create(
                self.setup_env(),
                "ir.model.data",
                [{"module": module, "name": name, "model": model, "res_id": rid, "noupdate": True}],
            )
        return rid

    def setup(self) -> None:
        self.models()
        self.company_and_admins()
        self.calendars()
        self.agents()
        self.chatter()
        self.customer_accounts()
        self.helpdesk()

    def models(self) -> None:
        for name, md in sorted(self.store.schema.items()):
            model_id = self.make("ir.model", {"name": md.description, "model": name})
            # Stored directly: a few thousand rows with no side effects, on every seed.
            for fd in md.fields.values():
                self.store.insert("ir.model.fields", {
                    "name": fd.name, "model": name, "model_id": model_id, "field_description": fd.string,
                    "ttype": fd.type, "relation": fd.relation, "required": fd.required,
                    "readonly": fd.readonly, "store": fd.store,
                }, now=self.t0, uid=SUPERUSER_ID)

    def company_and_admins(self) -> None:
        partner = self.make(
            "res.partner",
            {"name": "Northwind Support", "is_company": True, "email": "info@northwind.example"},
            "base.main_partner",
        )
        self.company = self.make(
            "res.company",
            {"name": "Northwind Support", "partner_id": partner, "email": "info@northwind.example"},
            "base.main_company",
        )
        bot = self.make(
            "res.partner", {"name": "OdooBot", "email": "odoobot@example.com"}, "base.partner_root"
        )
        self.make(
            "res.users",
            {
                "name": "OdooBot",
                "login": "__system__",
                "partner_id": bot,
                "active": False,
                "company_id": self.company,
                "tz": TZ,
            },
            "base.user_root",
        )
        admin = self.make(
            "res.partner",
            {"name": "Mitchell Admin", "email": "admin@northwind.example", "parent_id": partner},
            "base.partner_admin",
        )
        admin_uid = self.make(
            "res.users",
            {
                "name": "Mitchell Admin",
                "login": "admin",
                "partner_id": admin,
                "email": "admin@northwind.example",
                "company_id": self.company,
                "tz": TZ,
            },
            "base.user_admin",
        )
        self.store.system_uids.add(admin_uid)  # Administration/Settings, as Odoo's admin is

    def calendars(self) -> None:
        std = self.make(
            "resource.calendar",
            {"name": "Standard 40 hours/week", "tz": TZ, "hours_per_day": 8.0, "company_id": self.company},
            "resource.resource_calendar_std",
        )
        for day in range(5):
            for h_from, h_to, period in ((8, 12, "morning"), (12, 13, "lunch"), (13, 17, "afternoon")):
                self.make(
                    "resource.calendar.attendance",
                    {
                        "name": f"{['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'][day]} {period}",
                        "dayofweek": str(day),
                        "hour_from": h_from,
                        "hour_to": h_to,
                        "day_period": period,
                        "calendar_id": std,
                    },
                )
        around = self.make(
            "resource.calendar",
            {
                "name": "24/7 Support",
                "tz": TZ,
                "hours_per_day": 24.0,
                "full_time_required_hours": 168.0,
                "company_id": self.company,
            },
        )
        for day in range(7):
            self.make(
                "resource.calendar.attendance",
                {
                    "name": f"Day {day}",
                    "dayofweek": str(day),
                    "hour_from": 0,
                    "hour_to": 24,
                    "calendar_id": around,
                },
            )
        for year in (self.now.year - 1, self.now.year, self.now.year + 1):
            for month, day, name in HOLIDAYS:
                start = datetime.combine(date(year, month, day), time(0), ZoneInfo(TZ))
                to_utc = lambda d: d.astimezone(UTC).replace(tzinfo=None)  # noqa: E731
                self.make(
                    "resource.calendar.leaves",
                    {
                        "name": name,
                        "calendar_id": std,
                        "company_id": self.company,
                        "time_type": "leave",
                        "date_from": to_utc(start).strftime("%Y-%m-%d %H:%M:%S"),
                        "date_to": to_utc(start + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
                    },
                )
        orm.write(self.setup_env(), "res.company", [self.company], {"resource_calendar_id": std})
        self.calendar_ids = {"standard": std, "around": around}

    def agents(self) -> None:
        self.agent_ids, self.leads = [], {}
        self.members = [[] for _ in range(4)]
        for name, login, team, lead in AGENTS:
            email = f"{login}@northwind.example"
            partner = self.make(
                "res.partner",
                {
                    "name": name,
                    "email": email,
                    "parent_id": self.store.get("res.company", self.company)["partner_id"],
                },
            )
            uid = self.make(
                "res.users",
                {
                    "name": name,
                    "login": email,
                    "email": email,
                    "partner_id": partner,
                    "company_id": self.company,
                    "tz": TZ,
                },
            )
            # Each agent is an employee with a resource (hr's `_inverse_user`): their own time off is a
            # calendar leave with this resource_id.
            self.make(
                "resource.resource",
                {"name": name, "user_id": uid, "tz": TZ, "company_id": self.company},
            )
            self.agent_ids.append(uid)
            self.members[team].append(uid)
            if lead:
                self.leads[team] = uid
        # Leads also help in a second team, as real ones do.
        self.members[3].append(self.leads[1])
        self.members[2].append(self.leads[0])
        partner = self.make("res.partner", {"name": "Escalation Console", "email": INTEGRATION_LOGIN})
        self.state.integration_uid = self.make(
            "res.users",
            {
                "name": "Escalation Console",
                "login": INTEGRATION_LOGIN,
                "email": INTEGRATION_LOGIN,
                "partner_id": partner,
                "company_id": self.company,
                "tz": TZ,
            },
        )

    def chatter(self) -> None:
        self.subtypes = {
            "comment": self.make(
                "mail.message.subtype",
                {"name": "Discussions", "internal": False, "sequence": 0},
                "mail.mt_comment",
            ),
            "note": self.make(
                "mail.message.subtype", {"name": "Note", "internal": True, "sequence": 100}, "mail.mt_note"
            ),
        }

    def customer_accounts(self) -> None:
        self.customers, self.customer_names = [], []
        companies = []
        for name, domain in COMPANIES:
            cid = self.make(
                "res.partner",
                {
                    "name": name,
                    "is_company": True,
                    "email": f"info@{domain}",
                    "city": self.rng.choice(["Brussels", "Ghent", "Antwerp", "Liège", "Leuven", "Namur"]),
                },
            )
            orm.write(self.setup_env(), "res.partner", [cid], {"commercial_partner_id": cid})
            companies.append((cid, domain))
        # A key customer, tagged VIP on the company (Odoo does not copy a company's tags to its contacts):
        # automation hands its tickets to a person.
        vip = self.make("res.partner.category", {"name": "VIP", "color": 1})
        orm.write(self.setup_env(), "res.partner", [companies[6][0]], {"category_id": [(6, 0, [vip])]})
        pairs = [(f, la) for f in FIRST_NAMES for la in LAST_NAMES]
        self.rng.shuffle(pairs)
        for i, (first, last) in enumerate(pairs[:40]):
            cid, domain = companies[i % len(companies)] if i < 32 else (None, "mail.example")
            email = f"{first.lower()}.{last.lower().replace(' ', '')}@{domain}"
            pid = self.make(
                "res.partner",
                {
                    "name": f"{first} {last}",
                    "email": email,
                    "parent_id": cid or False,
                    "phone": f"+32 4{self.rng.randint(10, 99)} {self.rng.randint(10, 99)} "
                    f"{self.rng.randint(10, 99)} {self.rng.randint(10, 99)}",
                },
            )
            orm.write(self.setup_env(), "res.partner", [pid], {"commercial_partner_id": cid or pid})
            self.customers.append(pid)
            self.customer_names.append(f"{first} {last}")

    def team_calendar(self, team_index):
        team = self.store.get(self.names.team, self.teams[team_index])
        return calendar_for(self.store, team["resource_calendar_id"])
