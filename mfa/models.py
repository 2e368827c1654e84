"""Second factors (django-otp devices of our own) and the tenant's MFA policy.

One device of each kind per user. An authenticator app (TOTPDevice) is confirmed by a first
code; recovery codes come with it and go with it; the email code device is made on first use
for the address the account already has.
"""

from __future__ import annotations

import time
import uuid
from binascii import unhexlify

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP

from ciam.crypto import keyed_hash
from mfa.fields import EncryptedTextField


class Method(models.TextChoices):
    """The second factors, in the sign-in log's words too (SignInEvent.mfa_method)."""

    TOTP = "totp", _("Authenticator app")
    EMAIL_CODE = "email_code", _("Email code")
    RECOVERY_CODE = "recovery_code", _("Recovery code")
    PASSKEY = "passkey", _("Passkey")
    # Not a method one proves: a browser the person asked to be remembered (mfa.remember);
    # only the sign-in log says it.
    REMEMBERED = "remembered", _("Remembered browser")


def _throttle_factor() -> int:
    # Seconds before the first retry after a failure, doubling with each further failure
    # (django-otp's ThrottlingMixin: 1, 2, 4, 8 ... seconds).
    return getattr(settings, "MFA_THROTTLE_FACTOR", 1)


def _digits(token) -> str:
    return "".join(str(token or "").split())


class TOTPDevice(ThrottlingMixin, Device):
    """An authenticator app (RFC 6238): SHA-1, 30-second steps, 6 digits.

    Tolerance: a code is accepted during its own step and one step either side (about 30
    seconds of clock difference each way, so a code is usable for at most 90 seconds); no drift
    is learnt, so the window never moves. A code works once: the step of the last accepted code
    is kept (last_t) and only later steps are accepted after it. The secret is sealed at rest
    (mfa.crypto)."""

    STEP = 30
    DIGITS = 6
    TOLERANCE = 1

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_totp_devices"
    )
    confirmed = models.BooleanField(default=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # 20 random bytes in hex (RFC 4226's recommended key length), sealed.
    secret = EncryptedTextField()
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed=True), name="mfa_one_totp_per_user"
            )
        ]

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret.encode())

    def get_throttle_factor(self) -> int:
        return _throttle_factor()

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        token = _digits(token)
        verified = False
        if len(token) == self.DIGITS and token.isdigit():
            totp = TOTP(self.bin_key, step=self.STEP, digits=self.DIGITS)
            totp.time = time.time()
            verified = totp.verify(int(token), tolerance=self.TOLERANCE, min_t=self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.last_used_at = timezone.now()
                self.throttle_reset(commit=False)
                self.save(update_fields=["last_t", "last_used_at", *_THROTTLE_FIELDS])
        if not verified:
            self.throttle_increment(commit=False)
            self.save(update_fields=_THROTTLE_FIELDS)
        return verified


_THROTTLE_FIELDS = ["throttling_failure_timestamp", "throttling_failure_count"]


def recovery_code_digest(code: str) -> str:
    # Codes are typed in any case, with or without the dash and spaces.
    normalized = "".join(code.split()).replace("-", "").lower()
    return keyed_hash(normalized, purpose="mfa.recovery-code")


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A set of single-use recovery codes, kept as keyed hashes (ciam.crypto.keyed_hash)."""

    COUNT = 10
    FEW_LEFT = 3

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_recovery_devices"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="mfa_one_recovery_set")]

    def get_throttle_factor(self) -> int:
        return _throttle_factor()

    @property
    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        now = timezone.now()
        # One UPDATE: of two requests racing with the same code, one wins.
        used = self.codes.filter(
            digest=recovery_code_digest(str(token or "")), used_at__isnull=True
        ).update(used_at=now)
        if used:
            self.last_used_at = now
            self.throttle_reset(commit=False)
            self.save(update_fields=["last_used_at", *_THROTTLE_FIELDS])
            return True
        self.throttle_increment(commit=False)
        self.save(update_fields=_THROTTLE_FIELDS)
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "digest"], name="mfa_recovery_code_lookup")]

    def __str__(self) -> str:
        return "recovery code (used)" if self.used_at else "recovery code"


def email_code_digest(code: str, *, attempt: str) -> str:
    # Bound to the sign-in attempt that asked for it: the same code means nothing to another.
    return keyed_hash(f"{attempt}\0{_digits(code)}", purpose="mfa.email-code")


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
        return _throttle_factor()

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
            self.save(update_fields=["code_digest", "valid_until", *_THROTTLE_FIELDS])
            return True
        self.throttle_increment(commit=False)
        self.save(update_fields=_THROTTLE_FIELDS)
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
