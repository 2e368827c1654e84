"""Invitations: create, resend, revoke, and redemption by the partner."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, email_normalize
from accounts.roles import AdminRole, has_admin_role
from accounts.services import address_proven
from accounts.sign_in import lockout
from accounts.sign_in.familiar import lockout_subject
from audit.services import audit_record
from ciam.crypto import checksum, keyed_hash
from ciam.http import client_ip
from ciam.locale import language_supported, tenant_default_language
from emails.models import OutboxEmail
from emails.services import outbox_add
from guests.models import GuestProfile, GuestSettings, Invitation, RedemptionCode
from guests.selectors import email_is_verified
from guests.services.governance import governance_due
from guests.services.limits import email_limit_take
from guests.services.policy import (
    can_invite,
    domain_problem,
    email_problem,
    guest_settings_get,
    invitation_expiry,
    redirect_problem,
)

CODE_LIFETIME = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5


def token_hash(token: str) -> str:
    return checksum(token)


def _code_hash(invitation: Invitation, code: str) -> str:
    # Keyed, and bound to the invitation: a six-digit code is too small for a plain hash.
    message = f"{invitation.pk}:{code}"
    return keyed_hash(message, purpose=None)


def redeem_url(token: str) -> str:
    from tenants.selectors import tenant_url

    return tenant_url(connection.tenant, f"/invite/{token}/")


@transaction.atomic
def invitation_create(
    *,
    invited_by=None,
    invited_by_label: str = "",
    on_behalf_of=None,
    email: str,
    redirect_url: str,
    display_name: str = "",
    message: str = "",
    language: str = "",
    cc_recipients: list[str] | tuple = (),
    user_type: str = User.UserType.GUEST,
    sponsors=(),
    send_email: bool = True,
    expiry_days: int | None = None,
    email_limit: str = "",
    request=None,
    now: datetime | None = None,
) -> Invitation:
    """Create an invitation and, in the same transaction, the outbox row of its email.

    `invited_by` is the person asking. An API caller passes None, its name as
    `invited_by_label` and, as `on_behalf_of`, the admin who configured it (granted the app
    User.Invite.All or created the API key). The rules ("who can invite", members, redirect
    URLs) apply to whichever of the two is the person. The returned invitation carries
    `redeem_url`, the only place the link token exists outside the email.

    `email_limit` names the rates of settings.GUEST_RATE_LIMITS that the email counts
    against (per address and per `request`'s IP address); a valid invitation past them raises
    ValidationError with code "rate_limited".
    """
    now = now or timezone.now()
    guest_settings = guest_settings_get()
    person = invited_by if invited_by is not None else on_behalf_of
    if invited_by is not None:
        if not can_invite(invited_by, guest_settings):
            raise PermissionDenied(_("You are not allowed to invite guests in this directory."))
    elif guest_settings.invite_policy == GuestSettings.InvitePolicy.NO_ONE:
        raise PermissionDenied(_("Invitations are turned off in this directory."))
    elif not can_invite(on_behalf_of, guest_settings):
        raise PermissionDenied(
            _(
                "The admin who set up this caller may not invite guests in this directory "
                "(any more): an admin who may must set it up again."
            )
        )
    email = email.strip()
    errors: dict[str, list[str]] = {}
    problem = email_problem(email, guest_settings)
    if problem:
        errors["email"] = [problem[1]]
    if problem := redirect_problem(redirect_url.strip(), inviter=person):
        errors["redirect_url"] = [problem]
    for address in cc_recipients:
        try:
            validate_email(address)
        except ValidationError:
            errors["cc_recipients"] = [
                _("%(address)s is not a valid address.") % {"address": address}
            ]
            continue
        # A copy goes outside the directory too: the same domain lists apply to it.
        if problem := domain_problem(address, guest_settings):
            errors["cc_recipients"] = [
                _("%(address)s cannot get a copy. %(reason)s")
                % {"address": address, "reason": problem}
            ]
    if user_type not in User.UserType.values:
        errors["user_type"] = [_("Choose Guest or Member.")]
    elif user_type == User.UserType.MEMBER and not has_admin_role(
        person, AdminRole.USER_ADMINISTRATOR
    ):
        errors["user_type"] = [_("Only administrators may invite members.")]
    try:
        expires_at = invitation_expiry(guest_settings, expiry_days, now)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if send_email and email_limit:
        email_limit_take(request=request, action=email_limit, recipient=email, user=person)

    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        display_name=display_name.strip()[:256],
        redirect_url=redirect_url.strip(),
        message=message.strip()[:2000],
        # The invitation email's language: the one asked for (Graph's messageLanguage) when we
        # ship it, else the tenant's default.
        language=language_supported(language) or tenant_default_language(connection.tenant),
        cc_recipients=list(cc_recipients),
        user_type=user_type,
        invited_by=invited_by,
        invited_by_label=(invited_by.email if invited_by is not None else invited_by_label)[:254],
        send_email=send_email,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=expires_at,
    )
    governance_due(due_at=expires_at)
    sponsors = list(sponsors) or ([invited_by] if invited_by is not None else [])
    invitation.sponsors.set(sponsors)
    if send_email:
        _invitation_email_add(invitation, token, now=now)
        for address in invitation.cc_recipients:
            outbox_add(
                kind=OutboxEmail.Kind.INVITATION_COPY, to=address, invitation=invitation, now=now
            )
    audit_record(
        actor=invited_by or invitation.invited_by_label,
        action="invitation.create",
        target=invitation,
        after={
            "email": email,
            "user_type": user_type,
            "expires_at": expires_at.isoformat(),
            **({"on_behalf_of": on_behalf_of.email} if invited_by is None and person else {}),
        },
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
    """Send a fresh link: the old one stops working and the expiry starts again.

    With a `request`, the email counts against the "invitation_resend" rates (per address,
    IP address and admin); past them it raises ValidationError with code "rate_limited"."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise ValidationError(_("Only pending or expired invitations can be resent."))
    if request is not None:
        email_limit_take(
            request=request, action="invitation_resend", recipient=invitation.email, user=actor
        )
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.status = Invitation.Status.PENDING
    invitation.expires_at = invitation_expiry(guest_settings_get(), None, now)
    invitation.save(update_fields=["token_hash", "status", "expires_at"])
    governance_due(due_at=invitation.expires_at)
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


@dataclass(frozen=True)
class CodeVerdict:
    """What redemption_code_verify found: "ok", "wrong", "expired" (no usable code: ask for a
    new one) or "locked" (not checked); `lock`, the lock in force after it, if any."""

    result: str
    lock: lockout.Lock | None = None


def redemption_code_verify(*, request, invitation: Invitation, code: str) -> CodeVerdict:
    """redemption_code_check behind the smart lockout of the invited address and of the IP
    address (accounts.sign_in.lockout), as a code typed at sign-in is: a wrong code counts
    toward both, so that asking for new codes (each allows CODE_MAX_ATTEMPTS tries) does not
    give a guesser more tries for ever. While either is locked no code is checked, and the
    try is not counted."""
    subject = lockout_subject(request, invitation.email)
    ip = client_ip(request)
    attempt = lockout.lockout_attempt_begin(email=subject, ip=ip)
    lock = lockout.lockout_attempt_refusal(attempt, email=subject)
    if lock is not None:
        return CodeVerdict("locked", lock)
    result = "expired"
    try:
        result = redemption_code_check(invitation=invitation, code=code)
        if result != "wrong":
            return CodeVerdict(result)
        # Keyed with the code's row: the same wrong guess at a new code counts again.
        typed = f"invitation\0{_code_current_id(invitation)}\0{code}"
        lockout.lockout_register_failure(email=subject, ip=ip, password=typed)
        return CodeVerdict(result, lockout.lockout_check(email=subject, ip=ip))
    finally:
        lockout.lockout_attempt_finish(email=subject, succeeded=result == "ok")


def redemption_lock(*, request, invitation: Invitation) -> lockout.Lock | None:
    """The lock in force for the invited address (as this browser counts it) or the IP
    address, if any: no code is sent while it holds, since none could be checked."""
    return lockout.lockout_check(
        email=lockout_subject(request, invitation.email), ip=client_ip(request)
    )


def _code_current_id(invitation: Invitation) -> int | None:
    return (
        RedemptionCode.objects.filter(invitation=invitation, used_at__isnull=True)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _email_mark_verified(user, *, email: str, request=None) -> None:
    """Redemption proved the address: it is the account's verified, primary address. A first
    proof ends what a stranger may have set up before it (pre-hijacking): a password set
    earlier stops working and the account's other sessions end."""
    from allauth.account.models import EmailAddress

    address_proven(user=user, email=email, request=request)
    addresses = EmailAddress.objects.filter(user=user)
    addresses.exclude(email=email_normalize(email)).update(primary=False)
    addresses.filter(email=email_normalize(email)).update(primary=True)


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user=None,
    address_proven: bool = False,
    request=None,
    now: datetime | None = None,
):
    """The partner consented: create the guest (or link `user`, the existing account that
    signed in with the invited address) and mark the invitation accepted. Returns the user.

    The invited address must be proven: by the emailed code of this redemption
    (`address_proven`), or by `user`'s own verified address. Whoever is CC'd on an invitation
    could otherwise sign up with the invited address and accept it. A new guest is created
    only after the code, so `user=None` implies it."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_redeemable(now):
        raise ValidationError(_("This invitation can no longer be accepted."))
    if user is not None and not address_proven and not email_is_verified(user=user):
        raise ValidationError(_("Confirm your email address with a code to accept."))
    if user is None:
        if User.objects.with_email(invitation.email).exists():
            # Only that account's owner, signed in, may accept for it.
            raise ValidationError(_("An account with this address exists: sign in to accept."))
        user = User.objects.create_user(
            email=invitation.email,
            display_name=invitation.display_name,
            user_type=invitation.user_type,
        )  # no password: guests sign in with their own identity or an email code
    elif user.email.lower() != invitation.email.lower():
        raise ValidationError(_("Signed in as a different address than the one invited."))
    _email_mark_verified(user, email=invitation.email, request=request)
    guest_settings = guest_settings_get()
    sponsor = invitation.sponsors.first() or invitation.invited_by
    profile, _created = GuestProfile.objects.update_or_create(
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
    governance_due(access_expires_at=profile.access_expires_at)
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
