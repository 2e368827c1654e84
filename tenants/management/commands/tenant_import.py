from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.moves import TenantMoveError, tenant_import
from tenants.selectors import tenant_url


class Command(BaseCommand):
    help = (
        "Load a tenant_export file into this deployment; refuses a slug, host or schema that "
        "exists here, a damaged file and one made at other migrations (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        try:
            imported = tenant_import(path=options["file"])
        except TenantMoveError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Imported {imported.tenant.slug} ({', '.join(imported.domains)}; "
            f"{imported.files} files): {tenant_url(imported.tenant, '/console/')}"
        )
