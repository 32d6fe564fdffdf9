"""GET /api/queue/: the escalation queue as read-only JSON, for other wallboard tools.

Two ways in:
- a wall display's token, as `Authorization: Bearer <token>` (or `?token=` for tools that cannot set
  a header); it sees its display's team only, like the display itself;
- a logged-in user's session; every team, or one with `?team=<id>`.
No credentials: 401; an unknown token: 401; a revoked one: 403; too many unknown tokens from the
address (dashboard.token_guesses): 429, even for a right one; always JSON. The version is the ETag,
so a tool that sends If-None-Match gets a bodiless 304 while nothing changed: from the queue's change
stamp, before the queue is read (with a token, two queries: the token and the stamp).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.views.decorators.http import require_safe

from dashboard.feed import feed_version, queue_feed
from dashboard.token_guesses import retry_after_seconds, token_guess_failed, token_guesses_exceeded
from escalations.models import Team
from escalations.queue import change_stamp, escalation_queue
from escalations.sync.health import sync_health
from escalations.walls import display_team_ids, wall_display_check, wall_display_seen

DEFAULT_LIMIT, MAX_LIMIT = 100, 500


class FeedError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class FeedScope:
    team_ids: list[int] | None  # None: every team
    team: Team | None


@require_safe
def queue_feed_view(request):
    try:
        scope = _feed_scope(request)
        limit = _limit(request)
    except FeedError as exc:
        return _error(exc)
    now = timezone.now()
    # The stamp before the queue: a change landing in between moves the next ETag instead of being missed.
    version = feed_version(stamp=change_stamp(now=now), team_ids=scope.team_ids, limit=limit)
    headers = HttpResponse()
    _cache_headers(headers, version)
    not_modified = get_conditional_response(request, etag=headers["ETag"], response=headers)
    if not_modified is not headers:
        return not_modified
    health = sync_health(now=now)
    queue = escalation_queue(now=now, team_ids=scope.team_ids, limit=limit,
                             server_version=health.server_version)
    payload = queue_feed(queue=queue, health=health, now=now, version=version, team=scope.team, limit=limit)
    return _cache_headers(JsonResponse(payload), version)


def _feed_scope(request) -> FeedScope:
    """Who asks, and which teams they may see; FeedError when nobody or a revoked display asks."""
    token = _token(request)
    if token:
        if token_guesses_exceeded(request):
            raise FeedError(429, "too_many_wrong_tokens",
                            "Too many wrong display tokens from this address; try again later.")
        check = wall_display_check(token=token)
        if check.display is None:
            token_guess_failed(request)
        if check.revoked:
            raise FeedError(403, "revoked", "This display token was revoked.")
        if not check.active:
            raise FeedError(401, "invalid_token", "This token is not valid.")
        wall_display_seen(display=check.display, now=timezone.now())
        return FeedScope(team_ids=display_team_ids(check.display), team=check.display.team)
    if request.user.is_authenticated:
        team = _team(request.GET.get("team", ""))
        return FeedScope(team_ids=[team.pk] if team else None, team=team)
    raise FeedError(401, "unauthorized", "Send a display token (Authorization: Bearer <token>) or log in.")


def _token(request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.GET.get("token", "").strip()


def _team(raw: str) -> Team | None:
    if not raw:
        return None
    # Checked before the query: a number beyond the column's range would fail in PostgreSQL.
    team = Team.objects.filter(pk=int(raw)).first() if _small_number(raw) else None
    if team is None:
        raise FeedError(404, "unknown_team", f"No team with id {raw!r}.")
    return team


def _small_number(raw: str) -> bool:
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and few of them: a number past
    # the database's integers fails the query, and 4,300 digits fail int() itself.
    return raw.isascii() and raw.isdigit() and len(raw) <= 9


def _limit(request) -> int:
    raw = request.GET.get("limit", "")
    if not raw:
        return DEFAULT_LIMIT
    if not _small_number(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise FeedError(400, "bad_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _error(exc: FeedError) -> JsonResponse:
    response = JsonResponse({"error": exc.code, "message": exc.message}, status=exc.status)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="queue"'
    if exc.status == 429:
        response["Retry-After"] = str(retry_after_seconds())
    response["Cache-Control"] = "no-store"
    return response


def _cache_headers(response: HttpResponse, version: str) -> HttpResponse:
    # Weak: the body's ticking times (generated_at, seconds_left) differ between two equal versions.
    response["ETag"] = f'W/"{version}"'
    # Private data: a shared cache must not keep it; a client may, but must ask again every time.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Authorization", "Cookie"])
    return response
