from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "branding"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete
        from django.utils.translation import gettext_lazy as _

        from branding.console_views import BRANDING_ADMINS
        from console.navigation import Area, register
        from tenants.models import Tenant

        register(Area(_("Branding"), "console:branding:edit", BRANDING_ADMINS), order=50)

        def tenant_deleted(sender, instance, **kwargs):
            # A deleted tenant's images go with its schema, once the deletion commits.
            from branding.services import branding_files_delete_for_schema

            schema = instance.schema_name
            transaction.on_commit(lambda: branding_files_delete_for_schema(schema))

        post_delete.connect(
            tenant_deleted, sender=Tenant, weak=False, dispatch_uid="branding.tenant_deleted"
        )

        from branding.models import AppBranding

        def app_branding_deleted(sender, instance, **kwargs):
            # An app deleted with its branding: its logo goes unless another branding uses it.
            from branding.services import forget_files_unused

            forget_files_unused([instance.logo_name])

        post_delete.connect(
            app_branding_deleted,
            sender=AppBranding,
            weak=False,
            dispatch_uid="branding.app_branding_deleted",
        )
