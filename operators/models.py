"""Platform operators' second factors. Operators are users of the public schema, where the
tenant app mfa has no tables: these are its devices (mfa.devices) with tables of their own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mfa.devices import (
    HashedRecoveryCodeDevice,
    PasskeyDeviceBase,
    RecoveryCodeBase,
    SealedTOTPDevice,
)


class OperatorTOTPDevice(SealedTOTPDevice):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_totp_devices"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed=True), name="operators_one_totp_per_user"
            )
        ]


class OperatorRecoveryCodeDevice(HashedRecoveryCodeDevice):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_recovery_devices",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="operators_one_recovery_set")]


class OperatorRecoveryCode(RecoveryCodeBase):
    device = models.ForeignKey(
        OperatorRecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes"
    )

    class Meta:
        indexes = [models.Index(fields=["device", "digest"], name="operators_recovery_code_lookup")]


class OperatorPasskeyDevice(PasskeyDeviceBase):
    """An operator's passkey on the platform's host: their second factor, beside or instead of
    the authenticator app (operators.services)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_passkeys"
    )

    class Meta(PasskeyDeviceBase.Meta):
        pass
