"""Prometheus metrics (README, "Observability").

What every process counts (requests by route, sign-ins, token requests, Redis outages) lives
in prometheus_client's metrics; under gunicorn with several worker processes each process
writes its own files in `PROMETHEUS_MULTIPROC_DIR` and `/metrics` sums them (the client's
multiprocess mode; gunicorn.conf.py empties the folder at start and forgets dead workers).

What belongs to no process is read when `/metrics` is scraped, at a fixed cost whatever the
number of tenants: the Celery queue lengths (LLEN on the broker) and the email outbox backlog,
kept in one Redis sorted set that delivery maintains (`outbox_queued` when an email's task is
queued, `outbox_finished` when it is sent or given up), never a query over tenant schemas.

Labels are bounded: a route is the resolved URL name (never the raw path), and no label names
a tenant; per-tenant figures are the sign-in log's and the audit log's.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
import time

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("ciam.metrics")

REQUEST_SECONDS = Histogram(
    "ciam_request_duration_seconds",
    "Time to answer a request, by route (resolved URL name) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    "ciam_requests_total",
    "Requests answered, by route, method and status class (2xx, 4xx...).",
    ["route", "method", "status"],
)
SIGN_INS = Counter(
    "ciam_sign_ins_total",
    "Sign-in log rows of sign-ins (not token requests), by method and result.",
    ["method", "result"],
)
TOKEN_REQUESTS = Counter(
    "ciam_token_requests_total",
    "Token endpoint answers, by grant type and result (issued, or the OAuth error code).",
    ["grant", "result"],
)
REDIS_OUTAGES = Counter(
    "ciam_cache_redis_outages_total",
    "Times a process found Redis unreachable and began counting in its own memory.",
)
REDIS_FALLBACK_CALLS = Counter(
    "ciam_cache_fallback_calls_total",
    "Cache calls answered from a process's memory because Redis was unreachable.",
)
REDIS_IN_OUTAGE = Gauge(
    "ciam_cache_redis_outage",
    "1 while at least one live process counts in its own memory (Redis unreachable).",
    multiprocess_mode="livemax",
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_GRANTS = frozenset({"authorization_code", "refresh_token", "client_credentials"})
CELERY_QUEUES = ("interactive", "invitations", "bulk")
# kombu's Redis transport keeps a queue's messages of priority n > 0 in "<queue>\x06\x16<n>".
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


# Counting (one line at each place that counts) -----------------------------------------------


def request_observed(request, response, seconds: float) -> None:
    route = getattr(request, "metrics_route", None)
    if route is None:
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match is not None else "unmatched"
    method = request.method if request.method in _METHODS else "other"
    REQUEST_SECONDS.labels(route, method).observe(seconds)
    REQUESTS.labels(route, method, f"{response.status_code // 100}xx").inc()


def sign_in_counted(*, method: str, result: str) -> None:
    """A sign-in log row was written (audit.services.sign_in_record)."""
    if method != "token":  # the token endpoint counts its own (token_counted)
        SIGN_INS.labels(method, result).inc()


def token_counted(*, grant: str, result: str) -> None:
    """The token endpoint answered: `result` is "issued" or the OAuth error code."""
    TOKEN_REQUESTS.labels(grant if grant in _GRANTS else "other", result).inc()


# The email outbox backlog: one Redis sorted set, member "<schema>:<id>", score queued at -------

_redis_clients: dict[str, object] = {}
_redis_lock = threading.Lock()


def _redis(url: str):
    import redis

    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
            _redis_clients[url] = client
        return client


def _outbox_key() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'ciam')}:metrics:outbox"


def _outbox_members(outbox_ids) -> list[str]:
    from django.db import connection

    schema = getattr(connection, "schema_name", "public")
    return [f"{schema}:{outbox_id}" for outbox_id in outbox_ids]


def outbox_queued(outbox_ids, *, queued_at: float | None = None) -> None:
    """Emails whose delivery task was queued; an email queued again keeps its first time."""
    if not settings.REDIS_URL or not outbox_ids:
        return
    score = queued_at or time.time()
    try:
        _redis(settings.REDIS_URL).zadd(
            _outbox_key(), dict.fromkeys(_outbox_members(outbox_ids), score), nx=True
        )
    except Exception as error:  # metrics never fail the work they describe
        logger.debug("metrics.outbox_unavailable error=%s", error.__class__.__name__)


def outbox_finished(outbox_ids) -> None:
    """Emails sent or given up: no longer in the backlog."""
    if not settings.REDIS_URL or not outbox_ids:
        return
    try:
        _redis(settings.REDIS_URL).zrem(_outbox_key(), *_outbox_members(outbox_ids))
    except Exception as error:
        logger.debug("metrics.outbox_unavailable error=%s", error.__class__.__name__)


def outbox_tenant_forget(schema_name: str) -> None:
    """A deleted tenant's emails: out of the backlog (none of them will be sent or given up
    by a delivery task any more, so nothing else would take them out)."""
    if not settings.REDIS_URL:
        return
    try:
        client = _redis(settings.REDIS_URL)
        found = client.zscan_iter(_outbox_key(), match=f"{schema_name}:*", count=1000)
        members = [member for member, _score in found]
        if members:
            client.zrem(_outbox_key(), *members)
    except Exception as error:
        logger.debug("metrics.outbox_unavailable error=%s", error.__class__.__name__)


class ScrapeCollector:
    """What is read from Redis when `/metrics` is scraped: a few commands, no database query."""

    def collect(self):
        if settings.REDIS_URL:
            try:
                pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
                pipe.zcard(_outbox_key())
                pipe.zrange(_outbox_key(), 0, 0, withscores=True)
                backlog, oldest = pipe.execute()
            except Exception as error:
                logger.warning("metrics.redis_unavailable error=%s", error.__class__.__name__)
            else:
                yield GaugeMetricFamily(
                    "ciam_email_outbox_backlog",
                    "Emails queued for delivery and not yet sent or given up (all tenants).",
                    value=backlog,
                )
                age = max(0.0, time.time() - oldest[0][1]) if oldest else 0.0
                yield GaugeMetricFamily(
                    "ciam_email_outbox_oldest_age_seconds",
                    "How long the oldest email of the backlog has waited.",
                    value=age,
                )
        broker = settings.CELERY_BROKER_URL
        if broker.startswith(("redis://", "rediss://", "unix://")):
            try:
                pipe = _redis(broker).pipeline(transaction=False)
                for queue in CELERY_QUEUES:
                    for suffix in _PRIORITY_SUFFIXES:
                        pipe.llen(queue + suffix)
                lengths = pipe.execute()
            except Exception as error:
                logger.warning("metrics.broker_unavailable error=%s", error.__class__.__name__)
            else:
                family = GaugeMetricFamily(
                    "ciam_celery_queue_length",
                    "Tasks waiting on each Celery queue of the broker.",
                    labels=["queue"],
                )
                step = len(_PRIORITY_SUFFIXES)
                for index, queue in enumerate(CELERY_QUEUES):
                    family.add_metric([queue], sum(lengths[index * step : (index + 1) * step]))
                yield family


# The endpoint ----------------------------------------------------------------------------------


def metrics_allowed(request) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a client on a loopback or private network
    address (the client address as ciam.http.client_ip reads it behind TRUSTED_PROXY_COUNT
    proxies) when METRICS_PRIVATE_NETWORKS is on."""
    from ciam.http import client_ip

    token = settings.METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization[7:].encode(), token.encode())
    if not settings.METRICS_PRIVATE_NETWORKS:
        return False
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def metrics_response(request) -> HttpResponse:
    request.metrics_route = "metrics"
    if not metrics_allowed(request):
        response = HttpResponse("Forbidden\n", status=403, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    scraped = CollectorRegistry(auto_describe=True)
    scraped.register(ScrapeCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        body = generate_latest(processes)
    else:
        body = generate_latest(REGISTRY)
    response = HttpResponse(body + generate_latest(scraped), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class MetricsMiddleware:
    """First in both middleware stacks: times every request and counts its answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        request_observed(request, response, time.perf_counter() - started)
        return response
