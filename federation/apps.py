from django.apps import AppConfig


class FederationConfig(AppConfig):
    default = True
    name = "federation"
    verbose_name = "Federation (identity providers)"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from console.navigation import Area, register

        register(
            Area(
                _("Identity providers"),
                "console:identity-providers:list",
                (AdminRole.SECURITY_ADMINISTRATOR,),
            ),
            order=30,
        )

        from allauth.socialaccount.signals import social_account_added, social_account_removed

        from federation.services import identity_linked_audit, identity_unlinked_audit

        social_account_added.connect(identity_linked_audit, dispatch_uid="federation-linked")

        # Sign-ins keep the enabled IdPs per process (federation.selectors): any change, from
        # wherever it comes, makes every process read them again.
        from django.db.models.signals import post_delete, post_save

        from federation.models import IdentityProvider

        for signal in (post_save, post_delete):
            signal.connect(
                _providers_changed, sender=IdentityProvider, dispatch_uid=f"idp-{signal}"
            )
        social_account_removed.connect(identity_unlinked_audit, dispatch_uid="federation-unlinked")

        # python3-saml is given every signing certificate of a SAML IdP, not the first one
        # only (a key rollover): federation.saml.saml_config_build says why this way.
        from federation.saml import saml_config_hook_install

        saml_config_hook_install()


def _providers_changed(sender, **kwargs) -> None:
    from federation.selectors import identity_providers_invalidate

    identity_providers_invalidate()
