from __future__ import annotations

from operators.models import OperatorRecoveryCodeDevice, OperatorTOTPDevice


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
