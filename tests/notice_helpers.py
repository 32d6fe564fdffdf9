"""For the notice tests: doing what the worker and beat's sweep do at a moment, and reading the emails
a real SMTP server received."""

from __future__ import annotations

import re
from datetime import datetime

from escalations.models import Notice
from escalations.notices.digest import notice_release_held
from escalations.notices.send import notice_send
from tests.smtp import Received

DIGEST_LINE = re.compile(r"^- .*?: (\S+) ", re.MULTILINE)
SUBJECT_REFERENCE = re.compile(r": (\S+) ")


def deliver(now: datetime) -> int:
    """Beat's sweep, then the worker, at `now`: release what is due, send every pending notice and
    digest. Returns how many were sent."""
    notice_release_held(now=now)
    sent = 0
    pending = Notice.objects.filter(state=Notice.State.PENDING).order_by("pk")
    for notice_id in pending.values_list("pk", flat=True):
        sent += notice_send(notice_id=notice_id, now=now).state == Notice.State.SENT
    return sent


def subject(received: Received) -> str:
    # Django 5.2 folds an encoded subject onto a continuation line; the parser keeps the fold's space.
    return received.message["Subject"].strip()


def is_digest(received: Received) -> bool:
    return subject(received).startswith("Digest of ")


def references(received: Received) -> list[str]:
    """The tickets an email tells about: a digest's lines, or a single notice's subject."""
    if is_digest(received):
        return DIGEST_LINE.findall(received.part("plain"))
    return SUBJECT_REFERENCE.findall(subject(received))[:1]
