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

        _reauthentication_by_passkey()

        # Sign-ins keep the policy per process (mfa.selectors.tenant_mfa): any change to it,
        # or an authenticator app confirmed, from wherever it comes, makes them read it again.
        from django.db.models.signals import post_delete, post_save

        from mfa.models import MfaPolicy, PasskeyDevice, ReRegistration, TOTPDevice

        for signal in (post_save, post_delete):
            signal.connect(_policy_changed, sender=MfaPolicy, dispatch_uid=f"mfa-policy-{signal}")
            # Whether anyone must register again (mfa.selectors.reregistration_pending).
            signal.connect(
                _policy_changed, sender=ReRegistration, dispatch_uid=f"mfa-again-{signal}"
            )
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


def _reauthentication_by_passkey() -> None:
    """allauth decides whether a session re-authenticated recently from the ways the user has
    to do it (`get_reauthentication_flows`: a usable password, or allauth's own MFA, which we
    do not use); with none, it lets every sensitive change through. A passkey is a way: the
    flow is added for whoever may re-authenticate with one (mfa.step_up), so that someone
    without a password who signed in with a passkey confirms it is them with it before adding
    or removing sign-in methods (README: private APIs; tests/mfa/test_reauthenticate_passkey.py
    fails if allauth stops reading it)."""
    from allauth.account.internal.flows import reauthentication

    allauths = reauthentication.get_reauthentication_flows
    if getattr(allauths, "ciam_passkeys", False):
        return

    def get_reauthentication_flows(user) -> list[dict]:
        from mfa.step_up import passkey_reauthentication_possible

        flows = allauths(user)
        if not user.is_authenticated:
            return flows
        if passkey_reauthentication_possible(user):
            flows = [*flows, {"id": "passkey_reauthenticate"}]
        # No password (allauth's flow) and no passkey: signing in again (mfa.step_up).
        return flows or [{"id": "sign_in_again"}]

    get_reauthentication_flows.ciam_passkeys = True
    reauthentication.get_reauthentication_flows = get_reauthentication_flows
