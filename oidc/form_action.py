"""The origin a hosted page's forms may lead to while an app's sign-in is in progress
(ciam.csp): the redirect URI of the authorization request, once the client and the exact
redirect URI are known to this tenant."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import QueryDict
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from ciam.csp import form_action_allow
from oidc.clients import client_get


def authorization_redirect_uri(query: QueryDict) -> str | None:
    """The redirect URI of the authorization request in `query`, when this tenant's client
    registered exactly that URI; None for anything else."""
    application = client_get(query.get("client_id", ""))
    redirect_uri = query.get("redirect_uri", "")
    if application is None or not redirect_uri:
        return None
    return redirect_uri if application.redirect_uri_allowed(redirect_uri) else None


def next_authorization_redirect_uri(next_url: str) -> str | None:
    """The redirect URI of the authorization request a sign-in page's `next` returns to."""
    try:
        parts = urlsplit(next_url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or parts.path != reverse("oidc:authorize"):
        return None
    return authorization_redirect_uri(QueryDict(parts.query))


class SignInForAppMiddleware:
    """The hosted pages of a sign-in for an app (password, email code, sign-up, and the
    steps to come) carry the authorization request in `next`: once signed in, the browser
    goes on to the app's redirect URI, so those pages' forms may lead to its origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        tenant = getattr(request, "tenant", None)
        if (
            tenant is not None
            and tenant.schema_name != get_public_schema_name()
            and response.get("Content-Type", "").startswith("text/html")
        ):
            next_url = request.GET.get("next") or (
                request.POST.get("next", "") if request.method == "POST" else ""
            )
            redirect_uri = next_authorization_redirect_uri(next_url) if next_url else None
            if redirect_uri is not None:
                form_action_allow(request, redirect_uri)
        return response
