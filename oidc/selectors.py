"""Reads: app registrations, consents, and validation of this tenant's access tokens."""

from __future__ import annotations

import json

from django.db.models import Q, QuerySet
from jwcrypto import jws, jwt
from jwcrypto.common import JWException

from oidc import keys, tokens
from oidc.clients import client_get
from oidc.models import Application, Consent

# Header parameters that would let a token name its own key or key source (RFC 8725 3.10).
REFUSED_HEADERS = {"jku", "x5u", "jwk", "x5c", "crit"}


def application_list(*, search: str = "", app_type: str = "") -> QuerySet[Application]:
    applications = Application.objects.all().order_by("name")
    if search:
        applications = applications.filter(
            Q(name__icontains=search) | Q(client_id__icontains=search)
        )
    if app_type:
        applications = applications.filter(app_type=app_type)
    return applications


def consent_list(*, user) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).select_related("application").order_by("-granted_at")


def jwt_claims(token: str, *, typ: str, audience: str) -> dict | None:
    """Claims of `token` if it is a JWT of this tenant: RS256 with a published `kid`, the
    expected `typ` and audience, our issuer, not expired. None otherwise."""
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
    except (JWException, ValueError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        return None
    if REFUSED_HEADERS.intersection(header) or header.get("typ") != typ:
        return None
    kid = header.get("kid")
    key = keys.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        return None
    try:
        verified = jwt.JWT(
            jwt=token,
            key=key,
            algs=["RS256"],
            check_claims={"iss": tokens.issuer(), "exp": None, "aud": audience},
        )
        return json.loads(verified.claims)
    except (JWException, ValueError, TypeError):
        return None


def id_token_claims(token: str) -> dict | None:
    """Claims of an ID token this tenant issued (signature, issuer, expiry), for whichever of
    its apps it names as audience."""
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        audience = json.loads(unverified.objects["payload"]).get("aud")
    except (JWException, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not isinstance(audience, str):
        return None
    return jwt_claims(token, typ="JWT", audience=audience)


def access_token_claims(token: str, *, audience: str | None = None) -> dict | None:
    """Claims of a valid access token of this tenant for `audience` (default: the tenant's
    directory API), issued to an app that is still registered. ID tokens (typ JWT) are
    refused."""
    claims = jwt_claims(token, typ="at+jwt", audience=audience or tokens.api_audience())
    if claims is None or client_get(str(claims.get("client_id", ""))) is None:
        return None
    return claims


def access_token_from_request(request, *, audience: str | None = None) -> dict | None:
    """Claims of the `Authorization: Bearer` access token of `request`, validated offline
    against the current tenant's keys and issuer; None when absent or invalid. An API checks
    what it needs on the result, e.g. `"User.Invite.All" in claims.get("roles", [])`."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return access_token_claims(token.strip(), audience=audience)
