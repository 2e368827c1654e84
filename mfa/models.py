"""Second factors (django-otp devices of our own) and the tenant's MFA policy.

One device of each kind per user. An authenticator app (TOTPDevice) is confirmed by a first
code; recovery codes come with it and go with it; the email code device is made on first use
for the address the account already has.
"""

from __future__ import annotations

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
    PasskeyDeviceBase,
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


class PasskeyDevice(PasskeyDeviceBase):
    """A person's passkey on this tenant's host (mfa.devices.PasskeyDeviceBase)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_passkeys"
    )

    class Meta(PasskeyDeviceBase.Meta):
        pass


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


class ReRegistration(models.Model):
    """An administrator asked `user` to set up their second factors again (Entra's "Require
    re-register MFA"): until they register a new method, the ones they have do not count (the
    next sign-in sets up a new one); once they do, the old ones are removed
    (mfa.services.reregistration_require, reregistration_complete)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_reregistration"
    )
    required_at = models.DateTimeField(default=timezone.now)
    required_by = models.CharField(max_length=254, blank=True)  # the administrator's address

    def __str__(self) -> str:
        return f"MFA re-registration of {self.user_id}"
