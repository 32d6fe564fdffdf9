"""A team's SLA targets in Odoo, as the mirror shows them.

The mirror keeps each ticket's SLA deadlines (SlaStatus: the SLA policy's name and the deadline Odoo
computed), not Odoo's SLA policies themselves. Odoo plans a deadline as the policy's target in working
hours from the ticket's creation, on the team's calendar; so the working time from creation to deadline,
over the team's recent tickets, gives each policy's target back. The median, because time a ticket
spent in a stage the SLA excludes pushes its deadline later.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from statistics import median_low

from escalations.models import SlaStatus, Team, WorkingCalendar
from escalations.sla.calendars import load_calendars
from escalations.sla.working_time import WorkingHours

SAMPLE = 500  # deadlines read, the team's newest tickets first
ROUND_TO = timedelta(minutes=5)


@dataclass(frozen=True)
class SlaTarget:
    name: str  # the SLA policy's name in Odoo
    target: timedelta  # working time from the ticket's creation to its deadline
    tickets: int  # deadlines it was read from


def team_sla_targets(team: Team) -> list[SlaTarget]:
    """The team's SLA targets, shortest first; empty when Odoo gives its tickets no deadline."""
    deadlines = SlaStatus.objects.filter(ticket__team=team, deadline__isnull=False,
                                         ticket__created_at__isnull=False)
    rows = deadlines.order_by("-ticket__created_at", "pk").values_list(
        "name", "ticket__created_at", "deadline")[:SAMPLE]
    hours = _team_hours(team)
    spans: dict[str, list[timedelta]] = defaultdict(list)
    for name, created, deadline in rows:
        if deadline > created:
            span = hours.working_time_between(created, deadline) if hours else deadline - created
            spans[name].append(_rounded(span))
    targets = [SlaTarget(name, median_low(found), len(found)) for name, found in spans.items()]
    return sorted(targets, key=lambda t: (t.target, t.name))


def _team_hours(team: Team) -> WorkingHours | None:
    if not team.calendar_odoo_id:
        return None
    mirrored = WorkingCalendar.objects.filter(odoo_id=team.calendar_odoo_id).values_list("pk", flat=True)
    calendar = mirrored.first()
    return load_calendars(ids=[calendar]).get(calendar) if calendar else None


def _rounded(span: timedelta) -> timedelta:
    return ROUND_TO * round(span / ROUND_TO)
