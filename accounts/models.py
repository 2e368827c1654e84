from __future__ import annotations

import uuid
from datetime import UTC, datetime

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce, Lower
from django.utils.translation import gettext_lazy as _

from accounts.roles import AdminRole
from console.bulk import BulkJob

# Where users who never signed in sort by last sign-in (before everyone who did).
NEVER_SIGNED_IN = datetime(1970, 1, 1, tzinfo=UTC)


def user_search_text():
    """What the console's Users search looks in, lower-cased: the address (stored lower-case)
    and the names, joined by spaces (the columns are never NULL). Migration 0013 indexes this
    very expression with pg_trgm, so a search for any part of it reads that index instead of
    every user: the SQL must stay as the index has it."""
    return models.Func(
        models.F("email"), Lower("display_name"), Lower("first_name"), Lower("last_name"),
        template="(%(expressions)s)", arg_joiner=" || ' ' || ", output_field=models.TextField(),
    )  # fmt: skip


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

    # Django's async variants take a username first: these take the email, as the above do.
    async def acreate_user(self, email, password=None, **extra_fields):
        return await sync_to_async(self.create_user)(email, password, **extra_fields)

    async def acreate_superuser(self, email, password=None, **extra_fields):
        return await sync_to_async(self.create_superuser)(email, password, **extra_fields)

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
    # Soft deletion (accounts.lifecycle): a deleted user is disabled and hidden at once,
    # restorable for DELETED_KEEP_DAYS, then purged. Restoring gives back the state it had.
    deleted_at = models.DateTimeField(null=True, blank=True)
    enabled_before_deletion = models.BooleanField(default=True)
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
        # The console's Users list pages by keyset on each order it offers (email has its
        # unique index); deleted users, admins and attribute matches are found by index too,
        # so a list of a million users costs the same on its first and its last page.
        indexes = [
            models.Index(fields=["date_joined", "id"], name="user_created_keyset"),
            models.Index(
                Coalesce("last_login", models.Value(NEVER_SIGNED_IN)),
                "id",
                name="user_last_sign_in_keyset",
            ),  # fmt: skip
            # The same for guests alone: the inactive guests report (Console > Guests) and
            # guests by last sign-in read only guests, however many members never signed in.
            models.Index(
                Coalesce("last_login", models.Value(NEVER_SIGNED_IN)),
                "id",
                name="user_guest_last_sign_in",
                condition=models.Q(user_type="guest"),
            ),  # fmt: skip
            models.Index(
                fields=["deleted_at"],
                name="user_deleted",
                condition=models.Q(deleted_at__isnull=False),
            ),  # fmt: skip
            models.Index(fields=["id"], name="user_admins", condition=~models.Q(admin_roles=[])),
            GinIndex(fields=["attributes"], name="user_attributes", opclasses=["jsonb_path_ops"]),
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

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    # django-otp's device that verified this request's session (`is_verified()`), read from
    # the database only when something asks: ciam.middleware.OTPMiddleware leaves a loader
    # instead of the device, so the pages that never ask (My account, the hosted pages) pay
    # no query for it. Setting it (django_otp.login) replaces the loader.
    @property
    def otp_device(self):
        load = self.__dict__.pop("_otp_device_load", None)
        if load is not None:
            self.__dict__["_otp_device"] = load()
        return self.__dict__.get("_otp_device")

    @otp_device.setter
    def otp_device(self, device) -> None:
        self.__dict__.pop("_otp_device_load", None)
        self.__dict__["_otp_device"] = device

    def __getstate__(self):
        self.otp_device  # noqa: B018 (a copy or pickle holds the device, not the loader)
        return super().__getstate__()


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


class UserImport(BulkJob):
    """One CSV of users to create (Console > Users > Import, console.bulk.BulkJob): pending
    rows are {"row", "email", "first_name", "last_name", "display_name", "attributes"}."""

    class Meta(BulkJob.Meta):
        pass
