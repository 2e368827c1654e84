"""Conditional access where a browser already signed in asks for an app (the authorization
endpoint), and the block page every refusal shows. No allauth import at module level: the
OpenID Connect views import it."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.models import SignInEvent
from audit.services import sign_in_record
from ciam.http import client_ip
from conditional_access.evaluation import SignInContext, evaluate_policies
from conditional_access.selectors import recent_failures, tenant_policies


def is_new_browser(request, email: str) -> bool:
    """Whether this browser never signed in to the account `email` (a risk signal)."""
    from accounts.sign_in.familiar import lockout_subject

    # accounts.sign_in.familiar counts a familiar browser's attempts under a name of their own.
    return lockout_subject(request, email) == email


def blocked_page(request, *, user, email: str, method: str, app, message: str = ""):
    """The hosted block page (403), after the sign-in log row that says why."""
    sign_in_record(
        request=request,
        user=user,
        email=email,
        method=method,
        result=SignInEvent.Result.BLOCKED,
        failure_reason=SignInEvent.FailureReason.BLOCKED_BY_POLICY,
        app_id=app.client_id if app is not None else "",
        app_name=app.name if app is not None else "",
    )
    message = message or _(
        "Your organization's access policy does not allow this sign-in from here. "
        "Contact your administrator if you think it should."
    )
    return render(request, "hosted/sign_in_blocked.html", {"message": message}, status=403)


def authorize_refusal(request, application):
    """At the authorization endpoint, for a browser already signed in: the block page when a
    policy that is on blocks this user, app and IP address now, else None (one dict lookup
    while no policy is on). Requirements are the sign-in's business (the MFA stage)."""
    policies = tenant_policies()
    if application is None or not policies.any_on:
        return None
    from accounts.sign_in.stages import sign_in_method

    user = request.user
    context = SignInContext(
        user=user,
        app_id=application.pk,
        ip=client_ip(request),
        method=sign_in_method(request, user, is_signup=False),
        new_browser=lambda: is_new_browser(request, user.email),
        recent_failures=lambda: recent_failures(user),
    )
    decision = evaluate_policies(policies, context)
    if not decision.blocked:
        return None
    request.sign_in_policies = decision.log_entries()
    return blocked_page(
        request, user=user, email=user.email, method=SignInEvent.Method.SESSION, app=application
    )
