"""An automation pass over the mirror: what it writes (outbox and ledger rows), what it never touches,
the per-pass cap, loops, preview against the real run, and two workers at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count

from escalations.automation import run as run_module
from escalations.automation.plan import PREVIEW_WINDOW
from escalations.automation.run import automation_run, plan_pass
from escalations.enqueue import SEND_AUTOMATION_CAP_NOTICE
from escalations.models import (
    AutomationChange,
    AutomationRule,
    AutomationRun,
    Escalation,
    OdooAction,
    SyncState,
    Ticket,
)
from tests.conftest import T0
from tests.factories import (
    AgentFactory,
    EscalationPolicyFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    TicketStageChangeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
CONSOLE_UID, PERSON_UID = 5, 42
Action, Trigger = AutomationRule.Action, AutomationRule.Trigger


@pytest.fixture(autouse=True)
def console_user(db):
    SyncState.objects.update_or_create(pk=1, defaults={"odoo_uid": CONSOLE_UID})


def urgent_rule(team, **kw) -> AutomationRule:
    """Every hour, make the team's open tickets urgent."""
    fields = {"name": "Urgent for Acme", "enabled": True, "enabled_at": T0 - timedelta(days=1),
              "trigger": Trigger.SCHEDULE, "every_minutes": 60, "action": Action.SET_PRIORITY,
              "set_priority": "3", **kw}
    rule = AutomationRule.objects.create(**fields)
    rule.teams.set([team])
    return rule


def quiet_tickets(team, count, **kw):
    """Open tickets last changed by OdooBot an hour ago: nothing keeps automation off them."""
    return [TicketFactory(team=team, odoo_write_uid=1, odoo_write_date=T0 - timedelta(hours=1), **kw)
            for _ in range(count)]


def test_a_pass_queues_each_change_in_the_outbox_with_its_ledger_row_and_a_note_naming_the_rule():
    team = TeamFactory()
    tickets = quiet_tickets(team, 3)
    TicketFactory(odoo_write_uid=1)  # another team's: out of scope
    rule = urgent_rule(team)

    run = automation_run(now=T0)

    assert (run.changes, run.handed, run.capped) == (3, 0, False)
    actions = OdooAction.objects.filter(kind=OdooAction.Kind.AUTOMATION).order_by("ticket_id")
    assert [a.ticket_id for a in actions] == sorted(t.pk for t in tickets)
    for action in actions:
        assert action.payload["values"] == {"priority": "3"}
        note = action.payload["note"]
        assert "Urgent for Acme" in note and str(action.action_uid) in note
        assert action.created_by is None and action.seen_values["priority"] == "1"
        ledger = action.automation_change
        assert (ledger.rule, ledger.before, ledger.after) == (rule, {"priority": "1"}, {"priority": "3"})
        assert ledger.summary == "Priority Medium → Urgent"


def test_a_ticket_is_changed_once_per_occasion_and_not_while_its_change_is_on_its_way():
    team = TeamFactory()
    quiet_tickets(team, 2)
    urgent_rule(team)
    assert automation_run(now=T0).changes == 2
    assert automation_run(now=T0 + timedelta(minutes=1)) is None  # same hour: done
    # The next hour: the changes are still queued for Odoo, so the tickets are left alone.
    assert automation_run(now=T0 + timedelta(hours=1)) is None
    OdooAction.objects.update(state=OdooAction.State.SENT)
    # Applied, but the mirror has not read it back yet: the rule acts again, once, next hour.
    assert automation_run(now=T0 + timedelta(hours=1)).changes == 2
    assert AutomationChange.objects.count() == 4


def test_hands_off_an_open_escalation_a_persons_change_and_a_persons_action_in_the_console():
    team = TeamFactory()
    free, escalated, changed_by_person, acted_on = quiet_tickets(team, 4)
    _escalate(escalated)
    Ticket.objects.filter(pk=changed_by_person.pk).update(
        odoo_write_uid=PERSON_UID, odoo_write_date=T0 - timedelta(minutes=10))
    OdooAction.objects.create(ticket=acted_on, kind=OdooAction.Kind.NOTE, created_by=UserFactory(),
                              created_at=T0 - timedelta(minutes=3), state=OdooAction.State.SENT)
    urgent_rule(team)

    automation_run(now=T0)

    assert set(AutomationChange.objects.values_list("ticket_id", flat=True)) == {free.pk}
    # Fifteen minutes after the person's change (AUTOMATION_HANDS_OFF_MINUTES), and with the console
    # action older than that, the next period's pass may act on those two.
    automation_run(now=T0 + timedelta(hours=1))
    assert set(AutomationChange.objects.values_list("ticket_id", flat=True)) == {
        free.pk, changed_by_person.pk, acted_on.pk}


def _escalate(ticket):
    policy = EscalationPolicyFactory(team=ticket.team)
    return Escalation.objects.create(ticket=ticket, policy=policy, level=policy.levels.get(number=1),
                                     trigger="manual", trigger_key="k", raised_at=T0, level_since=T0)


def test_non_routine_tickets_are_handed_to_a_person_once_and_never_changed():
    team = TeamFactory()
    routine, reopened, vip, escalated_before = quiet_tickets(team, 4)
    TicketStageChangeFactory(ticket=reopened)
    vip.tags.set([TagFactory(name="vip")])
    ended = _escalate(escalated_before)
    Escalation.objects.filter(pk=ended.pk).update(ended_at=T0 - timedelta(hours=2))
    urgent_rule(team)

    run = automation_run(now=T0)

    assert (run.changes, run.handed) == (1, 3)
    assert list(OdooAction.objects.values_list("ticket_id", flat=True)) == [routine.pk]
    handed = dict(AutomationChange.objects.filter(outcome=AutomationChange.Outcome.HANDED)
                  .values_list("ticket_id", "summary"))
    assert handed == {
        reopened.pk: "Handed to a person: the ticket was reopened",
        vip.pk: "Handed to a person: the ticket carries a tag that asks for a person (e.g. VIP)",
        escalated_before.pk: "Handed to a person: the ticket was escalated before",
    }
    assert automation_run(now=T0 + timedelta(hours=1)) is None  # handed once, not every period


def test_a_pass_past_the_cap_stops_there_and_tells_the_supervisors_once_per_episode(settings, monkeypatch):
    settings.AUTOMATION_RUN_CAP = 5
    sent = []
    monkeypatch.setattr("escalations.automation.run.enqueue_on_commit", lambda *args: sent.append(args))
    team = TeamFactory()
    quiet_tickets(team, 12)
    urgent_rule(team)

    first = automation_run(now=T0)
    second = automation_run(now=T0 + timedelta(minutes=1))

    # The first five changes are queued; the rest would wait, but the second pass is capped too (five
    # more), in the same episode: the supervisors were told once.
    assert (first.changes, first.capped, second.changes, second.capped) == (5, True, 5, True)
    assert OdooAction.objects.count() == 10
    assert [args for args in sent if args[0] == SEND_AUTOMATION_CAP_NOTICE] == [
        (SEND_AUTOMATION_CAP_NOTICE, first.pk)]
    # Two tickets are left: a pass under the cap ends the episode, and the next capped one tells again.
    third = automation_run(now=T0 + timedelta(minutes=2))
    assert (third.changes, third.capped) == (2, False)


def test_the_changed_trigger_never_fires_on_the_consoles_own_writes():
    team = TeamFactory()
    mine, theirs = quiet_tickets(team, 2)
    rule = urgent_rule(team, trigger=Trigger.CHANGED, every_minutes=None)
    # The console's write (and Odoo's rules running on it write as the console's user too).
    half_an_hour_ago = T0 - timedelta(minutes=30)
    Ticket.objects.filter(pk=mine.pk).update(odoo_write_uid=CONSOLE_UID, odoo_write_date=half_an_hour_ago)
    Ticket.objects.filter(pk=theirs.pk).update(odoo_write_uid=PERSON_UID, odoo_write_date=half_an_hour_ago)

    automation_run(now=T0)

    assert list(AutomationChange.objects.values_list("ticket_id", flat=True)) == [theirs.pk]
    assert AutomationChange.objects.get().occasion_at == T0 - timedelta(minutes=30)
    assert rule.changes.count() == 1


def test_the_preview_is_what_the_pass_then_does():
    team = TeamFactory()
    quiet_tickets(team, 6)
    vip = quiet_tickets(team, 1)[0]
    vip.tags.set([TagFactory(name="VIP")])
    rule = urgent_rule(team, enabled=False, enabled_at=None)

    (plan,) = plan_pass([rule], now=T0, preview=True)
    assert not OdooAction.objects.exists() and not AutomationChange.objects.exists()
    rule.refresh_from_db()
    rule.enabled, rule.enabled_at = True, T0 - PREVIEW_WINDOW
    rule.save()
    automation_run(now=T0)

    previewed = {(p.ticket_id, repr(p.values), p.summary) for p in plan.items}
    done = {(c.ticket_id, repr(c.after if c.odoo_action_id else {}), c.summary)
            for c in AutomationChange.objects.all()}
    assert previewed == done and len(done) == 7


@pytest.mark.parametrize("action", [Action.SET_PRIORITY, Action.ASSIGN])
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_change_a_ticket_twice(action):
    if connection.vendor != "postgresql":
        pytest.skip("two threads on SQLite's test database are serialized by SQLite itself, so there is no "
                    "race to see; the ledger's unique key that catches one anywhere is tested by "
                    "test_a_pass_beaten_to_its_changes_by_another_worker_writes_nothing")
    SyncState.objects.update_or_create(pk=1, defaults={"odoo_uid": CONSOLE_UID})
    team = TeamFactory()
    team.members.set([AgentFactory() for _ in range(3)])
    quiet_tickets(team, 30, assignee=None)
    urgent_rule(team, action=action)
    barrier, errors = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            automation_run(now=T0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert OdooAction.objects.count() == AutomationChange.objects.count() == 30
    assert AutomationRun.objects.count() == 1
    if action == Action.ASSIGN:  # and the round robin went on from one worker's pointer, not twice
        counts = sorted(AutomationChange.objects.values("assigned_to").annotate(n=Count("pk"))
                        .values_list("n", flat=True))
        assert counts == [10, 10, 10]


def test_past_the_cap_the_pass_stops_before_the_next_rules(settings):
    settings.AUTOMATION_RUN_CAP = 3
    first, second = TeamFactory(), TeamFactory()
    quiet_tickets(first, 10)
    later = quiet_tickets(second, 2)
    urgent_rule(first, name="A first rule")
    urgent_rule(second, name="B second rule")

    run = automation_run(now=T0)

    assert (run.changes, run.capped) == (3, True)
    assert not AutomationChange.objects.filter(ticket__in=later).exists()


def test_a_pass_beaten_to_its_changes_by_another_worker_writes_nothing(monkeypatch):
    """Without the advisory lock (SQLite), two workers may plan the same changes: the ledger's unique
    (rule, ticket, occasion) refuses the second writer's, and its whole pass rolls back."""
    team = TeamFactory()
    quiet_tickets(team, 4)
    urgent_rule(team)
    planned_meanwhile = plan_pass(run_module.enabled_rules(), now=T0, cap=50)  # the other worker's plan
    assert automation_run(now=T0).changes == 4

    monkeypatch.setattr(run_module, "plan_pass", lambda *args, **kwargs: planned_meanwhile)
    assert automation_run(now=T0) is None
    assert OdooAction.objects.count() == AutomationChange.objects.count() == 4
    assert AutomationRun.objects.count() == 1
