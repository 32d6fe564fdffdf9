"""Error pages that htmx can show in place.

A refusal inside a queue row (say the lead was just removed from the team, and clicks a button the
page still shows) must not swap Django's whole 403 page into the row: the row comes back, read-only,
with the reason. Other htmx requests get the action-result partial; full pages get Django's default.
"""

import re

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
