"""Bulk invitations from a CSV upload, checked row by row and processed by a worker."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from console.bulk import (
    bulk_chunk_run,
    bulk_emails_enqueue_on_commit,
    bulk_job_relay_due,
    bulk_jobs_relay,
    csv_rows,
    has_nul,
)
from emails.models import OutboxEmail
from guests.models import BulkInvitation, Invitation
from guests.services.governance import governance_due
from guests.services.invitations import token_hash
from guests.services.limits import addresses_limit_take
from guests.services.policy import can_invite, domain_problem, guest_settings_get, redirect_problem
from tenants.models import TenantWork

logger = logging.getLogger(__name__)

BULK_CHUNK = 200
BULK_MAX_ROWS = 20_000
# A valid row must fit the invitation the worker makes of it.
EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length
REDIRECT_URL_MAX_LENGTH = Invitation._meta.get_field("redirect_url").max_length

BULK_REASONS = {
    "bad_email": _("bad email"),
    "denied_domain": _("denied domain"),
    "duplicate": _("duplicate"),
    "already_member": _("already a member"),
    "bad_redirect": _("bad redirect URL"),
    "bad_characters": _("characters we cannot accept"),
    "rate_limited": _("too many invitations to this address recently"),
}


@transaction.atomic
def bulk_invitation_start(
    *, actor, data: bytes, file_name: str = "", default_redirect_url: str = "", request=None
) -> BulkInvitation:
    """Check an uploaded CSV (email, display name, redirect URL, message) row by row, keep the
    report of rejected rows and hand the valid ones to a worker."""
    guest_settings = guest_settings_get()
    if not can_invite(actor, guest_settings):
        raise PermissionDenied(_("You are not allowed to invite guests in this directory."))
    rows = csv_rows(data)
    if len(rows) > BULK_MAX_ROWS:
        raise ValidationError(
            {"file": [_("Upload at most %(count)d rows at a time.") % {"count": BULK_MAX_ROWS}]}
        )
    User = get_user_model()
    members = set(User.objects.values_list("email", flat=True).iterator())
    members = {email.lower() for email in members}
    pending = {
        email.lower()
        for email in Invitation.objects.filter(status=Invitation.Status.PENDING)
        .values_list("email", flat=True)
        .iterator()
    }
    seen: set[str] = set()
    valid, rejected = [], []
    total = 0
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row] + ["", "", "", ""]
        if not any(cells):
            continue
        total += 1
        email, display_name, redirect_url, message = cells[:4]
        redirect_url = redirect_url or default_redirect_url
        reason = None
        if has_nul((email, display_name, redirect_url, message)):
            reason = "bad_characters"
            email = email.replace("\x00", "")
        if reason is None and len(email) > EMAIL_MAX_LENGTH:
            reason = "bad_email"  # validate_email allows 320 characters
        if reason is None:
            try:
                validate_email(email)
            except ValidationError:
                reason = "bad_email"
        if reason is None and domain_problem(email, guest_settings):
            reason = "denied_domain"
        if reason is None and (email.lower() in seen or email.lower() in pending):
            reason = "duplicate"
        if reason is None and email.lower() in members:
            reason = "already_member"
        if reason is None and (
            len(redirect_url) > REDIRECT_URL_MAX_LENGTH
            or redirect_problem(redirect_url, inviter=actor)
        ):
            reason = "bad_redirect"
        if reason:
            rejected.append({"row": number, "email": email[:254], "reason": reason})
            continue
        seen.add(email.lower())
        valid.append(
            {
                "row": number,
                "email": email,
                "display_name": display_name[:256],
                "redirect_url": redirect_url,
                "message": message[:2000],
            }
        )
    if total == 0:
        raise ValidationError({"file": [_("The file has no rows.")]})
    bulk = BulkInvitation.objects.create(
        created_by=actor,
        file_name=file_name[:255],
        total_rows=total,
        pending_rows=valid,
        valid_rows=len(valid),
        rejected_rows=rejected,
        status=BulkInvitation.Status.PROCESSING if valid else BulkInvitation.Status.DONE,
        finished_at=None if valid else timezone.now(),
    )
    audit_record(
        actor=actor,
        action="invitation.bulk_start",
        target=bulk,
        after={"rows": total, "valid": len(valid), "rejected": len(rejected)},
        request=request,
    )
    if valid:
        bulk_job_relay_due(TenantWork.Kind.BULK_INVITATION_RELAY)
        transaction.on_commit(lambda: bulk_invitation_enqueue(bulk.pk))
    return bulk


def bulk_invitation_enqueue(bulk_id: int) -> None:
    from guests.tasks import bulk_invitation_process

    try:
        bulk_invitation_process.delay(bulk_id)
    except Exception as error:  # broker down: the relay picks the job up later
        logger.warning("guests.bulk.enqueue_failed error=%s", error)


def bulk_invitation_process_chunk(*, bulk_id: int, now: datetime | None = None) -> bool:
    """Create the next chunk of invitations of a bulk upload with their outbox rows, in one
    transaction (console.bulk.bulk_chunk_run). Returns True while rows remain."""
    now = now or timezone.now()

    def process(bulk: BulkInvitation, chunk: list[dict]) -> list[dict]:
        return _invitations_create(bulk=bulk, chunk=chunk, now=now)

    return bulk_chunk_run(BulkInvitation, job_id=bulk_id, chunk_size=BULK_CHUNK, process=process)


def _invitations_create(*, bulk: BulkInvitation, chunk: list[dict], now: datetime) -> list[dict]:
    guest_settings = guest_settings_get()
    emails = [row["email"].lower() for row in chunk]
    # Rows checked at upload may have become duplicates since (someone invited them).
    taken = {
        email.lower()
        for email in Invitation.objects.filter(
            email__in=[row["email"] for row in chunk], status=Invitation.Status.PENDING
        ).values_list("email", flat=True)
    }
    taken |= {
        email.lower()
        for email in get_user_model()
        .objects.filter(email__in=emails)
        .values_list("email", flat=True)
    }
    # What one address receives stays bounded however many times it is uploaded (revoke and
    # upload again): the per-address rates of invitations made one by one, on the same counts.
    limited = addresses_limit_take(
        action="invitation",
        recipients=[row["email"] for row in chunk if row["email"].lower() not in taken],
    )
    expires_at = now + timedelta(days=guest_settings.default_expiry_days)
    invitations, tokens, late_rejects = [], [], []
    for row in chunk:
        email = row["email"].lower()
        if email in taken or email in limited:
            reason = "duplicate" if email in taken else "rate_limited"
            late_rejects.append({"row": row["row"], "email": row["email"], "reason": reason})
            continue
        token = secrets.token_urlsafe(32)
        tokens.append(token)
        invitations.append(
            Invitation(
                email=row["email"],
                display_name=row["display_name"],
                redirect_url=row["redirect_url"],
                message=row["message"],
                invited_by=bulk.created_by,
                invited_by_label=bulk.created_by.email if bulk.created_by else "",
                token_hash=token_hash(token),
                created_at=now,
                expires_at=expires_at,
                bulk=bulk,
            )
        )
    Invitation.objects.bulk_create(invitations)
    if invitations:
        governance_due(due_at=min(invitation.expires_at for invitation in invitations))
    if bulk.created_by is not None:
        Sponsors = Invitation.sponsors.through
        Sponsors.objects.bulk_create(
            [
                Sponsors(invitation_id=invitation.pk, user_id=bulk.created_by_id)
                for invitation in invitations
            ]
        )
    outbox = OutboxEmail.objects.bulk_create(
        [
            OutboxEmail(
                kind=OutboxEmail.Kind.INVITATION,
                to=invitation.email,
                invitation=invitation,
                payload={"token": token},
                created_at=now,
                queued_at=now,
            )
            for invitation, token in zip(invitations, tokens, strict=True)
        ]
    )
    if invitations:
        audit_record(
            actor=bulk.created_by,
            action="invitation.bulk_create",
            target=bulk,
            after={"count": len(invitations), "emails": emails[:BULK_CHUNK]},
        )
    bulk_emails_enqueue_on_commit([row.pk for row in outbox])
    return late_rejects


def bulk_invitation_relay(*, now: datetime | None = None) -> int:
    """Queue again bulk uploads whose task was lost (broker down when they were uploaded)."""
    return bulk_jobs_relay(BulkInvitation, bulk_invitation_enqueue, now=now)
