from allauth.usersessions import apps as allauth_usersessions
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import SignUpAttribute, UserFlow

        # Hosted pages keep the user flow per process: any change to it, wherever it comes
        # from (console, shell, admin), makes them read it again.
        for model in (UserFlow, SignUpAttribute):
            for signal in (post_save, post_delete):
                signal.connect(_user_flow_changed, sender=model, dispatch_uid=f"flow-{model}")


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


def _user_flow_changed(sender, **kwargs) -> None:
    from accounts.selectors import user_flow_cache_invalidate

    user_flow_cache_invalidate()
