from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
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
