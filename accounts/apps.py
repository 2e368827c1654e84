from allauth.usersessions import apps as allauth_usersessions
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from accounts.emails import builders_register
        from accounts.models import SignUpAttribute, UserFlow

        # The emails allauth asks for go through the outbox (emails.registry).
        builders_register()

        # Every sign-in, whichever way it was made: one statement stamps the last sign-in and
        # records the session (accounts.services.user_session_record), in place of Django's
        # save of last_login and allauth's session bookkeeping.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(_record_sign_in_session, dispatch_uid="ciam_user_session_record")

        # A stashed sign-in (the MFA step's pages) reads its user with one plain SELECT.
        from accounts.sign_in.backend import login_deserialize_install

        login_deserialize_install()

        # However allauth proved an address (emailed code, link), the account's first proof
        # ends what a stranger may have set up before it (accounts.services).
        email_confirmed.connect(_email_confirmed, dispatch_uid="ciam_email_confirmed")

        _console_areas_register()

        # Hosted pages keep the user flow per process: any change to it, wherever it comes
        # from (console, shell, admin), makes them read it again.
        for model in (UserFlow, SignUpAttribute):
            for signal in (post_save, post_delete):
                signal.connect(_user_flow_changed, sender=model, dispatch_uid=f"flow-{model}")


class UserSessionsConfig(allauth_usersessions.UserSessionsConfig):
    """allauth's user sessions (the "sign out other sessions" list), without its sign-in
    handler: accounts records sign-ins in one statement (AccountsConfig.ready)."""

    default = False

    def ready(self) -> None:
        # Sign-ins are recorded by accounts (AccountsConfig.ready), not here.
        from allauth.account.signals import password_changed, password_set
        from allauth.usersessions import signals

        for signal in (password_set, password_changed):
            signal.connect(signals.on_password_changed)


def _console_areas_register() -> None:
    from django.utils.translation import gettext_lazy as _

    from accounts.roles import AdminRole
    from console.navigation import Area, register

    user_admins = (AdminRole.USER_ADMINISTRATOR,)
    register(Area(_("Users"), "console:users:list", user_admins), order=10)
    register(Area(_("User flows"), "console:user-flows:edit", user_admins), order=40)


def _record_sign_in_session(sender, request, user, **kwargs) -> None:
    from accounts.services import user_session_record

    user_session_record(request=request, user=user)


def _email_confirmed(sender, request, email_address, **kwargs) -> None:
    from accounts.services import email_address_confirmed

    email_address_confirmed(email_address=email_address, request=request)


def _user_flow_changed(sender, **kwargs) -> None:
    from accounts.selectors import user_flow_cache_invalidate

    user_flow_cache_invalidate()
