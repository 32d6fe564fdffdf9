"""The one capped exponential backoff: the outbox, the notices and the Odoo client wait this way."""


def capped_backoff(attempt: int, *, base: float, cap: float) -> float:
    """Seconds to wait after the `attempt`-th failed try (1, 2, ...): base, twice that, and so on,
    never more than `cap`, so a long outage is retried at a steady pace instead of ever more rarely."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))
