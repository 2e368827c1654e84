from __future__ import annotations

from operators.models import OperatorPasskeyDevice, OperatorRecoveryCodeDevice, OperatorTOTPDevice


def operator_has_totp(user) -> bool:
    return OperatorTOTPDevice.objects.filter(user=user, confirmed=True).exists()


def operator_totp_pending(*, user, device_id) -> OperatorTOTPDevice | None:
    """The unconfirmed authenticator app this operator's setup page made, if still there."""
    if device_id is None:
        return None
    return OperatorTOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()


def operator_recovery_remaining(user) -> int:
    device = OperatorRecoveryCodeDevice.objects.filter(user=user).first()
    return device.remaining if device is not None else 0


def operator_has_passkey(user) -> bool:
    return OperatorPasskeyDevice.objects.filter(user=user).exists()


def operator_has_second_factor(user) -> bool:
    """An authenticator app or a passkey: the operator signs in with it (else sets one up)."""
    return operator_has_totp(user) or operator_has_passkey(user)


def operator_passkeys(user) -> list[OperatorPasskeyDevice]:
    return list(OperatorPasskeyDevice.objects.filter(user=user))
