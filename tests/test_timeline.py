"""The ticket page's history in words: a bar per SLA deadline (time used against time allowed), and the
escalation events as they read when they happened."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from dashboard.timeline import TICKS, event_line, sla_bars
from escalations.engine import (
    escalation_accept,
    escalation_deescalate,
    escalation_raise_manual,
    escalation_undo_accept,
    evaluate_escalations,
)
from escalations.models import Escalation, EscalationEvent
from escalations.sla import AT_RISK, BREACHED, ON_TRACK, PAUSED, REACHED
from tests.conftest import T0
from tests.factories import EscalationPolicyFactory, TicketClockFactory, TicketFactory

CREATED = T0 - timedelta(hours=6)


def reading(name, deadline, state=ON_TRACK, reached_at=None):
    return SimpleNamespace(name=name, deadline=deadline, state=state, reached_at=reached_at)


def bars(*readings, created_at=CREATED):
    return sla_bars(created_at=created_at, sla=SimpleNamespace(deadlines=list(readings)), now=T0)


def test_the_marks_stand_at_50_75_and_100_percent_of_a_scale_that_runs_past_the_deadline():
    assert [(t.percent, t.x) for t in TICKS] == [(50, 41.67), (75, 62.5), (100, 83.33)]


def test_a_running_deadline_shows_the_time_used_against_the_time_allowed():
    [bar] = bars(reading("Resolve in 8h", T0 + timedelta(hours=2), AT_RISK))
    assert (bar.allowed, bar.used, bar.percent) == (timedelta(hours=8), timedelta(hours=6), 75)
    assert bar.width == 62.5 and bar.band == "under-100" and not bar.overdue and bar.in_time is None


@pytest.mark.parametrize(
    "hours_left, band", [(5.5, "under-50"), (3, "under-75"), (1, "under-100"), (0, "over-100")]
)
def test_the_fill_takes_the_colour_band_its_share_reached(hours_left, band):
    deadline = T0 + timedelta(hours=hours_left)
    [bar] = bars(reading("Resolve in 10h", deadline), created_at=deadline - timedelta(hours=10))
    assert bar.percent == 100 - 10 * hours_left and bar.band == band


def test_a_breached_deadline_runs_past_the_100_mark_and_stops_at_the_end_of_the_bar():
    [late, very_late] = bars(reading("First answer", T0 - timedelta(hours=1), BREACHED),
                             reading("Resolve", T0 - timedelta(hours=5), BREACHED))
    assert (late.percent, late.width, late.band, late.overdue) == (120, 100.0, "over-100", True)
    assert (very_late.percent, very_late.width) == (600, 100.0)
    assert (late.over_by, very_late.over_by) == (timedelta(hours=1), timedelta(hours=5))


def test_a_reached_deadline_stops_where_it_was_reached_and_says_whether_in_time():
    [met, failed] = bars(
        reading("First answer", T0 - timedelta(hours=2), REACHED, reached_at=T0 - timedelta(hours=5)),
        reading("Resolve", T0 - timedelta(hours=4), BREACHED, reached_at=T0 - timedelta(hours=3)),
    )
    assert (met.percent, met.in_time, met.margin) == (25, True, timedelta(hours=3))
    assert (failed.percent, failed.in_time, failed.margin) == (150, False, -timedelta(hours=1))
    assert not failed.overdue  # reached: no longer running


def test_a_paused_clock_or_a_ticket_without_a_creation_date_has_words_but_no_bar():
    [paused] = bars(reading("Resolve", None, PAUSED))
    [unknown_start] = bars(reading("Resolve", T0 + timedelta(hours=1)), created_at=None)
    assert paused.percent is None and unknown_start.percent is None and unknown_start.width == 0


# -- the events -----------------------------------------------------------------------------------


def _event(**fields):
    base = dict(at=T0, actor=None, rule="", reason="", from_level_id=None, to_level_id=None,
                from_level=None, to_level=None, from_level_name="", to_level_name="",
                get_kind_display=lambda: "Raised")
    return SimpleNamespace(**{**base, **fields})


def test_an_engine_event_names_its_rule_in_words_never_its_code():
    line = event_line(_event(rule="sla_breached"))
    assert line.by == "(SLA breached)"
    assert event_line(_event(rule="solved")).by == "(Ticket solved or closed)"
    assert event_line(_event(rule="not accepted in time")).by == "(not accepted in time)"


def test_a_person_is_named_by_full_name_falling_back_to_the_username():
    named = SimpleNamespace(get_full_name=lambda: "Lena Lead", get_username=lambda: "lena")
    unnamed = SimpleNamespace(get_full_name=lambda: "", get_username=lambda: "ops7")
    assert event_line(_event(actor=named)).by == "by Lena Lead"
    assert event_line(_event(actor=unnamed)).by == "by ops7"


@pytest.mark.django_db
def test_renaming_a_level_leaves_the_words_of_past_events(lead):
    policy = EscalationPolicyFactory()
    first, second = policy.levels.get(number=1), policy.levels.get(number=2)
    escalation = escalation_raise_manual(ticket=TicketFactory(team=policy.team), level=first, user=lead,
                                         reason="Customer called")
    escalation_accept(escalation=escalation, user=lead)
    escalation.refresh_from_db()
    escalation_undo_accept(escalation=escalation, accepted_by_id=lead.pk, accepted_at=escalation.accepted_at,
                           reason="Odoo refused")
    escalation_deescalate(escalation=escalation, user=lead, reason="handled")
    old_names = (first.name, second.name)
    first.name, second.name = "Renamed one", "Renamed two"
    first.save(), second.save()

    lines = [event_line(e) for e in EscalationEvent.objects.filter(escalation=escalation)
             .select_related("actor", "from_level", "to_level")]
    assert [line.what for line in lines] == ["Raised", "Accepted", "Acceptance undone", "De-escalated"]
    assert lines[0].level == f"to L1 {old_names[0]}" and lines[2].level == f"to L1 {old_names[0]}"
    assert all("Renamed" not in line.level for line in lines)


@pytest.mark.django_db
def test_the_engines_set_based_writes_keep_the_level_names_too():
    policy = EscalationPolicyFactory()
    TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=10))
    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))  # not accepted: moves up to L2
    ticket = Escalation.objects.get().ticket
    ticket.active = False  # archived in Odoo: the engine ends its escalation
    ticket.save()
    evaluate_escalations(now=T0 + timedelta(minutes=32))
    first, second = policy.levels.get(number=1), policy.levels.get(number=2)
    names = first.name, second.name
    policy.levels.update(name="Renamed")

    events = {e.kind: e for e in Escalation.objects.get().events.select_related("from_level", "to_level")}
    assert (events["raised"].from_level_name, events["raised"].to_level_name) == ("", names[0])
    assert (events["moved_up"].from_level_name, events["moved_up"].to_level_name) == names
    assert event_line(events["moved_up"]).level == f"to L2 {names[1]}"
    assert (events["ended"].from_level_name, events["ended"].to_level_name) == (names[1], "")
    assert event_line(events["raised"]).by == "(SLA breached)"
    assert event_line(events["ended"]).level == f"from L2 {names[1]}"


@pytest.mark.django_db
def test_the_migration_gives_older_events_the_names_their_levels_have_now(lead):
    from importlib import import_module

    from django.apps import apps

    policy = EscalationPolicyFactory()
    escalation = escalation_raise_manual(ticket=TicketFactory(team=policy.team),
                                         level=policy.levels.get(number=1), user=lead, reason="")
    escalation_deescalate(escalation=escalation, user=lead, reason="handled")
    EscalationEvent.objects.update(from_level_name="", to_level_name="")  # as rows were before it

    import_module("escalations.migrations.0016_event_words_of_their_time").fill_names(apps, None)

    raised, ended = EscalationEvent.objects.order_by("at", "id")
    assert (raised.from_level_name, raised.to_level_name) == ("", "Team lead")
    assert (ended.from_level_name, ended.to_level_name) == ("Team lead", "")
