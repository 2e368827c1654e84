"""The token endpoint's grants: authorization code (with PKCE), refresh token and client
credentials (RFC 6749 4.1, 6 and 4.4; RFC 7636; RFC 9700).

Written for the hot path rather than through oauthlib: a cached client, one locked read of
the code or refresh token that also brings the user's roles, and each issue written in one
transaction. The data lives in django-oauth-toolkit's Grant, AccessToken and RefreshToken.
- A code works once; a second redemption revokes what the first one got.
- Refresh tokens rotate; a replayed one revokes its family; a sign-in can be refreshed for
  the app's absolute lifetime only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from datetime import timedelta
from urllib.parse import unquote_plus

from allauth.account.models import EmailAddress
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Exists, F, Min, OuterRef
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken, set_token_value

from accounts.services import sign_in_record
from oidc import tokens
from oidc.clients import client_get, client_secret_matches
from oidc.models import Application, AppRole, RedeemedCode

VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
REDEEMED_CODE_KEEP = timedelta(hours=1)


class GrantError(Exception):
    def __init__(self, error: str, description: str = "", status: int = 400):
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def client_authenticate(request) -> Application:
    """The client of a token request: a confidential client by its secret (Basic or body),
    a public one by its id alone (it has no secret to show)."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Basic "):
        try:
            client_id, secret = base64.b64decode(auth[6:], validate=True).decode().split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise GrantError("invalid_client", status=401) from None
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    else:
        client_id = request.POST.get("client_id", "")
        secret = request.POST.get("client_secret", "")
    application = client_get(client_id) if client_id else None
    if application is None:
        raise GrantError("invalid_client", status=401)
    if application.is_confidential:
        if not secret or not client_secret_matches(application, secret):
            raise GrantError("invalid_client", status=401)
    elif secret:
        raise GrantError("invalid_client", "Public clients have no secret.", status=401)
    return application


def _relaxed_commit() -> None:
    """A token issue commits without waiting for the WAL flush: on a database crash the last
    fraction of a second of issued tokens may be lost (those clients sign in again), the
    trade Keycloak makes by keeping sessions in memory. It makes an issue several times
    cheaper on a disk with slow flushes."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _with_user_facts(queryset, client: Application):
    """Annotate rows that have a `user` with the user's roles in `client` and whether their
    email is verified, so the claims need no further query."""
    roles = AppRole.objects.filter(application=client, users=OuterRef("user_id")).order_by("value")
    verified = EmailAddress.objects.filter(
        user=OuterRef("user_id"), verified=True, email__iexact=OuterRef("user__email")
    )
    return queryset.annotate(
        user_roles=ArraySubquery(roles.values("value")), email_verified=Exists(verified)
    )


def _record(request, client: Application, user, grant_type: str) -> None:
    sign_in_record(
        request=request, user=user, method="token", result="success",
        app_id=client.client_id, app_name=client.name, grant=grant_type,
    )  # fmt: skip


def _user_tokens(*, request, client, user, scopes, roles, email_verified, started, family,
                 source_refresh=None, nonce="") -> dict:  # fmt: skip
    """Write and sign an access token, a refresh token and an ID token for `user`."""
    now = timezone.now()
    access_value = tokens.sign(tokens.user_access_claims(client, user, scopes, roles), typ="at+jwt")
    refresh_value = tokens.refresh_token_generate(started)
    access = AccessToken(
        user=user,
        application=client,
        scope=" ".join(scopes),
        expires=now + timedelta(seconds=client.access_token_lifetime),
        source_refresh_token=source_refresh,
    )
    set_token_value(access, access_value)
    access.save()
    refresh = RefreshToken(user=user, application=client, access_token=access, token_family=family)
    set_token_value(refresh, refresh_value)
    refresh.save()
    body = {
        "access_token": access_value,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "refresh_token": refresh_value,
        "scope": " ".join(scopes),
    }
    if "openid" in scopes:
        claims = tokens.user_claims(client, user, scopes, roles, email_verified)
        moment = int(now.timestamp())
        claims.update(
            iss=tokens.issuer(),
            aud=client.client_id,
            iat=moment,
            exp=moment + client.id_token_lifetime,
            auth_time=int(user.last_login.timestamp()) if user.last_login else moment,
            jti=uuid.uuid4().hex,
        )
        if nonce:
            claims["nonce"] = nonce
        body["id_token"] = tokens.sign(claims)
    request.issued_access_checksum = access.token_checksum
    return body


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def _in_transaction(work):
    """Run `work` in a transaction; a GrantError it returns is raised after the commit, so
    the revocations it made (a replayed code or refresh token) stay."""
    with transaction.atomic():
        _relaxed_commit()
        outcome = work()
    if isinstance(outcome, GrantError):
        raise outcome
    return outcome


def token_request_client_id(request) -> str:
    """The client id a token request names (Basic header or body), for the sign-in log."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Basic "):
        try:
            return unquote_plus(base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)[0])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
    return request.POST.get("client_id", "")


# Authorization code -------------------------------------------------------------------


def authorization_code(request, client: Application) -> dict:
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot sign users in.")
    code = request.POST.get("code", "")
    if not code:
        raise GrantError("invalid_request", "Missing code.")
    return _in_transaction(lambda: _redeem(request, client, code))


def _redeem(request, client: Application, code: str):
    grant = (
        _with_user_facts(Grant.objects.select_for_update(of=("self",)), client)
        .select_related("user")
        .filter(code=code, application=client)
        .first()
    )
    if grant is None:
        redeemed = RedeemedCode.objects.filter(code_checksum=checksum(code), application=client)
        for earlier in redeemed:
            RefreshToken.revoke_family(earlier.token_family)
            AccessToken.objects.filter(token_checksum=earlier.access_token_checksum).delete()
        return GrantError("invalid_grant")
    verifier = request.POST.get("code_verifier", "")
    if grant.is_expired():
        problem = "The code has expired."
    elif request.POST.get("redirect_uri", "") != grant.redirect_uri:
        problem = "The redirect_uri differs from the one the code was issued for."
    elif grant.code_challenge_method != "S256" or not grant.code_challenge:
        problem = "The code was issued without PKCE."
    elif not VERIFIER.match(verifier) or not _pkce_matches(verifier, grant.code_challenge):
        problem = "The code_verifier does not match."  # also a missing one: PKCE downgrade
    elif not grant.user.is_active:
        problem = "The user is disabled."
    else:
        problem = ""
    if problem:
        return GrantError("invalid_grant", problem)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Grant._meta.db_table} WHERE id = %s", [grant.pk])
    family = uuid.uuid4()
    body = _user_tokens(
        request=request, client=client, user=grant.user, scopes=grant.scope.split(),
        roles=grant.user_roles, email_verified=grant.email_verified, started=None,
        family=family, nonce=grant.nonce,
    )  # fmt: skip
    RedeemedCode.objects.create(
        code_checksum=checksum(code),
        application=client,
        token_family=family,
        access_token_checksum=request.issued_access_checksum,
        expires_at=timezone.now() + REDEEMED_CODE_KEEP,
    )
    _record(request, client, grant.user, "authorization_code")
    return body


# Refresh token ------------------------------------------------------------------------


def refresh(request, client: Application) -> dict:
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot use refresh tokens.")
    value = request.POST.get("refresh_token", "")
    if not value:
        raise GrantError("invalid_request", "Missing refresh_token.")
    return _in_transaction(lambda: _rotate(request, client, value))


def _rotate(request, client: Application, value: str):
    current = (
        _with_user_facts(RefreshToken.objects.select_for_update(of=("self",)), client)
        .select_related("user", "access_token")
        .filter(token_checksum=checksum(value), application=client)
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )
    if current is None:
        return GrantError("invalid_grant")
    if current.revoked is not None:
        RefreshToken.revoke_family(current.token_family)  # a replay: end the whole sign-in
        return GrantError("invalid_grant", "This refresh token was already used.")
    user, previous_access = current.user, current.access_token
    if previous_access is None or user is None or not user.is_active:
        return GrantError("invalid_grant")
    now = timezone.now()
    started = tokens.refresh_token_started(value)
    if started is None:
        first = RefreshToken.objects.filter(token_family=current.token_family).aggregate(
            first=Min("created")
        )["first"]
        started = int(first.timestamp()) if first else int(now.timestamp())
    if started + client.refresh_token_lifetime <= now.timestamp():
        RefreshToken.revoke_family(current.token_family)
        return GrantError("invalid_grant", "The sign-in has expired; sign in again.")
    scopes = previous_access.scope.split()
    requested = request.POST.get("scope", "").split()
    if requested and not set(requested) <= set(scopes):
        return GrantError("invalid_scope")
    RefreshToken.objects.filter(pk=current.pk).update(revoked=now, updated=now, access_token=None)
    with connection.cursor() as cursor:
        # Its only refresh token was detached just above, so nothing else points at it.
        cursor.execute(
            f"DELETE FROM {AccessToken._meta.db_table} WHERE id = %s", [previous_access.pk]
        )
    body = _user_tokens(
        request=request, client=client, user=user, scopes=requested or scopes,
        roles=current.user_roles, email_verified=current.email_verified, started=started,
        family=current.token_family, source_refresh=current,
    )  # fmt: skip
    _record(request, client, user, "refresh_token")
    return body


# Client credentials -------------------------------------------------------------------


def client_credentials(request, client: Application) -> dict:
    if client.app_type != Application.AppType.DAEMON:
        raise GrantError("unauthorized_client", "This app cannot use client credentials.")
    allowed = tokens.api_audience() + "/.default"
    requested = request.POST.get("scope", "").split()
    if any(scope != allowed for scope in requested):
        raise GrantError("invalid_scope", f"A daemon app asks for {allowed}.")
    # Not stored: the directory API validates these JWTs offline; they end when they expire.
    body = {
        "access_token": tokens.sign(tokens.app_access_claims(client), typ="at+jwt"),
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "scope": allowed,
    }
    _record(request, client, None, "client_credentials")
    return body


HANDLERS = {
    "authorization_code": authorization_code,
    "refresh_token": refresh,
    "client_credentials": client_credentials,
}
