"""Exceptions that look like Odoo's on the wire.

Odoo serializes an exception as `<module>.<ClassName>` (see `serialize_exception` in odoo/http.py), so
each class here carries the module path the real one has. Python builtins (ValueError, TypeError,
AttributeError...) are raised as themselves: Odoo reports them as `builtins.ValueError` and so do we.
"""


class OdooException(Exception):
    odoo_module = "odoo.exceptions"

    def __init__(self, message, *args):
        super().__init__(message, *args)


class UserError(OdooException):
    pass


class AccessError(UserError):
    """A subclass of UserError since Odoo 16, which matters for XML-RPC fault codes (4 before 2)."""


class MissingError(UserError):
    pass


class ValidationError(UserError):
    pass


class AccessDenied(OdooException):
    def __init__(self, message="Access Denied"):
        super().__init__(message)


class SessionExpired(Exception):
    odoo_module = "odoo.http"
    odoo_name = "SessionExpiredException"


class SerializationFailure(Exception):
    """What a client sees when PostgreSQL keeps refusing a write after Odoo's own retries.

    Used by the `fail_writes` fault: a transient server-side failure, not a user mistake.
    """

    odoo_module = "psycopg2.errors"


def qualified_name(exc: BaseException) -> str:
    cls = type(exc)
    module = getattr(cls, "odoo_module", cls.__module__)
    return f"{module}.{getattr(cls, 'odoo_name', cls.__name__)}"


def message_of(exc: BaseException) -> str:
    # Odoo uses str(exc); for exceptions built with several args that is the tuple's repr, so we use
    # the first argument the way Odoo's own exceptions (which define `.args[0]` as the message) do.
    if isinstance(exc, OdooException) and exc.args:
        return str(exc.args[0])
    return str(exc)


def missing_error(model: str, ids, uid: int) -> MissingError:
    shown = ", ".join(str(i) for i in ids)
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}({shown},), User: {uid})"
    )


class HTTPException(Exception):
    """werkzeug's HTTP exceptions, as Odoo's JSON-2 dispatcher reports them: the status is the exception's
    code, the message its description, the arguments (description, code)."""

    odoo_module = "werkzeug.exceptions"
    code = 500

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class BadRequest(HTTPException):
    code = 400


class Unauthorized(HTTPException):
    code = 401


class NotFound(HTTPException):
    code = 404


class UnprocessableEntity(HTTPException):
    code = 422


class OperationalError(Exception):
    """What psycopg2 raises (and Odoo passes on) when a client names a database that does not exist."""

    odoo_module = "psycopg2"


def unknown_database(db) -> OperationalError:
    return OperationalError(f'connection to server failed: FATAL:  database "{db}" does not exist\n')
