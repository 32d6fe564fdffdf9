"""Setting up a policy in the console's domain (escalations.policies): saved whole or not at all,
previewed by the engine's own evaluation with nothing kept, and proposed from Odoo's SLA targets."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalations.engine import evaluate_escalations
from escalations.models import (
    CalendarAttendance,
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    Notice,
    OdooAction,
    SlaStatus,
    Tag,
    TicketClock,
    WorkingCalendar,
)
from escalations.notices.recipients import level_recipients
from escalations.policies.draft import LevelDraft, PolicyDraft, PolicyRefused
from escalations.policies.people import person_name
from escalations.policies.preview import policies_preview, policy_preview
from escalations.policies.proposal import accept_window, policy_propose
from escalations.policies.save import policy_save
from escalations.policies.targets import team_sla_targets
from escalations.sla import refresh_clocks
from tests.conftest import T0
from tests.factories import (
    AgentFactory,
    ClosedStageFactory,
    EscalationPolicyFactory,
    ProfileFactory,
    TeamFactory,
    TicketFactory,
    TicketStageChangeFactory,
    UserFactory,
)
from tests.outbox_helpers import make_lead

pytestmark = pytest.mark.django_db

POLICY = {
    "active": True, "on_sla_at_risk": True, "at_risk_share": 0.25, "at_risk_within": None,
    "on_sla_breached": True,
    "on_reopened": True, "no_update_after": timedelta(days=2), "unassigned_priority": "2",
    "unassigned_after": timedelta(minutes=30), "escalate_tag": "Escalate", "allow_manual": True,
    "reassign_accepts": False, "target_hours": None, "calendar": None,
}


def draft(levels=None, **values) -> PolicyDraft:
    levels = levels if levels is not None else [
        LevelDraft(values={"name": "Team lead", "accept_within": timedelta(minutes=30)}),
        LevelDraft(values={"name": "Supervisor"}),
    ]
    return PolicyDraft(values={**POLICY, **values}, levels=tuple(levels))


def ticket_due(team, *, left: timedelta, **fields):
    """An open ticket of `team` whose SLA deadline in Odoo is `left` from T0 (created an hour before T0)."""
    ticket = TicketFactory(team=team, **fields)
    SlaStatus.objects.create(ticket=ticket, odoo_id=ticket.pk, name="Response: 4 hours", deadline=T0 + left)
    return ticket


@pytest.fixture
def busy_team():
    """A team whose tickets fire every trigger of POLICY at T0, and some that fire none."""
    team = TeamFactory(name="Support")
    ticket_due(team, left=timedelta(minutes=-5), reference="BREACHED")
    # At risk from T0-22m30s under a quarter of its window (6h10m), not under the 1h without a policy.
    ticket_due(team, left=timedelta(minutes=70), reference="AT-RISK", created_at=T0 - timedelta(hours=5))
    # The other way round: a quarter of 1h50m is 27m30s, less than the 50 minutes left.
    ticket_due(team, left=timedelta(minutes=50), reference="NOT-YET")
    ticket_due(team, left=timedelta(hours=3), reference="ON-TRACK")
    TicketStageChangeFactory(ticket=TicketFactory(team=team, reference="REOPENED"))
    TicketFactory(team=team, reference="TAGGED", tags=[Tag.objects.create(odoo_id=901, name="Escalate")])
    TicketFactory(team=team, reference="UNASSIGNED", assignee=None, priority="3",
                  created_at=T0 - timedelta(hours=2))
    TicketFactory(team=team, reference="IDLE", odoo_write_date=T0 - timedelta(days=3))
    refresh_clocks()  # as the sync leaves them, under no policy: at risk with an hour left
    return team


def raised_references(ids) -> set[str]:
    return set(Escalation.objects.filter(pk__in=ids).values_list("ticket__reference", flat=True))


# -- saving ---------------------------------------------------------------------------------------


def test_a_draft_is_saved_with_its_levels_people_and_paused_stages_and_the_clocks_follow():
    team = TeamFactory()
    ticket = ticket_due(team, left=timedelta(hours=3))  # created at T0-1h: a four-hour window
    ana = UserFactory(first_name="Ana", last_name="Lopez")
    ben = UserFactory(first_name="Ben", last_name="Ode")
    levels = [
        LevelDraft(values={"name": "Team lead", "accept_within": timedelta(minutes=30)},
                   member_ids=(ana.pk,)),
        LevelDraft(values={"name": "Managers", "notify_emails": "oncall@example.com",
                           "odoo_tag_name": "Escalated L2"}, member_ids=(ben.pk,), also_tell_ids=(ana.pk,)),
    ]
    paused = ClosedStageFactory(is_closed=False, name="Waiting for customer")

    policy = policy_save(team=team, draft=PolicyDraft(values=POLICY, paused_stage_ids=(paused.pk,),
                                                      levels=tuple(levels)), policy_id=None)

    policy.refresh_from_db()
    assert (policy.team, policy.at_risk_share, policy.no_update_after) == (team, 0.25, timedelta(days=2))
    assert list(policy.paused_stages.all()) == [paused]
    one, two = policy.levels.order_by("number")
    assert (one.number, one.name, list(one.members.all())) == (1, "Team lead", [ana])
    assert (two.number, two.odoo_tag_name, list(two.members.all())) == (2, "Escalated L2", [ben])
    # Everyone on a level is told, with whoever else it names, whatever the notices' own rules add.
    assert set(one.notify_users.all()) == {ana} and set(two.notify_users.all()) == {ana, ben}
    assert {r.email for r in level_recipients(level=two)} == {ana.email, ben.email, "oncall@example.com"}
    # At risk once a quarter of the four-hour window is left.
    assert TicketClock.objects.get(ticket=ticket).at_risk_at == T0 + timedelta(hours=2)


def test_a_bad_level_leaves_nothing_half_saved():
    team = TeamFactory()
    marked_like_the_trigger = LevelDraft(values={"name": "Senior", "odoo_tag_name": "ESCALATE"})

    with pytest.raises(PolicyRefused, match="Level 2: .*is the tag that escalates a ticket"):
        policy_save(team=team, draft=draft([LevelDraft(values={"name": "Lead"}), marked_like_the_trigger]),
                    policy_id=None)

    assert not EscalationPolicy.objects.exists() and not EscalationLevel.objects.exists()


def test_a_refused_change_keeps_the_whole_policy_as_it_was():
    policy = EscalationPolicyFactory(no_update_after=timedelta(hours=8))
    one, two = policy.levels.order_by("number")
    TicketStageChangeFactory(ticket=TicketFactory(team=policy.team))
    evaluate_escalations(now=T0)  # an escalation at level 1: the level stays in its history
    change = draft([LevelDraft(values={"name": "Renamed"}, id=two.pk)], no_update_after=timedelta(hours=1))

    with pytest.raises(PolicyRefused, match="Level 1 “Team lead” stays: escalations went through it"):
        policy_save(team=policy.team, draft=change, policy_id=policy.pk)

    policy.refresh_from_db()
    assert policy.no_update_after == timedelta(hours=8)
    assert list(policy.levels.order_by("number").values_list("pk", "number", "name")) == [
        (one.pk, 1, "Team lead"), (two.pk, 2, "Senior support")]


def test_levels_take_the_numbers_of_the_drafts_order_and_a_removed_unused_level_goes():
    policy = EscalationPolicyFactory()
    one, two = policy.levels.order_by("number")
    swapped = draft([LevelDraft(values={"name": "Senior first"}, id=two.pk),
                     LevelDraft(values={"name": "Lead second"}, id=one.pk)])
    policy_save(team=policy.team, draft=swapped, policy_id=policy.pk)
    assert list(policy.levels.order_by("number").values_list("pk", "number")) == [(two.pk, 1), (one.pk, 2)]

    policy_save(team=policy.team, draft=draft([LevelDraft(values={"name": "Only"}, id=one.pk)]),
                policy_id=policy.pk)
    assert list(policy.levels.values_list("pk", "number", "name")) == [(one.pk, 1, "Only")]


def test_a_second_policy_for_a_team_is_refused_and_a_level_of_another_policy_is_never_taken():
    policy = EscalationPolicyFactory()
    with pytest.raises(PolicyRefused, match="has a policy already"):
        policy_save(team=policy.team, draft=draft(), policy_id=None)
    other = EscalationPolicyFactory()
    foreign = other.levels.get(number=1)
    policy_save(team=policy.team, draft=draft([LevelDraft(values={"name": "Mine"}, id=foreign.pk)]),
                policy_id=policy.pk)
    foreign.refresh_from_db()
    assert foreign.policy == other and foreign.name == "Team lead"
    assert list(policy.levels.values_list("name", flat=True)) == ["Mine"]


# -- the preview ----------------------------------------------------------------------------------


def test_the_preview_counts_what_evaluation_then_raises_after_saving(busy_team):
    elsewhere = EscalationPolicyFactory()  # another team's policy: its escalations are not this preview's
    ticket_due(elsewhere.team, left=timedelta(minutes=-1))

    preview = policy_preview(team=busy_team, draft=draft(), policy_id=None, now=T0)

    assert preview.raised == 6
    assert preview.by_trigger == {"sla_breached": 1, "sla_at_risk": 1, "reopened": 1, "tag": 1,
                                  "unassigned": 1, "no_update": 1}
    assert [t.reference for t in preview.tickets][:2] == ["BREACHED", "AT-RISK"]  # most urgent first
    assert not EscalationPolicy.objects.filter(team=busy_team).exists()

    policy = policy_save(team=busy_team, draft=draft(), policy_id=None)
    result = evaluate_escalations(now=T0)
    mine = Escalation.objects.filter(pk__in=result.raised_ids, policy=policy)
    assert mine.count() == preview.raised
    assert sorted(mine.values_list("trigger", flat=True)) == sorted(preview.by_trigger)
    assert raised_references(result.raised_ids) - {"BREACHED"} >= {t.reference for t in preview.tickets} - {
        "BREACHED"}


def test_the_preview_of_a_change_counts_the_escalations_it_would_end_and_move_up(busy_team):
    policy = policy_save(team=busy_team, draft=draft(), policy_id=None)
    evaluate_escalations(now=T0)
    levels = [LevelDraft(values={"name": level.name, "accept_within": timedelta(minutes=5)}, id=level.pk)
              for level in policy.levels.order_by("number")]
    later = T0 + timedelta(minutes=10)

    shorter = policy_preview(team=busy_team, draft=draft(levels), policy_id=policy.pk, now=later)
    switched_off = policy_preview(team=busy_team, draft=draft(levels, active=False), policy_id=policy.pk,
                                  now=later)

    assert (shorter.moved_up, shorter.ended) == (6, 0)
    assert (switched_off.raised, switched_off.ended) == (0, 6)
    policy_save(team=busy_team, draft=draft(levels, active=False), policy_id=policy.pk)
    result = evaluate_escalations(now=later)
    assert (result.ended, result.raised) == (switched_off.ended, switched_off.raised)


def test_a_preview_keeps_nothing_and_sends_nothing(busy_team, django_capture_on_commit_callbacks):
    def clocks_now():
        clock = TicketClock.objects.order_by("ticket_id")
        return list(clock.values_list("ticket_id", "at_risk_at", "deadline"))

    clocks = clocks_now()

    with django_capture_on_commit_callbacks() as callbacks:
        preview = policy_preview(team=busy_team, draft=draft(levels=[
            LevelDraft(values={"name": "Lead", "odoo_tag_name": "Escalated"},
                       member_ids=(UserFactory().pk,))]),
            policy_id=None, now=T0)

    assert preview.raised == 6 and callbacks == [] and len(clocks) == 8
    assert not EscalationPolicy.objects.exists() and not EscalationLevel.objects.exists()
    assert not Escalation.objects.exists() and not EscalationEvent.objects.exists()
    assert not OdooAction.objects.exists() and not Notice.objects.exists()
    assert clocks_now() == clocks


def test_every_teams_proposal_is_previewed_in_one_go(busy_team):
    quiet = TeamFactory(name="Quiet")
    ticket_due(quiet, left=timedelta(hours=3))
    drafts = [(team, policy_propose(team=team).draft, None) for team in (busy_team, quiet)]

    previews = policies_preview(drafts=drafts, now=T0)

    # The proposal: at risk at a quarter left, and breached; nothing else fires.
    assert previews[busy_team.pk].by_trigger == {"sla_breached": 1, "sla_at_risk": 1}
    assert previews[quiet.pk].raised == 0
    assert not EscalationPolicy.objects.exists()


def test_a_preview_costs_the_same_queries_for_many_tickets_as_for_few(busy_team):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            policy_preview(team=busy_team, draft=draft(), policy_id=None, now=T0)
        return len(captured)

    few = queries()
    for minutes in range(30):
        ticket_due(busy_team, left=timedelta(minutes=-minutes - 1))
    assert queries() == few


# -- the proposal from Odoo's SLA targets ---------------------------------------------------------


def test_the_proposal_reads_the_targets_and_names_the_teams_lead_and_a_supervisor():
    team = TeamFactory(name="Support")
    for hours in (4, 4, 4, 5):  # one deadline pushed later by time in an excluded stage
        ticket = TicketFactory(team=team, created_at=T0 - timedelta(hours=1))
        SlaStatus.objects.create(ticket=ticket, odoo_id=ticket.pk, name="Urgent: response within 4 hours",
                                 deadline=T0 - timedelta(hours=1) + timedelta(hours=hours))
    lena = make_lead(UserFactory(first_name="Lena", last_name="Lead"), teams=[team])
    make_lead(UserFactory(first_name="Olga", last_name="Other"), teams=[TeamFactory()])
    sue = make_lead(UserFactory(first_name="Sue", last_name="Pervisor"), supervisor=True)

    proposal = policy_propose(team=team, supervisor_id=sue.pk)

    assert [(t.name, t.target, t.tickets) for t in proposal.targets] == [
        ("Urgent: response within 4 hours", timedelta(hours=4), 4)]
    values = proposal.draft.values
    assert (values["on_sla_at_risk"], values["at_risk_share"], values["on_sla_breached"]) == (
        True, 0.25, True)
    one, two = proposal.draft.levels
    assert one.member_ids == (lena.pk,) and one.values["accept_within"] == timedelta(minutes=30)
    assert two.member_ids == (sue.pk,) and two.values["accept_within"] is None


def test_without_targets_or_a_lead_the_proposal_still_stands_with_a_default_window():
    team = TeamFactory()
    proposal = policy_propose(team=team)
    assert proposal.targets == [] and proposal.lead_ids == [] and proposal.draft.levels[0].member_ids == ()
    assert proposal.accept_within == timedelta(minutes=30)
    assert accept_window(timedelta(hours=2)) == timedelta(minutes=15)
    assert accept_window(timedelta(minutes=10)) == timedelta(minutes=5)


def test_targets_are_measured_in_the_teams_working_hours():
    calendar = WorkingCalendar.objects.create(odoo_id=77, name="Office", tz="UTC")
    for weekday in range(5):  # Monday to Friday, 08:00 to 17:00
        CalendarAttendance.objects.create(calendar=calendar, weekday=weekday, hour_from=8, hour_to=17)
    team = TeamFactory(calendar_odoo_id=77)
    friday_4pm = T0 + timedelta(days=2, hours=6, minutes=30)  # Wednesday 09:30 + 2d 6h30 = Friday 16:00
    ticket = TicketFactory(team=team, created_at=friday_4pm)
    # Four working hours: one on Friday, three on Monday morning.
    monday_11am = friday_4pm + timedelta(days=2, hours=19)
    SlaStatus.objects.create(ticket=ticket, odoo_id=1, name="4 hours", deadline=monday_11am)
    assert [t.target for t in team_sla_targets(team)] == [timedelta(hours=4)]


def test_people_are_named_by_their_name_else_their_odoo_user_never_their_login_first():
    assert person_name(UserFactory(username="alopez", first_name="Ana", last_name="Lopez")) == "Ana Lopez"
    odoo_user = ProfileFactory(user=UserFactory(username="bode"), agent=AgentFactory(name="Ben Ode")).user
    assert person_name(odoo_user) == "Ben Ode"
    assert person_name(UserFactory(username="ops")) == "ops"
