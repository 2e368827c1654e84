"""Host -> tenant, without a database query per request.

Each process keeps the tenants it has resolved. A generation number in the
shared cache tells every process when a tenant or domain changed; a process
looks at it at most once every GENERATION_CHECK_SECONDS, and the process that
made the change forgets its own copies at once.
"""

from __future__ import annotations

import contextlib
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants.models import Domain, Tenant

GENERATION_KEY = "tenants:routing-generation"
GENERATION_CHECK_SECONDS = 1.0

_tenants_by_host: dict[str, Tenant] = {}
_generation: str | None = None
_checked_at = 0.0


def tenant_for_host(host: str) -> Tenant | None:
    """The tenant served at `host`, or None when no verified domain matches."""
    _forget_if_changed_elsewhere()
    tenant = _tenants_by_host.get(host)
    if tenant is not None:
        return tenant
    domain = (
        Domain.objects.select_related("tenant")
        .filter(domain=host, is_verified=True)
        .only("tenant")
        .first()
    )
    if domain is None:
        return None  # unknown hosts are never cached: a flood of them cannot grow memory
    _tenants_by_host[host] = domain.tenant
    return domain.tenant


def routing_invalidate() -> None:
    """Call after changing a tenant or a domain: now here, and in every process after commit."""
    _tenants_by_host.clear()
    transaction.on_commit(_publish_new_generation)


def routing_forget_local() -> None:
    """Forget this process's copies (tests do this between tests, whose changes roll back)."""
    _tenants_by_host.clear()


def _publish_new_generation() -> None:
    global _generation
    _tenants_by_host.clear()
    _generation = uuid.uuid4().hex
    # Cache down: other processes catch up when it returns.
    with schema_context("public"), contextlib.suppress(Exception):
        cache.set(GENERATION_KEY, _generation, None)


def _forget_if_changed_elsewhere() -> None:
    global _generation, _checked_at
    now = time.monotonic()
    if now - _checked_at < GENERATION_CHECK_SECONDS:
        return
    _checked_at = now
    try:
        current = cache.get(GENERATION_KEY)
    except Exception:
        current = None
    if current != _generation:
        _tenants_by_host.clear()
        _generation = current


def is_platform_host(host: str) -> bool:
    return host == settings.BASE_DOMAIN


def current_schema() -> str:
    return connection.schema_name
