from django.apps import AppConfig


class MfaConfig(AppConfig):
    default = True
    name = "mfa"
    verbose_name = "Multi-factor authentication"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from mfa.sign_in import mfa_sign_in_complete

        # Once a sign-in that passed the MFA stage has logged the user in, the session holds
        # the verified device (django_otp.login) and the request says which method served.
        user_logged_in.connect(mfa_sign_in_complete, dispatch_uid="ciam_mfa_sign_in_complete")
