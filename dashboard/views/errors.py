"""Error pages that htmx can show in place.

A refusal inside a queue row (say the lead was just removed from the team, and clicks a button the
page still shows) must not swap a whole 403 page into the row: the row comes back, read-only, with the
reason. Other htmx requests get the action-result partial, in plain words; full pages get the
product's own pages (templates/400.html, 403.html, 404.html, 500.html) through Django's views.
"""

import re

from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import render
from django.views import defaults

from dashboard.views.action_forms import render_row

ROW_TARGET = re.compile(r"ticket-(\d{1,12})")


def permission_denied(request, exception=None):
    if not getattr(request, "htmx", False):
        return defaults.permission_denied(request, exception)
    message = (exception.args[0] if exception and exception.args else "") or "You may not do this."
    target = ROW_TARGET.fullmatch(request.htmx.target or "")
    if target and request.user.is_authenticated:
        try:
            return render_row(request, int(target.group(1)), message=message, ok=False, status=403)
        except Http404:
            pass
    return render(request, "dashboard/_action_result.html", {"message": message, "ok": False}, status=403)


def _partial(request, message: str, status: int):
    return render(request, "dashboard/_action_result.html", {"message": message, "ok": False}, status=status)


def page_not_found(request, exception=None):
    if getattr(request, "htmx", False):
        return _partial(request, "Not found: it may have been removed. Reload the page.", 404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    # Our own BadRequest messages are written for people (see dashboard.nul_bytes); others are not.
    message = "This request could not be read, so nothing was done. Reload the page and try again."
    if type(exception) is BadRequest and exception.args:
        message = f"{exception.args[0]} Nothing was done."
    if getattr(request, "htmx", False):
        return _partial(request, message, 400)
    return render(request, "400.html", {"reason": message}, status=400)
