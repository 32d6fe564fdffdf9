"""Filters of the wall display: the first text of each ticking time, in static/js/countdown.js's format,
so that the page reads right before the script runs (and if it never does)."""

from datetime import datetime

from django import template

register = template.Library()


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    days, hours, minutes, secs = s // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60
    if days:
        return f"{sign}{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {secs:02d}s"
    return f"{sign}{minutes}m {secs:02d}s"


@register.filter
def countdown(deadline: datetime | None, now: datetime) -> str:
    """Time left until the deadline, negative once it passed: "1h 05m", "-12m 03s"."""
    return "—" if deadline is None else _clock((deadline - now).total_seconds())


@register.filter
def waited(since: datetime | None, now: datetime) -> str:
    return "" if since is None else _clock((now - since).total_seconds())


@register.filter
def person(user) -> str:
    """A user's name as the room knows it; never their email or login name beyond the username."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
