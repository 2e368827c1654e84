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
