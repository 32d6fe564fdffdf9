"""/healthz, /readyz and /metrics: for probes, monitoring and Prometheus, not for people.

No login, nothing cached on the way (`no-store`), and no secret in any answer (dashboard.health,
dashboard.metrics). /healthz touches nothing but the process: a load balancer may call it every
second. /readyz reads the database and the broker; /metrics asks for a token or a trusted address.
"""

from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from dashboard.health import readiness
from dashboard.metrics import metrics_allowed, metrics_text


def _no_store(response):
    add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
    return response


@require_safe
def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


@require_safe
def readyz(request):
    checks = readiness(now=timezone.now())
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ready else "failing", "checks": checks}
    return _no_store(JsonResponse(body, status=200 if ready else 503))


@require_safe
def metrics(request):
    if not metrics_allowed(request):
        return _no_store(HttpResponseForbidden(
            "Metrics need METRICS_TOKEN as a bearer token, or an address in METRICS_ALLOWED_NETWORKS.",
            content_type="text/plain"))
    body, content_type = metrics_text()
    return _no_store(HttpResponse(body, content_type=content_type))
