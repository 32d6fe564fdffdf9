"""The ticket page's SLA timeline, from plain readings."""

from datetime import timedelta
from types import SimpleNamespace

from dashboard.timeline import sla_timeline
from escalations.sla import AT_RISK
from tests.conftest import T0


def reading(name, deadline, state=AT_RISK, reached_at=None):
    return SimpleNamespace(name=name, deadline=deadline, state=state, reached_at=reached_at)


def test_marks_are_placed_in_time_order_between_the_first_and_last_moment():
    sla = SimpleNamespace(
        deadlines=[reading("Resolve in 8h", T0 + timedelta(hours=2)),
                   reading("First answer", T0 - timedelta(hours=4), "reached", T0 - timedelta(hours=5))],
        at_risk_at=T0 + timedelta(hours=1), nearest=reading("Resolve in 8h", T0 + timedelta(hours=2)),
    )
    event = SimpleNamespace(at=T0 - timedelta(minutes=30), get_kind_display=lambda: "Raised")

    timeline = sla_timeline(created_at=T0 - timedelta(hours=6), sla=sla, events=[event], now=T0)

    assert [m.label for m in timeline.marks] == [
        "Created", "First answer: met", "First answer", "Raised", "Now", "At risk from here", "Resolve in 8h"]
    assert timeline.marks[0].position == 0 and timeline.marks[-1].position == 100
    assert timeline.now.position == 75.0  # 6 h of an 8 h span


def test_no_timeline_without_anything_to_place():
    sla = SimpleNamespace(deadlines=[], at_risk_at=None, nearest=None)
    assert sla_timeline(created_at=None, sla=sla, events=[], now=T0) is None
