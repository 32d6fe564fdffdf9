"""The wall display: the escalation queue, read-only and full-screen, for the support room's screen.

The token in the URL is the screen's only credential. Its first load, /wall/<token>/, trades it for the
display's pass (escalations.walls.wall_display_pass) in a signed cookie scoped to /wall/, and sends the
screen on to /wall/: the page and its polls then carry no token, so it is in no access log, no
browser history and no address bar after the first request. The views read no user session and
render no form, so nothing can be done from the screen, and a stolen URL shows only what the room
already sees. Wrong tokens count against the sender's address (dashboard.token_guesses).

An open screen polls /wall/ every WALL_POLL_SECONDS with the version it shows (static/js/wall.js adds
it):
1. unchanged: 204 and no body, which htmx does not swap; known from the pass's display and the queue's
   change stamp alone (two queries), before the queue is read, so that fifty screens polling cost
   next to nothing;
2. changed: the `live` fragment, swapped into the page;
3. token revoked or replaced: the `ended` fragment with htmx's "stop polling" status (286), which
   htmx swaps and then stops polling. A 403 would be truer, but htmx 2 swaps no 4xx by default, and
   the screen would go on showing a queue it may no longer see. A full page load gets the honest 403
   (revoked) or 404.
"""

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from django_htmx.http import HttpResponseStopPolling

from dashboard.token_guesses import retry_after_seconds, token_guess_failed, token_guesses_exceeded
from escalations.walls import (
    TokenCheck,
    WallData,
    wall_data,
    wall_display_check,
    wall_display_pass,
    wall_display_resume,
    wall_display_seen,
    wall_version,
)

PAGE = "wall/wall.html"
ENDED = "wall/ended.html"
THROTTLED = "wall/throttled.html"
PASS_COOKIE, PASS_SALT = "wall_display", "dashboard.views.wall"
# A screen runs for months: the pass outlives reboots, and ends when its display is revoked or renewed.
PASS_AGE = timedelta(days=365)
# Seconds each page of rows stays on screen when they do not all fit; `?page_seconds=` changes it for one
# screen (a test, or a room that reads slowly).
PAGE_SECONDS, PAGE_SECONDS_RANGE = 15, range(1, 301)


@require_safe
def wall_enter(request, token: str):
    """/wall/<token>/: trade the token for the display's pass, then on to /wall/ without it."""
    if token_guesses_exceeded(request):
        return _private(_throttled(request))
    check = wall_display_check(token=token)
    if check.display is None:
        token_guess_failed(request)
    if not check.active:
        return _private(_ended(request, check))
    query = request.GET.urlencode()
    response = redirect(reverse("wall-screen") + (f"?{query}" if query else ""))
    _give_pass(response, check.display)
    return _private(response)


@require_safe
def wall(request):
    """/wall/: the queue of the display the screen's pass names; its polls come here too."""
    display_pass = request.get_signed_cookie(PASS_COOKIE, default="", salt=PASS_SALT,
                                             max_age=PASS_AGE)
    check = wall_display_resume(display_pass=display_pass)
    if not check.active:
        response = _ended(request, check)
        if check.display is None:  # a pass for an older token, or none: nothing left to keep
            response.delete_cookie(PASS_COOKIE, path=reverse("wall-screen"), samesite="Lax")
        return _private(response)
    now = timezone.now()
    wall_display_seen(display=check.display, now=now)
    version = wall_version(display=check.display, now=now)
    if request.htmx and request.GET.get("v") == version:
        return _private(HttpResponse(status=204))
    data = wall_data(display=check.display, version=version, now=now)
    template = f"{PAGE}#live" if request.htmx else PAGE
    response = render(request, template, _context(data, page_seconds=_page_seconds(request)))
    if not request.htmx:
        _give_pass(response, check.display)  # each page load renews the pass's year
    return _private(response)


def _give_pass(response: HttpResponse, display) -> None:
    response.set_signed_cookie(
        PASS_COOKIE, wall_display_pass(display=display), salt=PASS_SALT, max_age=PASS_AGE,
        path=reverse("wall-screen"), secure=settings.HTTPS, httponly=True, samesite="Lax",
    )


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


def _throttled(request) -> HttpResponse:
    minutes = settings.WALL_TOKEN_GUESS_MINUTES
    response = render(request, THROTTLED, {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after_seconds())
    # Django logs each 4xx with its path, and this path may hold a right token: token_guesses logged
    # the address once, without it.
    response._has_been_logged = True
    return response


def _private(response: HttpResponse) -> HttpResponse:
    """Never cached (a cached queue would look live), never indexed, the token never in a Referer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The page and its fragment share a URL, and the display is the pass's: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request", "Cookie"])
    return response
