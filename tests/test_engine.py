"""The escalation engine: each trigger raises once at the first level, timeouts move escalations up,
tickets that no longer need one end it, and the database keeps it to one open escalation per ticket."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from escalations.engine import escalation_accept, escalation_deescalate, evaluate_escalations
from escalations.models import (
    EndReason,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    OdooAction,
    Ticket,
    Trigger,
)
from tests.conftest import T0
from tests.factories import (
    ClosedStageFactory,
    EscalationPolicyFactory,
    TagFactory,
    TeamFactory,
    TicketClockFactory,
    TicketFactory,
    TicketStageChangeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return EscalationPolicyFactory(
        no_update_after=timedelta(hours=4), unassigned_priority="2", unassigned_after=timedelta(minutes=30),
    )


def level(policy, number):
    return policy.levels.get(number=number)


# Each makes a ticket of the policy's team fire one trigger at T0, and returns it with the key and
# the facts the escalation must carry.
def at_risk(policy):
    clock = TicketClockFactory(
        ticket__team=policy.team, deadline=T0 + timedelta(minutes=55), at_risk_at=T0 - timedelta(minutes=5)
    )
    key = "2026-11-25T10:25:00Z"
    return clock.ticket, key, {"deadline": key, "at_risk_at": "2026-11-25T09:25:00Z", "seconds_left": 3300}


def breached(policy):
    clock = TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(minutes=10))
    key = "2026-11-25T09:20:00Z"
    return clock.ticket, key, {"deadline": key, "seconds_left": -600}


def stale(policy):
    ticket = TicketFactory(team=policy.team, odoo_write_date=T0 - timedelta(hours=5))
    key = "2026-11-25T04:30:00Z"
    return ticket, key, {"last_update": key, "seconds_idle": 5 * 3600}


def reopened(policy):
    change = TicketStageChangeFactory(ticket__team=policy.team, at=T0 - timedelta(minutes=10))
    return change.ticket, str(change.pk), {"reopened_at": "2026-11-25T09:20:00Z",
                                           "from_stage": change.from_stage.name, "stage": change.stage.name}


def unassigned(policy):
    ticket = TicketFactory(team=policy.team, priority="3", assignee=None, created_at=T0 - timedelta(hours=1))
    key = "2026-11-25T08:30:00Z"
    return ticket, key, {"priority": "3", "created_at": key, "seconds_unassigned": 3600}


def tagged(policy):
    ticket = TicketFactory(team=policy.team, tags=[TagFactory(name="ESCALATE"), TagFactory()])
    return ticket, "escalate", {"tag": "Escalate"}


FIRING = {
    Trigger.SLA_AT_RISK: at_risk, Trigger.SLA_BREACHED: breached, Trigger.NO_UPDATE: stale,
    Trigger.REOPENED: reopened, Trigger.UNASSIGNED: unassigned, Trigger.TAG: tagged,
}


@pytest.mark.parametrize("trigger", list(FIRING), ids=str)
def test_each_trigger_raises_its_ticket_at_the_first_level_exactly_once(policy, trigger):
    ticket, key, facts = FIRING[trigger](policy)
    TicketClockFactory(ticket__team=policy.team)  # on track: fires nothing

    result = evaluate_escalations(now=T0)

    escalation = Escalation.objects.get()
    assert result.raised_ids == [escalation.pk]
    assert (escalation.ticket, escalation.level, escalation.trigger) == (ticket, level(policy, 1), trigger)
    assert escalation.trigger_key == key
    assert escalation.facts == facts
    assert escalation.raised_at == escalation.level_since == T0 and escalation.is_open
    event = escalation.events.get()
    assert (event.kind, event.rule, event.to_level, event.at) == ("raised", trigger, level(policy, 1), T0)
    assert event.facts == facts

    again = evaluate_escalations(now=T0 + timedelta(minutes=1))
    assert (again.raised, again.moved_up, again.ended) == (0, 0, 0)
    assert Escalation.objects.count() == 1 and EscalationEvent.objects.count() == 1


@pytest.mark.parametrize("trigger", list(FIRING), ids=str)
def test_a_trigger_switched_off_raises_nothing(trigger):
    policy = EscalationPolicyFactory(
        on_sla_at_risk=False, on_sla_breached=False, on_reopened=False, escalate_tag="",
    )
    FIRING[trigger](policy)
    assert evaluate_escalations(now=T0).raised == 0


def test_tickets_of_a_team_without_an_active_policy_are_left_alone(policy):
    inactive = EscalationPolicyFactory(active=False)
    for make in FIRING.values():
        make(inactive)
    TicketClockFactory(ticket__team=TeamFactory(), deadline=T0 - timedelta(hours=1))  # no policy at all
    assert evaluate_escalations(now=T0).raised == 0


def test_a_ticket_firing_several_triggers_gets_one_escalation_for_its_most_urgent(policy):
    ticket, _, _ = breached(policy)
    ticket.odoo_write_date = T0 - timedelta(hours=6)
    ticket.save()
    ticket.tags.add(TagFactory(name="Escalate"))

    assert evaluate_escalations(now=T0).raised == 1
    assert Escalation.objects.get().trigger == Trigger.SLA_BREACHED


def test_closed_archived_and_deleted_tickets_are_not_raised(policy):
    for values in ({"stage": ClosedStageFactory()}, {"active": False}, {"deleted_at": T0}):
        TicketClockFactory(ticket__team=policy.team, deadline=T0 - timedelta(hours=1), **{
            f"ticket__{name}": value for name, value in values.items()})
    assert evaluate_escalations(now=T0).raised == 0


def test_what_happened_before_a_de_escalation_does_not_raise_again(policy, lead):
    """The rule: a lead who de-escalates has seen everything that had happened to the ticket by
    then. Only an occurrence after the de-escalation raises the ticket again."""
    ticket, _, _ = at_risk(policy)  # at risk since T0-5m, due at T0+55m
    ticket.odoo_write_date = T0 - timedelta(hours=5)  # and stale since T0-1h
    ticket.save()
    evaluate_escalations(now=T0)
    escalation_deescalate(escalation=Escalation.objects.get(), user=lead, reason="Customer called, fine",
                          now=T0 + timedelta(minutes=1))

    assert evaluate_escalations(now=T0 + timedelta(minutes=2)).raised == 0

    # The deadline passes after the de-escalation: a new occurrence.
    result = evaluate_escalations(now=T0 + timedelta(minutes=56))
    assert result.raised == 1
    assert Escalation.objects.get(pk=result.raised_ids[0]).trigger == Trigger.SLA_BREACHED


def test_an_unaccepted_escalation_moves_up_when_its_level_times_out(policy):
    breached(policy)
    with time_machine.travel(T0, tick=False) as traveller:
        evaluate_escalations()
        escalation = Escalation.objects.get()

        traveller.shift(timedelta(minutes=29))
        assert evaluate_escalations().moved_up == 0

        traveller.shift(timedelta(minutes=1))
        result = evaluate_escalations()
        assert result.moved_up_ids == [escalation.pk]
        escalation.refresh_from_db()
        assert escalation.level == level(policy, 2)
        assert escalation.level_since == T0 + timedelta(minutes=30)
        event = escalation.events.get(kind="moved_up")
        assert (event.from_level, event.to_level) == (level(policy, 1), level(policy, 2))
        assert event.rule == "not accepted in time" and event.actor is None

        # The last level has no timeout and nowhere to go.
        traveller.shift(timedelta(days=1))
        assert evaluate_escalations().moved_up == 0


def test_a_level_moves_up_to_the_next_number_even_with_gaps(policy):
    top = level(policy, 2)
    top.number = 5
    top.save()
    breached(policy)
    evaluate_escalations(now=T0)
    evaluate_escalations(now=T0 + timedelta(minutes=31))
    event = EscalationEvent.objects.get(kind="moved_up")
    assert (event.from_level, event.to_level) == (level(policy, 1), top)


def test_an_accepted_escalation_stays_at_its_level(policy, lead):
    breached(policy)
    evaluate_escalations(now=T0)
    escalation_accept(escalation=Escalation.objects.get(), user=lead, now=T0 + timedelta(minutes=1))
    assert evaluate_escalations(now=T0 + timedelta(hours=2)).moved_up == 0
    assert Escalation.objects.get().level == level(policy, 1)


def _solve(ticket, policy):
    ticket.stage = ClosedStageFactory()
    ticket.save()


def _archive(ticket, policy):
    ticket.active = False
    ticket.save()


def _delete(ticket, policy):
    ticket.deleted_at = T0
    ticket.save()


def _move_team(ticket, policy):
    ticket.team = TeamFactory()
    ticket.save()


def _switch_policy_off(ticket, policy):
    policy.active = False
    policy.save()


@pytest.mark.parametrize("change, reason", [
    (_solve, EndReason.SOLVED), (_archive, EndReason.DELETED), (_delete, EndReason.DELETED),
    (_move_team, EndReason.OUT_OF_SCOPE), (_switch_policy_off, EndReason.OUT_OF_SCOPE),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_an_escalation_ends_when_its_ticket_no_longer_needs_it(policy, change, reason):
    ticket, _, _ = breached(policy)
    other, _, _ = tagged(policy)
    evaluate_escalations(now=T0)
    change(ticket, policy)

    result = evaluate_escalations(now=T0 + timedelta(minutes=1))

    escalation = Escalation.objects.get(ticket=ticket)
    other_escalation = Escalation.objects.get(ticket=other)
    policy_wide = change is _switch_policy_off
    assert result.ended_ids == [escalation.pk, other_escalation.pk] if policy_wide else [escalation.pk]
    assert (escalation.ended_at, escalation.end_reason) == (T0 + timedelta(minutes=1), reason)
    event = escalation.events.get(kind="ended")
    assert (event.rule, event.from_level) == (reason, level(policy, 1))
    assert other_escalation.is_open is not policy_wide
    assert evaluate_escalations(now=T0 + timedelta(minutes=2)).ended == 0


def test_the_database_refuses_a_second_open_escalation_for_a_ticket(policy):
    ticket, _, _ = breached(policy)
    evaluate_escalations(now=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Escalation.objects.create(
            ticket=ticket, policy=policy, level=level(policy, 1), trigger=Trigger.MANUAL, trigger_key="x",
            raised_at=T0, level_since=T0,
        )
    # A closed one is fine: the constraint is on open escalations only.
    Escalation.objects.create(
        ticket=ticket, policy=policy, level=level(policy, 1), trigger=Trigger.MANUAL, trigger_key="y",
        raised_at=T0, level_since=T0, ended_at=T0, end_reason=EndReason.DE_ESCALATED,
    )


def _queries_of_two_evaluations(count):
    policy = EscalationPolicyFactory(
        no_update_after=timedelta(hours=4), unassigned_priority="2", unassigned_after=timedelta(minutes=30),
    )
    # Markers on both levels, so every raise, move and end also queues its Odoo marker.
    EscalationLevel.objects.filter(policy=policy, number=1).update(odoo_tag_name="Escalated L1")
    EscalationLevel.objects.filter(policy=policy, number=2).update(
        odoo_tag_name="Escalated L2", odoo_priority="3")
    makers = list(FIRING.values())
    tickets = [makers[n % len(makers)](policy)[0] for n in range(count)]
    with CaptureQueriesContext(transaction.get_connection()) as first:
        assert evaluate_escalations(now=T0).raised == count
    for ticket in tickets[::2]:
        _solve(ticket, policy)
    with CaptureQueriesContext(transaction.get_connection()) as second:
        result = evaluate_escalations(now=T0 + timedelta(minutes=31))
    assert (result.ended, result.moved_up) == ((count + 1) // 2, count // 2)
    # One marker per raise, per move up and per end (taking "Escalated L1" off).
    assert OdooAction.objects.filter(kind=OdooAction.Kind.MARK).count() == 2 * count
    return _statements(first), _statements(second)


def _statements(captured):
    # Savepoints come from the test's own transaction around each step's atomic block.
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])


def test_the_number_of_queries_does_not_grow_with_the_number_of_tickets():
    evaluate_escalations(now=T0)  # the backend's one-off feature checks (SQLite's JSON) out of the way
    small = _queries_of_two_evaluations(12)
    OdooAction.objects.all().delete()
    Escalation.objects.all().delete()
    Ticket.objects.all().delete()
    large = _queries_of_two_evaluations(240)
    assert small == large
    # First: an UPDATE each to end and move up (nothing to do), then an INSERT .. SELECT, its events
    # and its markers per trigger. Second: the UPDATE, its events, its markers and the ids for ending
    # and for moving up, then the six triggers find nothing new. Each also reads the new events and
    # their level's notice recipients (escalations.notices): two more, one per level whatever the
    # number of tickets.
    assert small == (2 + 6 * 3 + 2, 4 + 4 + 6 + 2)


def _evaluate_at_once(now, workers=2):
    """Run evaluations in threads (each with its own database connection), released together."""
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work():
        try:
            barrier.wait(timeout=10)
            results.append(evaluate_escalations(now=now))
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def _written_once(results, attribute):
    ids = [pk for result in results for pk in getattr(result, attribute)]
    assert len(ids) == len(set(ids))
    return len(ids)


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_raise_move_and_end_each_escalation_once():
    # On PostgreSQL the two really overlap (the unique constraints and conditional updates decide);
    # SQLite serializes them on its write lock, and the outcome must be the same.
    policy = EscalationPolicyFactory(
        no_update_after=timedelta(hours=4), unassigned_priority="2", unassigned_after=timedelta(minutes=30),
    )
    EscalationLevel.objects.filter(policy=policy).update(odoo_tag_name="Escalated")
    makers = list(FIRING.values())
    for n in range(300):
        makers[n % len(makers)](policy)
    events = EscalationEvent.objects
    marks = OdooAction.objects.filter(kind=OdooAction.Kind.MARK)

    assert _written_once(_evaluate_at_once(T0), "raised_ids") == 300
    assert Escalation.objects.count() == events.filter(kind="raised").count() == 300
    assert marks.count() == 300  # each change's marker once, by the run that made the change

    assert _written_once(_evaluate_at_once(T0 + timedelta(minutes=31)), "moved_up_ids") == 300
    assert events.filter(kind="moved_up").count() == 300
    assert set(Escalation.objects.values_list("level__number", flat=True)) == {2}
    assert marks.count() == 600

    Ticket.objects.update(stage=ClosedStageFactory())
    assert _written_once(_evaluate_at_once(T0 + timedelta(minutes=32)), "ended_ids") == 300
    assert events.filter(kind="ended").count() == 300
    assert not Escalation.objects.filter(ended_at=None).exists()
    assert marks.count() == 900
    assert sorted(marks.values_list("escalation", flat=True)) == sorted(
        list(Escalation.objects.values_list("pk", flat=True)) * 3)


@pytest.mark.parametrize("trigger", list(FIRING), ids=str)
def test_a_ticket_moved_to_another_team_with_a_policy_is_raised_there_again(policy, trigger):
    """The occurrence belongs to the policy: a breach keeps its deadline when the ticket moves between
    two teams with equal SLAs, and the new team must still be told (the old escalation ends, out of
    scope)."""
    ticket, key, _ = FIRING[trigger](policy)
    evaluate_escalations(now=T0)
    first = Escalation.objects.get(ticket=ticket)
    other = EscalationPolicyFactory(
        no_update_after=policy.no_update_after, unassigned_priority=policy.unassigned_priority,
        unassigned_after=policy.unassigned_after,
    )
    Ticket.objects.filter(pk=ticket.pk).update(team=other.team)

    result = evaluate_escalations(now=T0 + timedelta(minutes=1))

    first.refresh_from_db()
    assert first.ended_at is not None
    again = Escalation.objects.get(ticket=ticket, ended_at__isnull=True)
    assert result.raised_ids == [again.pk]
    assert (again.policy, again.level, again.trigger, again.trigger_key) == (
        other, level(other, 1), trigger, key)
    assert evaluate_escalations(now=T0 + timedelta(minutes=2)).raised == 0
