"""What an authenticator app and a set of recovery codes are, apart from whose they are: the
tenant's people (mfa.models) and the platform's operators (operators.models) each have their
own tables, in their own schemas, on these abstract models."""

from __future__ import annotations

import time
import uuid
from binascii import unhexlify

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP

from ciam.crypto import keyed_hash
from mfa.fields import EncryptedTextField

THROTTLE_FIELDS = ["throttling_failure_timestamp", "throttling_failure_count"]


def throttle_factor() -> int:
    # Seconds before the first retry after a failure, doubling with each further failure
    # (django-otp's ThrottlingMixin: 1, 2, 4, 8 ... seconds).
    return getattr(settings, "MFA_THROTTLE_FACTOR", 1)


def fields_write(device: models.Model, names: list[str]) -> None:
    """Write `names` of a device with one plain UPDATE: a code checked at every sign-in with
    an authenticator app writes its outcome (the step it used, against replay; the throttle),
    and the ORM's save cost more than the check. No model signal is sent: the one on these
    devices (mfa.apps) only acts when confirmation changes, which this never writes."""
    meta = device._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    values = [
        field.get_db_prep_save(getattr(device, field.attname), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s",
            [*values, device.pk],
        )


def code_digits(token) -> str:
    return "".join(str(token or "").split())


class SealedTOTPDevice(ThrottlingMixin, Device):
    """An authenticator app (RFC 6238): SHA-1, 30-second steps, 6 digits.

    Tolerance: a code is accepted during its own step and one step either side (about 30
    seconds of clock difference each way, so a code is usable for at most 90 seconds); no drift
    is learnt, so the window never moves. A code works once: the step of the last accepted code
    is kept (last_t) and only later steps are accepted after it. The secret is sealed at rest
    (mfa.crypto)."""

    STEP = 30
    DIGITS = 6
    TOLERANCE = 1

    confirmed = models.BooleanField(default=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # 20 random bytes in hex (RFC 4226's recommended key length), sealed.
    secret = EncryptedTextField()
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret.encode())

    def get_throttle_factor(self) -> int:
        return throttle_factor()

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        token = code_digits(token)
        verified = False
        if len(token) == self.DIGITS and token.isdigit():
            totp = TOTP(self.bin_key, step=self.STEP, digits=self.DIGITS)
            totp.time = time.time()
            verified = totp.verify(int(token), tolerance=self.TOLERANCE, min_t=self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.last_used_at = timezone.now()
                self.throttle_reset(commit=False)
                fields_write(self, ["last_t", "last_used_at", *THROTTLE_FIELDS])
        if not verified:
            self.throttle_increment(commit=False)
            fields_write(self, THROTTLE_FIELDS)
        return verified


def recovery_code_digest(code: str) -> str:
    # Codes are typed in any case, with or without the dash and spaces.
    normalized = "".join(code.split()).replace("-", "").lower()
    return keyed_hash(normalized, purpose="mfa.recovery-code")


class HashedRecoveryCodeDevice(ThrottlingMixin, Device):
    """A set of single-use recovery codes, kept as keyed hashes (ciam.crypto.keyed_hash) in a
    model of RecoveryCodeBase whose foreign key to the set is named `codes` in reverse."""

    COUNT = 10
    FEW_LEFT = 3

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def get_throttle_factor(self) -> int:
        return throttle_factor()

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
            self.save(update_fields=["last_used_at", *THROTTLE_FIELDS])
            return True
        self.throttle_increment(commit=False)
        self.save(update_fields=THROTTLE_FIELDS)
        return False


class RecoveryCodeBase(models.Model):
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return "recovery code (used)" if self.used_at else "recovery code"


class PasskeyDeviceBase(Device):
    """A passkey (WebAuthn credential) registered on one host; several per user, each named by
    its owner. Always discoverable and made with user verification (mfa.passkeys says why), so
    each one signs in without a password and counts as a second factor too.

    Only public material is kept: the credential id, the public key (COSE) and the
    authenticator's counter."""

    MAX_PER_USER = 20

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
        abstract = True
        ordering = ["created_at", "id"]

    def verify_token(self, token) -> bool:
        # A passkey answers a challenge (mfa.passkeys), never a typed token.
        return False
