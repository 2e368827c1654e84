"""The public work index: which tenants a beat task must visit, without reading their schemas.

Code that writes periodic work in a tenant's schema (an outbox email, a soft-deleted user,
an export, an invitation that will expire...) calls `tenant_work_due` in the same
transaction: a public row (tenant, kind, due at) says when the beat task of that kind next
has something to do there. The beat task reads the rows due in one public query
(`tenants_with_work_due`), visits those tenants only, and after each visit moves the row to
the next moment it has work or deletes it (`tenant_work_run`). No statement of the
discovery reads a tenant schema, whatever the number of tenants; a sharded deployment
(docs/scale-out.md) needs exactly that.

Nothing is lost between a writer and the task:
- the writer's row is written in its own transaction (the schemas share one database), so a
  crash loses both or neither;
- a writer holds the index row FOR SHARE until it commits, and the task takes it FOR UPDATE
  before it asks the tenant what is left: the task waits for writers in flight, then sees
  their work (each statement reads a fresh snapshot under READ COMMITTED) and keeps the row;
- a writer that comes after the task deleted the row inserts a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, tenant_context

from tenants.models import Tenant, TenantWork

logger = logging.getLogger(__name__)

# Tenants one run of a beat task visits at most; the rest are due at its next run.
VISITS_PER_RUN = 1000

_WORK = TenantWork._meta.db_table
_TENANT = Tenant._meta.db_table


def tenant_work_due(*, kind: str, due_at: datetime) -> None:
    """Record that the current tenant has `kind` work due at `due_at` (or earlier, if the
    index says so already). Call it in the transaction that writes the work."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("tenant work is written in a tenant's schema")
    with transaction.atomic(), connection.cursor() as cursor:
        # Most calls find a row due as early already: a shared lock then keeps the beat task
        # from clearing it before this transaction commits, and writers do not wait on each
        # other. Only a missing or later row takes the upsert's exclusive lock.
        cursor.execute(
            f"SELECT work.due_at FROM {_WORK} work JOIN {_TENANT} tenant "
            "ON tenant.id = work.tenant_id WHERE tenant.schema_name = %s AND work.kind = %s",
            [schema, kind],
        )
        row = cursor.fetchone()
        if row is not None and row[0] <= due_at:
            cursor.execute(
                f"SELECT work.due_at FROM {_WORK} work WHERE work.kind = %s AND work.tenant_id "
                f"= (SELECT id FROM {_TENANT} WHERE schema_name = %s) FOR SHARE",
                [kind, schema],
            )
            row = cursor.fetchone()  # the task may have moved or cleared it meanwhile
            if row is not None and row[0] <= due_at:
                return
        cursor.execute(
            f"INSERT INTO {_WORK} (tenant_id, kind, due_at) "
            f"SELECT id, %s, %s FROM {_TENANT} WHERE schema_name = %s "
            "ON CONFLICT (tenant_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at "
            f"WHERE {_WORK}.due_at > EXCLUDED.due_at",
            [kind, due_at, schema],
        )


def tenant_work_all_due(*, tenant: Tenant) -> None:
    """Every kind of work due now for `tenant`: for a schema whose work was written where no
    index row was (a tenant imported from another deployment). Each task finds what is left
    and keeps or clears its row."""
    from django.utils import timezone

    now = timezone.now()
    TenantWork.objects.bulk_create(
        [TenantWork(tenant=tenant, kind=kind, due_at=now) for kind in TenantWork.Kind.values],
        update_conflicts=True,
        unique_fields=["tenant", "kind"],
        update_fields=["due_at"],
    )


def tenants_with_work_due(kind: str, *, now: datetime, limit: int = VISITS_PER_RUN):
    """The active tenants with `kind` work due by `now`, earliest first, read from the public
    index: the due rows a page at a time in (due at, tenant) order on its (kind, due at)
    index, then their tenants by primary key. A suspended tenant's rows wait until it is
    resumed. Joined in one statement, PostgreSQL would hash the whole tenant table as soon as
    it expects a few hundred rows due (10 ms at 10,000 tenants, bench/tenants.py); here
    the cost follows the rows due, whatever the number of tenants."""
    from django.db.models import Q

    found: list[Tenant] = []
    after = None
    while len(found) < limit:
        rows = TenantWork.objects.filter(kind=kind, due_at__lte=now)
        if after is not None:
            rows = rows.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], tenant_id__gt=after[1]))
        page = list(rows.order_by("due_at", "tenant_id").values_list("due_at", "tenant_id")[:limit])
        tenants = Tenant.objects.filter(
            pk__in=[tenant_id for _due, tenant_id in page], status=Tenant.Status.ACTIVE
        ).in_bulk()
        found.extend(tenants[tenant_id] for _due, tenant_id in page if tenant_id in tenants)
        if len(page) < limit:
            break
        after = page[-1]
    return found[:limit]


def tenant_work_run(
    kind: str,
    *,
    now: datetime,
    visit: Callable[[Tenant], object],
    next_due: Callable[[], datetime | None],
) -> list[tuple[Tenant, object]]:
    """Visit each active tenant with `kind` work due (one public query), `visit(tenant)`
    running in its schema; then `next_due()`, asked there too, says when it has more: the row
    moves there, or is deleted when it answers None. A visit that raises is logged and leaves
    the row due, so the next run tries again; the other tenants are still visited."""
    done: list[tuple[Tenant, object]] = []
    for tenant in tenants_with_work_due(kind, now=now):
        with tenant_context(tenant):
            try:
                # Run by beat, each visit commits as it goes; inside a caller's transaction
                # a savepoint keeps one tenant's failure from aborting the others'.
                with transaction.atomic() if connection.in_atomic_block else nullcontext():
                    result = visit(tenant)
            except Exception:
                logger.exception("tenants.work_failed kind=%s tenant=%s", kind, tenant.slug)
                continue
            tenant_work_reschedule(kind=kind, tenant=tenant, next_due=next_due)
        done.append((tenant, result))
    return done


def tenant_work_reschedule(
    *, kind: str, tenant: Tenant, next_due: Callable[[], datetime | None]
) -> datetime | None:
    """Move the tenant's `kind` row to `next_due()`, or delete it when nothing is left. Run
    in the tenant's schema. The row is locked first: writers still in flight hold it shared
    until they commit, so the answer of `next_due` (a later statement) includes their work."""
    with transaction.atomic():
        row = TenantWork.objects.select_for_update().filter(tenant=tenant, kind=kind).first()
        due = next_due()
        if due is None:
            if row is not None:
                row.delete()
        elif row is None:  # cleared by an overlapping run, or a writer inserting right now
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {_WORK} (tenant_id, kind, due_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (tenant_id, kind) DO UPDATE "
                    f"SET due_at = LEAST({_WORK}.due_at, EXCLUDED.due_at)",
                    [tenant.pk, kind, due],
                )
        elif row.due_at != due:
            row.due_at = due
            row.save(update_fields=["due_at"])
    return due


def active_tenants_queue(task) -> int:
    """Queue `task` (a Celery task taking no arguments) once in the schema of every active
    tenant, read from the public tenant table: what a nightly task that concerns every
    tenant does (the task then asks its own schema whether it has work). Returns how many."""
    from tenants.selectors import active_tenants_each

    queued = 0
    for tenant in active_tenants_each():
        with tenant_context(tenant):
            task.delay()
        queued += 1
    return queued
