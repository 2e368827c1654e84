"""The common case of the authorization endpoint without oauthlib: a signed-in user, a
first-party app, and a request with nothing unusual. Anything else (errors included) goes
through django-oauth-toolkit's view, which knows how to answer it."""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.db import connection
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from oidc import library_tables, tokens
from oidc.models import Application
from oidc.scopes import USER_SCOPES

CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url of a SHA-256 digest
# Parameters this path understands; any other (prompt, request, claims, resource, ...) or a
# repeated one sends the request to the library.
PLAIN_PARAMETERS = {
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "max_age",
}  # fmt: skip


def session_auth_time(request) -> int:
    """The `auth_time` a code carries to its ID tokens: when the person last proved who they
    are in this browser session (OIDC Core 2), whatever other browsers did since."""
    from oidc.selectors import session_authenticated_at

    authenticated_at = session_authenticated_at(request)
    return int(authenticated_at if authenticated_at is not None else time.time())


def session_grant_claims(request) -> dict:
    """What a code carries to its ID tokens about this browser session's authentication:
    `auth_time`, `idp` (the issuer of the identity provider the person signed in with, or
    "local") and, when the session knows them, the `amr` methods."""
    from federation.selectors import session_idp
    from oidc.selectors import session_amr

    claims: dict = {"auth_time": session_auth_time(request), "idp": session_idp(request)}
    amr = session_amr(request)
    if amr:
        claims["amr"] = amr
    return claims


def first_party_code(request, application: Application) -> str | None:
    """Issue a code and return the redirect URI carrying it, or None to let the library
    handle the request."""
    query = request.GET
    if set(query) - PLAIN_PARAMETERS or any(len(query.getlist(name)) > 1 for name in query):
        return None
    redirect_uri = query.get("redirect_uri", "")
    scopes = query.get("scope", "").split()
    if (
        query.get("response_type") != "code"
        or not application.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE)
        or not redirect_uri
        or not application.redirect_uri_allowed(redirect_uri)
        or not scopes
        or not set(scopes) <= set(USER_SCOPES)
        or query.get("code_challenge_method") != "S256"
        or not CHALLENGE.match(query.get("code_challenge", ""))
        or len(query.get("nonce", "")) > 255
    ):
        return None
    code = secrets.token_urlsafe(32)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            library_tables.grant_insert_sql(),
            {
                "user": request.user.pk,
                "code": code,
                "app": application.pk,
                "expires": now
                + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "now": now,
                "code_challenge": query["code_challenge"],
                "nonce": query.get("nonce", ""),
                "claims": json.dumps(session_grant_claims(request)),
            },
        )
    parameters = {"code": code}
    if query.get("state"):
        parameters["state"] = query["state"]
    parameters["iss"] = tokens.issuer()
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(parameters)}"
