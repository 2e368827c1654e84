"""Issuer and JWTs of the current tenant: access tokens (RFC 9068) and the signing helper the
ID tokens use too."""

from __future__ import annotations

import json
import time
import uuid

from django.db import connection
from jwcrypto import jwt

from oidc import keys

ISSUER_SECONDS = 5.0
_issuers: dict[str, tuple[float, str]] = {}


def issuer() -> str:
    """`<scheme>://<primary domain>/o` of the tenant this connection serves."""
    from tenants.selectors import tenant_url

    tenant = connection.tenant
    now = time.monotonic()
    cached = _issuers.get(tenant.schema_name)
    if cached is not None and now - cached[0] < ISSUER_SECONDS:
        return cached[1]
    value = tenant_url(tenant, "/o")
    _issuers[tenant.schema_name] = (now, value)
    return value


def api_audience() -> str:
    """Audience of tokens for the tenant's own directory API (client credentials)."""
    return issuer() + "/api"


def sign(claims: dict, *, typ: str = "JWT") -> str:
    kid = keys.signing_kid()
    token = jwt.JWT(
        header=json.dumps({"alg": "RS256", "typ": typ, "kid": kid}),
        claims=json.dumps(claims, default=str),
    )
    token.make_signed_token(keys.private_key(kid))
    return token.serialize()


def access_token_lifetime(request) -> int:
    client = getattr(request, "client", None)
    return client.access_token_lifetime if client is not None else 3600


def access_token_claims(request) -> dict:
    """Claims of the access token oauthlib is about to issue for `request`."""
    client = request.client
    now = int(time.time())
    claims = {
        "iss": issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + int(getattr(request, "expires_in", None) or access_token_lifetime(request)),
        "jti": uuid.uuid4().hex,
        "tid": str(connection.tenant.public_id),
        "client_id": client.client_id,
        "azp": client.client_id,
    }
    if request.grant_type == "client_credentials":
        claims.update(
            sub=client.client_id,
            aud=api_audience(),
            roles=list(client.api_permissions),
            idtyp="app",
        )
    else:
        user = request.user
        claims.update(
            sub=str(user.public_id),
            aud=client.client_id,
            scp=" ".join(request.scopes or []),
            idtyp="user",
        )
        roles = sorted(client.roles.filter(users=user).values_list("value", flat=True))
        if roles:
            claims["roles"] = roles
    return claims


def access_token_generator(request, refresh_token: bool = False) -> str:
    return sign(access_token_claims(request), typ="at+jwt")
