"""Reads: app registrations, consents, and validation of this tenant's access tokens."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.db.models import Max, QuerySet
from jwcrypto import jws, jwt
from jwcrypto.common import JWException

from accounts.roles import holds_permission_roles
from oidc import keys, tokens
from oidc.clients import client_get
from oidc.models import ApiPermissionGrant, Application, Consent

# Header parameters that would let a token name its own key or key source (RFC 8725 3.10).
REFUSED_HEADERS = {"jku", "x5u", "jwk", "x5c", "crit"}


def application_list() -> QuerySet[Application]:
    return Application.objects.all().order_by("name")


def application_count() -> int:
    return Application.objects.count()


def longest_access_token_lifetime() -> int:
    """Seconds an access token issued now may stay valid at most, over the tenant's apps: a
    signed JWT is checked offline by the APIs, so disabling its user cannot recall it."""
    longest = Application.objects.aggregate(longest=Max("access_token_lifetime"))["longest"]
    return longest or Application._meta.get_field("access_token_lifetime").default


def permission_authority(*, client_id: str, permission: str):
    """The admin on whose authority the app `client_id` uses `permission`: the one who
    granted it, while the app still holds it and the admin still holds its roles. None
    otherwise (the token may predate a removal; the admin may have lost the role or left)."""
    grant = (
        ApiPermissionGrant.objects.select_related("granted_by")
        .filter(
            application__client_id=client_id,
            application__api_permissions__contains=[permission],
            permission=permission,
        )
        .first()
    )
    if grant is None or not holds_permission_roles(grant.granted_by, permission):
        return None
    return grant.granted_by


def is_tenant_destination(url: str) -> bool:
    """Whether `url` is one of the current tenant's own places: its My account (on any of
    its hosts), or a registered app's home page (or a page under it), redirect URI or
    post-logout redirect URI."""
    from django.conf import settings
    from django.db import connection

    parts = urlsplit(url)
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    tenant = connection.tenant
    hosts = {tenant.primary_host, *tenant.domains.values_list("domain", flat=True)}
    origins = {f"{settings.PUBLIC_SCHEME}://{host}{port}" for host in hosts}
    if f"{parts.scheme}://{parts.netloc}" in origins and parts.path.startswith("/account/"):
        return True
    for home_url, redirect_uris, logout_uris in Application.objects.values_list(
        "home_url", "redirect_uris", "post_logout_redirect_uris"
    ):
        if url in redirect_uris.split() or url in logout_uris.split():
            return True
        if home_url and _is_under(url, home_url):
            return True
    return False


def _is_under(url: str, base: str) -> bool:
    """`url` is `base` or a page below it: same scheme and host, the path continuing at a
    slash."""
    if url == base:
        return True
    prefix = base if base.endswith("/") else base + "/"
    url_parts, base_parts = urlsplit(url), urlsplit(prefix)
    return (url_parts.scheme, url_parts.netloc) == (
        base_parts.scheme,
        base_parts.netloc,
    ) and url_parts.path.startswith(base_parts.path)


def consent_list(*, user) -> QuerySet[Consent]:
    return Consent.objects.filter(user=user).select_related("application").order_by("-granted_at")


def jwt_claims(token: str, *, typ: str, audience: str, allow_expired: bool = False) -> dict | None:
    """Claims of `token` if it is a JWT of this tenant: RS256 or ES256 with a published `kid`
    of that algorithm, the expected `typ` and audience, our issuer, not expired (unless
    `allow_expired`). None otherwise."""
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
    except (JWException, ValueError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("alg") not in tokens.SIGNING_ALGORITHMS:
        return None
    algorithm = header["alg"]
    if REFUSED_HEADERS.intersection(header) or header.get("typ") != typ:
        return None
    kid = header.get("kid")
    key = keys.public_key(kid, algorithm) if isinstance(kid, str) else None
    if key is None:
        return None
    try:
        verified = jwt.JWT(
            jwt=token,
            key=key,
            algs=[algorithm],
            check_claims={"iss": tokens.issuer(), "aud": audience}
            if allow_expired
            else {"iss": tokens.issuer(), "exp": None, "aud": audience},
        )
        return json.loads(verified.claims)
    except (JWException, ValueError, TypeError):
        return None


def spa_origin_registered(origin: str) -> bool:
    """Whether `origin` is the origin of a redirect URI of one of the tenant's single-page
    apps (CORS)."""
    candidates = Application.objects.filter(
        app_type=Application.AppType.SPA, redirect_uris__contains=origin
    )
    return any(application.origin_allowed(origin) for application in candidates)


def app_access_token_claims(token: str) -> dict | None:
    """Claims of a valid client-credentials access token (a daemon app's, for the directory
    API): validated offline, as they are not stored."""
    claims = access_token_claims(token)
    return claims if claims is not None and claims.get("idtyp") == "app" else None


def id_token_claims(token: str, *, allow_expired: bool = False) -> dict | None:
    """Claims of an ID token this tenant issued (signature, issuer, expiry unless
    `allow_expired`), for whichever of its apps it names as audience."""
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        audience = json.loads(unverified.objects["payload"]).get("aud")
    except (JWException, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not isinstance(audience, str):
        return None
    return jwt_claims(token, typ="JWT", audience=audience, allow_expired=allow_expired)


def session_authenticated_at(request) -> float | None:
    """When the person signed in to this browser session last proved who they are (epoch
    seconds): its sign-in, or a later re-authentication. The OpenID `auth_time` of what this
    session authorizes; another browser's sign-in does not move it.

    For someone who has a second factor, only a proof that ended with it counts: a password
    typed again without the second factor after it (a step abandoned half-way) does not make
    the session's authentication recent."""
    from allauth.account.authentication import get_authentication_records

    from ciam.sessions import SIGNED_IN_AT

    records = get_authentication_records(request, request.user)
    second = [record.get("at") for record in records if record.get("method") == "mfa"]
    second = [moment for moment in second if isinstance(moment, int | float)]
    if second:
        from mfa.selectors import has_second_factor

        if has_second_factor(request.user):
            return max(second)
    moments = [request.session.get(SIGNED_IN_AT)]
    moments += [record.get("at") for record in records]
    moments = [moment for moment in moments if isinstance(moment, int | float)]
    return max(moments) if moments else None


# The OpenID `amr` values (RFC 8176) of allauth's authentication records: the primary factor
# by its method, a second factor (method "mfa") by its type. An emailed code has no RFC 8176
# value ("otp" names HOTP/TOTP): it is "email", as the issue and other providers have it.
# A recovery code adds only "mfa". A passkey's record carries its own values (`amr`).
AMR_PRIMARY = {"password": "pwd", "code": "email", "password_reset": "pwd"}
AMR_SECOND_FACTOR = {"totp": "otp", "email_code": "email"}
AMR_ORDER = ("pwd", "email", "otp", "hwk", "swk", "user", "pin", "mfa")


def session_amr(request) -> list[str]:
    """The OpenID `amr` of this browser session's sign-in: the methods it used (its own
    sign-in and later re-authentications), with "mfa" once a second factor served. Empty
    when the session holds no record of how it signed in."""
    from allauth.account.authentication import get_authentication_records

    values: set[str] = set()
    for record in get_authentication_records(request, request.user):
        method = record.get("method")
        if record.get("amr"):
            # A passkey says itself what it proved (mfa.passkeys.passkey_amr): "hwk" or
            # "swk", "user", and "mfa" when it was the whole sign-in.
            values.update(record["amr"])
            if method == "mfa":
                values.add("mfa")
            continue
        if method == "mfa":
            # Only ever after a first factor: at sign-in after it, or in a signed-in session
            # (which a sign-up's emailed link may have begun without a record of its own).
            values.add("mfa")
            value = AMR_SECOND_FACTOR.get(str(record.get("type", "")))
        else:
            value = AMR_PRIMARY.get(str(method))
        if value:
            values.add(value)
    return amr_sorted(values)


def amr_sorted(values) -> list[str]:
    known = [value for value in AMR_ORDER if value in values]
    return known + sorted(set(values) - set(AMR_ORDER))


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
