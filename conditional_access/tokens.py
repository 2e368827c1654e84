"""Conditional access at the token endpoint: every code exchange and refresh for an app is
evaluated again, so a policy turned on applies to refresh tokens already issued.

With no policy on in the tenant the cost is one dict lookup. At the token endpoint the
sign-in method and the browser are not known: policies with those conditions do not apply
there (they did at the sign-in). Blocks and the sign-in frequency are enforced here; the MFA,
passkey and password change requirements are the sign-in's to enforce (conditional_access.stages),
not checked again here.
"""

from __future__ import annotations

import time

from ciam.http import client_ip
from conditional_access.evaluation import SignInContext, evaluate_policies
from conditional_access.selectors import recent_failures, tenant_policies

BLOCKED = "Access is blocked by a conditional access policy of this tenant."
TOO_OLD = "A conditional access policy asks this user to sign in again."


def token_issue_refusal(request, *, client, user, auth_time: int | None) -> str | None:
    """Why tokens for `user` and app `client` must not be issued now (the invalid_grant
    description), or None. The policies evaluated go to the request's sign-in log row."""
    policies = tenant_policies()
    if not policies.any_on:
        return None
    context = SignInContext(
        user=user,  # oidc.grants reads its type and roles with the code or refresh token
        app_id=client.pk,
        ip=client_ip(request),
        method=None,
        new_browser=None,
        recent_failures=lambda: recent_failures(user),
    )
    decision = evaluate_policies(policies, context)
    request.sign_in_policies = decision.log_entries()
    if decision.blocked:
        return BLOCKED
    hours = decision.sign_in_frequency
    if hours and auth_time and time.time() - auth_time > hours * 3600:
        return TOO_OLD
    return None
