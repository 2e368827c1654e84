from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.roles import AdminRole


def email_normalize(email: str) -> str:
    """The one form of an address, stored and looked up: trimmed and lower-cased, as allauth
    stores its EmailAddress rows and looks users up (an exact match on the lower-cased
    address). Every lookup of a user by email is then an exact match on the unique index."""
    return (email or "").strip().lower()


class EmailUserManager(UserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # Django's lower-cases the domain only; also used by AbstractUser.clean().
        return email_normalize(email)

    def with_email(self, email: str):
        """The users with this address (one at most), on the unique index."""
        return self.filter(email=email_normalize(email))

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
        return self.with_email(email).get()


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
    # The language the person chose in My account (a code of settings.LANGUAGES), blank for
    # none: pages and emails to them use it (ciam/locale.py).
    language = models.CharField(_("language"), max_length=12, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    class Meta:
        constraints = [
            # Addresses are stored lower-cased (email_normalize), so that every lookup, ours
            # and allauth's, is an exact match on this one index.
            models.UniqueConstraint(fields=["email"], name="user_email_unique"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lower_case"
            ),
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
