from datetime import datetime, timedelta
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from escalations.permissions import is_supervisor

register = template.Library()

_LABELS = {
    "on_track": "On track", "at_risk": "At risk", "breached": "Breached", "reached": "Reached",
    "paused": "Paused", "none": "No SLA",
}


@register.filter
def duration(value: timedelta | None) -> str:
    """A signed, short duration: "2d 3h", "1h 05m", "-12m"."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m"


@register.filter
def sla_label(state: str) -> str:
    return _LABELS.get(state, state)


_PRIORITIES = {"0": "Low", "1": "Medium", "2": "High", "3": "Urgent"}


@register.filter
def priority_label(key: str) -> str:
    return _PRIORITIES.get(key, key)


@register.filter
def time_left(deadline, now) -> timedelta | None:
    """`{{ row.deadline|time_left:now|duration }}`: the server's first value of a ticking countdown."""
    return deadline - now if deadline and now else None


_ICONS = {"breached": "✖", "at_risk": "▲", "on_track": "●", "paused": "‖", "reached": "✔", "none": "–"}


@register.filter
def sla_icon(state: str) -> str:
    """A shape per SLA state, beside its colour and word: colour is never the only signal."""
    return _ICONS.get(state, "")


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with `changes` applied (an empty value drops the key), for links that
    change one filter and keep the others: `href="?{% query_with sla='breached' %}"`."""
    params = context["request"].GET.copy()
    for key in ("since", "page", *changes):
        params.pop(key, None)
    for key, value in changes.items():
        if value not in ("", None):
            params[key] = value
    return params.urlencode()


@register.filter
def when(value: datetime | None, style: str = "") -> str:
    """A moment as every page shows one: 24-hour clock, in the viewer's time zone, the zone named
    ("Thu 3 Dec 14:05 CET"); `|when:"year"` adds the year, `|when:"time"` gives "14:05 CET"."""
    if not value:
        return ""
    local = timezone.localtime(value)
    pattern = {"year": "D j M Y H:i T", "time": "H:i T"}.get(style, "D j M H:i T")
    return date_format(local, pattern)


# What a queue row links to, by the short name the row template uses: (URL name, arguments after the
# ticket's id).
_TICKET_URLS = {
    "page": ("ticket", ()),
    "accept": ("action-accept", ()),
    "reassign": ("action-form", ("reassign",)),
    "deescalate": ("action-form", ("deescalate",)),
    "escalate": ("action-form", ("escalate",)),
    "note": ("action-form", ("note",)),
}
_ID_MARK = 987654321  # stands for the ticket's id in a reversed pattern


@lru_cache(maxsize=64)
def _ticket_url_pattern(prefix: str, what: str) -> tuple[str, str]:
    name, args = _TICKET_URLS[what]
    before, _, after = reverse(name, args=[_ID_MARK, *args]).partition(str(_ID_MARK))
    return before, after


@register.filter
def ticket_url(ticket_id: int, what: str = "page") -> str:
    """`{{ t.pk|ticket_url:"accept" }}`: a ticket's URL, from a pattern reversed once per process (and
    script prefix). A queue page has some 300 of them, and `{% url %}` reversing each was a tenth of
    the page's time."""
    before, after = _ticket_url_pattern(get_script_prefix(), what)
    return f"{before}{ticket_id}{after}"


@register.filter
def iso(value: datetime | None) -> str:
    """`|date:"c"` for aware datetimes, in a tenth of its time (rows carry several for their clocks)."""
    return value.isoformat() if value else ""


@register.filter
def supervises(user) -> bool:
    """`{% if user|supervises %}`: the top bar's Policies link (the groups are read once per request)."""
    return getattr(user, "is_authenticated", False) and is_supervisor(user)
