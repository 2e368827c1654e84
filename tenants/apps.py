from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        # Registers the "ciam" migration executor with django-tenants.
        from tenants import migration_executor  # noqa: F401
