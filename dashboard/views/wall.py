"""The wall display: the escalation queue, read-only and full-screen, for the support room's screen.

The token in the URL is the screen's only credential: the view reads no session and renders no form,
so nothing can be done from the screen, and a stolen URL shows only what the room already sees.

An open screen polls every WALL_POLL_SECONDS with the version it shows (static/js/wall.js adds it):
1. unchanged: 204 and no body, which htmx does not swap; known from the token lookup and the queue's
   change stamp alone (two queries), before the queue is read, so that fifty screens polling cost
   next to nothing;
2. changed: the `live` fragment, swapped into the page;
3. token revoked or replaced: the `ended` fragment with htmx's "stop polling" status (286), which
   htmx swaps and then stops polling. A 403 would be truer, but htmx 2 swaps no 4xx by default, and
   the screen would go on showing a queue it may no longer see. A full page load gets the honest 403
   (revoked) or 404.
"""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from django_htmx.http import HttpResponseStopPolling

from escalations.walls import (
    TokenCheck,
    WallData,
    wall_data,
    wall_display_check,
    wall_display_seen,
    wall_version,
)

PAGE = "wall/wall.html"
ENDED = "wall/ended.html"
# Seconds each page of rows stays on screen when they do not all fit; `?page_seconds=` changes it for one
# screen (a test, or a room that reads slowly).
PAGE_SECONDS, PAGE_SECONDS_RANGE = 15, range(1, 301)


@require_safe
def wall(request, token: str):
    check = wall_display_check(token=token)
    if not check.active:
        return _private(_ended(request, check))
    now = timezone.now()
    wall_display_seen(display=check.display, now=now)
    version = wall_version(display=check.display, now=now)
    if request.htmx and request.GET.get("v") == version:
        return _private(HttpResponse(status=204))
    data = wall_data(display=check.display, version=version, now=now)
    template = f"{PAGE}#live" if request.htmx else PAGE
    return _private(render(request, template, _context(data, page_seconds=_page_seconds(request))))


def _page_seconds(request) -> int:
    raw = request.GET.get("page_seconds", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and int(raw) in PAGE_SECONDS_RANGE:
        return int(raw)
    return PAGE_SECONDS


def _context(data: WallData, *, page_seconds: int) -> dict:
    counts = data.queue.counts
    return {
        "page_seconds": page_seconds,
        "display": data.display,
        "team": data.display.team,
        "queue": data.queue,
        "rows": data.queue.rows,
        "counts": counts,
        "hidden_rows": max(data.queue.total - len(data.queue.rows), 0),
        "health": data.health,
        "version": data.version,
        "now": data.now,
        "poll_seconds": settings.WALL_POLL_SECONDS,
        # A request that hangs (a dropped network) must fail, or htmx waits for it instead of retrying.
        "request_timeout_ms": max(5, 2 * settings.WALL_POLL_SECONDS) * 1000,
    }


def _ended(request, check: TokenCheck) -> HttpResponse:
    context = {"revoked": check.revoked}
    if request.htmx:
        return HttpResponseStopPolling(render_to_string(f"{ENDED}#ended", context, request=request))
    return render(request, ENDED, context, status=403 if check.revoked else 404)


def _private(response: HttpResponse) -> HttpResponse:
    """Never cached (a cached queue would look live), never indexed, the token never in a Referer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The page and its fragment share a URL: caches must tell them apart by htmx's header.
    patch_vary_headers(response, ["HX-Request"])
    return response
