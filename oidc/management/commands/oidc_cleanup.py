"""Delete what the provider no longer needs, in every tenant: redeemed-code records and codes
past their time, refresh tokens whose sign-in outlived the app's absolute lifetime (revoked
ones are kept until then: they are how a replay is recognised) and the granted scopes kept for
their sign-ins, expired access tokens that no refresh token holds. Run it daily (cron or
Celery beat)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import DurationField, ExpressionWrapper, F, Value
from django.utils import timezone
from django_tenants.utils import tenant_context
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from oidc.models import RedeemedCode, RefreshScope
from tenants.models import Tenant


def cleanup(now=None) -> dict[str, int]:
    """The current tenant's cleanup; returns the number of rows deleted per kind."""
    now = now or timezone.now()
    lifetime = ExpressionWrapper(
        F("application__refresh_token_lifetime") * Value(timedelta(seconds=1)),
        output_field=DurationField(),
    )
    # A token is never older than its sign-in, so created + lifetime bounds the family's end.
    outlived = RefreshToken.objects.alias(ends=F("created") + lifetime).filter(ends__lte=now)
    counts = {
        "redeemed codes": RedeemedCode.objects.filter(expires_at__lte=now).delete()[0],
        "codes": Grant.objects.filter(expires__lte=now).delete()[0],
        "refresh tokens": outlived.delete()[0],
    }
    families = RefreshToken.objects.filter(token_family__isnull=False).values("token_family")
    counts["refresh scopes"] = RefreshScope.objects.exclude(token_family__in=families).delete()[0]
    counts["access tokens"] = AccessToken.objects.filter(
        expires__lte=now, refresh_token__isnull=True
    ).delete()[0]
    return counts


class Command(BaseCommand):
    help = "Delete expired codes, outlived refresh tokens and expired access tokens."

    def handle(self, *args, **options):
        for tenant in Tenant.objects.exclude(schema_name="public"):
            with tenant_context(tenant):
                counts = cleanup()
            summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
            self.stdout.write(f"{tenant.slug}: {summary}")
