"""Who is told: a level's notice recipients, and which events give which notice to which level."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from escalations.models import EscalationEvent, EscalationLevel, Notice

logger = logging.getLogger(__name__)

User = get_user_model()
Kind = Notice.Kind
EventKind = EscalationEvent.Kind


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None = None


def level_recipients(*, level: EscalationLevel) -> list[Recipient]:
    """The level's notice recipients: its members and the users it notifies, then its extra
    addresses; each address once, so a person listed twice gets one email.

    Blank or malformed addresses are left out with a log line: one typo must not stop the others.
    """
    recipients: dict[str, Recipient] = {}

    def add(raw: str, user_id: int | None, origin: str) -> None:
        email = (raw or "").strip().lower()
        if not email:
            if user_id is not None:
                logger.warning("Level %s: user %s (%s) has no email address", level.pk, user_id, origin)
            return
        try:
            validate_email(email)
        except ValidationError:
            logger.warning("Level %s: skipping invalid notice address %r (%s)", level.pk, raw, origin)
            return
        recipients.setdefault(email, Recipient(email=email, user_id=user_id))

    # The people who take escalations at the level are told about them, whether or not the policy
    # also lists them to notify; one query for both lists.
    users = User.objects.filter(Q(escalation_levels=level) | Q(notified_levels=level), is_active=True)
    for user in users.distinct().order_by("pk"):
        add(user.email, user.pk, f"user {user.get_username()}")
    for line in level.notify_emails.splitlines():
        add(line, None, "notify_emails")
    return list(recipients.values())


def what_to_tell(event: EscalationEvent) -> tuple[str, EscalationLevel] | None:
    """The notice kind an event gives and the level whose recipients get it; None: no notice."""
    if event.kind == EventKind.RAISED and event.to_level_id:
        return Kind.ESCALATED, event.to_level
    if event.kind == EventKind.MOVED_UP and event.to_level_id:
        return Kind.MOVED_UP, event.to_level
    if event.kind == EventKind.ACCEPTED and event.to_level_id and event.to_level.notify_on_accept:
        return Kind.ACCEPTED, event.to_level
    if event.kind == EventKind.DE_ESCALATED and event.from_level_id and event.from_level.notify_on_deescalate:
        return Kind.DE_ESCALATED, event.from_level
    return None
