"""How many posts a hook takes per minute; past ODOO_HOOK_RATE_PER_MINUTE the rest are refused (429).

A mass edit in Odoo (or a cron that rewrites every ticket) sends one webhook per ticket: past the limit
reading them one by one would cost more than the sync that reconciles them anyway, so they are
refused, and the next periodic sync brings the changes. Counted in Django's cache, like wrong wall
tokens (dashboard.token_guesses): per process with the default local-memory cache, shared with Redis
or Memcached.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def push_flood_exceeded(*, hook_id: int) -> bool:
    """Count one post to the hook; True when it is past the limit of its minute."""
    key = f"odoo-hook-posts:{hook_id}"
    # add() starts the window only if none is running; incr() then never moves its end.
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.add(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count > settings.ODOO_HOOK_RATE_PER_MINUTE
