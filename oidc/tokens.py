"""Issuer and JWTs of the current tenant: access tokens (RFC 9068), ID token claims, and the
signing helper."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.db import connection
from django.db.models import Q

from ciam.process_cache import ProcessCache
from oidc import keys

ISSUER_SECONDS = 5.0
# A tenant's issuer follows its primary domain: a change reaches each process within
# ISSUER_SECONDS.
_issuers = ProcessCache(None, max_age=ISSUER_SECONDS, max_entries=10_000)


def issuer() -> str:
    """`<scheme>://<primary domain>/o` of the tenant this connection serves."""
    from tenants.selectors import tenant_url

    tenant = connection.tenant
    value = _issuers.get(tenant.schema_name)
    if value is None:
        value = tenant_url(tenant, "/o")
        _issuers.set(tenant.schema_name, value)
    return value


def issuer_forget(schema_name: str) -> None:
    """Forget this process's copy of a tenant's issuer (its primary domain changed: domains/);
    other processes follow within ISSUER_SECONDS."""
    _issuers.forget(schema_name)


def api_audience() -> str:
    """Audience of tokens for the tenant's own directory API (client credentials)."""
    return issuer() + "/api"


SIGNING_ALGORITHMS = ("RS256", "ES256")
_headers: dict[tuple[str, str, str], bytes] = {}  # (algorithm, typ, kid): encoded header


def sign(claims: dict, *, typ: str = "JWT", algorithm: str = "RS256") -> str:
    """A JWS in compact form, signed with the tenant's current key of `algorithm` (RS256, or
    ES256 for an app that chose it).

    Built directly on the parsed key: jwcrypto's JWT object copies its header registry for
    every token, a fifth of the token endpoint's time. Verification stays on jwcrypto.
    """
    kid = keys.signing_kid(algorithm)
    header = _headers.get((algorithm, typ, kid))
    if header is None:
        encoded = json.dumps({"alg": algorithm, "typ": typ, "kid": kid}, separators=(",", ":"))
        header = _headers.setdefault((algorithm, typ, kid), _b64url(encoded.encode()))
        if len(_headers) > 1000:  # kids of rotated keys: start again
            _headers.clear()
    signing_input = (
        header + b"." + _b64url(json.dumps(claims, default=str, separators=(",", ":")).encode())
    )
    private = keys.private_key(kid).get_op_key("sign")
    if algorithm == "ES256":
        # JWS (RFC 7518 3.4) carries r and s as two 32-byte numbers, not DER.
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64url(signature)).decode("ascii")


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def user_roles(client, user) -> list[str]:
    """The values of `client`'s roles that `user` holds, assigned to them or to a group they
    are a member of (the token endpoint reads the same in oidc.library_tables)."""
    held = Q(users=user) | Q(group_assignments__group__memberships__user=user)
    return sorted(set(client.roles.filter(held).values_list("value", flat=True)))


# Why the token endpoint refuses a user of an app that requires assignment.
NOT_ASSIGNED = "The user is not assigned to this app; an administrator must assign them."


def groups_claims(client, user, group_ids) -> dict:
    """`groups` for an app that asks for it: the ids of the user's groups; past
    GROUPS_CLAIM_LIMIT, Entra's overage indicator instead (`_claim_names`/`_claim_sources`,
    OpenID Connect Core 5.6.2 distributed claims), naming where the app reads them:
    `/api/v1/users/{id}/memberOf` (Group.Read.All)."""
    from groups.selectors import GROUPS_CLAIM_LIMIT

    if not client.groups_claim or group_ids is None:
        return {}
    if len(group_ids) <= GROUPS_CLAIM_LIMIT:
        return {"groups": [str(group_id) for group_id in group_ids]}
    endpoint = issuer().removesuffix("/o") + f"/api/v1/users/{user.public_id}/memberOf"
    return {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": endpoint}},
    }


def _base_claims(client, lifetime: int) -> dict:
    now = int(time.time())
    return {
        "iss": issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + int(lifetime),
        "jti": secrets.token_hex(16),
        "tid": str(connection.tenant.public_id),
        "client_id": client.client_id,
        "azp": client.client_id,
    }


def app_access_claims(client) -> dict:
    """A daemon app's token for the tenant's directory API, carrying its permissions."""
    claims = _base_claims(client, client.access_token_lifetime)
    claims.update(
        sub=client.client_id, aud=api_audience(), roles=list(client.api_permissions), idtyp="app"
    )
    return claims


def user_access_claims(client, user, scopes: list[str], roles: list[str]) -> dict:
    claims = _base_claims(client, client.access_token_lifetime)
    claims.update(sub=str(user.public_id), aud=client.client_id, scp=" ".join(scopes), idtyp="user")
    if roles:
        claims["roles"] = roles
    return claims


def user_claims(client, user, scopes, roles: list[str], email_verified: bool | None = None) -> dict:
    """Claims about the user that `scopes` allow (ID token and userinfo)."""
    claims = {"sub": str(user.public_id), "tid": str(connection.tenant.public_id)}
    if "email" in scopes:
        from allauth.account.models import EmailAddress

        claims["email"] = user.email
        if email_verified is None:
            email_verified = EmailAddress.objects.filter(
                user=user, email=user.email, verified=True
            ).exists()
        claims["email_verified"] = email_verified
    if "profile" in scopes:
        claims.update(
            name=user.get_full_name(), given_name=user.first_name, family_name=user.last_name
        )
        for claim, attribute in client.claim_mappings.items():
            if attribute in user.attributes:
                claims[claim] = user.attributes[attribute]
    if roles:
        claims["roles"] = roles
    return claims


def refresh_token_generate(
    family_started: int | None = None, auth_time: int | None = None, amr=(), idp: str = ""
) -> str:
    """A random refresh token that also names when its sign-in began (its family's start,
    so the absolute lifetime needs no query), when the person authenticated, how, and
    through which identity provider (the `auth_time`, `amr` and `idp` a refreshed ID token
    keeps). It is looked up by its whole value, so none of them can be altered."""
    started = int(time.time()) if family_started is None else family_started
    value = f"{secrets.token_urlsafe(32)}.{started}"
    amr = amr_clean(amr)
    if idp:
        # The issuer URL has dots: base64url (no padding) has none.
        encoded = base64.urlsafe_b64encode(idp.encode()).decode().rstrip("=")
        return f"{value}.{'' if auth_time is None else auth_time}.{'-'.join(amr)}.{encoded}"
    if auth_time is None:
        return value
    value = f"{value}.{auth_time}"
    return f"{value}.{'-'.join(amr)}" if amr else value


def _refresh_token_numbers(value: str) -> list[str]:
    return value.split(".")[1:]  # the random part is base64url: it holds no dot


def refresh_token_started(value: str) -> int | None:
    numbers = _refresh_token_numbers(value)
    return int(numbers[0]) if numbers and numbers[0].isdigit() else None


def refresh_token_auth_time(value: str) -> int | None:
    numbers = _refresh_token_numbers(value)
    return int(numbers[1]) if len(numbers) > 1 and numbers[1].isdigit() else None


def refresh_token_amr(value: str) -> list[str]:
    """The `amr` a refresh token carries; none for tokens issued before it did."""
    parts = _refresh_token_numbers(value)
    return amr_clean(parts[2].split("-")) if len(parts) > 2 else []


def refresh_token_idp(value: str) -> str:
    """The `idp` a refresh token carries; "" for tokens issued before it did."""
    parts = _refresh_token_numbers(value)
    if len(parts) < 4 or not parts[3]:
        return ""
    encoded = parts[3]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


_AMR_VALUE = re.compile(r"^[a-z]{2,16}$")


def amr_clean(amr) -> list[str]:
    """`amr` values as stored with a code or in a refresh token: short lower-case words."""
    if not isinstance(amr, list | tuple):
        return []
    return [value for value in amr if isinstance(value, str) and _AMR_VALUE.match(value)]
