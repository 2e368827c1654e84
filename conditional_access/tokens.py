"""Conditional access at the token endpoint: every code exchange and refresh for an app is
evaluated again, so a policy turned on applies to refresh tokens already issued.

With no policy on in the tenant the cost is one dict lookup. At the token endpoint the
sign-in method and the browser are not known: policies with those conditions do not apply
there (they did at the sign-in). Blocks and the sign-in frequency are enforced; the MFA,
passkey and password change requirements were enforced at the sign-in that began it.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import connection

from ciam.http import client_ip
from conditional_access.evaluation import SignInContext, evaluate_policies
from conditional_access.selectors import recent_failures, tenant_policies

BLOCKED = "Access is blocked by a conditional access policy of this tenant."
TOO_OLD = "A conditional access policy asks this user to sign in again."


def _user_facts(user, policies):
    """The user's type and roles (the token endpoint's user carries neither), read only
    when a policy that is on needs them."""
    if not any(policy.is_on and policy.needs_user_facts for policy in policies.policies):
        return SimpleNamespace(pk=user.pk, user_type="member", admin_roles=[])
    # A plain statement: through the ORM, compiling it cost more than the whole evaluation.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_type, admin_roles FROM {get_user_model()._meta.db_table} WHERE id = %s",
            [user.pk],
        )
        row = cursor.fetchone() or ("member", [])
    return SimpleNamespace(pk=user.pk, user_type=row[0], admin_roles=list(row[1] or []))


def token_issue_refusal(request, *, client, user, auth_time: int | None) -> str | None:
    """Why tokens for `user` and app `client` must not be issued now (the invalid_grant
    description), or None. The policies evaluated go to the request's sign-in log row."""
    policies = tenant_policies()
    if not policies.any_on:
        return None
    context = SignInContext(
        user=_user_facts(user, policies),
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
