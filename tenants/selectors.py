from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants.models import DeletedTenant, Tenant

logger = logging.getLogger(__name__)


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.all().order_by("-created_at")


def deleted_tenants_in_quarantine() -> QuerySet[DeletedTenant]:
    """Deletion records whose slug is still reserved: deleted within
    TENANT_SLUG_QUARANTINE_DAYS and not released by an operator."""
    since = timezone.now() - timedelta(days=settings.TENANT_SLUG_QUARANTINE_DAYS)
    return DeletedTenant.objects.filter(deleted_at__gt=since, released_at__isnull=True)


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


def active_tenant_schemas_where(condition: str, params: dict, *, batch: int = 500) -> list[str]:
    """Schemas of the active tenants where `condition` holds, in one query per `batch`
    tenants: periodic work finds the tenants that have something to do without visiting
    the others. `condition` is a boolean SQL expression naming its tables `{schema}.table`
    and its parameters `%(name)s`."""
    schemas = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE)
        .exclude(schema_name=get_public_schema_name())
        .order_by("pk")
        .values_list("schema_name", flat=True)
    )
    found: list[str] = []
    for start in range(0, len(schemas), batch):
        names = schemas[start : start + batch]
        try:
            found.extend(_schemas_where(names, condition, params))
        except DatabaseError:
            # One schema the condition cannot read (a table not there yet) must not hide the
            # others' work: ask each of this batch alone.
            for name in names:
                try:
                    found.extend(_schemas_where([name], condition, params))
                except DatabaseError:
                    logger.warning("tenants.work_query_failed schema=%s", name, exc_info=True)
    return found


def _schemas_where(names: list[str], condition: str, params: dict) -> list[str]:
    parts = [
        f"SELECT %(schema_{index})s WHERE "
        + condition.format(schema=connection.ops.quote_name(name))
        for index, name in enumerate(names)
    ]
    names_params = {f"schema_{index}": name for index, name in enumerate(names)}
    with transaction.atomic(), connection.cursor() as cursor:  # a failure stays in here
        cursor.execute(" UNION ALL ".join(parts), {**params, **names_params})
        return [row[0] for row in cursor.fetchall()]


def each_active_tenant(schemas: list[str]):
    """Each tenant of `schemas` (from active_tenant_schemas_where) still active, yielded
    inside its schema."""
    from django_tenants.utils import tenant_context

    tenants = Tenant.objects.filter(schema_name__in=schemas, status=Tenant.Status.ACTIVE)
    for tenant in tenants.order_by("pk").iterator():
        with tenant_context(tenant):
            yield tenant


def active_tenant_schemas_each_where(condition: str, params: dict, *, batch: int = 200):
    """Yield, one by one, the schemas of the active tenants where `condition` holds (the
    form of active_tenant_schemas_where's). Tenants are read `batch` at a time in primary-key
    order and each is asked with a query of its own that reads only its indexes: no statement
    spans every schema, and a tenant without work costs one short query."""
    last_pk = 0
    while True:
        tenants = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE, pk__gt=last_pk)
            .exclude(schema_name=get_public_schema_name())
            .order_by("pk")
            .values_list("pk", "schema_name")[:batch]
        )
        if not tenants:
            return
        last_pk = tenants[-1][0]
        for _pk, name in tenants:
            sql = "SELECT " + condition.format(schema=connection.ops.quote_name(name))
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    has_work = bool(cursor.fetchone()[0])
            except DatabaseError:
                logger.warning("tenants.work_query_failed schema=%s", name, exc_info=True)
                continue
            if has_work:
                yield name
