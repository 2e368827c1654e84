"""Delete what the provider no longer needs, in every tenant at once (oidc.services.
tokens_cleanup): Celery beat does it each night (oidc.tasks.tokens_cleanup_all); this command
is for a deployment without beat, or after importing tenants."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from oidc.services import tokens_cleanup
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Delete expired codes, outlived refresh tokens, expired access tokens and keys."

    def handle(self, *args, **options):
        for tenant in Tenant.objects.exclude(schema_name="public"):
            with tenant_context(tenant):
                counts = tokens_cleanup()
            summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
            self.stdout.write(f"{tenant.slug}: {summary}")
