"""The sign-in pipeline: what happens after the primary factor (password, email code) proved
who someone is, before the session is theirs.

Each step is a plain function `step(attempt) -> HttpResponse | None`: None lets the sign-in go
on, a response interrupts it (a block page, or later an MFA prompt or a consent page). Steps run
in the order of STEPS; MFA, conditional access and consent add themselves there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.models import UserFlow
from audit.models import SignInEvent
from audit.services import sign_in_record


@dataclass
class SignInAttempt:
    request: HttpRequest
    user: AbstractBaseUser
    method: str  # "password", "email_code", "password_reset"
    email: str
    is_signup: bool
    flow: UserFlow


def policy_check(attempt: SignInAttempt) -> HttpResponse | None:
    """The tenant's user flow must still allow the method used (a page opened before an
    admin switched a method off cannot be used to sign in with it)."""
    flow = attempt.flow
    allowed = (attempt.method == "password" and flow.password_enabled) or (
        attempt.method == "email_code" and flow.email_code_enabled
    )
    if attempt.method in ("password", "email_code") and not allowed:
        return _blocked(
            attempt,
            SignInEvent.FailureReason.METHOD_DISABLED,
            _("This way of signing in is turned off."),
        )
    return None


def email_verification_note(attempt: SignInAttempt) -> HttpResponse | None:
    """allauth's email verification stage (after this pipeline) holds back a sign-in whose
    email is not verified when the tenant makes verification mandatory: the log says so."""
    from allauth.account.utils import has_verified_email

    mandatory = attempt.flow.email_verification == UserFlow.EmailVerification.MANDATORY
    if (mandatory or attempt.is_signup) and not has_verified_email(attempt.user, attempt.email):
        sign_in_record(
            request=attempt.request,
            user=attempt.user,
            email=attempt.email,
            method=attempt.method,
            result=SignInEvent.Result.INTERRUPTED,
            failure_reason=SignInEvent.FailureReason.EMAIL_NOT_VERIFIED,
        )
    return None


STEPS = [policy_check, email_verification_note]


def run(attempt: SignInAttempt) -> HttpResponse | None:
    for step in STEPS:
        response = step(attempt)
        if response is not None:
            return response
    return None


def _blocked(attempt: SignInAttempt, reason: str, message: str) -> HttpResponse:
    sign_in_record(
        request=attempt.request,
        user=attempt.user,
        email=attempt.email,
        method=attempt.method,
        result=SignInEvent.Result.BLOCKED,
        failure_reason=reason,
    )
    return render(attempt.request, "hosted/sign_in_blocked.html", {"message": message}, status=403)
