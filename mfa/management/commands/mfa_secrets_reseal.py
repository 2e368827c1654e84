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
        unopened_anywhere = 0
        for tenant in Tenant.objects.exclude(schema_name="public"):
            with tenant_context(tenant):
                resealed, unopened = mfa_secrets_reseal()
            self._report(tenant.slug, resealed, unopened)
            unopened_anywhere += unopened
        with schema_context("public"):
            resealed, unopened = mfa_secrets_reseal(device_model=OperatorTOTPDevice)
        self._report("operators", resealed, unopened)
        unopened_anywhere += unopened
        if unopened_anywhere:
            self.stderr.write(
                f"{unopened_anywhere} secrets open under no key of MFA_ENCRYPTION_KEYS: they "
                "were left as they are. Put back the key that sealed them before dropping any."
            )

    def _report(self, where: str, resealed: int, unopened: int) -> None:
        line = f"{where}: {resealed} secrets"
        if unopened:
            line += f", {unopened} not opened"
        self.stdout.write(line)
