from __future__ import annotations

from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from allauth.core import context as allauth_context
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import user_flow_for
from accounts.services import password_chosen_here, user_attributes_apply
from accounts.sign_in import lockout
from accounts.sign_in.familiar import familiar_browser_remember, lockout_subject
from accounts.sign_in.stages import LOGIN_STAGES, sign_in_method
from audit.models import SignInEvent
from audit.services import sign_in_record
from ciam.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": gettext_lazy("The email address or password is not correct."),
    }

    def is_open_for_signup(self, request) -> bool:
        # Only tenants have end users; the platform host has no sign-up.
        if getattr(request, "tenant", None) is None or connection.schema_name == "public":
            return False
        return user_flow_for(request).signup_enabled

    def save_user(self, request, user, form, commit=True):
        from accounts.forms import attribute_values

        user = super().save_user(request, user, form, commit=False)
        user_attributes_apply(user=user, attributes=attribute_values(form))
        if form.cleaned_data.get("accept_terms"):
            user.attributes["termsAcceptedAt"] = timezone.now().isoformat()
        if commit:
            user.save()
            password_chosen_here(request=request, user=user)
        return user

    def get_login_stages(self) -> list[str]:
        # Ours in full, not allauth's edited: the order is the one the package docstring gives.
        return list(LOGIN_STAGES)

    def authenticate(self, request, **credentials):
        """Check a password: refused at once while the email or IP address is locked, or while
        too many checks of this email are running (the hasher is never reached), otherwise
        exactly one hash, for known and unknown emails."""
        email = credentials.get("email") or ""
        # A browser that signed in to this account before is counted apart (sign_in.familiar).
        subject = lockout_subject(request, email)
        attempt = lockout.lockout_attempt_begin(email=subject, ip=client_ip(request))
        # Locked, or too many checks of this email already running: refused, unhashed.
        refusal = lockout.lockout_attempt_refusal(attempt, email=subject)
        if refusal is not None:
            self._refuse_locked(request, email, refusal)
        user = None
        try:
            AuthenticationBackend.unstash_authenticated_user()
            user = authenticate(request, **credentials)
            # A correct password of a disabled account: allauth shows the "inactive" page.
            user = user or AuthenticationBackend.unstash_authenticated_user()
            if user is None:
                # Counted while the check is still reserved, so that parallel guesses never
                # see the reservation gone before the failure is counted.
                self.authentication_failed(request, **credentials)
            return user
        finally:
            lockout.lockout_attempt_finish(email=subject, succeeded=user is not None)

    def reauthenticate(self, user, password: str) -> bool:
        """A signed-in user types the password again (before a sensitive change, and as the
        current password of a password change): through authenticate, so that it counts
        toward the lockout and is refused while locked, with the account's own email (allauth
        would send none for an account without an address row)."""
        checked = self.authenticate(allauth_context.request, email=user.email, password=password)
        return checked is not None and checked.pk == user.pk

    def get_reauthentication_methods(self, user) -> list[dict]:
        """allauth's (the password), a passkey for whoever may use one, and signing in again
        for whoever has neither (mfa.step_up)."""
        from mfa.step_up import passkey_reauthentication_methods, sign_in_again_method

        methods = super().get_reauthentication_methods(user)
        if not user.is_authenticated:
            return methods
        return methods + passkey_reauthentication_methods(user) or [sign_in_again_method()]

    def _refuse_locked(self, request, email: str, lock) -> None:
        sign_in_record(
            request=request,
            user=_user_with_email(email),
            email=email,
            method=SignInEvent.Method.PASSWORD,
            result=SignInEvent.Result.LOCKED_OUT,
            failure_reason=SignInEvent.FailureReason.LOCKED_OUT,
        )
        raise ValidationError(lock_message(lock), code="locked_out")

    def authentication_failed(self, request, **credentials) -> None:
        email = credentials.get("email") or ""
        subject = lockout_subject(request, email)
        counted = lockout.lockout_register_failure(
            email=subject, ip=client_ip(request), password=credentials.get("password") or ""
        )
        user = _user_with_email(email)
        if user is None:
            reason = SignInEvent.FailureReason.UNKNOWN_ACCOUNT
        elif counted:
            reason = SignInEvent.FailureReason.WRONG_PASSWORD
        else:
            reason = SignInEvent.FailureReason.REPEATED_WRONG_PASSWORD
        sign_in_record(
            request=request,
            user=user,
            email=email,
            method=SignInEvent.Method.PASSWORD,
            result=SignInEvent.Result.FAILURE,
            failure_reason=reason,
        )
        lock = lockout.lockout_check(email=subject, ip=client_ip(request))
        if lock is not None:
            raise ValidationError(lock_message(lock), code="locked_out")

    def pre_login(self, request, user, **kwargs):
        if not user.is_active:
            sign_in_record(
                request=request,
                user=user,
                method=sign_in_method(request, user, is_signup=kwargs.get("signup", False)),
                result=SignInEvent.Result.FAILURE,
                failure_reason=SignInEvent.FailureReason.ACCOUNT_DISABLED,
            )
        return super().pre_login(request, user, **kwargs)

    def post_login(self, request, user, **kwargs):
        sign_in_record(
            request=request,
            user=user,
            method=sign_in_method(request, user, is_signup=kwargs.get("signup", False)),
            result=SignInEvent.Result.SUCCESS,
            mfa_method=getattr(request, "mfa_method", ""),  # set by mfa.stages
        )
        response = super().post_login(request, user, **kwargs)
        if response is not None:
            familiar_browser_remember(request, response, user.email)
        return response

    def add_message(self, request, level, message_template=None, message_context=None,
                    extra_tags="", message=None) -> None:  # fmt: skip
        # No "Successfully signed in as ..." banner: the page a sign-in lands on (My account,
        # or the app that asked) already shows who is signed in.
        if message_template == "account/messages/logged_in.txt":
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def set_password(self, user, password: str) -> None:
        # Password reset and change: whoever set a new password owns the account.
        super().set_password(user, password)
        lockout.lockout_clear(email=user.email)
        password_chosen_here(request=allauth_context.request, user=user)

    def login(self, request, user) -> None:
        # A first proof of the address in this request removed a password set before it
        # (services.account_first_proof) on another copy of the user: the session must hold
        # the hash of the password as it is now, or Django ends it at the next request.
        after_proof = getattr(request, "accounts_password_after_proof", None)
        if after_proof and after_proof[0] == user.pk:
            user.password = after_proof[1]
        super().login(request, user)

    def format_email_subject(self, subject: str) -> str:
        name = getattr(connection.tenant, "name", "")
        return f"{name}: {subject}" if name else subject

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render in the request (links rebuilt on the tenant's primary domain), send from a
        Celery task in the tenant's schema once the transaction that asked for it commits."""
        from emails.models import OutboxEmail
        from emails.services import outbox_add

        request = allauth_context.request
        tenant = getattr(request, "tenant", None) or connection.tenant
        ctx = {"request": request, "email": email, "tenant": tenant, "tenant_name": tenant.name}
        ctx.update(context)
        for name, value in list(ctx.items()):
            if name.endswith("_url") and isinstance(value, str) and "://" in value:
                ctx[name] = _on_primary_domain(tenant, value)
        # In the recipient's saved language when they have one, else the page's.
        recipient = context.get("user")
        language = getattr(recipient, "language", "") or translation.get_language()
        with translation.override(language):
            message = self.render_mail(template_prefix, email, ctx)
        html = next(
            (content for content, mimetype in message.alternatives if mimetype == "text/html"),
            "",
        )
        # Through the outbox every email uses: a row written in this transaction, a task
        # queued on commit, a relay for a broker that was down, one send per Message-ID,
        # retries on 4xx, and the code or link wiped from the row once sent.
        for recipient in message.to:
            outbox_add(
                kind=OutboxEmail.Kind.ACCOUNT,
                to=recipient,
                payload={
                    "subject": message.subject,
                    "text": message.body,
                    "html": html,
                    "from_email": message.from_email,
                },
            )

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        super().send_notification_mail(template_prefix, user, context, email or user.email)


def _on_primary_domain(tenant, url: str) -> str:
    from tenants.selectors import tenant_url

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return tenant_url(tenant, path)


def _user_with_email(email: str):
    if not email:
        return None
    return get_user_model().objects.with_email(email).first()


def lock_message(lock: lockout.Lock) -> str:
    """What a locked email or IP address is told, on every form where a secret is typed."""
    return _(
        "Too many failed sign-in attempts. For your protection, sign-in is paused: try again "
        "in %(wait)s, or reset your password."
    ) % {"wait": lock.wait_text}


def lock_message_without_reset(lock: lockout.Lock) -> str:
    """lock_message where no password can be reset: the operator sign-in, a guest's
    invitation code."""
    return _("Too many failed sign-in attempts. Sign-in is paused: try again in %(wait)s.") % {
        "wait": lock.wait_text
    }
