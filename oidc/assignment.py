"""Entra's "assignment required": an app that requires it lets in only the users holding one
of its roles, assigned to them or to a group they are a member of. The authorization endpoint
refuses the others with a page saying so (and a sign-in log row); the token endpoint refuses
their codes and refresh tokens (oidc.grants)."""

from __future__ import annotations

from django.shortcuts import render

from audit.models import SignInEvent
from audit.services import sign_in_record
from oidc import tokens


def is_assigned(application, user) -> bool:
    return bool(tokens.user_roles(application, user))


def assignment_refusal(request, application):
    """The "no access" page (403) for a signed-in user the app does not let in, else None
    (no query for an app that does not require assignment)."""
    if application is None or not application.assignment_required:
        return None
    user = request.user
    if is_assigned(application, user):
        return None
    sign_in_record(
        request=request, user=user, email=user.email, method=SignInEvent.Method.SESSION,
        result=SignInEvent.Result.FAILURE,
        failure_reason=SignInEvent.FailureReason.NOT_ASSIGNED,
        app_id=application.client_id, app_name=application.name,
    )  # fmt: skip
    return render(
        request,
        "oidc/not_assigned.html",
        {"application": application, "email": user.email},
        status=403,
    )
