"""Conditional access at sign-in: an allauth login stage, after the primary factor and the
sign-in pipeline (accounts.sign_in.stages.LOGIN_STAGES lists it).

It evaluates the tenant's policies (conditional_access.evaluation, as evaluate() does) for
the user, the app the sign-in is for (the `next` authorization request; None for the console
and My account), the client's IP address, the method that proved the primary factor and the
risk signals (first sign-in from this browser, failed sign-ins in the last hour).

- Blocked: the hosted block page (403) and a sign-in log row (result blocked, reason
  blocked_by_policy, with every policy and its result); the sign-in ends there.
- Otherwise the decision is kept on the login, for the stages after this one:

      login.state["conditional_access"] = {
          "requirements": ["mfa", "passkey", "password_change"],   # a subset, sorted
          "sign_in_frequency": 8,                                  # hours, or None
          "policies": [...],                                       # the sign-in log's entries
      }

  The MFA stage (it must come after this one in get_login_stages) reads it with
  `requirements_for(login)` and asks for a second factor when "mfa" is in it (a passkey when
  "passkey" is); its app calls `requirement_enforcer_register("mfa", "passkey")` in ready().
  A sign-in that completes in a later request (after an MFA prompt) records its policies in
  the sign-in log, and its session the sign-in frequency, by calling
  `sign_in_policies_restore(request, login)` before allauth logs the user in.
- A sign-in frequency shortens the hosted session's absolute lifetime to that many hours
  (a user_logged_in receiver, conditional_access.apps).
- "password_change": once signed in, the browser goes to the change-password page (allauth's)
  instead of where it was going.

The same request's sign-in log rows (audit.services.sign_in_event_insert) carry the policies
through `request.sign_in_policies`.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from allauth.account.stages import LoginStage
from django.urls import reverse

from ciam.http import client_ip
from conditional_access.blocking import blocked_page, is_new_browser
from conditional_access.evaluation import Decision, SignInContext, evaluate_policies
from conditional_access.requirements import (  # noqa: F401  (the stage's interface, re-exported)
    STATE_KEY,
    requirement_enforcer_register,
    requirements_for,
    requirements_not_enforced,
    sign_in_policies_restore,
)
from conditional_access.selectors import recent_failures, tenant_policies


def sign_in_frequency_apply(request) -> None:
    """Once signed in: a policy's sign-in frequency shortens the session's absolute lifetime
    (ciam.sessions), never lengthens it."""
    from ciam.sessions import ENDS_AT

    hours = getattr(request, "sign_in_frequency", None)
    session = getattr(request, "session", None)
    if not hours or session is None or ENDS_AT not in session:
        return
    session[ENDS_AT] = min(session[ENDS_AT], time.time() + hours * 3600)


def app_of_sign_in(redirect_url: str | None):
    """The app a sign-in is for: the client of the authorization request it returns to."""
    from oidc.clients import client_get

    if not redirect_url:
        return None
    try:
        parts = urlsplit(redirect_url)
        authorize = reverse("oidc:authorize")
    except ValueError:
        return None
    if parts.scheme or parts.netloc or parts.path != authorize:
        return None
    client_id = (parse_qs(parts.query).get("client_id") or [""])[0]
    return client_get(client_id) if client_id else None


def sign_in_context(request, login, *, app) -> SignInContext:
    from accounts.sign_in.stages import sign_in_method

    user = login.user
    return SignInContext(
        user=user,
        app_id=app.pk if app is not None else None,
        ip=client_ip(request),
        method=sign_in_method(request, user, is_signup=login.signup),
        new_browser=lambda: is_new_browser(request, user.email),
        recent_failures=lambda: recent_failures(user),
    )


def _keep(login, decision: Decision, entries: list[dict]) -> None:
    login.state[STATE_KEY] = {
        "requirements": sorted(decision.requirements),
        "sign_in_frequency": decision.sign_in_frequency,
        "policies": entries,
    }


class ConditionalAccessStage(LoginStage):
    key = "ciam_conditional_access"

    def handle(self):
        request, login = self.request, self.login
        if login.user is None or login.user.pk is None:
            return None, True  # a sign-up with a registered address: nobody signs in
        policies = tenant_policies()  # the platform's own sign-in (operators) has none
        if not policies.policies:
            return None, True
        app = app_of_sign_in(login.redirect_url)
        context = sign_in_context(request, login, app=app)
        decision = evaluate_policies(policies, context)
        entries = decision.log_entries()
        request.sign_in_policies = entries
        request.sign_in_frequency = decision.sign_in_frequency
        _keep(login, decision, entries)
        if decision.blocked:
            response = blocked_page(
                request,
                user=login.user,
                email=login.email or login.user.email,
                method=context.method,
                app=app,
            )
            return response, False
        if "password_change" in decision.requirements and login.user.has_usable_password():
            login.redirect_url = reverse("account_change_password")
        return None, True
