from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.moves import TenantMoveError, tenant_export


class Command(BaseCommand):
    help = (
        "Write one tenant (its schema, public rows and stored files, with checksums) to a file "
        "that tenant_import loads into another deployment (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with the slug {options['slug']!r}.")
        try:
            manifest = tenant_export(tenant=tenant, path=options["file"])
        except TenantMoveError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Exported {tenant.slug} (schema {manifest['schema']}, {len(manifest['sha256'])} "
            f"parts) to {options['file']}"
        )
