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
    tenants the public work index names (tenants/work.py)."""
    from django.utils import timezone

    from audit import services
    from tenants.models import TenantWork
    from tenants.work import tenant_work_run

    now = timezone.now()
    done = tenant_work_run(
        TenantWork.Kind.SIGN_IN_EXPORTS_FORGET,
        now=now,
        visit=lambda tenant: services.sign_in_exports_forget(now=now),
        next_due=services.sign_in_exports_forget_next_due,
    )
    return {"tenants": len(done), "deleted": sum(deleted for _tenant, deleted in done)}


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
    """Beat (daily): queue the pruning of every active tenant, read from the public tenant
    table (no schema is asked here); each task first looks whether its own log holds rows
    older than the tenant keeps them (prune_condition)."""
    from tenants.work import active_tenants_queue

    return {"tenants": active_tenants_queue(logs_prune)}


@app.task(acks_late=True, reject_on_worker_lost=True)
def logs_prune() -> dict:
    """Prune this tenant's logs (the schema the task was queued in), if it holds rows older
    than it keeps: one look at each log's occurred_at index otherwise."""
    from audit import services
    from tenants.selectors import schema_has

    if not schema_has(prune_condition(), {"today": services.log_cutoff(0)}):
        return {"sign_ins": 0, "audit": 0}
    return services.logs_prune()
