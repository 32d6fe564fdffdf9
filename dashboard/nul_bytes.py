"""Refuse requests that carry a NUL character, before any view sees them.

No field of the console accepts one, and PostgreSQL cannot store or even compare one in a text
column: a NUL in a search box or a form field would otherwise fail the query and answer 500. Refused
here once, with a 400 and a plain message, rather than field by field in every view.
"""

from django.core.exceptions import BadRequest

MESSAGE = "The request contained a NUL character, which no field accepts."


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # request.POST is parsed only for form posts; CSRF's check reads it anyway.
        posted = request.method == "POST" and _has_nul(request.POST)
        if "\x00" in request.path or _has_nul(request.GET) or posted:
            raise BadRequest(MESSAGE)
        return self.get_response(request)
