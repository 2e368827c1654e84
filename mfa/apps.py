from django.apps import AppConfig


class MfaConfig(AppConfig):
    default = True
    name = "mfa"
    verbose_name = "Multi-factor authentication"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from console.navigation import Area, register

        register(
            Area(_("Policies"), "console:policies:index", (AdminRole.SECURITY_ADMINISTRATOR,)),
            order=70,
        )

        from conditional_access.requirements import requirement_enforcer_register
        from mfa.sign_in import mfa_sign_in_complete

        # Conditional access policies that require MFA or a passkey: mfa.stages.MfaStage.
        requirement_enforcer_register("mfa", "passkey")

        # Once a sign-in that passed the MFA stage has logged the user in, the session holds
        # the verified device (django_otp.login) and the request says which method served.
        user_logged_in.connect(mfa_sign_in_complete, dispatch_uid="ciam_mfa_sign_in_complete")

        # Sign-ins keep the policy per process (mfa.selectors.tenant_mfa): any change to it,
        # or an authenticator app confirmed, from wherever it comes, makes them read it again.
        from django.db.models.signals import post_delete, post_save

        from mfa.models import MfaPolicy, PasskeyDevice, TOTPDevice

        for signal in (post_save, post_delete):
            signal.connect(_policy_changed, sender=MfaPolicy, dispatch_uid=f"mfa-policy-{signal}")
        post_save.connect(_device_saved, sender=TOTPDevice, dispatch_uid="mfa-totp-saved")
        post_save.connect(_passkey_added, sender=PasskeyDevice, dispatch_uid="mfa-passkey-saved")


def _policy_changed(sender, **kwargs) -> None:
    from mfa.selectors import tenant_mfa_invalidate

    tenant_mfa_invalidate()


def _device_saved(sender, instance, update_fields=None, **kwargs) -> None:
    # Not on the save of every verified code: only when confirmation may have changed.
    if instance.confirmed and (update_fields is None or "confirmed" in update_fields):
        from mfa.selectors import tenant_mfa_invalidate

        tenant_mfa_invalidate()


def _passkey_added(sender, instance, created=False, **kwargs) -> None:
    if created:
        from mfa.selectors import tenant_mfa_invalidate

        tenant_mfa_invalidate()
