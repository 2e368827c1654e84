from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import DeletedTenant, Tenant


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.all().order_by("-created_at")


def deleted_tenants_in_quarantine() -> QuerySet[DeletedTenant]:
    """Deletion records whose slug is still reserved: deleted within
    TENANT_SLUG_QUARANTINE_DAYS and not released by an operator."""
    since = timezone.now() - timedelta(days=settings.TENANT_SLUG_QUARANTINE_DAYS)
    return DeletedTenant.objects.filter(deleted_at__gt=since, released_at__isnull=True)


def tenant_user_counts(tenants) -> dict[int, int]:
    """Users per tenant for a page of tenants, one query in each tenant's schema: no
    statement reads two tenant schemas (docs/scale-out.md, a schema may live on another
    node)."""
    counts = {}
    # In the public schema: each statement then names one tenant schema and nothing else.
    with schema_context(get_public_schema_name()), connection.cursor() as cursor:
        for tenant in tenants:
            schema = connection.ops.quote_name(tenant.schema_name)
            cursor.execute(f"SELECT count(*) FROM {schema}.accounts_user")
            counts[tenant.pk] = cursor.fetchone()[0]
    return counts


def tenant_url(tenant: Tenant, path: str = "/") -> str:
    """An absolute URL on the tenant's primary domain (never from a request's Host header)."""
    host = tenant.primary_host
    domain = tenant.domains.filter(is_primary=True).first() if tenant.pk else None
    if domain is not None:
        host = domain.domain
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{port}{path}"


def active_tenants_each(*, batch: int = 500):
    """Each active tenant, read `batch` at a time from the public table in primary-key order:
    what a daily task that concerns every tenant iterates (it asks no schema to decide)."""
    last_pk = 0
    while True:
        tenants = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE, pk__gt=last_pk)
            .exclude(schema_name=get_public_schema_name())
            .order_by("pk")[:batch]
        )
        if not tenants:
            return
        last_pk = tenants[-1].pk
        yield from tenants


def schema_has(condition: str, params: dict) -> bool:
    """Whether `condition` holds in the current tenant's schema: a boolean SQL expression
    naming its tables `{schema}.table` and its parameters `%(name)s`. A task queued for one
    tenant asks it before doing its work."""
    sql = "SELECT " + condition.format(schema=connection.ops.quote_name(connection.schema_name))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.fetchone()[0])
