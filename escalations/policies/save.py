"""Saving a team's policy with its levels, paused stages and people: one transaction, all or nothing.

A level that escalations went through stays (their history and notices point at it); the numbers of
the levels follow the order of the draft.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from escalations.models import (
    Escalation,
    EscalationEvent,
    EscalationLevel,
    EscalationPolicy,
    Notice,
    Stage,
    Team,
)
from escalations.sla import refresh_clocks

from .draft import LevelDraft, PolicyDraft, PolicyRefused

POLICY_FIELDS = {
    "active", "at_risk_within", "at_risk_share", "target_hours", "calendar", "on_sla_at_risk",
    "on_sla_breached", "no_update_after", "on_reopened", "unassigned_priority", "unassigned_after",
    "escalate_tag", "allow_manual", "reassign_accepts",
}
LEVEL_FIELDS = {
    "name", "accept_within", "remind_after", "notify_emails", "notify_on_accept", "notify_on_deescalate",
    "odoo_tag_name", "odoo_priority",
}
# Kept levels step aside to numbers this far up while the draft's numbers are given out: the number is
# unique per policy, and a level may take the number another kept level still holds.
ASIDE = 10_000


def policy_save(*, team: Team, draft: PolicyDraft, policy_id: int | None,
                revision: int | None = None) -> EscalationPolicy:
    """Save the draft as the team's policy (a new one when `policy_id` is None), with the team's clocks.
    `revision`: the policy's revision the draft was made from; refused (PolicyRefused) when someone saved
    it since, so that nobody undoes another's change unknowingly."""
    with transaction.atomic():
        policy = policy_write(team=team, draft=draft, policy_id=policy_id, revision=revision)
        # The clocks' at-risk times and own deadlines follow the policy, and the engine reads them:
        # in the same transaction, so it never sees the new policy with the old clocks.
        refresh_clocks(team_ids=[team.pk])
    return policy


def policy_write(*, team: Team, draft: PolicyDraft, policy_id: int | None,
                 revision: int | None = None) -> EscalationPolicy:
    """Write the draft's rows, not the clocks; the caller holds the transaction."""
    policy = _policy_row(team, policy_id)
    if revision is not None and policy.pk is not None and policy.revision != revision:
        raise PolicyRefused(
            f"Someone saved the policy of {team.name} while you were editing it. Your changes are still "
            "below, not saved: open the policy in another tab to see theirs, or save again to replace "
            "their version with yours.", revision=policy.revision)
    policy.revision += 1
    for name, value in draft.values.items():
        if name in POLICY_FIELDS:
            setattr(policy, name if name != "calendar" else "calendar_id", value)
    _validate(policy, exclude=["team"], prefix="")
    _save_new_or_changed(policy, team)
    policy.paused_stages.set(Stage.objects.filter(pk__in=draft.paused_stage_ids))
    _levels_write(policy, draft.levels)
    return policy


def levels_in_use(level_ids) -> set[int]:
    """Those of these levels that escalations went through: their history and notices name them."""
    used = Q(Exists(Escalation.objects.filter(level=OuterRef("pk"))))
    named = Q(from_level=OuterRef("pk")) | Q(to_level=OuterRef("pk"))
    used |= Q(Exists(EscalationEvent.objects.filter(named)))
    used |= Q(Exists(Notice.objects.filter(level=OuterRef("pk"))))
    return set(EscalationLevel.objects.filter(used, pk__in=list(level_ids)).values_list("pk", flat=True))


def _policy_row(team: Team, policy_id: int | None) -> EscalationPolicy:
    if policy_id is None:
        if EscalationPolicy.objects.filter(team=team).exists():
            raise PolicyRefused(f"{team.name} has a policy already: someone saved one while you were "
                                "editing. Open it to change it.")
        return EscalationPolicy(team=team)
    policy = EscalationPolicy.objects.select_for_update().filter(pk=policy_id, team=team).first()
    if policy is None:
        raise PolicyRefused(f"The policy of {team.name} was removed while you were editing it. "
                            "Open the team again to start a new one.")
    return policy


def _save_new_or_changed(policy: EscalationPolicy, team: Team) -> None:
    try:
        with transaction.atomic():  # a savepoint: the unique team may refuse a policy made meanwhile
            policy.save()
    except IntegrityError:
        raise PolicyRefused(f"{team.name} has a policy already: someone saved one while you were "
                            "editing. Open it to change it.") from None


def _levels_write(policy: EscalationPolicy, levels: tuple[LevelDraft, ...]) -> None:
    if not levels:
        raise PolicyRefused("A policy needs at least one level: the people its escalations go to first.")
    existing = {level.pk: level for level in policy.levels.all()} if policy.pk else {}
    kept = {d.id for d in levels if d.id in existing}
    for level in existing.values():
        if level.pk not in kept:
            _level_remove(level)
    EscalationLevel.objects.filter(pk__in=kept).update(number=F("number") + ASIDE)
    placed: set[int] = set()
    for number, level_draft in enumerate(levels, start=1):
        taken = level_draft.id in existing and level_draft.id not in placed
        level = existing[level_draft.id] if taken else EscalationLevel(policy=policy)
        placed.add(level_draft.id)
        _level_write(level, level_draft, number=number)


def _level_write(level: EscalationLevel, draft: LevelDraft, *, number: int) -> None:
    for name, value in draft.values.items():
        if name in LEVEL_FIELDS:
            setattr(level, name, value)
    level.number = number
    _validate(level, exclude=["policy", "number"], prefix=f"Level {number}: ")
    level.save()
    members = _people(draft.member_ids)
    level.members.set(members)
    # Everyone on the level is told of its escalations, and whoever else the draft names.
    level.notify_users.set(members | _people(draft.also_tell_ids))


def _people(ids) -> set[int]:
    return set(get_user_model().objects.filter(pk__in=list(ids)).values_list("pk", flat=True))


def _level_remove(level: EscalationLevel) -> None:
    if levels_in_use([level.pk]):
        raise PolicyRefused(
            f"Level {level.number} “{level.name}” stays: escalations went through it and their history "
            "names it. Rename it or change its people instead."
        )
    level.delete()


def _validate(instance, *, exclude: list[str], prefix: str) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        messages = [m for ms in error.message_dict.values() for m in ms]
        raise PolicyRefused(prefix + " ".join(messages)) from None


def teams_without_policy() -> QuerySet[Team]:
    return Team.objects.filter(active=True, escalation_policy__isnull=True).order_by("name")
