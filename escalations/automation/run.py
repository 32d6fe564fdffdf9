"""One automation pass: plan every rule that is on, then write what the plans say, all in one
transaction.

Each change becomes an outbox row (OdooAction, kind "automation") like a person's action, with an
internal note naming the rule, and a ledger row (AutomationChange) beside it; a hand-over to escalation
raises the escalation through the engine. Tickets that look non-routine get a ledger row saying they
were handed to a person, and nothing else.

Safe to run from two workers at once: on PostgreSQL a transaction-level advisory lock makes the second
pass wait and plan after the first committed; everywhere, the ledger's unique (rule, ticket, occasion)
makes a doubled change impossible (the whole pass rolls back). A pass that would change more than
AUTOMATION_RUN_CAP tickets writes the first ones up to the cap, stops, and tells the supervisors once
per episode (until a pass finishes under the cap again).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.html import escape

from escalations.engine import EscalationError, escalation_raise_manual
from escalations.enqueue import (
    SEND_AUTOMATION_CAP_NOTICE,
    SEND_AUTOMATION_REMINDER,
    SEND_ODOO_ACTION,
    enqueue_on_commit,
)
from escalations.models import (
    AutomationChange,
    AutomationRule,
    AutomationRun,
    EscalationLevel,
    OdooAction,
    SyncState,
    Ticket,
)
from escalations.models.automation import OCCASION_HANDED
from escalations.outbox.markers import marker_queue
from escalations.outbox.watch import mirror_values

from .plan import Names, Plan, Planned, plan_rule

logger = logging.getLogger(__name__)

Action = AutomationRule.Action
# pg_advisory_xact_lock key: "automation pass" (any constant unique to this lock in the database).
PASS_LOCK = 0x6175746F


def enabled_rules():
    return AutomationRule.objects.filter(enabled=True).prefetch_related(
        "teams", "stages", "tags", "customers", "add_tags"
    ).order_by("pk")


def plan_pass(rules, *, now: datetime, preview: bool = False, cap: int | None = None) -> list[Plan]:
    """The rules' plans, in order. With a `cap`, only until one change more than the cap is planned
    (which says the pass is capped): past the cap a pass stops, so it never plans what it could not
    write."""
    uid, names, plans = SyncState.console_uid(), Names(), []
    budget = cap + 1 if cap is not None else None
    for rule in rules:
        if budget is not None and budget <= 0:
            break
        plan = plan_rule(rule, now=now, console_uid=uid, names=names, preview=preview, limit=budget)
        if budget is not None:
            budget -= len(plan.changes)
        plans.append(plan)
    return plans


def automation_run(*, now: datetime | None = None) -> AutomationRun | None:
    """Run the rules that are on; the pass's row, or None when it found nothing to do (or another
    worker's pass wrote the same changes first: this one then writes nothing)."""
    try:
        return _run(now=now or timezone.now())
    except IntegrityError:
        logger.info("automation pass dropped: another worker's pass made the same changes first")
        return None


def _run(*, now: datetime) -> AutomationRun | None:
    cap = settings.AUTOMATION_RUN_CAP
    with transaction.atomic():
        _lock_pass()
        plans = plan_pass(enabled_rules(), now=now, cap=cap)
        changes = [item for plan in plans for item in plan.changes]
        handed = [item for plan in plans for item in plan.handed]
        capped = len(changes) > cap
        if not changes and not handed:
            _end_cap_episode()
            return None
        run = AutomationRun.objects.create(started_at=now, cap=cap, capped=capped)
        written = _write(run, changes[:cap], plans, now=now)
        AutomationChange.objects.bulk_create([
            AutomationChange(rule_id=p.rule_id, run=run, ticket_id=p.ticket_id, action=p.action,
                             occasion_at=OCCASION_HANDED, summary=p.summary[:300], at=now,
                             outcome=AutomationChange.Outcome.HANDED)
            for p in handed
        ])
        for plan in plans:
            if plan.last_assigned:
                AutomationRule.objects.filter(pk=plan.rule.pk).update(
                    last_assigned={**plan.rule.last_assigned, **plan.last_assigned})
        run.changes, run.handed, run.finished_at = written, len(handed), timezone.now()
        run.save(update_fields=["changes", "handed", "finished_at"])
        if capped:
            _start_cap_episode(run)
        else:
            _end_cap_episode()
    logger.info("automation pass: %s changes, %s handed to people%s", written, len(handed),
                f", stopped at the cap of {cap}" if capped else "")
    return run


def _lock_pass() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PASS_LOCK])


def _write(run: AutomationRun, changes: list[Planned], plans: list[Plan], *, now: datetime) -> int:
    """The changes' outbox and ledger rows (and escalations); a bounded number (the cap) of rows."""
    rules = {plan.rule.pk: plan.rule for plan in plans}
    tickets = Ticket.objects.select_related("assignee", "team", "stage").in_bulk(
        [c.ticket_id for c in changes])
    for change in changes:
        rule, ticket = rules[change.rule_id], tickets[change.ticket_id]
        action = None
        if change.action == Action.ESCALATE:
            if not _hand_over(rule, ticket, change, now=now):
                continue
        else:
            action = _queue(rule, ticket, change, now=now)
        ledger = AutomationChange.objects.create(
            rule=rule, run=run, ticket=ticket, action=change.action, occasion_at=change.occasion_at,
            before=change.before, after=change.after, summary=change.summary[:300], at=now,
            odoo_action=action, assigned_to_id=change.assigned_to,
        )
        if change.action == Action.REMIND:
            enqueue_on_commit(SEND_AUTOMATION_REMINDER, ledger.pk)
    return len(changes)


def _queue(rule: AutomationRule, ticket: Ticket, change: Planned, *, now: datetime) -> OdooAction:
    action = OdooAction(
        ticket=ticket, kind=OdooAction.Kind.AUTOMATION, created_at=now, next_attempt_at=now,
        seen_write_date=ticket.odoo_write_date, seen_values=mirror_values(ticket),
    )
    action.payload = {"values": change.values, "rule": rule.pk,
                      "note": automation_note(rule, change.summary, action.action_uid)}
    action.save()
    enqueue_on_commit(SEND_ODOO_ACTION, action.pk)
    return action


def automation_note(rule: AutomationRule, summary: str, action_uid) -> str:
    """The internal note that marks an automated change in Odoo's chatter."""
    return (f"<p><b>Automation</b>, rule “{escape(rule.name)}”: {escape(summary)}. "
            "A lead can undo it from the escalation console's automation ledger.</p>"
            f"<p><small>console action {action_uid}</small></p>")


def _hand_over(rule: AutomationRule, ticket: Ticket, change: Planned, *, now: datetime) -> bool:
    level = EscalationLevel.objects.select_related("policy__team").get(pk=change.level_id)
    try:
        with transaction.atomic():
            escalation = escalation_raise_manual(
                ticket=ticket, level=level, user=None, reason=f"Automation rule “{rule.name}”", now=now)
            marker_queue(escalation=escalation, to_level=level, from_level=None, user=None, now=now)
    except EscalationError as refusal:
        logger.info("rule %s could not escalate ticket %s: %s", rule.pk, ticket.pk, refusal.message)
        return False
    return True


def _start_cap_episode(run: AutomationRun) -> None:
    """Tell the supervisors, unless the pass before was capped too (the same episode)."""
    before = AutomationRun.objects.filter(preview=False).exclude(pk=run.pk).order_by("-started_at", "-pk")
    if before.values_list("capped", flat=True).first():
        return
    enqueue_on_commit(SEND_AUTOMATION_CAP_NOTICE, run.pk)


def _end_cap_episode() -> None:
    """Nothing to note: the next capped pass starts a new episode only after an uncapped one, which a
    pass with nothing to do does not record. Record it by a row only when the last kept pass was capped."""
    last = AutomationRun.objects.order_by("-started_at", "-pk").values_list("capped", flat=True).first()
    if last:
        AutomationRun.objects.create(started_at=timezone.now(), finished_at=timezone.now(), capped=False,
                                     cap=settings.AUTOMATION_RUN_CAP)
