"""Record rules (`ir.rule`): which helpdesk records a user other than the superuser may see and change.

How Odoo applies them, and so the simulator: `search`, `search_count`, `search_read` and `name_search`
silently leave out what the user may not see; `read`, `write`, `unlink` and the methods built on them
(`message_post`, `action_archive`...) raise AccessError for an id the user may not see; `exists()`
ignores them (one raw SQL query), so a client can tell a hidden record from a deleted one.

The rules, from the packages' security files:
- Enterprise `helpdesk` (security/helpdesk_security.xml): an Administrator (group_helpdesk_manager)
  sees every ticket and team; a plain Helpdesk User (group_helpdesk_user) sees a ticket whose team is
  not private (`privacy_visibility` other than 'invited_internal') or whose team or ticket it follows,
  and a team that is not private or that it follows.
- OCA `helpdesk_mgmt` 16-18 (security/helpdesk_security.xml, models/ir_rule.py): "User" sees every
  ticket; "User: Team tickets" without it sees tickets with no team or of an active team it is a
  member of (`user.helpdesk_team_ids`, which leaves out archived teams); "User: Personal tickets" those
  assigned to it or to nobody.
- Both: the global multi-company rule, a record of no company or of the user's company.
- A message follows its document: hidden with a ticket the user cannot see, unless it wrote the message
  or is one of its recipients.

The group that limits a user is `store.helpdesk_access[uid]`; a user without an entry has the widest
(Administrator / "User"), as the seeded users do.
"""

from collections.abc import Callable

from . import followers, orm
from .errors import AccessError

Rule = Callable[[dict], bool]

EE_MANAGER = "helpdesk.group_helpdesk_manager"
EE_USER = "helpdesk.group_helpdesk_user"
OCA_ALL = "helpdesk_mgmt.group_helpdesk_user"
OCA_TEAM = "helpdesk_mgmt.group_helpdesk_user_team"
OCA_OWN = "helpdesk_mgmt.group_helpdesk_user_own"
GROUPS = {"enterprise": (EE_MANAGER, EE_USER), "oca": (OCA_ALL, OCA_TEAM, OCA_OWN)}
TEAM_MODEL = {"enterprise": "helpdesk.team", "oca": "helpdesk.ticket.team"}
MEMBERS = {"enterprise": "member_ids", "oca": "user_ids"}
PRIVATE = "invited_internal"


def predicate(env, model: str) -> Rule | None:
    """A test on raw records of `model` for this call's user; None when the rules hide nothing."""
    if env.su:
        return None
    build = _BUILDERS.get((env.flavour, model)) or _BUILDERS.get((None, model))
    return build(env) if build else None


def check(env, model: str, ids, operation: str) -> None:
    """Raise Odoo's AccessError when one of the existing `ids` is hidden from the user.

    Missing ids are left to the caller (dropped by `read`, MissingError for `write`), as Odoo's
    `_check_access` does: it asks which of the refused ids still exist before choosing the error."""
    rule = predicate(env, model)
    if rule is None:
        return
    table = env.store.tables[model]
    if any((rec := table.get(i)) is not None and not rule(rec) for i in ids):
        raise access_error(env, model, operation)


def access_error(env, model: str, operation: str) -> AccessError:
    """Odoo 16-18's `ir.rule._make_access_error` outside debug mode (which RPC never is)."""
    user = env.store.get("res.users", env.uid) or {}
    description = env.store.model(model).description
    return AccessError(
        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
        f"Sorry, {user.get('name')} (id={env.uid}) doesn't have '{operation}' access to:\n"
        f"- {description} ({model})\n\n"
        "If you really, really need access, perhaps you can win over your friendly administrator "
        "with a batch of freshly baked cookies."
    )


# -- the rules ------------------------------------------------------------------------------------


def _user(env) -> dict:
    return env.store.get("res.users", env.uid) or {}


def _companies(env) -> set | None:
    """The companies the user may see, or None when that hides nothing (it has every company)."""
    company = _user(env).get("company_id")
    if company is None or set(env.store.tables["res.company"]) <= {company}:
        return None
    return {company}


def _in_company(companies: set | None, company) -> bool:
    return companies is None or company is None or company in companies


def _ee_visible_teams(env) -> set | None:
    """Teams whose tickets a plain Helpdesk User sees (None: every team, for an Administrator)."""
    if env.store.helpdesk_access.get(env.uid, EE_MANAGER) != EE_USER:
        return None
    teams = env.store.tables["helpdesk.team"]
    followed = followers.followed(env.store, "helpdesk.team", _user(env).get("partner_id"))
    return {t for t, rec in teams.items() if rec.get("privacy_visibility") != PRIVATE or t in followed}


def _ee_ticket_rule(env) -> Rule | None:
    visible, companies = _ee_visible_teams(env), _companies(env)
    if visible is None and companies is None:
        return None
    partner = _user(env).get("partner_id")
    followed = followers.followed(env.store, "helpdesk.ticket", partner) if visible is not None else set()

    def rule(r: dict) -> bool:
        if not _in_company(companies, r.get("company_id")):
            return False
        # A ticket without a team is hidden from a plain user too: Odoo turns `team_id.privacy_visibility
        # != ...` into "team_id in (teams that ...)", which an empty team_id never is.
        return visible is None or r.get("team_id") in visible or r["id"] in followed

    return rule


def _ee_team_rule(env) -> Rule | None:
    visible, companies = _ee_visible_teams(env), _companies(env)
    if visible is None and companies is None:
        return None
    return lambda r: (visible is None or r["id"] in visible) and _in_company(companies, r.get("company_id"))


def _oca_ticket_rule(env) -> Rule | None:
    level, uid = env.store.helpdesk_access.get(env.uid, OCA_ALL), env.uid
    companies = _companies(env)
    if level == OCA_TEAM:
        # Tecnativa's `_compute_domain` replaces the personal rule: a ticket assigned to the user in a
        # team it is not a member of stays hidden.
        mine = {
            t for t, rec in env.store.tables["helpdesk.ticket.team"].items()
            if rec.get("active") and uid in (rec.get("user_ids") or ())
        }
        return lambda r: (r.get("team_id") is None or r["team_id"] in mine) and _in_company(
            companies, r.get("company_id"))
    if level == OCA_OWN:
        return lambda r: r.get("user_id") in (None, uid) and _in_company(companies, r.get("company_id"))
    if companies is None:
        return None
    return lambda r: _in_company(companies, r.get("company_id"))


def _company_rule(env) -> Rule | None:
    companies = _companies(env)
    return None if companies is None else (lambda r: _in_company(companies, r.get("company_id")))


def _message_rule(env) -> Rule | None:
    ticket_rule = predicate(env, "helpdesk.ticket")
    if ticket_rule is None:
        return None
    tickets, partner = env.store.tables["helpdesk.ticket"], _user(env).get("partner_id")

    def visible(msg: dict) -> bool:
        if msg.get("model") != "helpdesk.ticket" or msg.get("author_id") == partner:
            return True
        if partner in (msg.get("partner_ids") or ()):
            return True
        ticket = tickets.get(msg.get("res_id"))
        return ticket is None or ticket_rule(ticket)

    return visible


_BUILDERS = {
    ("enterprise", "helpdesk.ticket"): _ee_ticket_rule,
    ("enterprise", "helpdesk.team"): _ee_team_rule,
    ("oca", "helpdesk.ticket"): _oca_ticket_rule,
    ("oca", "helpdesk.ticket.team"): _company_rule,
    (None, "mail.message"): _message_rule,
}


# -- what an administrator does in Odoo to hide a team from a user, or to let it see the team again --


def set_access(env, uid: int, group: str) -> None:
    if group not in GROUPS[env.flavour]:
        raise ValueError(f"{group!r} is not a helpdesk group of {env.flavour}: {GROUPS[env.flavour]}")
    env.store.helpdesk_access[uid] = group


def team_hide(env, team_id: int, uid: int) -> None:
    """Hide one team's tickets from the user, and only that team's.

    Enterprise: the team becomes private ('invited_internal'), the user a plain Helpdesk User who does
    not follow it. OCA: the user gets "User: Team tickets", stays a member of every other team and
    leaves this one."""
    su = env.sudo()
    team_model, members = TEAM_MODEL[env.flavour], MEMBERS[env.flavour]
    orm.existing(su, team_model, [team_id])
    if env.flavour == "enterprise":
        orm.write(su, team_model, [team_id], {"privacy_visibility": PRIVATE})
        followers.unsubscribe(su, team_model, [team_id], [_partner(env, uid)])
        set_access(env, uid, EE_USER)
        return
    if env.store.helpdesk_access.get(uid, OCA_ALL) == OCA_ALL:
        others = [t for t in env.store.tables[team_model] if t != team_id]
        for other in others:
            orm.write(su, team_model, [other], {members: [(4, uid)]})
        set_access(env, uid, OCA_TEAM)
    orm.write(su, team_model, [team_id], {members: [(3, uid)]})


def team_invite(env, team_id: int, uid: int) -> None:
    """Let the user see the team's tickets again: Enterprise invites it (it follows the team, which
    stays private and unwritten); OCA makes it a member of the team."""
    su = env.sudo()
    team_model = TEAM_MODEL[env.flavour]
    if env.flavour == "enterprise":
        followers.subscribe(su, team_model, [team_id], [_partner(env, uid)])
    else:
        orm.write(su, team_model, [team_id], {MEMBERS[env.flavour]: [(4, uid)]})


def _partner(env, uid: int) -> int:
    return env.store.get("res.users", uid)["partner_id"]
