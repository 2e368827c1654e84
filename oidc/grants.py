"""The client credentials and refresh token grants, written for the token endpoint's hot
path: a cached client, one locked read of the refresh token, the rotation in a handful of
statements. (The authorization code grant goes through django-oauth-toolkit and oauthlib.)

RFC 6749 4.4 and 6; refresh tokens rotate, a replayed one revokes its whole family
(RFC 9700 4.14.2), and a sign-in can be refreshed only for the app's absolute lifetime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import timedelta
from urllib.parse import unquote_plus

from django.db import connection, transaction
from django.db.models import F, Min
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken, set_token_value

from oidc import tokens
from oidc.clients import client_get, client_secret_matches
from oidc.models import Application


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


def _token_transaction():
    """A token issue commits without waiting for the WAL flush: on a database crash the last
    fraction of a second of issued tokens may be lost (those clients sign in again), which
    is the trade Keycloak makes by keeping sessions in memory. Issue rates triple."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def client_credentials(request, client: Application) -> dict:
    if client.app_type != Application.AppType.DAEMON:
        raise GrantError("unauthorized_client", "This app cannot use client credentials.")
    allowed = tokens.api_audience() + "/.default"
    requested = request.POST.get("scope", "").split()
    if any(scope != allowed for scope in requested):
        raise GrantError("invalid_scope", f"A daemon app asks for {allowed}.")
    # Not stored: the directory API validates these JWTs offline; they end when they expire.
    return {
        "access_token": tokens.sign(tokens.app_access_claims(client), typ="at+jwt"),
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "scope": allowed,
    }


def refresh(request, client: Application) -> tuple[dict, object]:
    """Rotate a refresh token. Returns the response body and the user."""
    if client.app_type == Application.AppType.DAEMON:
        raise GrantError("unauthorized_client", "This app cannot use refresh tokens.")
    value = request.POST.get("refresh_token", "")
    if not value:
        raise GrantError("invalid_request", "Missing refresh_token.")
    with transaction.atomic():
        _token_transaction()
        outcome = _rotate(request, client, value)
    if isinstance(outcome, GrantError):
        raise outcome  # after the commit: a revoked family stays revoked
    return outcome


def _rotate(request, client: Application, value: str):
    current = (
        RefreshToken.objects.select_for_update(of=("self",))
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
    scopes = requested or scopes

    roles = tokens.user_roles(client, user)
    access_value = tokens.sign(tokens.user_access_claims(client, user, scopes, roles), typ="at+jwt")
    refresh_value = tokens.refresh_token_generate(started)
    RefreshToken.objects.filter(pk=current.pk).update(revoked=now, updated=now, access_token=None)
    AccessToken.objects.filter(pk=previous_access.pk).delete()
    access = AccessToken(
        user=user,
        application=client,
        scope=" ".join(scopes),
        expires=now + timedelta(seconds=client.access_token_lifetime),
        source_refresh_token=current,
    )
    set_token_value(access, access_value)
    access.save()
    rotated = RefreshToken(
        user=user, application=client, access_token=access, token_family=current.token_family
    )
    set_token_value(rotated, refresh_value)
    rotated.save()
    body = {
        "access_token": access_value,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "refresh_token": refresh_value,
        "scope": " ".join(scopes),
    }
    if "openid" in scopes:
        body["id_token"] = id_token_for_refresh(client, user, scopes, roles)
    return body, user


def id_token_for_refresh(client, user, scopes, roles) -> str:
    now = int(timezone.now().timestamp())
    last_login = user.last_login
    claims = tokens.user_claims(client, user, scopes, roles)
    claims.update(
        iss=tokens.issuer(),
        aud=client.client_id,
        iat=now,
        exp=now + client.id_token_lifetime,
        auth_time=int(last_login.timestamp()) if last_login else now,
        jti=uuid.uuid4().hex,
    )
    return tokens.sign(claims)
