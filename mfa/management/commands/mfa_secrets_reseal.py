"""After putting a new key first in MFA_ENCRYPTION_KEYS: seal every authenticator secret of
every tenant, and the platform operators' (public schema), under it. The old key can be
dropped once this has run."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context, tenant_context

from mfa.services import mfa_secrets_reseal
from operators.models import OperatorTOTPDevice
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Seal every authenticator app secret under the first key of MFA_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        for tenant in Tenant.objects.exclude(schema_name="public"):
            with tenant_context(tenant):
                count = mfa_secrets_reseal()
            self.stdout.write(f"{tenant.slug}: {count} secrets")
        with schema_context("public"):
            count = mfa_secrets_reseal(device_model=OperatorTOTPDevice)
        self.stdout.write(f"operators: {count} secrets")
