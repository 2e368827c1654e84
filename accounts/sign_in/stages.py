"""The login stages of a tenant sign-in, in the order of LOGIN_STAGES (the package docstring,
accounts.sign_in, says why in this order and where MFA and conditional access go)."""

from __future__ import annotations

from allauth.account import stages as allauth_stages
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.authentication import get_authentication_records
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import UserFlow
from accounts.selectors import user_flow_for
from audit.models import SignInEvent
from audit.services import sign_in_record

LOGIN_STAGES = [
    # The primary factor: a password was checked before any stage runs; an emailed code is
    # asked and checked by this stage (its own page, accounts.forms.ConfirmLoginCodeForm).
    "allauth.account.stages.LoginByCodeStage",
    "accounts.sign_in.stages.UserFlowMethodStage",
    # Conditional access: block, or say what the sign-in must still prove (MFA reads it).
    "conditional_access.stages.ConditionalAccessStage",
    # Does nothing here (no phone field); listed to keep allauth's own order.
    "allauth.account.stages.PhoneVerificationStage",
    "accounts.sign_in.stages.EmailVerificationStage",
    # MFA: a second factor, or setting one up when the tenant's policy requires it.
    "mfa.stages.MfaStage",
]

# allauth's names for how the primary factor was proved, in the sign-in log's words.
_METHODS = {
    "password": SignInEvent.Method.PASSWORD,
    "code": SignInEvent.Method.EMAIL_CODE,
    "password_reset": SignInEvent.Method.PASSWORD_RESET,
    "passkey": SignInEvent.Method.PASSKEY,  # mfa.passkey_views.sign_in
    "socialaccount": SignInEvent.Method.FEDERATED,  # an identity provider (federation)
}


def sign_in_method(request, user, *, is_signup: bool) -> str:
    """How this session's sign-in was proved, from allauth's authentication records."""
    # A second factor (mfa.stages records "mfa") is not how the sign-in began.
    records = [r for r in get_authentication_records(request, user) if r["method"] != "mfa"]
    if records:
        return _METHODS.get(records[-1]["method"], records[-1]["method"])
    return SignInEvent.Method.SIGNUP if is_signup else SignInEvent.Method.PASSWORD


def _login_email(login) -> str:
    return login.email or login.user.email


class UserFlowMethodStage(allauth_stages.LoginStage):
    """The tenant's user flow must still allow the method that proved the primary factor: a
    page opened before an admin switched a method off cannot be used to sign in with it."""

    key = "ciam_user_flow_method"

    def handle(self):
        login = self.login
        flow = user_flow_for(self.request)
        method = sign_in_method(self.request, login.user, is_signup=login.signup)
        allowed = (method == SignInEvent.Method.PASSWORD and flow.password_enabled) or (
            method == SignInEvent.Method.EMAIL_CODE and flow.email_code_enabled
        )
        if method not in (SignInEvent.Method.PASSWORD, SignInEvent.Method.EMAIL_CODE) or allowed:
            return None, True
        sign_in_record(
            request=self.request,
            user=login.user,
            email=_login_email(login),
            method=method,
            result=SignInEvent.Result.BLOCKED,
            failure_reason=SignInEvent.FailureReason.METHOD_DISABLED,
        )
        message = _("This way of signing in is turned off.")
        response = render(
            self.request, "hosted/sign_in_blocked.html", {"message": message}, status=403
        )
        # False: the sign-in ends here (allauth forgets it), the page says why.
        return response, False


class EmailVerificationStage(allauth_stages.EmailVerificationStage):
    """allauth's email verification stage, under the tenant's rule, writing the sign-in log's
    row when it holds a sign-in back.

    A sign-up always waits for the emailed link (settings.ACCOUNT_EMAIL_VERIFICATION), so
    that signing up with a registered email looks exactly like signing up with a new one;
    later sign-ins wait for a verified email only when the tenant's user flow makes
    verification mandatory. Its key is allauth's, which allauth's verification views enter by.
    """

    def handle(self):
        login = self.login
        if not login.signup:
            flow = user_flow_for(self.request)
            login.email_verification = EmailVerificationMethod(flow.email_verification)
            # allauth's stage would look the address up before asking whether this is a
            # sign-up, the only case of optional verification in which it sends anything.
            if flow.email_verification == UserFlow.EmailVerification.OPTIONAL:
                return None, True
        response, go_on = super().handle()
        if response is not None:
            sign_in_record(
                request=self.request,
                user=login.user,
                email=_login_email(login),
                method=sign_in_method(self.request, login.user, is_signup=login.signup),
                result=SignInEvent.Result.INTERRUPTED,
                failure_reason=SignInEvent.FailureReason.EMAIL_NOT_VERIFIED,
            )
        return response, go_on
