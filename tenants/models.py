from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    # Provisioning creates the schema itself, from the pre-rendered template script.
    auto_create_schema = False
    auto_drop_schema = False

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("display name"), max_length=100)
    slug = models.SlugField(max_length=40, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # The migrations (tenants.migration_executor.migration_fingerprint) the schema was last
    # brought to, by migrate_schemas or at creation: /readyz reads this public record
    # instead of every schema's django_migrations.
    migrations_fingerprint = models.CharField(max_length=32, blank=True, default="", editable=False)
    # The hosted pages' and emails' language when nothing else names one (ciam/locale.py).
    default_language = models.CharField(_("default language"), max_length=12, default="en")

    class Meta:
        ordering = ["name"]
        constraints = [
            # django-tenants refuses a new schema name that differs from another only in case
            # (TenantMixin._check_schema_name_is_unique, `schema_name__iexact`): this index
            # answers that lookup, which otherwise reads every tenant (9 ms at 10,000), and
            # holds the rule in the database as well.
            models.UniqueConstraint(Upper("schema_name"), name="tenant_schema_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def primary_host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}"


class Domain(DomainMixin):
    """A host that serves a tenant: `<slug>.<base domain>` or a verified custom domain."""

    # django-tenants defaults this to True, which the one-primary constraint would refuse
    # for every host added after the first: an added host is an alias until made primary.
    is_primary = models.BooleanField(default=False, db_index=True)
    is_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_primary=True),
                name="one_primary_domain_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return self.domain


class DeletedTenant(models.Model):
    """What stays in the public schema after a tenant and its schema are deleted. Its slug
    stays reserved for TENANT_SLUG_QUARANTINE_DAYS (old links, bookmarks and relying parties
    trusting the issuer would otherwise reach whoever takes it next), unless an operator
    releases it earlier."""

    public_id = models.UUIDField()
    slug = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    schema_name = models.CharField(max_length=63)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(auto_now_add=True)
    deleted_by = models.CharField(max_length=254)
    user_count = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-deleted_at"]
        indexes = [models.Index(fields=["slug", "-deleted_at"], name="deleted_tenant_slug")]

    def __str__(self) -> str:
        return f"{self.slug} (deleted)"

    @property
    def reserved_until(self):
        return self.deleted_at + timedelta(days=settings.TENANT_SLUG_QUARANTINE_DAYS)


class TenantTemplate(models.Model):
    """The rendered DDL + seed script of the template schema.

    New tenant schemas are created by executing this script, which costs the
    same whether 1 or 10,000 tenants exist. `fingerprint` names the set of
    tenant-app migrations the script was rendered from.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    script = models.TextField()
    rendered_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.fingerprint


class TenantWork(models.Model):
    """Periodic work a tenant has waiting, kept in the public schema so that a beat task
    finds the tenants it must visit in one public query, never by reading every schema
    (tenants/work.py). The row is written in the transaction that writes the work (its
    schema is in the same database) and cleared or moved later by the task that does it."""

    class Kind(models.TextChoices):
        # emails.tasks.outbox_relay_all: outbox rows whose delivery task may be lost.
        OUTBOX_RELAY = "outbox_relay"
        # guests.tasks.bulk_invitation_relay_all / accounts.tasks.user_import_relay_all.
        BULK_INVITATION_RELAY = "bulk_invitation_relay"
        USER_IMPORT_RELAY = "user_import_relay"
        # guests.tasks.governance_all: invitations to expire, sponsors to remind, guests to
        # disable.
        GUEST_GOVERNANCE = "guest_governance"
        # accounts.tasks.deleted_users_purge_all.
        DELETED_USERS_PURGE = "deleted_users_purge"
        # audit.tasks.sign_in_exports_forget_all.
        SIGN_IN_EXPORTS_FORGET = "sign_in_exports_forget"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="work")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The earliest moment the task has something to do in the tenant (it may find less).
    due_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="one_work_row_per_kind")
        ]
        indexes = [models.Index(fields=["kind", "due_at"], name="tenant_work_due")]

    def __str__(self) -> str:
        return f"{self.kind} in tenant {self.tenant_id}"
