from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from tenants.models import Tenant


def tenant_list(*, search: str = "", status: str = "") -> QuerySet[Tenant]:
    tenants = Tenant.objects.all().order_by("-created_at")
    if search:
        tenants = tenants.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    if status:
        tenants = tenants.filter(status=status)
    return tenants


def tenant_user_counts(tenants) -> dict[int, int]:
    """Users per tenant for a page of tenants, in one query across their schemas."""
    tenants = list(tenants)
    if not tenants:
        return {}
    parts = [
        f'SELECT {int(tenant.pk)}, count(*) FROM "{tenant.schema_name}".accounts_user'
        for tenant in tenants
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return dict(cursor.fetchall())


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    """An absolute URL on the tenant's primary domain (never from a request's Host header)."""
    host = tenant.primary_host
    domain = tenant.domains.filter(is_primary=True).first() if tenant.pk else None
    if domain is not None:
        host = domain.domain
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{port}{path}"
