"""A first policy for a team, proposed from its SLA targets in Odoo; the supervisor edits it before
anything is saved.

At risk once a quarter of the SLA window is left, escalated when breached; level 1 the team's lead in
the console (if one is known), level 2 a supervisor. Level 1 has half the at-risk time of the team's
shortest target to accept, so that level 2 hears of a ticket before it breaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from escalations.models import Team

from .draft import LevelDraft, PolicyDraft
from .people import supervisor_ids, team_lead_ids
from .targets import SlaTarget, team_sla_targets

AT_RISK_SHARE = 0.25
DEFAULT_ACCEPT_WITHIN = timedelta(minutes=30)  # when Odoo shows no target to measure against
ACCEPT_STEP = timedelta(minutes=5)


@dataclass(frozen=True)
class Proposal:
    draft: PolicyDraft
    targets: list[SlaTarget]
    lead_ids: list[int]
    supervisor_id: int | None
    accept_within: timedelta


def policy_propose(*, team: Team, supervisor_id: int | None = None) -> Proposal:
    """The proposal for `team`; `supervisor_id`: the supervisor for level 2 (else the first one known)."""
    targets = team_sla_targets(team)
    leads = team_lead_ids(team.pk)
    supervisors = supervisor_ids()
    if supervisor_id not in supervisors:
        supervisor_id = supervisors[0] if supervisors else None
    accept_within = accept_window(min((t.target for t in targets), default=None))
    values = {
        "active": True, "on_sla_at_risk": True, "at_risk_share": AT_RISK_SHARE, "at_risk_within": None,
        "on_sla_breached": True, "on_reopened": False, "no_update_after": None, "unassigned_priority": "",
        "unassigned_after": None, "escalate_tag": "", "allow_manual": True, "reassign_accepts": False,
        "target_hours": None, "calendar": None,
    }
    levels = (
        LevelDraft(values={"name": "Team lead", "accept_within": accept_within}, member_ids=tuple(leads)),
        LevelDraft(values={"name": "Supervisor", "accept_within": None},
                   member_ids=(supervisor_id,) if supervisor_id else ()),
    )
    return Proposal(draft=PolicyDraft(values=values, levels=levels), targets=targets, lead_ids=leads,
                    supervisor_id=supervisor_id, accept_within=accept_within)


def accept_window(shortest: timedelta | None) -> timedelta:
    """Half of the at-risk time of the shortest target, in steps of five minutes, five at least."""
    if shortest is None:
        return DEFAULT_ACCEPT_WITHIN
    half = shortest * AT_RISK_SHARE / 2
    return max(ACCEPT_STEP, ACCEPT_STEP * int(half / ACCEPT_STEP))
