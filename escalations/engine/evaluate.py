"""One evaluation: end what is over, move up what waited too long, raise what fires now.

The order matters:
1. End first, so a ticket that moved to another team can be raised under its new team's policy in
   the same run.
2. Move up before raising, so that an escalation raised now is not moved in the same run.
3. Raise last.
4. Then the notices for what was raised or moved up, right after those steps committed (keyed by
   event and address, so repeating creates nothing new). A crash between a step and this loses
   those emails, never the escalation or its history.
Each step is a few set-based statements whose number depends on the triggers, never on the
tickets; each step commits on its own with its events and its markers for Odoo (outbox rows,
escalations.outbox.markers), so a crash loses no history and no marker.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from escalations.notices.create import notice_create_for_evaluation

from .progress import escalations_end, escalations_move_up
from .raise_ import escalations_raise


@dataclass
class EvaluationResult:
    raised_ids: list[int] = field(default_factory=list)
    moved_up_ids: list[int] = field(default_factory=list)
    ended_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def raised(self) -> int:
        return len(self.raised_ids)

    @property
    def moved_up(self) -> int:
        return len(self.moved_up_ids)

    @property
    def ended(self) -> int:
        return len(self.ended_ids)

    def counts(self) -> dict:
        return {"raised": self.raised, "moved_up": self.moved_up, "ended": self.ended}

    def as_dict(self) -> dict:
        return {
            "raised": self.raised, "moved_up": self.moved_up, "ended": self.ended,
            "raised_ids": self.raised_ids, "moved_up_ids": self.moved_up_ids, "ended_ids": self.ended_ids,
            "seconds": self.seconds,
        }

    def summary(self) -> str:
        return (f"escalations: {self.raised} raised, {self.moved_up} moved up, {self.ended} ended "
                f"in {self.seconds:.2f}s")


def evaluate_escalations(*, now: datetime | None = None) -> EvaluationResult:
    """Run the escalation rules once over every open ticket; safe to repeat and to run concurrently."""
    started = time.monotonic()
    now = now or timezone.now()
    # Marks the rows this run writes (with a suffix per step), so that each step's events are one
    # INSERT .. SELECT of exactly those rows.
    token = uuid.uuid4().hex[:24]
    result = EvaluationResult()
    result.ended_ids = escalations_end(now=now, token=f"{token}e")
    result.moved_up_ids = escalations_move_up(now=now, token=f"{token}u")
    result.raised_ids = escalations_raise(now=now, token=token)
    notice_create_for_evaluation(escalation_ids=result.moved_up_ids + result.raised_ids, now=now)
    result.seconds = round(time.monotonic() - started, 3)
    return result
