"""Prometheus metrics at /metrics: what the console is doing, for an operator's dashboards and alerts.

Three sources:
- counters and histograms kept by the processes that do the work: Odoo requests and their errors
  (escalations.odoo.client), sync durations (escalations.tasks), request latency by view (the
  middleware below). Each process keeps its own; with PROMETHEUS_MULTIPROC_DIR set, every process
  writes them to files in that folder and /metrics adds them up (prometheus_client's multiprocess
  mode), so the worker's Odoo requests show in the web process's answer. Without it, /metrics shows
  the answering process's own;
- gauges read from the database at each scrape (DatabaseCollector): five queries, whatever the size
  of the tables;
- who may read them: a bearer token (METRICS_TOKEN), or an address in METRICS_ALLOWED_NETWORKS
  (loopback by default) for a request that came through no proxy.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from functools import lru_cache

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from dashboard.health import outbox_backlog
from escalations.models import Escalation, Notice, OdooAction, SyncState
from escalations.queue import sla_expression

REQUEST_LATENCY = Histogram(
    "console_http_request_duration_seconds", "Time to answer a request, by the view that answered it",
    ["view", "method"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# A proxy in front of the console connects from its own address, often loopback: a request it passed
# on carries one of these, and is never let in by its address.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _view_name(request) -> str:
    # The resolver's name, never the raw path: paths carry ids and wall tokens, and every distinct
    # label value is a new series in Prometheus.
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unresolved"


class RequestLatencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_LATENCY.labels(view=_view_name(request), method=method).observe(time.perf_counter() - started)
        return response


# -- who may read ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _token_ok(request) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode())


def _address_ok(request) -> bool:
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def metrics_allowed(request) -> bool:
    return _token_ok(request) or _address_ok(request)


# -- the gauges read from the database ---------------------------------------------------------------


def _age(moment, now) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    if value is not None:
        family.add_metric([], value)
    return family


class DatabaseCollector:
    """Gauges computed at scrape time, in five queries: the sync's state, the outbox by state and its
    backlog, the notices by state, the open escalations by level and SLA state."""

    def collect(self):
        now = timezone.now()
        yield from self._sync(now)
        yield from self._outbox(now)
        notices = GaugeMetricFamily("console_notices", "Email notices by state", labels=["state"])
        for row in Notice.objects.order_by().values("state").annotate(n=Count("id")):
            notices.add_metric([row["state"]], row["n"])
        yield notices
        yield self._escalations(now)

    def _sync(self, now):
        state = SyncState.objects.filter(pk=1).values(
            "last_success_at", "last_error", "beat_heartbeat_at").first() or {}
        yield _gauge("console_sync_age_seconds", "Seconds since the last successful Odoo sync (none: never)",
                     _age(state.get("last_success_at"), now))
        yield _gauge("console_sync_failing", "1 when the last Odoo sync failed",
                     1.0 if state.get("last_error") else 0.0)
        yield _gauge("console_beat_heartbeat_age_seconds", "Seconds since a worker ran beat's heartbeat task",
                     _age(state.get("beat_heartbeat_at"), now))

    def _outbox(self, now):
        by_state = GaugeMetricFamily("console_outbox_actions", "Odoo actions in the outbox by state",
                                     labels=["state"])
        for row in OdooAction.objects.order_by().values("state").annotate(n=Count("id")):
            by_state.add_metric([row["state"]], row["n"])
        yield by_state
        backlog = outbox_backlog(now=now)
        yield _gauge("console_outbox_backlog", "Actions on their way to Odoo (see /readyz)", backlog.count)
        yield _gauge("console_outbox_oldest_pending_age_seconds",
                     "Age of the oldest action on its way to Odoo; 0: none", backlog.oldest_age or 0.0)

    def _escalations(self, now):
        family = GaugeMetricFamily("console_open_escalations",
                                   "Open escalations by level number and SLA state", labels=["level", "sla"])
        rows = (Escalation.objects.filter(ended_at__isnull=True).order_by()
                .annotate(sla=sla_expression(now)).values("level__number", "sla").annotate(n=Count("id")))
        for row in rows:
            family.add_metric([str(row["level__number"]), row["sla"]], row["n"])
        return family


def metrics_text() -> tuple[bytes, str]:
    """The exposition: the processes' counters and histograms, then the database's gauges."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        processes = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(processes, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        processes = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return generate_latest(processes) + generate_latest(database), CONTENT_TYPE_LATEST
