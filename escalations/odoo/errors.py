"""The few errors the rest of the app sees from Odoo, whatever the transport said.

`transient` tells the caller whether trying again later can help (Odoo down, slow, a proxy's 502);
the others are permanent for the call that raised them and must not be retried blindly.
"""


class OdooError(Exception):
    transient = False

    def __init__(self, message: str, *, odoo_name: str = ""):
        super().__init__(message)
        self.message = message
        # Odoo's exception class name (e.g. "odoo.exceptions.AccessError"), when Odoo sent one.
        self.odoo_name = odoo_name


class OdooAuthError(OdooError):
    """Odoo refused the login or the API key (wrong, revoked or expired)."""


class OdooUnavailable(OdooError):
    """Odoo could not be reached, timed out, or answered with something that is not Odoo (a 502 page)."""

    transient = True


class OdooAccessDenied(OdooError):
    """The user is logged in but may not read or change this record."""


class OdooRecordGone(OdooError):
    """The record was deleted in Odoo."""


class OdooRejected(OdooError):
    """Odoo refused the values (validation error, user error, archived user, bad field)."""


class OdooUserNotInternal(OdooRejected):
    """The integration user is a portal/share user: Odoo 17+ escapes the HTML of its notes (it honours
    `body_is_html` only for internal users) and record rules hide most tickets from it. Permanent until
    someone changes the user in Odoo; a rejection, so a write-back fails with this message."""
