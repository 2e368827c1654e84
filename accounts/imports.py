"""Users created from a CSV upload (Console > Users > Import): checked row by row at upload,
created by a worker chunk by chunk with their welcome emails, with the report and progress
every bulk upload of the console has (console.bulk)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User, UserImport, email_normalize
from accounts.roles import AdminRole, has_admin_role
from audit.services import audit_record
from console.bulk import (
    bulk_chunk_run,
    bulk_emails_enqueue_on_commit,
    bulk_job_relay_due,
    bulk_jobs_relay,
    csv_header_and_rows,
    has_nul,
)

logger = logging.getLogger(__name__)

IMPORT_CHUNK = 200
IMPORT_MAX_ROWS = 20_000
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length

IMPORT_REASONS = {
    "bad_email": gettext_lazy("bad email"),
    "duplicate": gettext_lazy("duplicate"),
    "already_exists": gettext_lazy("a user with this address exists"),
    "bad_value": gettext_lazy("an attribute value the user flow does not accept"),
    "bad_characters": gettext_lazy("characters we cannot accept"),
}
# Header names of the four first columns, as people write them.
_NAME_COLUMNS = {
    "email": "email", "mail": "email", "email address": "email",
    "givenname": "givenName", "given name": "givenName", "first name": "givenName",
    "surname": "surname", "last name": "surname", "family name": "surname",
    "displayname": "displayName", "display name": "displayName", "name": "displayName",
}  # fmt: skip
_POSITIONAL = ["email", "givenName", "surname", "displayName"]


def _columns(header: list[str], attributes: dict) -> list[str | None]:
    """What each column holds, from the header row: a name column, a user-flow attribute key
    (as written in the flow, any case), or None (ignored)."""
    by_lower = {key.lower(): key for key in attributes}
    columns: list[str | None] = []
    for cell in header:
        text = cell.strip()
        columns.append(_NAME_COLUMNS.get(text.lower()) or by_lower.get(text.lower()))
    return columns


def _value_problem(attribute, value: str):
    """The attribute's value as the user flow stores it, or raise ValidationError."""
    from accounts.forms import attribute_field

    field = attribute_field(attribute, required=False)
    return field.clean(value)


def user_import_start(*, actor, data: bytes, file_name: str = "", request=None) -> UserImport:
    """Check an uploaded CSV row by row, keep the report of rejected rows and hand the valid
    ones to a worker."""
    from accounts.selectors import sign_up_attributes, user_flow_get
    from accounts.services import BUILTIN_ATTRIBUTES

    if not has_admin_role(actor, AdminRole.USER_ADMINISTRATOR):
        raise PermissionDenied(_("Only a User administrator can import users."))
    header, rows = csv_header_and_rows(data, header_word="mail")
    if len(rows) > IMPORT_MAX_ROWS:
        raise ValidationError(
            {"file": [_("Upload at most %(count)d rows at a time.") % {"count": IMPORT_MAX_ROWS}]}
        )
    flow_attributes = {
        attribute.key: attribute for attribute in sign_up_attributes(user_flow_get())
    }
    columns: list[str | None] = list(_POSITIONAL)
    if header is not None:
        columns = _columns(header, flow_attributes)
        if "email" not in columns:
            raise ValidationError({"file": [_("The header row needs an email column.")]})
    existing = {email for email in User.objects.values_list("email", flat=True).iterator()}
    seen: set[str] = set()
    valid, rejected = [], []
    total = 0
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        total += 1
        values = {
            column: cells[index] for index, column in enumerate(columns)
            if column and index < len(cells)
        }  # fmt: skip
        email = email_normalize(values.get("email", ""))
        reason = None
        if has_nul(cells):
            reason, email = "bad_characters", email.replace("\x00", "")
        if reason is None and len(email) > EMAIL_MAX_LENGTH:
            reason = "bad_email"
        if reason is None:
            try:
                validate_email(email)
            except ValidationError:
                reason = "bad_email"
        if reason is None and email in seen:
            reason = "duplicate"
        if reason is None and email in existing:
            reason = "already_exists"
        attributes = {}
        if reason is None:
            for key, value in values.items():
                if key == "email" or not value:
                    continue
                if key in flow_attributes:
                    try:
                        attributes[key] = _value_problem(flow_attributes[key], value)
                    except ValidationError:
                        reason = "bad_value"
                        break
                elif key in BUILTIN_ATTRIBUTES:
                    attributes[key] = value[: BUILTIN_ATTRIBUTES[key][1]]
        if reason:
            rejected.append({"row": number, "email": email[:254], "reason": reason})
            continue
        seen.add(email)
        valid.append({"row": number, "email": email, "attributes": attributes})
    if total == 0:
        raise ValidationError({"file": [_("The file has no rows.")]})
    with transaction.atomic():
        job = UserImport.objects.create(
            created_by=actor,
            file_name=file_name[:255],
            total_rows=total,
            pending_rows=valid,
            valid_rows=len(valid),
            rejected_rows=rejected,
            status=UserImport.Status.PROCESSING if valid else UserImport.Status.DONE,
            finished_at=None if valid else timezone.now(),
        )
        audit_record(
            actor=actor, action="user.import_start", target=job,
            after={"rows": total, "valid": len(valid), "rejected": len(rejected)},
            request=request,
        )  # fmt: skip
        if valid:
            from tenants.models import TenantWork

            bulk_job_relay_due(TenantWork.Kind.USER_IMPORT_RELAY)
            transaction.on_commit(lambda: user_import_enqueue(job.pk))
    return job


def user_import_enqueue(import_id: int) -> None:
    from accounts.tasks import user_import_process

    try:
        user_import_process.delay(import_id)
    except Exception as error:  # broker down: the relay picks the job up later
        logger.warning("accounts.import.enqueue_failed error=%s", error)


def user_import_process_chunk(*, import_id: int) -> bool:
    """Create the next chunk of an import's users, each with its welcome email, in one
    transaction. Returns True while rows remain."""
    return bulk_chunk_run(
        UserImport, job_id=import_id, chunk_size=IMPORT_CHUNK, process=_users_create
    )


def _users_create(job: UserImport, chunk: list[dict]) -> list[dict]:
    from allauth.account.models import EmailAddress

    from accounts.lifecycle import welcome_payload
    from accounts.selectors import user_flow_get
    from accounts.services import user_attributes_apply
    from emails.models import OutboxEmail

    # Rows checked at upload may have been taken since (someone created or signed up).
    taken = set(
        User.objects.filter(email__in=[row["email"] for row in chunk]).values_list(
            "email", flat=True
        )
    )
    late_rejects, users = [], []
    for row in chunk:
        if row["email"] in taken:
            late_rejects.append(
                {"row": row["row"], "email": row["email"], "reason": "already_exists"}
            )
            continue
        user = User(email=row["email"])
        user.set_unusable_password()
        user_attributes_apply(user=user, attributes=row["attributes"])
        users.append(user)
    User.objects.bulk_create(users)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=False, primary=True) for user in users]
    )
    # Their welcome emails: outbox rows in this chunk's transaction, queued 50 a task once it
    # commits (as the bulk invite does).
    flow = user_flow_get()
    now = timezone.now()
    outbox = OutboxEmail.objects.bulk_create(
        [
            OutboxEmail(
                kind=OutboxEmail.Kind.ACCOUNT, to=user.email, created_at=now, queued_at=now,
                payload=welcome_payload(user=user, flow=flow),
            )
            for user in users
        ]
    )  # fmt: skip
    bulk_emails_enqueue_on_commit([row.pk for row in outbox])
    if users:
        audit_record(
            actor=job.created_by, action="user.import_create", target=job,
            after={"count": len(users), "emails": [user.email for user in users]},
        )  # fmt: skip
    return late_rejects


def user_import_relay(*, now: datetime | None = None) -> int:
    """Queue again the imports whose task was lost (broker down when they were uploaded)."""
    return bulk_jobs_relay(UserImport, user_import_enqueue, now=now)
