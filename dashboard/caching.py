"""No shared cache keeps what a person saw: pages for a logged-in user show customers' names and
tickets, so they are sent `Cache-Control: private, no-store` (unless the view said otherwise), and a
proxy or the browser's history cache never serves them to the next person at that computer."""

from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
