"""Operators' second factor: an authenticator app or a passkey (or both), set up before any
operator page opens, and recovery codes that back them up. Codes are checked as the tenants'
are (mfa.devices: one step of tolerance, a code works once, a growing delay after each wrong
one), wrong ones count toward the operator sign-in's lockout, passkeys as the tenants' are
(mfa.passkeys), and every change or refused code leaves a row in the public audit log."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.util import random_hex

from audit.services import audit_record
from mfa import passkeys
from mfa.models import Method
from mfa.services import (
    CodeRefused,
    code_failure_count,
    lock_refuse,
    recovery_codes_issue,
    throttled_message,
    wrong_code_message,
)
from operators.models import (
    OperatorPasskeyDevice,
    OperatorRecoveryCodeDevice,
    OperatorTOTPDevice,
)


@transaction.atomic
def operator_totp_start(*, user) -> OperatorTOTPDevice:
    """A new, unconfirmed authenticator app for the operator (an earlier unconfirmed one goes)."""
    OperatorTOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return OperatorTOTPDevice.objects.create(
        user=user, name="Authenticator app", secret=random_hex(20), confirmed=False
    )


def operator_totp_confirm(
    *, user, device_id: int, code: str, request
) -> tuple[OperatorTOTPDevice, list[str]]:
    """Confirm the operator's authenticator app with its first code; returns the device and
    the new recovery codes (shown once). Raises CodeRefused."""
    lock_refuse(request=request, subject=user.email)
    codes: list[str] = []
    with transaction.atomic():
        device = _device_check(
            devices=OperatorTOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False),
            code=code,
        )
        if device is not None:
            OperatorTOTPDevice.objects.filter(user=user, confirmed=True).delete()
            device.confirmed = True
            device.confirmed_at = timezone.now()
            device.save(update_fields=["confirmed", "confirmed_at"])
            codes = recovery_codes_issue(device_model=OperatorRecoveryCodeDevice, user=user)
            audit_record(actor=user, action="operator.totp.add", target=device,
                         target_label=user.email, request=request)  # fmt: skip
    if device is None:
        raise _refused(request=request, user=user, code=code, method=Method.TOTP)
    return device, codes


def operator_code_verify(
    *, user, method: str, code: str, request
) -> OperatorTOTPDevice | OperatorRecoveryCodeDevice:
    """The device that accepted the code typed after the operator's password (an
    authenticator app's code, or a recovery code). Raises CodeRefused."""
    lock_refuse(request=request, subject=user.email)
    if method == Method.RECOVERY_CODE:
        devices = OperatorRecoveryCodeDevice.objects.filter(user=user)
    else:
        devices = OperatorTOTPDevice.objects.filter(user=user, confirmed=True)
    with transaction.atomic():
        device = _device_check(devices=devices, code=code)
    if device is None:
        raise _refused(request=request, user=user, code=code, method=method)
    return device


def _device_check(*, devices, code: str):
    """The device of `devices` if it accepts `code`, else None (its throttle is saved by the
    caller's transaction). Call inside one: the row is locked, so two requests with the same
    code cannot both pass."""
    device = devices.select_for_update().first()
    if device is None:
        raise CodeRefused(_("This code cannot be used now. Start again."), code="no_device")
    allowed, details = device.verify_is_allowed()
    if not allowed:
        raise CodeRefused(throttled_message(details), code="throttled")
    return device if device.verify_token(code) else None


def _refused(*, request, user, code: str, method: str) -> CodeRefused:
    code_failure_count(request=request, subject=user.email, code=code, method=method)
    audit_record(actor=user, action="operator.mfa.refused", target_type="operators.device",
                 target_label=user.email, after={"method": method}, request=request)  # fmt: skip
    lock_refuse(request=request, subject=user.email)
    return CodeRefused(wrong_code_message(), code="wrong_code")


@transaction.atomic
def operator_totp_reset(*, operator, actor=None) -> bool:
    """Remove the operator's authenticator app, passkeys and recovery codes (a lost phone):
    their next sign-in sets up a new second factor. Returns whether there was one."""
    removed, _details = OperatorTOTPDevice.objects.filter(user=operator).delete()
    # A lost phone may hold a passkey too: every second factor goes.
    passkeys_removed, _details = OperatorPasskeyDevice.objects.filter(user=operator).delete()
    OperatorRecoveryCodeDevice.objects.filter(user=operator).delete()
    removed += passkeys_removed
    if removed:
        audit_record(actor=actor or "system", action="operator.totp.reset",
                     target_type="operators.operatortotpdevice",
                     target_label=operator.email)  # fmt: skip
    return bool(removed)


# Passkeys (mfa.passkeys, on the operators' own table) ----------------------------------------


def operator_passkey_register_begin(*, request, user, rp_name: str) -> dict:
    """The options for navigator.credentials.create() of a new passkey of the operator."""
    return passkeys.passkey_register_options(
        request=request, user=user, device_model=OperatorPasskeyDevice, rp_name=rp_name
    )


def operator_passkey_register_complete(
    *, request, user, name: str, credential, rp_name: str
) -> tuple[OperatorPasskeyDevice, list[str]]:
    """Keep the operator's new passkey (audited); returns it, and recovery codes (shown once)
    when it is their first second factor. Raises ValidationError."""
    with transaction.atomic():
        device = passkeys.passkey_register_verify(
            request=request, user=user, name=name, credential=credential,
            device_model=OperatorPasskeyDevice, rp_name=rp_name,
        )  # fmt: skip
        audit_record(actor=user, action="operator.passkey.add", target=device,
                     target_label=f"{user.email}: {device.name}", request=request)  # fmt: skip
        codes: list[str] = []
        first = (
            not OperatorTOTPDevice.objects.filter(user=user, confirmed=True).exists()
            and not OperatorRecoveryCodeDevice.objects.filter(user=user).exists()
            and OperatorPasskeyDevice.objects.filter(user=user).count() == 1
        )
        if first:
            codes = recovery_codes_issue(device_model=OperatorRecoveryCodeDevice, user=user)
    return device, codes


def operator_passkey_begin(*, request, user, rp_name: str) -> dict:
    """The options for navigator.credentials.get(): one of the operator's passkeys."""
    return passkeys.passkey_authenticate_begin(
        request=request, purpose=passkeys.Purpose.SECOND_FACTOR, user=user,
        device_model=OperatorPasskeyDevice, rp_name=rp_name,
    )  # fmt: skip


def operator_passkey_verify(*, request, user, credential, rp_name: str) -> OperatorPasskeyDevice:
    """The operator's passkey that answered the challenge after their password. Refused while
    the sign-in is locked; a refused answer is audited (operator.mfa.refused). Raises
    ValidationError."""
    lock_refuse(request=request, subject=user.email)
    try:
        device, _user_verified = passkeys.passkey_authenticate_complete(
            request=request, purpose=passkeys.Purpose.SECOND_FACTOR, credential=credential,
            user=user, device_model=OperatorPasskeyDevice, rp_name=rp_name,
        )  # fmt: skip
    except ValidationError:
        audit_record(actor=user, action="operator.mfa.refused", target_type="operators.device",
                     target_label=user.email, after={"method": Method.PASSKEY},
                     request=request)  # fmt: skip
        raise
    return device


@transaction.atomic
def operator_passkey_remove(*, request, user, device: OperatorPasskeyDevice) -> None:
    """Remove one of the operator's passkeys; the last second factor cannot go (an operator
    without one could open no page: manage.py operator_totp_reset is for a lost device)."""
    others = OperatorPasskeyDevice.objects.filter(user=user).exclude(pk=device.pk).exists()
    if not others and not OperatorTOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("This is your only second factor: add another one first."))
    name = device.name
    device.delete()
    audit_record(actor=user, action="operator.passkey.remove",
                 target_type="operators.operatorpasskeydevice",
                 target_label=f"{user.email}: {name}", request=request)  # fmt: skip
