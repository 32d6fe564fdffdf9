"""A policy as the editor hands it over: plain values, never a model instance.

A preview saves the draft in a transaction it rolls back; a model instance it had saved would keep a
primary key the rollback took back, and saving that instance again would write a row under a stale id.
So the draft holds values, and each save builds its own rows from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LevelDraft:
    values: dict  # EscalationLevel fields: name, accept_within, remind_after, notify_*, odoo_tag_name, ...
    member_ids: tuple[int, ...] = ()
    # Told of the level's escalations besides its members (members are always told).
    also_tell_ids: tuple[int, ...] = ()
    id: int | None = None  # the level it changes; None: a new level


@dataclass(frozen=True)
class PolicyDraft:
    values: dict  # EscalationPolicy fields, except its team
    paused_stage_ids: tuple[int, ...] = ()
    levels: tuple[LevelDraft, ...] = field(default_factory=tuple)


class PolicyRefused(Exception):
    """The draft cannot be saved as it is; `message` says why, fit to show a supervisor. `level` is the
    index of the level at fault, if one is; `revision`, the policy's revision now, when someone else
    saved it meanwhile (a form that saves again from it replaces their version)."""

    def __init__(self, message: str, *, level: int | None = None, revision: int | None = None):
        super().__init__(message)
        self.message = message
        self.level = level
        self.revision = revision
