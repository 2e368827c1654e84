from __future__ import annotations

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.stages import EmailVerificationStage, LoginStage

from accounts import pipeline
from accounts.selectors import user_flow_for
from audit.models import SignInEvent

# allauth's names for how the primary factor was proved, in the sign-in log's words.
_METHODS = {
    "password": SignInEvent.Method.PASSWORD,
    "code": SignInEvent.Method.EMAIL_CODE,
    "password_reset": SignInEvent.Method.PASSWORD_RESET,
}


class SignInPipelineStage(LoginStage):
    """Runs accounts.pipeline after the primary factor (allauth's login-by-code stage comes
    first) and before allauth's email verification stage, whose rule it sets per tenant."""

    key = "ciam_sign_in_pipeline"

    def handle(self):
        login = self.login
        flow = user_flow_for(self.request)
        # A sign-up always waits for the emailed link, so that signing up with a registered
        # email looks exactly like signing up with a new one; later sign-ins wait for a
        # verified email only when the tenant makes verification mandatory.
        if not login.signup:
            login.email_verification = EmailVerificationMethod(flow.email_verification)
        method = sign_in_method(self.request, login.user, is_signup=login.signup)
        attempt = pipeline.SignInAttempt(
            request=self.request,
            user=login.user,
            method=method,
            email=login.email or login.user.email,
            is_signup=login.signup,
            flow=flow,
        )
        response = pipeline.run(attempt)
        if response is not None:
            return response, False
        return None, True


class OptionalEmailVerificationStage(EmailVerificationStage):
    """allauth's email verification stage, without its query on every sign-in when the
    tenant makes verification optional: it looks the address up before asking whether this is
    a sign-up, the only case in which it sends anything."""

    def handle(self):
        login = self.login
        if login.email_verification == EmailVerificationMethod.OPTIONAL and not login.signup:
            return None, True
        return super().handle()


def sign_in_method(request, user, *, is_signup: bool) -> str:
    """How this session's sign-in was proved, from allauth's authentication records."""
    # A second factor (mfa.stages records "mfa") is not how the sign-in began.
    records = [r for r in get_authentication_records(request, user) if r["method"] != "mfa"]
    if records:
        return _METHODS.get(records[-1]["method"], records[-1]["method"])
    return SignInEvent.Method.SIGNUP if is_signup else SignInEvent.Method.PASSWORD
