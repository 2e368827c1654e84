"""Second factors (django-otp devices of our own) and the tenant's MFA policy.

One device of each kind per user. An authenticator app (TOTPDevice) is confirmed by a first
code; recovery codes come with it and go with it; the email code device is made on first use
for the address the account already has.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from ciam.crypto import keyed_hash
from mfa.devices import (
    THROTTLE_FIELDS,
    HashedRecoveryCodeDevice,
    RecoveryCodeBase,
    SealedTOTPDevice,
    code_digits,
    throttle_factor,
)


class Method(models.TextChoices):
    """The second factors, in the sign-in log's words too (SignInEvent.mfa_method)."""

    TOTP = "totp", _("Authenticator app")
    EMAIL_CODE = "email_code", _("Email code")
    RECOVERY_CODE = "recovery_code", _("Recovery code")
    PASSKEY = "passkey", _("Passkey")
    # Not a method one proves: a browser the person asked to be remembered (mfa.remember);
    # only the sign-in log says it.
    REMEMBERED = "remembered", _("Remembered browser")


class TOTPDevice(SealedTOTPDevice):
    """A person's authenticator app (mfa.devices.SealedTOTPDevice)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_totp_devices"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed=True), name="mfa_one_totp_per_user"
            )
        ]


class RecoveryCodeDevice(HashedRecoveryCodeDevice):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_recovery_devices"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="mfa_one_recovery_set")]


class RecoveryCode(RecoveryCodeBase):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")

    class Meta:
        indexes = [models.Index(fields=["device", "digest"], name="mfa_recovery_code_lookup")]


def email_code_digest(code: str, *, attempt: str) -> str:
    # Bound to the sign-in attempt that asked for it: the same code means nothing to another.
    return keyed_hash(f"{attempt}\0{code_digits(code)}", purpose="mfa.email-code")


class EmailCodeDevice(ThrottlingMixin, Device):
    """A six-digit code emailed to the account's address, valid 10 minutes, for the one
    sign-in attempt that asked for it; only its keyed hash is stored."""

    VALID_SECONDS = 10 * 60
    DIGITS = 6

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_email_devices"
    )
    code_digest = models.CharField(max_length=64, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="mfa_one_email_device")]

    def get_throttle_factor(self) -> int:
        return throttle_factor()

    def verify_token(self, token) -> bool:
        # Only through verify_code: a code means something only with its attempt.
        return False

    def verify_code(self, code: str, *, attempt: str) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        now = timezone.now()
        if (
            self.code_digest
            and self.valid_until is not None
            and now < self.valid_until
            and email_code_digest(code, attempt=attempt) == self.code_digest
        ):
            self.code_digest = ""
            self.valid_until = None
            self.throttle_reset(commit=False)
            self.save(update_fields=["code_digest", "valid_until", *THROTTLE_FIELDS])
            return True
        self.throttle_increment(commit=False)
        self.save(update_fields=THROTTLE_FIELDS)
        return False


class PasskeyDevice(Device):
    """A passkey (WebAuthn credential) registered on this tenant's host; several per user,
    each named by its owner. Always discoverable and made with user verification (mfa.passkeys
    says why), so each one signs in without a password and counts as a second factor too.

    Only public material is kept: the credential id, the public key (COSE) and the
    authenticator's counter."""

    MAX_PER_USER = 20

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_passkeys"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # base64url of the raw credential id (at most 1023 bytes).
    credential_id = models.CharField(max_length=1400, unique=True)
    aaguid = models.UUIDField(null=True, blank=True)
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    # Synced passkeys (backup eligible) are software keys; device-bound ones, hardware (amr).
    backup_eligible = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def verify_token(self, token) -> bool:
        # A passkey answers a challenge (mfa.passkeys), never a typed token.
        return False


class MfaPolicy(models.Model):
    """The tenant's MFA rule (one row; mfa.selectors.mfa_policy_get gives the default
    while none is saved)."""

    class Requirement(models.TextChoices):
        OFF = "off", _("Off: no one is asked for a second factor")
        OPTIONAL = "optional", _("Optional: users may add a second factor")
        REQUIRED_ALL = "required_all", _("Required for everyone")
        REQUIRED_ADMINS = "required_admins", _("Required for administrators")
        REQUIRED_GUESTS = "required_guests", _("Required for guests")

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    requirement = models.CharField(
        max_length=20, choices=Requirement.choices, default=Requirement.OPTIONAL
    )
    totp_allowed = models.BooleanField(_("Authenticator app"), default=True)
    email_code_allowed = models.BooleanField(_("Email code"), default=True)
    recovery_codes_allowed = models.BooleanField(_("Recovery codes"), default=True)
    passkey_allowed = models.BooleanField(_("Passkeys"), default=True)
    remember_browser_days = models.PositiveSmallIntegerField(
        _("Remember a browser for (days)"),
        default=0,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "0: never. Otherwise the code page offers “Remember this browser”, and a "
            "remembered browser is not asked for a second factor again for this many days, "
            "until the person's password or second factors change."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="mfa_policy_single_row")]

    def __str__(self) -> str:
        return "MFA policy"

    @property
    def is_off(self) -> bool:
        return self.requirement == self.Requirement.OFF

    def is_required_for(self, user) -> bool:
        R = self.Requirement
        if self.requirement == R.REQUIRED_ALL:
            return True
        if self.requirement == R.REQUIRED_ADMINS:
            return bool(user.admin_roles)
        if self.requirement == R.REQUIRED_GUESTS:
            return user.user_type == user.UserType.GUEST
        return False

    @property
    def allowed_methods(self) -> list[str]:
        allowed = {
            Method.TOTP: self.totp_allowed,
            Method.EMAIL_CODE: self.email_code_allowed,
            Method.RECOVERY_CODE: self.recovery_codes_allowed,
            Method.PASSKEY: self.passkey_allowed,
        }
        return [method for method, is_allowed in allowed.items() if is_allowed]
