"""Invitations, their delivery, redemption and the guest lifecycle."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import AdminRole, has_admin_role
from audit.services import audit_record
from guests.models import (
    MAX_EXPIRY_DAYS,
    ApiKey,
    BulkInvitation,
    GuestProfile,
    GuestSettings,
    Invitation,
    OutboxEmail,
    RedemptionCode,
)

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
# An outbox row still queued this long after it was put on the queue lost its task (broker
# outage, worker crash past the visibility timeout): the relay queues it again.
OUTBOX_STALE_AFTER = timedelta(minutes=2)
SPONSOR_NOTICE = timedelta(days=7)
BULK_CHUNK = 200
BULK_MAX_ROWS = 20_000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _code_hash(invitation: Invitation, code: str) -> str:
    # Keyed, and bound to the invitation: a six-digit code is too small for a plain hash.
    message = f"{invitation.pk}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def api_key_hash(key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()


def redeem_url(token: str) -> str:
    from tenants.selectors import tenant_url

    return tenant_url(connection.tenant, f"/invite/{token}/")


# Settings


def guest_settings_get() -> GuestSettings:
    guest_settings, _created = GuestSettings.objects.get_or_create(pk=1)
    return guest_settings


def guest_settings_defaults(*, tenant, admin) -> None:
    """TENANT_DEFAULTS hook: a new tenant starts with the default guest settings."""
    GuestSettings.objects.get_or_create(pk=1)


SETTINGS_FIELDS = (
    "invite_policy",
    "domain_mode",
    "domains",
    "default_expiry_days",
    "max_expiry_days",
    "terms_required",
    "terms_text",
    "terms_url",
    "access_days",
)


@transaction.atomic
def guest_settings_update(*, actor, request=None, **changes) -> GuestSettings:
    guest_settings = GuestSettings.objects.select_for_update().get(pk=guest_settings_get().pk)
    before = {name: getattr(guest_settings, name) for name in SETTINGS_FIELDS}
    for name, value in changes.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(name)
        setattr(guest_settings, name, value)
    guest_settings.domains = sorted({domain.strip().lower() for domain in guest_settings.domains})
    errors = {}
    if guest_settings.default_expiry_days > guest_settings.max_expiry_days:
        errors["default_expiry_days"] = [_("The default cannot exceed the maximum expiry.")]
    if guest_settings.terms_required and not (
        guest_settings.terms_text.strip() or guest_settings.terms_url
    ):
        errors["terms_text"] = [_("Give the terms of use text or a link to them.")]
    if guest_settings.domain_mode != GuestSettings.DomainMode.ANY and not guest_settings.domains:
        errors["domains"] = [_("List at least one domain, or allow any domain.")]
    if errors:
        raise ValidationError(errors)
    guest_settings.full_clean()
    guest_settings.save()
    after = {name: getattr(guest_settings, name) for name in SETTINGS_FIELDS}
    audit_record(
        actor=actor,
        action="guest_settings.update",
        target=guest_settings,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
        request=request,
    )
    return guest_settings


def can_invite(user, guest_settings: GuestSettings | None = None) -> bool:
    """Whether `user` may invite under the tenant's "who can invite" setting."""
    guest_settings = guest_settings or guest_settings_get()
    policy = guest_settings.invite_policy
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    is_inviter_admin = any(
        has_admin_role(user, role)
        for role in (AdminRole.GUEST_INVITER, AdminRole.USER_ADMINISTRATOR)
    )
    if policy == GuestSettings.InvitePolicy.EVERYONE:
        return True
    if policy == GuestSettings.InvitePolicy.MEMBERS:
        return user.user_type == get_user_model().UserType.MEMBER or is_inviter_admin
    if policy == GuestSettings.InvitePolicy.GUEST_INVITERS:
        return is_inviter_admin
    return False


def domain_problem(email: str, guest_settings: GuestSettings) -> str | None:
    domain = email.rsplit("@", 1)[-1].lower()
    listed = any(domain == item or domain.endswith("." + item) for item in guest_settings.domains)
    if guest_settings.domain_mode == GuestSettings.DomainMode.ALLOW and not listed:
        return _("Invitations to %(domain)s are not allowed.") % {"domain": domain}
    if guest_settings.domain_mode == GuestSettings.DomainMode.DENY and listed:
        return _("Invitations to %(domain)s are blocked.") % {"domain": domain}
    return None


# Invitations


def _email_problem(email: str, guest_settings: GuestSettings) -> tuple[str, str] | None:
    """(kind, message) when `email` cannot be invited, where kind names the report column."""
    try:
        validate_email(email)
    except ValidationError:
        return "bad_email", _("Enter a valid email address.")
    problem = domain_problem(email, guest_settings)
    if problem:
        return "denied_domain", problem
    if get_user_model().objects.filter(email__iexact=email).exists():
        return "already_member", _("This address already belongs to a user of this directory.")
    if Invitation.objects.filter(email__iexact=email, status=Invitation.Status.PENDING).exists():
        return "duplicate", _("A pending invitation exists for this address: resend it instead.")
    return None


def _redirect_problem(redirect_url: str) -> str | None:
    try:
        URLValidator(schemes=["https", "http"])(redirect_url)
    except ValidationError:
        return _("Enter an http or https URL.")
    return None


def _expiry(guest_settings: GuestSettings, expiry_days: int | None, now: datetime) -> datetime:
    days = expiry_days or guest_settings.default_expiry_days
    if not 1 <= days <= min(guest_settings.max_expiry_days, MAX_EXPIRY_DAYS):
        raise ValidationError(
            {
                "expiry_days": [
                    _("Choose between 1 and %(max)d days.")
                    % {"max": guest_settings.max_expiry_days}
                ]
            }
        )
    return now + timedelta(days=days)


@transaction.atomic
def invitation_create(
    *,
    invited_by=None,
    invited_by_label: str = "",
    email: str,
    redirect_url: str,
    display_name: str = "",
    message: str = "",
    language: str = "en",
    cc_recipients: list[str] | tuple = (),
    user_type: str = Invitation.UserType.GUEST,
    sponsors=(),
    send_email: bool = True,
    expiry_days: int | None = None,
    request=None,
    now: datetime | None = None,
) -> Invitation:
    """Create an invitation and, in the same transaction, the outbox row of its email.

    `invited_by` is the person asking (checked against "who can invite"); an API key passes
    None and its name as `invited_by_label`. The returned invitation carries `redeem_url`,
    the only place the link token exists outside the email.
    """
    now = now or timezone.now()
    guest_settings = guest_settings_get()
    if invited_by is not None and not can_invite(invited_by, guest_settings):
        raise PermissionError(_("You are not allowed to invite guests in this directory."))
    if invited_by is None and guest_settings.invite_policy == GuestSettings.InvitePolicy.NO_ONE:
        raise PermissionError(_("Invitations are turned off in this directory."))
    email = email.strip()
    errors: dict[str, list[str]] = {}
    problem = _email_problem(email, guest_settings)
    if problem:
        errors["email"] = [problem[1]]
    if problem := _redirect_problem(redirect_url.strip()):
        errors["redirect_url"] = [problem]
    for address in cc_recipients:
        try:
            validate_email(address)
        except ValidationError:
            errors["cc_recipients"] = [
                _("%(address)s is not a valid address.") % {"address": address}
            ]
    if user_type not in Invitation.UserType.values:
        errors["user_type"] = [_("Choose Guest or Member.")]
    elif user_type == Invitation.UserType.MEMBER and not (
        invited_by is None or has_admin_role(invited_by, AdminRole.USER_ADMINISTRATOR)
    ):
        errors["user_type"] = [_("Only administrators may invite members.")]
    try:
        expires_at = _expiry(guest_settings, expiry_days, now)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        display_name=display_name.strip()[:256],
        redirect_url=redirect_url.strip(),
        message=message.strip()[:2000],
        language=language or "en",
        cc_recipients=list(cc_recipients),
        user_type=user_type,
        invited_by=invited_by,
        invited_by_label=(invited_by.email if invited_by is not None else invited_by_label)[:254],
        send_email=send_email,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=expires_at,
    )
    sponsors = list(sponsors) or ([invited_by] if invited_by is not None else [])
    invitation.sponsors.set(sponsors)
    if send_email:
        _invitation_email_add(invitation, token, now=now)
    audit_record(
        actor=invited_by or invitation.invited_by_label,
        action="invitation.create",
        target=invitation,
        after={"email": email, "user_type": user_type, "expires_at": expires_at.isoformat()},
        request=request,
    )
    invitation.redeem_url = redeem_url(token)
    return invitation


def _invitation_email_add(invitation: Invitation, token: str, *, now: datetime) -> OutboxEmail:
    return outbox_add(
        kind=OutboxEmail.Kind.INVITATION,
        to=invitation.email,
        invitation=invitation,
        payload={"token": token},
        now=now,
    )


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, actor, request=None, now: datetime | None = None
) -> Invitation:
    """Send a fresh link: the old one stops working and the expiry starts again."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise ValidationError(_("Only pending or expired invitations can be resent."))
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.status = Invitation.Status.PENDING
    invitation.expires_at = _expiry(guest_settings_get(), None, now)
    invitation.save(update_fields=["token_hash", "status", "expires_at"])
    _invitation_email_add(invitation, token, now=now)
    audit_record(
        actor=actor,
        action="invitation.resend",
        target=invitation,
        after={"expires_at": invitation.expires_at.isoformat()},
        request=request,
    )
    invitation.redeem_url = redeem_url(token)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor, request=None) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError(_("Only pending invitations can be revoked."))
    invitation.status = Invitation.Status.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["status", "revoked_at"])
    audit_record(
        actor=actor,
        action="invitation.revoke",
        target=invitation,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.REVOKED},
        request=request,
    )
    return invitation


# Outbox


def outbox_add(
    *,
    kind: str,
    to: str,
    invitation: Invitation | None = None,
    payload: dict | None = None,
    now: datetime | None = None,
) -> OutboxEmail:
    """Write an outbox row in the caller's transaction; its task is queued after commit."""
    now = now or timezone.now()
    outbox = OutboxEmail.objects.create(
        kind=kind,
        to=to,
        invitation=invitation,
        payload=payload or {},
        created_at=now,
        queued_at=now,
    )
    transaction.on_commit(lambda: outbox_enqueue([outbox.pk]))
    return outbox


def outbox_enqueue(outbox_ids: list[int]) -> bool:
    """Put delivery tasks on the queue. When the broker is down the rows stay queued in the
    database and the relay sends them once it is back, so the person's request still
    succeeds."""
    from guests.tasks import outbox_deliver

    try:
        outbox_deliver.delay(outbox_ids)
    except Exception as error:  # kombu raises many types for an unreachable broker
        logger.warning("guests.outbox.enqueue_failed count=%d error=%s", len(outbox_ids), error)
        return False
    return True


def outbox_relay(
    *, now: datetime | None = None, stale_after: timedelta = OUTBOX_STALE_AFTER
) -> int:
    """Queue again the outbox rows whose task was lost. Returns how many."""
    now = now or timezone.now()
    stale = list(
        OutboxEmail.objects.filter(
            status=OutboxEmail.Status.QUEUED, queued_at__lte=now - stale_after
        ).values_list("pk", flat=True)[:5000]
    )
    if not stale:
        return 0
    OutboxEmail.objects.filter(pk__in=stale).update(queued_at=now)
    for start in range(0, len(stale), 100):
        outbox_enqueue(stale[start : start + 100])
    logger.info("guests.outbox.relayed count=%d", len(stale))
    return len(stale)


class TransientDeliveryError(Exception):
    """The relay said "try later" (4xx) or the connection broke: the task retries."""


def _smtp_error_text(error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    text = getattr(error, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    if code is None and getattr(error, "recipients", None):
        code, text = next(iter(error.recipients.values()))
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return (f"{code} {text}" if code else str(error) or error.__class__.__name__)[:300]


def _smtp_code(error: Exception) -> int | None:
    code = getattr(error, "smtp_code", None)
    if code is None and getattr(error, "recipients", None):
        code = next(iter(error.recipients.values()))[0]
    return code


def outbox_deliver(*, outbox_id: int, connection_=None, base_url: str | None = None) -> str:
    """Send one outbox email at most once. Returns the row's status afterwards.

    The row stays locked while the relay receives the message, so a second task for the same
    row (the relay re-queued it, or the broker redelivered it) waits and then finds it sent.
    Raises TransientDeliveryError for a retry; a permanent refusal marks the row failed.
    """
    import smtplib

    from guests.emails import build_message

    transient = ""
    with transaction.atomic():
        outbox = (
            OutboxEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invitation")
            .filter(pk=outbox_id)
            .first()
        )
        if outbox is None:
            # Gone, or another worker is sending it right now and will record the outcome.
            return "skipped"
        if outbox.status != OutboxEmail.Status.QUEUED:
            return outbox.status
        outbox.attempts += 1
        try:
            message = build_message(outbox, connection_=connection_, base_url=base_url)
            if message is None:
                outbox.status = OutboxEmail.Status.FAILED
                outbox.last_error = "nothing to send"
            else:
                message.send()
                outbox.status = OutboxEmail.Status.SENT
                outbox.sent_at = timezone.now()
                outbox.last_error = ""
        except OSError as error:  # smtplib's errors are OSErrors, like a refused connection
            code = _smtp_code(error)
            outbox.last_error = _smtp_error_text(error)
            if code is not None and code >= 500 and isinstance(error, smtplib.SMTPException):
                outbox.status = OutboxEmail.Status.FAILED  # permanent: retrying cannot help
            else:
                transient = outbox.last_error  # 4xx, disconnect, timeout, relay unreachable
        if outbox.status != OutboxEmail.Status.QUEUED:
            outbox.payload = {}  # the link token or code is no longer needed anywhere
        outbox.save(update_fields=["status", "attempts", "last_error", "sent_at", "payload"])
    if transient:
        raise TransientDeliveryError(transient)
    logger.info(
        "guests.outbox.delivered kind=%s status=%s attempts=%d",
        outbox.kind,
        outbox.status,
        outbox.attempts,
    )
    return outbox.status


def outbox_give_up(*, outbox_id: int) -> None:
    """Retries exhausted on a transient error: show the admin it failed."""
    OutboxEmail.objects.filter(pk=outbox_id, status=OutboxEmail.Status.QUEUED).update(
        status=OutboxEmail.Status.FAILED, payload={}
    )


# Redemption


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The redeemable invitation behind a link token, or None for unknown, used, expired and
    revoked tokens alike."""
    if not token or len(token) > 100:
        return None
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None or not invitation.is_redeemable(now):
        return None
    return invitation


@transaction.atomic
def redemption_code_send(*, invitation: Invitation, now: datetime | None = None) -> RedemptionCode:
    """Email a fresh six-digit code to the invited address; earlier codes stop working."""
    now = now or timezone.now()
    RedemptionCode.objects.filter(invitation=invitation, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    redemption_code = RedemptionCode.objects.create(
        invitation=invitation,
        code_hash=_code_hash(invitation, code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    outbox_add(
        kind=OutboxEmail.Kind.REDEMPTION_CODE,
        to=invitation.email,
        invitation=invitation,
        payload={"code": code, "expires_at": redemption_code.expires_at.isoformat()},
        now=now,
    )
    return redemption_code


@transaction.atomic
def redemption_code_check(*, invitation: Invitation, code: str, now: datetime | None = None) -> str:
    """ "ok", "wrong" (attempt counted) or "expired" (no usable code: ask for a new one)."""
    now = now or timezone.now()
    redemption_code = (
        RedemptionCode.objects.select_for_update()
        .filter(invitation=invitation, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if redemption_code is None or redemption_code.attempts >= CODE_MAX_ATTEMPTS:
        return "expired"
    code = "".join(character for character in code if character.isdigit())
    if hmac.compare_digest(redemption_code.code_hash, _code_hash(invitation, code)):
        redemption_code.used_at = now
        redemption_code.save(update_fields=["used_at"])
        return "ok"
    RedemptionCode.objects.filter(pk=redemption_code.pk).update(attempts=F("attempts") + 1)
    return "wrong"


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user=None, request=None, now: datetime | None = None
):
    """The partner consented: create the guest (or link `user`, the existing account that
    signed in with the invited address) and mark the invitation accepted. Returns the user."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_redeemable(now):
        raise ValidationError(_("This invitation can no longer be accepted."))
    User = get_user_model()
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            # Only that account's owner, signed in, may accept for it.
            raise ValidationError(_("An account with this address exists: sign in to accept."))
        user = User.objects.create_user(
            email=invitation.email,
            display_name=invitation.display_name,
            user_type=(
                User.UserType.MEMBER
                if invitation.user_type == Invitation.UserType.MEMBER
                else User.UserType.GUEST
            ),
        )  # no password: guests sign in with their own identity or an email code
    elif user.email.lower() != invitation.email.lower():
        raise ValidationError(_("Signed in as a different address than the one invited."))
    guest_settings = guest_settings_get()
    sponsor = invitation.sponsors.first() or invitation.invited_by
    GuestProfile.objects.update_or_create(
        user=user,
        defaults={
            "invitation": invitation,
            "state": GuestProfile.State.ACCEPTED,
            "sponsor": sponsor,
            "invited_at": invitation.created_at,
            "accepted_at": now,
            "access_expires_at": (
                now + timedelta(days=guest_settings.access_days)
                if guest_settings.access_days
                else None
            ),
        },
    )
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = now
    invitation.guest = user
    invitation.save(update_fields=["status", "accepted_at", "guest"])
    audit_record(
        actor=user,
        action="invitation.accept",
        target=invitation,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.ACCEPTED, "user": str(user.public_id)},
        request=request,
    )
    return user


# Bulk invitations


BULK_REASONS = {
    "bad_email": _("bad email"),
    "denied_domain": _("denied domain"),
    "duplicate": _("duplicate"),
    "already_member": _("already a member"),
    "bad_redirect": _("bad redirect URL"),
}


def _bulk_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError({"file": [_("Save the file as UTF-8 CSV.")]}) from error
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ValidationError({"file": [_("This is not a readable CSV file.")]}) from error
    if rows and rows[0] and "@" not in rows[0][0] and "mail" in rows[0][0].lower():
        rows[0] = []  # a header row; keep numbering so the report matches the file's lines
    return rows


@transaction.atomic
def bulk_invitation_start(
    *, actor, data: bytes, file_name: str = "", default_redirect_url: str = "", request=None
) -> BulkInvitation:
    """Check an uploaded CSV (email, display name, redirect URL, message) row by row, keep the
    report of rejected rows and hand the valid ones to a worker."""
    guest_settings = guest_settings_get()
    if not can_invite(actor, guest_settings):
        raise PermissionError(_("You are not allowed to invite guests in this directory."))
    rows = _bulk_rows(data)
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
        if reason is None and _redirect_problem(redirect_url):
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
    transaction. Returns True while rows remain."""
    now = now or timezone.now()
    guest_settings = guest_settings_get()
    with transaction.atomic():
        bulk = BulkInvitation.objects.select_for_update().filter(pk=bulk_id).first()
        if bulk is None or bulk.status == BulkInvitation.Status.DONE:
            return False
        chunk, rest = bulk.pending_rows[:BULK_CHUNK], bulk.pending_rows[BULK_CHUNK:]
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
            .objects.filter(email__in=[row["email"] for row in chunk])
            .values_list("email", flat=True)
        }
        expires_at = now + timedelta(days=guest_settings.default_expiry_days)
        invitations, tokens, late_rejects = [], [], []
        for row in chunk:
            if row["email"].lower() in taken:
                late_rejects.append(
                    {"row": row["row"], "email": row["email"], "reason": "duplicate"}
                )
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
        bulk.pending_rows = rest
        bulk.processed_rows += len(chunk)
        bulk.rejected_rows = bulk.rejected_rows + late_rejects
        if not rest:
            bulk.status = BulkInvitation.Status.DONE
            bulk.finished_at = timezone.now()
        bulk.save()
        if invitations:
            audit_record(
                actor=bulk.created_by,
                action="invitation.bulk_create",
                target=bulk,
                after={"count": len(invitations), "emails": emails[:BULK_CHUNK]},
            )
        outbox_ids = [row.pk for row in outbox]
        transaction.on_commit(
            lambda: [
                outbox_enqueue(outbox_ids[start : start + 50])
                for start in range(0, len(outbox_ids), 50)
            ]
        )
    return bool(rest)


def bulk_invitation_relay(*, now: datetime | None = None) -> int:
    """Queue again bulk uploads whose task was lost (broker down when they were uploaded)."""
    now = now or timezone.now()
    stuck = list(
        BulkInvitation.objects.filter(
            status=BulkInvitation.Status.PROCESSING, created_at__lte=now - OUTBOX_STALE_AFTER
        ).values_list("pk", flat=True)
    )
    for bulk_id in stuck:
        bulk_invitation_enqueue(bulk_id)
    return len(stuck)


# Governance


def governance_run(*, now: datetime | None = None) -> dict[str, int]:
    """Expire invitations, warn sponsors a week before a guest's access ends, and disable
    guests whose access ended without renewal. Every change is audited."""
    now = now or timezone.now()
    counts = {"expired": 0, "reminded": 0, "disabled": 0}
    for invitation in Invitation.objects.filter(
        status=Invitation.Status.PENDING, expires_at__lte=now
    ).iterator():
        with transaction.atomic():
            updated = Invitation.objects.filter(
                pk=invitation.pk, status=Invitation.Status.PENDING
            ).update(status=Invitation.Status.EXPIRED)
            if updated:
                counts["expired"] += 1
                audit_record(
                    actor="governance",
                    action="invitation.expire",
                    target=invitation,
                    before={"status": Invitation.Status.PENDING},
                    after={"status": Invitation.Status.EXPIRED},
                )
    for profile in GuestProfile.objects.filter(
        access_expires_at__isnull=False,
        access_expires_at__gt=now,
        access_expires_at__lte=now + SPONSOR_NOTICE,
        sponsor_reminded_at__isnull=True,
        user__is_active=True,
    ).select_related("user", "sponsor"):
        with transaction.atomic():
            if profile.sponsor is not None and profile.sponsor.is_active:
                outbox_add(
                    kind=OutboxEmail.Kind.SPONSOR_REMINDER,
                    to=profile.sponsor.email,
                    payload={
                        "guest_email": profile.user.email,
                        "guest_public_id": str(profile.user.public_id),
                        "access_expires_at": profile.access_expires_at.isoformat(),
                    },
                    now=now,
                )
            profile.sponsor_reminded_at = now
            profile.save(update_fields=["sponsor_reminded_at"])
            counts["reminded"] += 1
            audit_record(
                actor="governance",
                action="guest.sponsor_reminder",
                target=profile.user,
                after={"sponsor": profile.sponsor.email if profile.sponsor else None},
            )
    for profile in GuestProfile.objects.filter(
        access_expires_at__lte=now, user__is_active=True
    ).select_related("user"):
        with transaction.atomic():
            user = profile.user
            user.is_active = False
            user.save(update_fields=["is_active"])
            profile.disabled_by_governance_at = now
            profile.save(update_fields=["disabled_by_governance_at"])
            counts["disabled"] += 1
            audit_record(
                actor="governance",
                action="guest.disable",
                target=user,
                before={"is_active": True},
                after={"is_active": False, "reason": "access expired"},
            )
    return counts


@transaction.atomic
def guest_access_renew(*, user, actor, request=None, now: datetime | None = None) -> GuestProfile:
    """A sponsor or admin keeps a guest: access runs for another period, and a guest disabled
    by governance is enabled again."""
    now = now or timezone.now()
    profile = GuestProfile.objects.select_for_update().select_related("user").get(user=user)
    days = guest_settings_get().access_days
    before = {"access_expires_at": _iso(profile.access_expires_at), "is_active": user.is_active}
    profile.access_expires_at = now + timedelta(days=days) if days else None
    profile.sponsor_reminded_at = None
    if profile.disabled_by_governance_at is not None:
        profile.disabled_by_governance_at = None
        profile.user.is_active = True
        profile.user.save(update_fields=["is_active"])
    profile.save()
    audit_record(
        actor=actor,
        action="guest.renew",
        target=profile.user,
        before=before,
        after={
            "access_expires_at": _iso(profile.access_expires_at),
            "is_active": profile.user.is_active,
        },
        request=request,
    )
    return profile


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# API keys


@transaction.atomic
def api_key_create(*, actor, name: str, request=None) -> tuple[ApiKey, str]:
    """A new API key; the key itself is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Name the key after the system that uses it.")]})
    key = "ciam_" + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name[:100], prefix=key[:12], key_hash=api_key_hash(key), created_by=actor
    )
    audit_record(actor=actor, action="api_key.create", target=api_key, request=request)
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor, request=None) -> ApiKey:
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="api_key.revoke", target=api_key, request=request)
    return api_key


def api_key_authenticate(key: str) -> ApiKey | None:
    if not key.startswith("ciam_") or len(key) > 100:
        return None
    api_key = ApiKey.objects.filter(key_hash=api_key_hash(key), revoked_at__isnull=True).first()
    if api_key is not None:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key
