"""What changes second factors and the MFA policy. Every change is audited, and a change to a
person's sign-in methods emails them a notice."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.util import random_hex

from accounts.sign_in import lockout
from accounts.sign_in.adapter import lock_message
from accounts.sign_in.familiar import lockout_subject
from audit.models import SignInEvent
from audit.services import audit_record, sign_in_record
from ciam.http import client_ip
from mfa import limits
from mfa.crypto import secret_reseal
from mfa.devices import HashedRecoveryCodeDevice, SealedTOTPDevice, recovery_code_digest
from mfa.models import (
    EmailCodeDevice,
    Method,
    MfaPolicy,
    PasskeyDevice,
    RecoveryCodeDevice,
    ReRegistration,
    TOTPDevice,
    email_code_digest,
)
from mfa.selectors import mfa_policy_get

# Recovery codes: 10 characters from an alphabet without look-alikes (0/o, 1/l/i), shown as
# "xxxxx-xxxxx": about 48 bits each, enough under a keyed hash and a throttle.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class CodeRefused(ValidationError):
    """A second-factor code that did not serve; its message is shown next to the field."""


# Authenticator app ---------------------------------------------------------------------------


@transaction.atomic
def totp_enrol_start(*, user, during_sign_in: bool = False) -> TOTPDevice:
    """A new, unconfirmed authenticator app for `user` (any earlier unconfirmed one goes).

    Outside a sign-in that the policy holds until it is done, the account's address must be
    proven first: an app set up by whoever signed up with someone else's address would
    otherwise stand in its owner's way (pre-hijacking, SECURITY.md item 47)."""
    from allauth.account.utils import has_verified_email

    if not mfa_policy_get().totp_allowed:
        raise ValidationError(_("Your organization does not allow authenticator apps."))
    if not during_sign_in and not has_verified_email(user):
        raise ValidationError(
            _("Confirm your email address first: then you can add an authenticator app."),
            code="email_not_verified",
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(
        user=user, name="Authenticator app", secret=random_hex(20), confirmed=False
    )


def totp_enrol_confirm(
    *, user, device_id: int, code: str, request, primary_method: str = ""
) -> list[str]:
    """Confirm an authenticator app with its first code, replacing any app confirmed before.
    Returns the new recovery codes (shown once) when the policy allows them. Raises
    CodeRefused for a wrong code (counted toward the lockout like any typed secret; during a
    sign-in, `primary_method` says how it began and the sign-in log gets a row)."""
    _lock_refuse(request=request, user=user)
    codes: list[str] = []
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None:
            raise CodeRefused(_("This setup has expired. Start again."), code="expired")
        allowed, details = device.verify_is_allowed()
        if not allowed:
            raise CodeRefused(throttled_message(details), code="throttled")
        # The wrong code's throttle is saved: this block commits either way.
        verified = device.verify_token(code)
        if verified:
            TOTPDevice.objects.filter(user=user, confirmed=True).delete()
            device.confirmed = True
            device.confirmed_at = timezone.now()
            device.save(update_fields=["confirmed", "confirmed_at"])
            audit_record(actor=user, action="mfa.totp.add", target=device,
                         target_label=user.email, request=request)  # fmt: skip
            notice_send(user=user, change=_("An authenticator app was added to your account."))
            reregistration_complete(user=user, new_device=device, request=request)
            if mfa_policy_get().recovery_codes_allowed:
                codes = recovery_codes_issue(device_model=RecoveryCodeDevice, user=user)
    if not verified:
        _failure_count(request=request, user=user, code=code, method=Method.TOTP)
        if primary_method:
            sign_in_record(
                request=request, user=user, method=primary_method,
                result=SignInEvent.Result.FAILURE,
                failure_reason=SignInEvent.FailureReason.MFA_SETUP_FAILED,
                mfa_method=Method.TOTP,
            )  # fmt: skip
        _lock_refuse(request=request, user=user)
        raise CodeRefused(wrong_code_message(), code="wrong_code")
    return codes


@transaction.atomic
def totp_remove(*, user, request) -> None:
    """Remove the authenticator app, and the recovery codes that back it up unless passkeys
    are left for them to back up."""
    removed, _details = TOTPDevice.objects.filter(user=user).delete()
    recovery_codes_drop_if_alone(user=user)
    if removed:
        audit_record(actor=user, action="mfa.totp.remove", target_type="mfa.totpdevice",
                     target_label=user.email, request=request)  # fmt: skip
        notice_send(user=user, change=_("An authenticator app was removed from your account."))


# Reset by an administrator -------------------------------------------------------------------


def may_reset_mfa(*, actor, user) -> bool:
    """The rule of disabling a user (accounts.services.may_set_enabled): not oneself, and an
    administrator's second factors only by a Global administrator."""
    from accounts.services import may_set_enabled

    return may_set_enabled(actor=actor, user=user)


@transaction.atomic
def mfa_reset(*, actor, user, request=None) -> None:
    """An administrator removes every second factor of `user` (a lost phone): their next
    sign-in sets one up again when the policy requires it. Audited; the user is told.
    Remembered browsers end with it (mfa.remember)."""
    if not may_reset_mfa(actor=actor, user=user):
        raise ValidationError(_("You cannot reset the second factors of this user."))
    had_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    had_codes = RecoveryCodeDevice.objects.filter(user=user).exists()
    had_passkeys = PasskeyDevice.objects.filter(user=user).count()
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    EmailCodeDevice.objects.filter(user=user).delete()
    # A passkey is a second factor (and a sign-in without a password): it goes too.
    PasskeyDevice.objects.filter(user=user).delete()
    ReRegistration.objects.filter(user=user).delete()  # nothing left to register again
    audit_record(actor=actor, action="mfa.reset", target=user, target_label=user.email,
                 before={"authenticator_app": had_app, "recovery_codes": had_codes,
                         "passkeys": had_passkeys},
                 after={"authenticator_app": False, "recovery_codes": False, "passkeys": 0},
                 request=request)  # fmt: skip
    notice_send(
        user=user,
        change=_(
            "An administrator removed your second sign-in steps (authenticator app, passkeys "
            "and recovery codes). If your organization requires one, you will set it up again "
            "at your next sign-in."
        ),
    )


# Re-registration required by an administrator ----------------------------------------------


@transaction.atomic
def reregistration_require(*, actor, user, request=None) -> ReRegistration:
    """Entra's "Require re-register MFA": the second factors `user` has stop counting (sign-in,
    step-up, passkey sign-in, remembered browsers) until they register a new one, which their
    next sign-in asks for; then the old ones are removed (reregistration_complete). For a
    phone that may be in someone else's hands, when the person can still sign in. Same rule
    as a reset (may_reset_mfa); audited; the user is emailed."""
    if not may_reset_mfa(actor=actor, user=user):
        raise ValidationError(_("You cannot require this user to register their methods again."))
    methods = _methods_of(user)
    if not any(methods.values()):
        raise ValidationError(_("This user has no second factor to register again."))
    row, _created = ReRegistration.objects.update_or_create(
        user=user,
        defaults={"required_at": timezone.now(), "required_by": getattr(actor, "email", "")},
    )
    audit_record(actor=actor, action="mfa.reregistration.require", target=user,
                 target_label=user.email, before={"reregistration_required": not _created},
                 after={"reregistration_required": True, **methods},
                 request=request)  # fmt: skip
    notice_send(
        user=user,
        change=_(
            "An administrator asked you to set up your second sign-in step again. Your "
            "authenticator app, passkeys and recovery codes no longer work for signing in: at "
            "your next sign-in you set up a new one, and then the old ones are removed."
        ),
    )
    return row


def reregistration_pending(user) -> bool:
    return ReRegistration.objects.filter(user=user).exists()


def reregistration_complete(*, user, new_device, request=None) -> bool:
    """When `user` was asked to register again: `new_device` (an authenticator app just
    confirmed, or a passkey just added) is the new method; every other second factor is
    removed and the request is done (audited). Call inside the transaction that added it."""
    row = ReRegistration.objects.filter(user=user).select_for_update().first()
    if row is None:
        return False
    before = _methods_of(user)
    TOTPDevice.objects.filter(user=user).exclude(pk=_pk_if(new_device, TOTPDevice)).delete()
    PasskeyDevice.objects.filter(user=user).exclude(pk=_pk_if(new_device, PasskeyDevice)).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()  # a new set follows, when allowed
    EmailCodeDevice.objects.filter(user=user).delete()
    row.delete()
    audit_record(actor=user, action="mfa.reregistration.complete", target=user,
                 target_label=user.email, before=before, after=_methods_of(user),
                 request=request)  # fmt: skip
    return True


def _pk_if(device, model) -> int:
    return device.pk if isinstance(device, model) else 0


def _methods_of(user) -> dict:
    return {
        "authenticator_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes": RecoveryCodeDevice.objects.filter(user=user).exists(),
        "passkeys": PasskeyDevice.objects.filter(user=user).count(),
    }


# Recovery codes ------------------------------------------------------------------------------


def _recovery_code_new() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_codes_issue(*, device_model: type[HashedRecoveryCodeDevice], user) -> list[str]:
    """A new set of recovery codes in `device_model` for `user` (the old set dies); the codes
    in clear, to be shown once."""
    device_model.objects.filter(user=user).delete()
    device = device_model.objects.create(user=user, name="Recovery codes")
    codes = [_recovery_code_new() for _ in range(device_model.COUNT)]
    code_model = device.codes.model
    code_model.objects.bulk_create(
        code_model(device=device, digest=recovery_code_digest(code)) for code in codes
    )
    return codes


def first_method_recovery_codes(*, user, request=None) -> list[str]:
    """Recovery codes for someone whose first second factor was just added (a passkey; an
    authenticator app's confirmation issues its own): issued when they have none and the
    policy allows them; the codes, to be shown once, or []."""
    if not mfa_policy_get().recovery_codes_allowed:
        return []
    if RecoveryCodeDevice.objects.filter(user=user).exists():
        return []
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return []
    if PasskeyDevice.objects.filter(user=user).count() != 1:
        return []
    codes = recovery_codes_issue(device_model=RecoveryCodeDevice, user=user)
    audit_record(actor=user, action="mfa.recovery_codes.issue",
                 target_type="mfa.recoverycodedevice", target_label=user.email,
                 request=request)  # fmt: skip
    return codes


def recovery_codes_drop_if_alone(*, user) -> None:
    """Recovery codes back up an authenticator app or passkeys: with neither left, they go."""
    if not (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or PasskeyDevice.objects.filter(user=user).exists()
    ):
        RecoveryCodeDevice.objects.filter(user=user).delete()


@transaction.atomic
def recovery_codes_regenerate(*, user, request) -> list[str]:
    """A new set of recovery codes (the old set stops working), shown once."""
    if not (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or PasskeyDevice.objects.filter(user=user).exists()
    ):
        raise ValidationError(
            _("Add an authenticator app or a passkey first: recovery codes back them up.")
        )
    if not mfa_policy_get().recovery_codes_allowed:
        raise ValidationError(_("Your organization does not allow recovery codes."))
    codes = recovery_codes_issue(device_model=RecoveryCodeDevice, user=user)
    audit_record(actor=user, action="mfa.recovery_codes.regenerate",
                 target_type="mfa.recoverycodedevice", target_label=user.email,
                 request=request)  # fmt: skip
    notice_send(user=user, change=_("New recovery codes were made; the old ones no longer work."))
    return codes


# Email code ----------------------------------------------------------------------------------


def email_code_send(*, user, attempt: str, request) -> None:
    """Email a new six-digit code for the sign-in `attempt` (the old one stops working).
    Raises ValidationError when this account or this IP address asked too often."""
    device, _created = EmailCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Email code"}
    )
    if not limits.rate_take(request=request, action="email_code", key=user.email):
        raise ValidationError(
            _("Too many codes were sent recently. Use the last one, or wait and try again."),
            code="rate_limited",
        )
    code = f"{secrets.randbelow(10**EmailCodeDevice.DIGITS):0{EmailCodeDevice.DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        device.code_digest = email_code_digest(code, attempt=attempt)
        device.valid_until = now + timedelta(seconds=EmailCodeDevice.VALID_SECONDS)
        device.sent_at = now
        device.save(update_fields=["code_digest", "valid_until", "sent_at"])
        _email_send(
            user=user,
            template="mfa/email/email_code",
            subject=gettext_lazy("Your sign-in code"),
            context={"code": code, "minutes": EmailCodeDevice.VALID_SECONDS // 60},
        )


# Verification (sign-in) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    method: str
    device: object


def mfa_verify(
    *, request, user, method: str, code: str, primary_method: str, attempt: str = ""
) -> Verified:
    """Check a second-factor code typed at sign-in. Refused while the account or IP address
    is locked; a wrong code waits longer each time (ThrottlingMixin), counts toward the lockout
    and writes a sign-in log row. Raises CodeRefused."""
    from mfa.selectors import tenant_mfa

    _lock_refuse(request=request, user=user)
    if method not in tenant_mfa().policy.allowed_methods:
        raise CodeRefused(_("This method is not allowed here."), code="not_allowed")
    with transaction.atomic():
        # Locked row: two requests with the same code cannot both pass.
        device = _device_for(user=user, method=method, for_update=True)
        if device is None:
            raise CodeRefused(_("This method is not set up for your account."), code="no_device")
        allowed, details = device.verify_is_allowed()
        if not allowed:
            raise CodeRefused(throttled_message(details), code="throttled")
        if method == Method.EMAIL_CODE:
            verified = device.verify_code(code, attempt=attempt)
        else:
            verified = device.verify_token(code)
    if verified:
        return Verified(method=method, device=device)
    _failure_count(request=request, user=user, code=code, method=method)
    sign_in_record(
        request=request, user=user, method=primary_method, result=SignInEvent.Result.FAILURE,
        failure_reason=SignInEvent.FailureReason.MFA_FAILED, mfa_method=method,
    )  # fmt: skip
    _lock_refuse(request=request, user=user)
    raise CodeRefused(wrong_code_message(), code="wrong_code")


def _device_for(*, user, method: str, for_update: bool = False):
    model = {
        Method.TOTP: TOTPDevice,
        Method.RECOVERY_CODE: RecoveryCodeDevice,
        Method.EMAIL_CODE: EmailCodeDevice,
    }[method]
    # Written out, and the row built as the ORM builds it (from_db, each field's conversion:
    # the secret opened): every sign-in with a second factor runs it, and the ORM's query
    # building, or a raw queryset's column mapping, cost more CPU than the check itself.
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    confirmed = " AND confirmed" if model is TOTPDevice else ""
    lock = " FOR UPDATE" if for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(model._meta.db_table)} "
            f"WHERE user_id = %s{confirmed} ORDER BY id LIMIT 1{lock}",
            [user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        field.from_db_value(raw, None, connection) if hasattr(field, "from_db_value") else raw
        for field, raw in zip(fields, row, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def _lock_refuse(*, request, user) -> None:
    lock_refuse(request=request, subject=lockout_subject(request, user.email))


def lock_refuse(*, request, subject: str) -> None:
    """Raise CodeRefused while the lockout holds `subject` (an email) or the IP address."""
    lock = lockout.lockout_check(email=subject, ip=client_ip(request))
    if lock is not None:
        raise CodeRefused(lock_message(lock), code="locked_out")


def _failure_count(*, request, user, code: str, method: str) -> None:
    code_failure_count(
        request=request, subject=lockout_subject(request, user.email), code=code, method=method
    )


def code_failure_count(*, request, subject: str, code: str, method: str) -> None:
    """Count a wrong second-factor code toward the lockout of `subject` and the IP address."""
    # Keyed with the time step: the same wrong guess later is a new guess at a new code.
    typed = f"mfa\0{method}\0{int(time.time()) // 30}\0{code}"
    lockout.lockout_register_failure(email=subject, ip=client_ip(request), password=typed)


def wrong_code_message() -> str:
    return _("That code is not correct. Check it and try again.")


def throttled_message(details: dict | None) -> str:
    until = (details or {}).get("locked_until")
    seconds = max(1, int((until - timezone.now()).total_seconds() + 0.999)) if until else 1
    return _("Too many wrong codes. Wait %(seconds)d seconds and try again.") % {"seconds": seconds}


# Policy --------------------------------------------------------------------------------------


@transaction.atomic
def mfa_policy_update(
    *,
    actor,
    requirement: str,
    totp_allowed: bool,
    email_code_allowed: bool,
    recovery_codes_allowed: bool,
    passkey_allowed: bool | None = None,
    remember_browser_days: int | None = None,
    request=None,
) -> MfaPolicy:
    policy = mfa_policy_get()
    fields = (
        "requirement", "totp_allowed", "email_code_allowed", "recovery_codes_allowed",
        "passkey_allowed", "remember_browser_days",
    )  # fmt: skip
    before = {field: getattr(policy, field) for field in fields}
    policy.requirement = requirement
    policy.totp_allowed = totp_allowed
    policy.email_code_allowed = email_code_allowed
    policy.recovery_codes_allowed = recovery_codes_allowed
    if passkey_allowed is not None:
        policy.passkey_allowed = passkey_allowed
    if remember_browser_days is not None:
        policy.remember_browser_days = remember_browser_days
    requires = requirement not in (MfaPolicy.Requirement.OFF, MfaPolicy.Requirement.OPTIONAL)
    # A passkey alone cannot be enrolled during a sign-in (only from My account): a required
    # second factor needs one of the methods the sign-in can set up or send.
    if requires and not (totp_allowed or email_code_allowed):
        raise ValidationError(
            _("A required second factor needs the authenticator app or the email code allowed.")
        )
    policy.save()
    after = {field: getattr(policy, field) for field in fields}
    if after != before:
        audit_record(actor=actor, action="mfa.policy.update", target=policy,
                     before=before, after=after, request=request)  # fmt: skip
    return policy


# Key rotation --------------------------------------------------------------------------------


def mfa_secrets_reseal(*, device_model: type[SealedTOTPDevice] = TOTPDevice) -> tuple[int, int]:
    """Seal every authenticator secret of `device_model` in the current schema under the first
    key of MFA_ENCRYPTION_KEYS (after a new key was put first). Returns how many were
    resealed, and how many no listed key opens (left as they are: the key that sealed them
    must not be dropped yet)."""
    from cryptography.fernet import InvalidToken

    table = connection.ops.quote_name(device_model._meta.db_table)
    resealed = unopened = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table} FOR UPDATE")
        for device_id, sealed in cursor.fetchall():
            try:
                fresh = secret_reseal(sealed)
            except InvalidToken:
                unopened += 1
                continue
            cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [fresh, device_id])
            resealed += 1
    return resealed, unopened


# Emails --------------------------------------------------------------------------------------


def notice_send(*, user, change: str) -> None:
    """Tell the person that their sign-in methods changed (someone else may have done it)."""
    _email_send(
        user=user,
        template="mfa/email/method_changed",
        subject=gettext_lazy("Your sign-in methods changed"),
        context={"change": change, "when": timezone.now()},
    )


def _email_send(*, user, template: str, subject: str, context: dict) -> None:
    from emails.models import OutboxEmail
    from emails.services import outbox_add

    tenant = connection.tenant
    context = {"tenant_name": tenant.name, "user": user, **context}
    # Rendered here, in the person's language; the outbox wipes the text once sent.
    with translation.override(user.language or translation.get_language()):
        outbox_add(
            kind=OutboxEmail.Kind.ACCOUNT,
            to=user.email,
            payload={
                "subject": f"{tenant.name}: {subject}",
                "text": render_to_string(f"{template}.txt", context),
                "html": render_to_string(f"{template}.html", context),
            },
        )
