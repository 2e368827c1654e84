"""Rotate signing keys of one tenant or all, and delete keys whose tokens have all expired.

Run `--retire-expired` daily (cron or Celery beat); rotate as often as your policy asks."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from oidc.services import KEY_PUBLISH_AHEAD, signing_key_rotate, signing_keys_retire_expired
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Rotate tenants' signing keys (new key published now, signs after --ahead minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: every tenant)")
        parser.add_argument(
            "--ahead",
            type=int,
            default=int(KEY_PUBLISH_AHEAD.total_seconds() // 60),
            help="minutes between publishing the new key and signing with it",
        )
        parser.add_argument(
            "--retire-expired",
            action="store_true",
            help="only delete keys past their retirement time; rotate nothing",
        )

    def handle(self, *args, tenant=None, ahead=60, retire_expired=False, **options):
        tenants = Tenant.objects.exclude(schema_name="public")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"no tenant with slug {tenant!r}")
        for each in tenants:
            with tenant_context(each):
                if retire_expired:
                    deleted = signing_keys_retire_expired()
                    self.stdout.write(f"{each.slug}: {deleted} retired key(s) deleted")
                else:
                    key = signing_key_rotate(
                        actor="rotate_signing_keys command", publish_ahead=timedelta(minutes=ahead)
                    )
                    self.stdout.write(
                        f"{each.slug}: new key {key.kid} signs from {key.active_from}"
                    )
