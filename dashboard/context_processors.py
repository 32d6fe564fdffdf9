"""Template context every page gets."""

from __future__ import annotations

from escalations.models import SyncState
from escalations.sync.key_refusal import MESSAGE as KEY_REFUSED


def _key_refused() -> bool:
    state = SyncState.objects.filter(pk=1).only("last_error", "auth_failed_at").first()
    return state is not None and state.auth_refused


def odoo_key(request) -> dict:
    """Whether Odoo refused the console's API key, for the alert every page shows (base.html).

    Views that load SyncState anyway pass it as `sync`, and base.html asks it; `key_refused` is a
    callable, so the template reads the database itself (one query) only on pages that do not.
    """
    return {"key_refused": _key_refused, "key_refused_message": KEY_REFUSED}
