"""Wrong wall display tokens, counted per address, so that nobody can try tokens by the thousand.

A token is 32 random bytes, far beyond guessing; the limit keeps a scanner from trying anyway, and
from costing a query per try. Past WALL_TOKEN_GUESS_LIMIT wrong tokens (at /wall/<token>/ or the JSON
feed) from one address within WALL_TOKEN_GUESS_MINUTES, that address is refused, even with a right
token, until the window that began with its first wrong token ends. A revoked token is not a guess: it
was real.

The count lives in Django's default cache. With the default local-memory cache each server process
counts its own, so N processes allow up to N times the limit; CACHE_URL (Redis) makes it one count.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _key(request) -> str:
    return f"wall-token-guesses:{request.META.get('REMOTE_ADDR', '')}"


def token_guesses_exceeded(request) -> bool:
    return (cache.get(_key(request)) or 0) >= settings.WALL_TOKEN_GUESS_LIMIT


def token_guess_failed(request) -> None:
    """Count one wrong token from the request's address; log the one that reaches the limit."""
    key = _key(request)
    # add() starts the window only if none is running; incr() then never moves its end.
    cache.add(key, 0, timeout=settings.WALL_TOKEN_GUESS_MINUTES * 60)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.add(key, 1, timeout=settings.WALL_TOKEN_GUESS_MINUTES * 60)
        count = 1
    if count == settings.WALL_TOKEN_GUESS_LIMIT:
        logger.warning("%s wrong wall display tokens from %s: that address is refused for up to %s minutes",
                       count, request.META.get("REMOTE_ADDR", ""), settings.WALL_TOKEN_GUESS_MINUTES)


def retry_after_seconds() -> int:
    """What a refused address is told to wait: at most the window (its true end is not stored)."""
    return settings.WALL_TOKEN_GUESS_MINUTES * 60
