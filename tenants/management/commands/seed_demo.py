"""Demo data for `make run`: two tenants with an admin and a few users. Idempotent."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from tenants.models import Tenant
from tenants.selectors import tenant_url
from tenants.services import tenant_create

DEMO_PASSWORD = "demo passphrase for testing"
OPERATOR_EMAIL = "operator@localhost"
DEMO_TENANTS = [
    ("contoso", "Contoso", ["ada@example.com", "grace@example.com", "linus@example.com"]),
    ("fabrikam", "Fabrikam", ["alan@example.com", "barbara@example.com"]),
]


class Command(BaseCommand):
    help = "Create the demo tenants (contoso, fabrikam) and a platform operator, if missing."

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(email=OPERATOR_EMAIL, password=DEMO_PASSWORD)
        for slug, name, people in DEMO_TENANTS:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                tenant = tenant_create(
                    name=name,
                    slug=slug,
                    admin_email=f"admin@{slug}.example",
                    admin_password=DEMO_PASSWORD,
                )
            with tenant_context(tenant):
                for email in people:
                    if not User.objects.filter(email=email).exists():
                        given = email.split("@")[0].capitalize()
                        User.objects.create_user(
                            email=email, password=DEMO_PASSWORD, first_name=given
                        )
            self.stdout.write(f"  {name}: {tenant_url(tenant, '/console/')}")
