"""The console's addresses that emails link to, absolute from DASHBOARD_BASE_URL; the one place that
spells their paths."""

from django.conf import settings
from django.urls import reverse


def ticket_dashboard_url(*, ticket_id: int) -> str:
    """The ticket's page in the console."""
    return settings.DASHBOARD_BASE_URL.rstrip("/") + reverse("ticket", args=[ticket_id])


def notice_settings_url() -> str:
    """The page where a person changes their own notice settings (quiet hours, reminders)."""
    return settings.DASHBOARD_BASE_URL.rstrip("/") + reverse("notice-settings")


def queue_url() -> str:
    return settings.DASHBOARD_BASE_URL.rstrip("/") + reverse("queue")
