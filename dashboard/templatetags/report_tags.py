"""The Reports pages' filters, and `{% if user|may_read_reports %}` for the top bar's link."""

from datetime import timedelta

from django import template

from escalations.reports.scope import may_read_reports as _may_read_reports

from .console import duration

register = template.Library()


@register.filter
def may_read_reports(user) -> bool:
    # Asked once per request: the answer is kept on the user object (the reports views set it first).
    if not hasattr(user, "may_read_reports"):
        user.may_read_reports = _may_read_reports(user)
    return user.may_read_reports


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.filter
def seconds_text(seconds: int | None) -> str:
    return duration(timedelta(seconds=seconds)) if seconds is not None else "—"
