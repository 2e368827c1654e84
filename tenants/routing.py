"""Host -> tenant, without a database query per request.

Each process keeps the tenants it has resolved. A generation number in the
shared cache tells every process when a tenant or domain changed; a process
looks at it at most once every GENERATION_CHECK_SECONDS, and the process that
made the change forgets its own copies at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from ciam.process_cache import ProcessCache
from tenants.models import Domain, Tenant

GENERATION_KEY = "tenants:routing-generation"
GENERATION_CHECK_SECONDS = 1.0

_tenants_by_host = ProcessCache(GENERATION_KEY, check_seconds=GENERATION_CHECK_SECONDS)


def tenant_for_host(host: str) -> Tenant | None:
    """The tenant served at `host`, or None when no verified domain matches."""
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
    _tenants_by_host.set(host, domain.tenant)
    return domain.tenant


def routing_invalidate() -> None:
    """Call after changing a tenant or a domain: now here, and in every process after commit."""
    _tenants_by_host.invalidate()


def routing_forget_local() -> None:
    """Forget this process's copies (tests do this between tests, whose changes roll back)."""
    _tenants_by_host.forget_local()


def is_platform_host(host: str) -> bool:
    return host == settings.BASE_DOMAIN


def current_schema() -> str:
    return connection.schema_name
