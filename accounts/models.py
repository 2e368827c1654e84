from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _

from accounts.roles import AdminRole


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractUser):
    """A person in one tenant's directory (or, in the public schema, a platform operator).

    The same email in two tenants is two people: each tenant schema has its own table.
    """

    class UserType(models.TextChoices):
        MEMBER = "member", _("Member")
        GUEST = "guest", _("Guest")

    username = None
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), max_length=254)
    display_name = models.CharField(_("display name"), max_length=256, blank=True)
    user_type = models.CharField(max_length=16, choices=UserType.choices, default=UserType.MEMBER)
    admin_roles = ArrayField(
        models.CharField(max_length=40, choices=AdminRole.choices), default=list, blank=True
    )
    # Built-in and custom attributes collected by the tenant's user flow.
    attributes = models.JSONField(default=dict, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]
        indexes = [
            # Django's `email__iexact` compares UPPER(email): without this index every such
            # lookup (sign-up, a failed sign-in, invitations) read the whole user table.
            models.Index(Upper("email"), name="user_email_upper"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_tenant_admin(self) -> bool:
        return bool(self.admin_roles)

    @property
    def admin_role_labels(self) -> list[str]:
        return [AdminRole(role).label for role in self.admin_roles if role in AdminRole.values]

    def get_full_name(self) -> str:
        return self.display_name or super().get_full_name() or self.email


class SignInEvent(models.Model):
    """One row per authentication attempt, good or bad: the tenant's sign-in log."""

    class Result(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        LOCKED_OUT = "locked_out", _("Locked out")
        BLOCKED = "blocked", _("Blocked")
        INTERRUPTED = "interrupted", _("Interrupted")  # e.g. waiting for MFA or consent

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was, kept when the account is deleted (the foreign key is then emptied).
    user_public_id = models.UUIDField(null=True, blank=True)
    user_email = models.CharField(max_length=254, blank=True)
    user_name = models.CharField(max_length=256, blank=True)
    email_typed = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    method = models.CharField(max_length=40)  # password, email_code, token:<grant>, idp:<id>
    result = models.CharField(max_length=16, choices=Result.choices)
    failure_reason = models.CharField(max_length=120, blank=True)
    app_id = models.CharField(max_length=100, blank=True)  # OAuth client id, when an app asked
    app_name = models.CharField(max_length=255, blank=True)
    grant = models.CharField(max_length=40, blank=True)
    mfa_used = models.BooleanField(default=False)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.email_typed} {self.result}"

    @property
    def failure_reason_text(self) -> str:
        """The failure reason for people; the row keeps the code (exports, filters)."""
        return str(FAILURE_REASONS.get(self.failure_reason, self.failure_reason))


# The codes the sign-in flows, the invitation redemption and the token endpoint write.
FAILURE_REASONS = {
    "wrong_password": _("Wrong password"),
    "repeated_wrong_password": _("Wrong password again (the same one, not counted toward lockout)"),
    "unknown_account": _("No account with this email address"),
    "locked_out": _("Account locked"),
    "account_disabled": _("Account disabled"),
    "wrong_code": _("Wrong code"),
    "email_not_verified": _("Email address not verified yet"),
    "method_disabled": _("Sign-in method turned off"),
    "code_expired": _("Code expired or tried too often"),
    "wrong_account": _("Signed in with another address than the one invited"),
    "invalid_grant": _("Code or refresh token not valid"),
    "invalid_client": _("App authentication failed"),
    "invalid_request": _("Incomplete token request"),
    "invalid_scope": _("Scope not allowed for this app"),
    "unauthorized_client": _("App not allowed to use this grant"),
    "unsupported_grant_type": _("Unsupported grant type"),
}


class UserFlow(models.Model):
    """What the tenant's hosted sign-up collects and which sign-in methods it shows. One row per
    tenant schema, created with the tenant."""

    class EmailVerification(models.TextChoices):
        MANDATORY = "mandatory", _("Mandatory: every sign-in needs a verified email")
        OPTIONAL = "optional", _("Optional: sign-up sends a link, sign-in does not wait for it")

    signup_enabled = models.BooleanField(_("people can sign up"), default=True)
    password_enabled = models.BooleanField(_("sign in with email and password"), default=True)
    email_code_enabled = models.BooleanField(_("sign in with a code sent by email"), default=True)
    email_verification = models.CharField(
        _("email verification"),
        max_length=16,
        choices=EmailVerification.choices,
        default=EmailVerification.OPTIONAL,
    )
    password_min_length = models.PositiveSmallIntegerField(
        _("minimum password length"),
        default=12,
        validators=[MinValueValidator(8), MaxValueValidator(128)],
    )
    terms_required = models.BooleanField(_("ask to accept the terms of use"), default=False)
    terms_url = models.URLField(_("terms of use link"), blank=True)
    privacy_url = models.URLField(_("privacy statement link"), blank=True)
    # Hosted sign-in sessions (ciam.sessions), fixed for each session when it signs in.
    session_lifetime_hours = models.PositiveSmallIntegerField(
        _("sign-in session lifetime (hours)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    session_idle_minutes = models.PositiveSmallIntegerField(
        _("sign-out after inactivity (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(1440)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(password_min_length__gte=8, password_min_length__lte=128),
                name="userflow_password_min_length_range",
            ),
        ]

    def __str__(self) -> str:
        return "user flow"


class SignUpAttribute(models.Model):
    """One attribute the sign-up page asks for: a built-in one (givenName, city, ...) or a
    custom one. Values are stored in User.attributes (givenName, surname and displayName also
    fill the matching user fields)."""

    class DataType(models.TextChoices):
        STRING = "string", _("Text")
        BOOLEAN = "boolean", _("Yes/no checkbox")
        INTEGER = "integer", _("Whole number")
        CHOICE = "choice", _("Single choice")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    flow = models.ForeignKey(UserFlow, on_delete=models.CASCADE, related_name="attributes")
    key = models.CharField(_("attribute name"), max_length=64)
    label = models.CharField(_("label"), max_length=128)
    data_type = models.CharField(
        _("type"), max_length=16, choices=DataType.choices, default=DataType.STRING
    )
    is_builtin = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(default=256)
    choices = ArrayField(models.CharField(max_length=128), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "key"], name="signupattribute_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class SignInLogExport(models.Model):
    """A CSV of the sign-in log, written by a Celery task; the console shows its progress and
    offers the file when done. Kept EXPORT_KEEP_DAYS (services.sign_in_exports_forget)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # At most this many rows (the newest): the file stays in the database and must open in a
    # spreadsheet. Narrower filters reach older rows.
    MAX_ROWS = 200_000

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    content = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sign-in log export {self.public_id}"

    @property
    def is_capped(self) -> bool:
        return self.rows_total >= self.MAX_ROWS

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
