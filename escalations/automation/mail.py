"""Automation's two emails: a reminder to an idle assignee, and the supervisors' notice that a pass
stopped at the per-pass cap. Sent by Celery tasks once the pass has committed; a failure raises, for
the task to retry."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse

from escalations.models import AutomationChange, AutomationRun
from escalations.notices.email import ticket_dashboard_url
from escalations.permissions import SUPERVISORS


def reminder_send(change_id: int) -> bool:
    """Email the reminder of ledger row `change_id` to the ticket's assignee; False if they have no
    address (the internal note in Odoo still reminds them)."""
    change = AutomationChange.objects.select_related("ticket", "rule", "assigned_to").get(pk=change_id)
    agent = change.assigned_to
    if agent is None or not agent.email:
        return False
    ticket = change.ticket
    send_mail(
        subject=f"Reminder: {ticket.reference or ticket.pk} {ticket.name}"[:200],
        message=(f"Hello {agent.name},\n\n{change.summary}.\n\nTicket: {ticket.name}\n"
                 f"{ticket_dashboard_url(ticket_id=ticket.pk)}\n\n"
                 f"Sent by the automation rule “{change.rule.name}” of the escalation console; an internal "
                 "note in Odoo says the same.\n"),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[agent.email],
    )
    return True


def supervisor_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name=SUPERVISORS)).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def cap_notice_send(run_id: int) -> int:
    """Tell the supervisors a pass stopped at the cap; the number of addresses mailed."""
    run = AutomationRun.objects.get(pk=run_id)
    recipients = supervisor_emails()
    if not recipients:
        return 0
    rules_page = settings.DASHBOARD_BASE_URL.rstrip("/") + reverse("automation")
    send_mail(
        subject=f"Automation stopped at its cap of {run.cap} changes",
        message=(f"An automation pass at {run.started_at:%Y-%m-%d %H:%M} UTC would have changed more than "
                 f"{run.cap} tickets. It made the first {run.changes} changes and stopped; the rest waits, "
                 "and each following pass stops at the cap again until fewer tickets match.\n\n"
                 "Check the rules and their ledger (switch a rule off if it matches more than it should):\n"
                 f"{rules_page}\n"),
        from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients,
    )
    return len(recipients)
