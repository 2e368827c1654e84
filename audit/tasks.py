"""Celery tasks of the Logs area: they take ids and call services, in the schema of the tenant
that queued them (tenant-schemas-celery)."""

from __future__ import annotations

from ciam.celery import app


@app.task(acks_late=True, reject_on_worker_lost=True)
def sign_in_export_run(export_id: int) -> None:
    from audit import services

    services.sign_in_export_run(export_id=export_id)


@app.task
def sign_in_exports_forget_all() -> dict:
    """Beat (daily): delete sign-in log exports past their keeping time, visiting only the
    tenants that have some."""
    from django.utils import timezone

    from audit import services
    from audit.models import SignInLogExport
    from tenants.selectors import active_tenant_schemas_where, each_active_tenant

    cutoff = timezone.now() - timezone.timedelta(days=services.EXPORT_KEEP_DAYS)
    schemas = active_tenant_schemas_where(
        f"EXISTS (SELECT 1 FROM {{schema}}.{SignInLogExport._meta.db_table} "
        "WHERE created_at < %(cutoff)s)",
        {"cutoff": cutoff},
    )
    deleted = 0
    for _tenant in each_active_tenant(schemas):
        deleted += services.sign_in_exports_forget()
    return {"tenants": len(schemas), "deleted": deleted}


def prune_condition() -> str:
    """True in a tenant's schema when its sign-in or audit log holds a row older than the
    tenant keeps it (`%(today)s` is midnight UTC): one look at each log's occurred_at index."""
    from audit.models import AuditEvent, LogRetention, SignInEvent

    retention = LogRetention._meta.db_table
    return " OR ".join(
        f"EXISTS (SELECT 1 FROM {{schema}}.{model._meta.db_table} WHERE occurred_at < "
        f"%(today)s - make_interval(days => COALESCE((SELECT {column} FROM "
        f"{{schema}}.{retention} WHERE id = 1), {default})))"
        for model, column, default in (
            (SignInEvent, "sign_in_days", LogRetention.SIGN_IN_DEFAULT_DAYS),
            (AuditEvent, "audit_days", LogRetention.AUDIT_DEFAULT_DAYS),
        )
    )


@app.task
def logs_prune_all() -> dict:
    """Beat (daily): queue the pruning of each tenant whose sign-in or audit log holds rows
    older than it keeps. Tenants are looked at one small query each, in batches
    (tenants.selectors.active_tenant_schemas_each_where), never in one query over all."""
    from django_tenants.utils import schema_context

    from audit.services import log_cutoff
    from tenants.selectors import active_tenant_schemas_each_where

    queued = 0
    for schema in active_tenant_schemas_each_where(prune_condition(), {"today": log_cutoff(0)}):
        with schema_context(schema):
            logs_prune.delay()
        queued += 1
    return {"tenants": queued}


@app.task(acks_late=True, reject_on_worker_lost=True)
def logs_prune() -> dict:
    """Prune this tenant's logs (the schema the task was queued in)."""
    from audit import services

    return services.logs_prune()
