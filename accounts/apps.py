from allauth.usersessions import apps as allauth_usersessions
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts"


class UserSessionsConfig(allauth_usersessions.UserSessionsConfig):
    """allauth's user sessions (the "sign out other sessions" list), with our sign-in handler:
    one statement records the session and forgets expired ones (accounts.services)."""

    default = False

    def ready(self) -> None:
        from allauth.account.signals import password_changed, password_set, user_logged_in
        from allauth.usersessions import signals

        user_logged_in.connect(_record_user_session, dispatch_uid="ciam_user_session_record")
        for signal in (password_set, password_changed):
            signal.connect(signals.on_password_changed)


def _record_user_session(sender, request, **kwargs) -> None:
    from accounts.services import user_session_record

    user_session_record(request=request)
