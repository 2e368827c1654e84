from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, SignInEvent, SignInLogExport
from audit.selectors import sign_in_event_list
from ciam import metrics
from ciam.http import client_ip

if TYPE_CHECKING:
    from accounts.models import User


def audit_record(
    *,
    actor,
    action: str,
    target: Any = None,
    target_type: str = "",
    target_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    request=None,
) -> AuditEvent:
    """Write one audit row in the current schema. Call it from the service that made the change."""
    actor_is_user = actor is not None and getattr(actor, "is_authenticated", False)
    target_id = ""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = str(getattr(target, "public_id", None) or target.pk)
        target_label = target_label or str(target)
    return AuditEvent.objects.create(
        actor_id=getattr(actor, "public_id", None) if actor_is_user else None,
        actor_label=(actor.email if actor_is_user else str(actor or "system"))[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        before=before,
        after=after,
        ip_address=client_ip(request) if request is not None else None,
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )


# Sign-in log --------------------------------------------------------------------------------


def sign_in_event_insert(
    *,
    request=None,
    user: User | None = None,
    email: str = "",
    method: str,
    result: str,
    failure_reason: str = "",
    app_id: str = "",
    app_name: str = "",
    grant: str = "",
    mfa_used: bool = False,
    mfa_method: str = "",
    policies: list[dict] | None = None,
    idp: str = "",
    idp_subject: str = "",
    upstream_error: str = "",
) -> tuple[str, dict]:
    """The INSERT of one sign-in log row and its named parameters (all prefixed `log_`), for
    a caller that sends it in one statement with its own work (the token endpoint). Without
    `policies`, those conditional access evaluated for this request's sign-in, if any. A
    federated sign-in without `idp` names the IdP and subject allauth recorded for it."""
    meta = request.META if request is not None else {}
    if policies is None:
        policies = getattr(request, "sign_in_policies", None) or []
    if method == SignInEvent.Method.FEDERATED and not idp and request is not None:
        idp, idp_subject = _federated_identity(request, user)
    values = {
        "public_id": uuid.uuid4(),
        "occurred_at": timezone.now(),
        "user_id": getattr(user, "pk", None),
        "user_public_id": getattr(user, "public_id", None),
        "user_email": getattr(user, "email", "")[:254],
        "user_name": _user_name(user)[:256],
        "email_typed": (email or getattr(user, "email", ""))[:254],
        "ip_address": client_ip(request) if request is not None else None,
        "user_agent": meta.get("HTTP_USER_AGENT", "")[:512],
        "method": method,
        "result": result,
        "failure_reason": failure_reason[:120],
        "app_id": app_id[:100],
        "app_name": app_name[:255],
        "grant": grant,
        "mfa_used": mfa_used or (bool(mfa_method) and result == SignInEvent.Result.SUCCESS),
        "mfa_method": mfa_method,
        "policies": SignInEvent._meta.get_field("policies").get_db_prep_value(policies, connection),
        "request_id": getattr(request, "request_id", "") if request is not None else "",
        "idp": idp[:200],
        "idp_subject": idp_subject[:255],
        "upstream_error": upstream_error[:200],
    }
    return _sign_in_event_insert_sql(tuple(values)), {
        f"log_{column}": value for column, value in values.items()
    }


@functools.cache
def _sign_in_event_insert_sql(columns: tuple[str, ...]) -> str:
    """The INSERT for these columns, built once per process (always the same ones)."""
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join(f"%(log_{column})s" for column in columns)
    return f"INSERT INTO {SignInEvent._meta.db_table} ({names}) VALUES ({placeholders})"


def _federated_identity(request, user) -> tuple[str, str]:
    """The (provider, subject) allauth recorded for this session's upstream sign-in."""
    from allauth.account.authentication import get_authentication_records

    for record in reversed(get_authentication_records(request, user)):
        if record.get("method") == "socialaccount":
            return str(record.get("provider", "")), str(record.get("uid", ""))
    return "", ""


def _user_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or f"{user.first_name} {user.last_name}".strip()


def sign_in_record(**fields) -> None:
    """Write one sign-in log row (the fields of sign_in_event_insert). Never pass a password,
    code, token or secret here.

    A plain INSERT: every sign-in and every token issue writes one, and through the ORM the
    row cost more CPU than the rest of a token exchange's bookkeeping."""
    sql, parameters = sign_in_event_insert(**fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
    metrics.sign_in_counted(method=fields["method"], result=fields["result"])


# Sign-in log exports -----------------------------------------------------------------------

EXPORT_PROGRESS_EVERY = 1000
EXPORT_KEEP_DAYS = 7
SIGN_IN_EXPORT_HEADER = [
    "time (UTC)", "user", "user id", "email typed", "method", "app id", "app", "grant",
    "result", "failure reason", "MFA", "MFA method", "conditional access policies",
    "IP address", "browser", "user agent", "request id",
    "identity provider", "upstream subject", "upstream error",
]  # fmt: skip


def sign_in_export_start(*, actor, filters: dict, request=None):
    """Queue a CSV of the sign-in log rows matching `filters` (those of the console's sign-in
    log); the task runs once the request's transaction commits."""
    with transaction.atomic():
        export = SignInLogExport.objects.create(requested_by=actor, filters=filters)
        _exports_forget_due(export.created_at + timezone.timedelta(days=EXPORT_KEEP_DAYS))
        audit_record(
            actor=actor, action="sign_in_log.export", target=export,
            after={"filters": filters}, request=request,
        )  # fmt: skip
        transaction.on_commit(lambda: _sign_in_export_enqueue(export.pk))
    return export


def _sign_in_export_enqueue(export_id: int) -> None:
    from audit.tasks import sign_in_export_run

    sign_in_export_run.delay(export_id)


def sign_in_export_run(*, export_id: int) -> None:
    """Write the export's CSV, saying how far it got every EXPORT_PROGRESS_EVERY rows. A
    second run (a worker lost mid-way) starts again from the top."""

    pending = (SignInLogExport.Status.QUEUED, SignInLogExport.Status.RUNNING)
    export = SignInLogExport.objects.filter(pk=export_id, status__in=pending).first()
    if export is None:
        return
    events = sign_in_event_list(**export.filters).order_by("-occurred_at", "-id")
    total = min(events.count(), SignInLogExport.MAX_ROWS)
    events = events[: SignInLogExport.MAX_ROWS]
    exports = SignInLogExport.objects.filter(pk=export.pk)
    exports.update(status=SignInLogExport.Status.RUNNING, rows_total=total, rows_done=0)
    try:
        document, done = _sign_in_export_write(events, exports)
    except Exception:
        exports.update(status=SignInLogExport.Status.FAILED, finished_at=timezone.now())
        raise
    exports.update(
        status=SignInLogExport.Status.DONE, rows_done=done, content=document.text(),
        finished_at=timezone.now(),
    )  # fmt: skip


def _sign_in_export_write(events, exports):
    from accounts.devices import device_summary
    from ciam.spreadsheets import CsvText

    document = CsvText(SIGN_IN_EXPORT_HEADER)
    done = 0
    for event in events.iterator(chunk_size=EXPORT_PROGRESS_EVERY):
        document.row([
            event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            event.user.email if event.user else event.user_email,
            str(event.user.public_id) if event.user else str(event.user_public_id or ""),
            event.email_typed, event.method, event.app_id, event.app_name, event.grant,
            event.result, event.failure_reason, "yes" if event.mfa_used else "no",
            event.mfa_method, _policies_cell(event.policies), event.ip_address or "",
            device_summary(event.user_agent), event.user_agent, event.request_id,
            event.idp, event.idp_subject, event.upstream_error,
        ])  # fmt: skip
        done += 1
        if done % EXPORT_PROGRESS_EVERY == 0:
            exports.update(rows_done=done)
    return document, done


def _policies_cell(entries) -> str:
    """The conditional access policies that applied to a sign-in, as the console's log shows
    them: "Name: block", "Name: require mfa", "Name: report-only, would block"."""
    parts = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("result") == "not_applied":
            continue
        would = "report-only, would " if entry.get("state") == "report_only" else ""
        if entry.get("result") == "block":
            outcome = "block"
        else:
            outcome = "require " + (", ".join(entry.get("requirements") or []) or "nothing")
        parts.append(f"{entry.get('name', '')}: {would}{outcome}")
    return "; ".join(parts)


def _exports_forget_due(at) -> None:
    """In the transaction that writes an export: it is forgotten at `at` (tenants/work.py)."""
    from tenants.models import TenantWork
    from tenants.work import tenant_work_due

    tenant_work_due(kind=TenantWork.Kind.SIGN_IN_EXPORTS_FORGET, due_at=at)


def sign_in_exports_forget_next_due():
    """When the oldest export of this tenant is to be forgotten; None when there is none."""
    from django.db.models import Min

    oldest = SignInLogExport.objects.aggregate(at=Min("created_at"))["at"]
    return oldest + timezone.timedelta(days=EXPORT_KEEP_DAYS) if oldest else None


def sign_in_exports_forget(*, now=None) -> int:
    """Delete exports older than EXPORT_KEEP_DAYS (they hold personal data)."""
    cutoff = (now or timezone.now()) - timezone.timedelta(days=EXPORT_KEEP_DAYS)
    deleted, _by_model = SignInLogExport.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# Log retention ------------------------------------------------------------------------------

# Rows deleted a statement: each batch is its own short transaction, so sign-ins written
# meanwhile never wait long behind the pruning.
PRUNE_BATCH = 5000


def log_retention_update(*, actor, sign_in_days: int, audit_days: int, request=None):
    """Set how many days the sign-in and audit logs keep (audited, with the days before);
    days out of bounds raise ValidationError. Nothing changes, nothing is written."""
    from audit.selectors import log_retention_get

    retention = log_retention_get()
    before = {"sign_in_days": retention.sign_in_days, "audit_days": retention.audit_days}
    after = {"sign_in_days": sign_in_days, "audit_days": audit_days}
    if before == after:
        return retention
    retention.sign_in_days, retention.audit_days = sign_in_days, audit_days
    retention.full_clean()
    with transaction.atomic():
        retention.save()
        audit_record(
            actor=actor, action="log_retention.update", target=retention,
            target_label="Log retention", before=before, after=after, request=request,
        )  # fmt: skip
    return retention


def log_cutoff(days: int, *, now=None):
    """The first moment a log keeping `days` days still holds: midnight (UTC) `days` days
    before today, so it holds those whole days and today."""
    from datetime import UTC, datetime, time, timedelta

    today = (now or timezone.now()).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time.min, tzinfo=UTC)


def logs_prune(*, now=None, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """Delete the sign-in and audit log rows older than the tenant keeps them, in batches of
    primary-key ranges; the rows deleted per log."""
    from audit.selectors import log_retention_get

    retention = log_retention_get()
    return {
        "sign_ins": _prune(SignInEvent, log_cutoff(retention.sign_in_days, now=now), batch),
        "audit": _prune(AuditEvent, log_cutoff(retention.audit_days, now=now), batch),
    }


def _prune(model, cutoff, batch: int) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # The oldest row (primary key) and the newest row older than the cutoff (the index on
        # occurred_at): the ids between are the ones to look at.
        cursor.execute(f"SELECT min(id) FROM {table}")
        low = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT id FROM {table} WHERE occurred_at < %s ORDER BY occurred_at DESC, id DESC "
            "LIMIT 1",
            [cutoff],
        )
        row = cursor.fetchone()
    if low is None or row is None:
        return 0
    high, deleted = row[0], 0
    while low <= high:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id >= %s AND id < %s AND occurred_at < %s",
                [low, low + batch, cutoff],
            )
            deleted += cursor.rowcount
        low += batch
    # Rows written out of order (an id above `high` with an older time): few, by the index.
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "
                "WHERE occurred_at < %s ORDER BY occurred_at LIMIT %s)",
                [cutoff, batch],
            )
            deleted += cursor.rowcount
            if cursor.rowcount < batch:
                return deleted
