"""The token endpoint's grants: authorization code (with PKCE), refresh token and client
credentials (RFC 6749 4.1, 6 and 4.4; RFC 7636; RFC 9700).

Written for the hot path rather than through oauthlib: a cached client whose secret is
checked against the database by each grant's first statement, one read of the code or
refresh token that also brings the user's roles, and each issue written in one statement
with its sign-in log row. The data lives in django-oauth-toolkit's Grant, AccessToken and
RefreshToken.
- A code works once; a second redemption revokes what the first one got.
- Refresh tokens rotate; a replayed one revokes its family; a sign-in can be refreshed for
  the app's absolute lifetime only.
- Two requests with one code or refresh token at once: the write consumes the code (or
  retires the refresh token) only if it is still there (unused), so only one gets tokens
  and the other is answered as a replay.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Min
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from audit.models import SignInEvent
from audit.services import sign_in_event_insert
from ciam.crypto import checksum
from ciam.http import basic_credentials
from conditional_access.tokens import token_issue_refusal
from oidc import library_tables, tokens
from oidc.client_secrets import secret_digest
from oidc.clients import client_get, client_secret_valid
from oidc.models import Application, RedeemedCode, RefreshScope

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


DOUBLED_AUTHENTICATION = "Authenticate the client once: Basic header or client_secret in body."


def client_authentication_doubled(request) -> bool:
    """A Basic header and a client_secret in the body: RFC 6749 2.3 allows one method."""
    return (
        request.META.get("HTTP_AUTHORIZATION", "").startswith("Basic ")
        and "client_secret" in request.POST
    )


@dataclass
class Client:
    """The app a token request names and the keyed hash of the secret it showed (None for a
    public client, which has none). The secret is checked against the database by the first
    statement of each grant (library_tables.client_secret_valid_sql): client authentication
    on every call, a revoked or rotated secret refused at once by every process."""

    application: Application
    digest: str | None
    verified: bool = False  # the secret was found valid

    @property
    def public(self) -> bool:
        return self.digest is None

    def parameters(self) -> dict:
        """The parameters of client_secret_valid_sql."""
        return {"app": self.application.pk, "digest": self.digest, "checked_at": timezone.now()}

    def checked(self, valid: bool) -> None:
        """The outcome of client_secret_valid_sql: raises invalid_client unless `valid`."""
        if not valid:
            raise GrantError("invalid_client", status=401)
        self.verified = True

    def verify(self) -> None:
        """The secret checked by a query of its own (a request refused before its grant's
        first statement: a wrong secret is answered invalid_client first)."""
        if not self.verified:
            self.checked(self.public or client_secret_valid(self.application, self.digest))


def token_issue(request, grant) -> dict:
    """The answer of `grant` (a function of HANDLERS) to a token request, its client
    authenticated: a wrong secret is invalid_client whatever else is wrong."""
    client = client_identify(request)
    try:
        return grant(request, client)
    except GrantError as error:
        if error.error != "invalid_client":
            client.verify()
        raise


def client_identify(request) -> Client:
    """The client of a token request and the secret it showed (Basic or body), its secret not
    checked yet (Client): a confidential client must show one, a public one must not."""
    if client_authentication_doubled(request):
        raise GrantError("invalid_request", DOUBLED_AUTHENTICATION)
    try:
        credentials = basic_credentials(request.META.get("HTTP_AUTHORIZATION", ""))
    except ValueError:
        raise GrantError("invalid_client", status=401) from None
    if credentials is not None:
        client_id, secret = credentials
        if "\x00" in client_id or "\x00" in secret:
            # The body's parameters are checked by ciam.bad_input; the header's only here.
            raise GrantError(
                "invalid_request", "The credentials contain characters we cannot accept."
            )
    else:
        client_id = request.POST.get("client_id", "")
        secret = request.POST.get("client_secret", "")
    application = client_get(client_id) if client_id else None
    if application is None:
        raise GrantError("invalid_client", status=401)
    if application.is_confidential:
        if not secret:
            raise GrantError("invalid_client", status=401)
        return Client(application, secret_digest(secret))
    if secret:
        raise GrantError("invalid_client", "Public clients have no secret.", status=401)
    return Client(application, None)


def client_authenticate(request) -> Application:
    """The client of a request to another endpoint (introspection): identified, and its
    secret checked against the database now."""
    client = client_identify(request)
    client.verify()
    return client.application


def _read(sql: str, parameters: dict):
    """The first statement of a code exchange or refresh: the client's secret check and the
    code or refresh token with its user, in one row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchone()


# A token issue commits without waiting for the WAL flush: on a database crash the last
# fraction of a second of issued user tokens may be lost (those clients sign in again), the
# trade Keycloak makes by keeping sessions in memory. SET LOCAL sent in the same message as
# the write applies to the write's own transaction (PostgreSQL runs the statements of one
# message in one implicit transaction). Revocations and client-credentials issues (whose
# token is not stored: only their sign-in log row is) wait for the flush.
ASYNCHRONOUS_COMMIT = "SET LOCAL synchronous_commit TO OFF; "


def _write(sql: str, parameters: dict) -> bool:
    """The one statement that writes an issue (library_tables.tokens_write_sql): True when it
    wrote the tokens, False when another request used the code or refresh token first."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Inside a caller's transaction (a test's): its commit is not ours to change.
            cursor.execute(sql, parameters)
        else:
            cursor.execute(ASYNCHRONOUS_COMMIT + sql, parameters)
            cursor.nextset()
        return cursor.fetchone() is not None


def _user_from(row) -> tuple[object, list[str], bool, list | None]:
    """A user instance (the columns the claims and the sign-in log use), roles, verified,
    group ids (None unless the app asks for its groups claim)."""
    (pk, public_id, email, is_active, last_login, first_name, last_name, display_name,
     attributes, user_type, admin_roles, roles, verified, group_ids) = row  # fmt: skip
    if isinstance(attributes, str):
        attributes = json.loads(attributes)
    user = get_user_model()(
        id=pk, public_id=public_id, email=email, is_active=is_active, last_login=last_login,
        first_name=first_name, last_name=last_name, display_name=display_name,
        attributes=attributes or {}, user_type=user_type, admin_roles=list(admin_roles or []),
    )  # fmt: skip
    user._state.adding = False
    return user, list(roles or []), bool(verified), group_ids


def _user_tokens(*, request, grant_type, client, user, scopes, roles, email_verified, started,
                 family, auth_time, with_refresh, replaces=None, redeems=None,
                 nonce="", amr=(), idp="", group_ids=None) -> dict:  # fmt: skip
    """Sign and write an access token and, `with_refresh`, a refresh token (and sign an ID
    token) for `user`, with the sign-in log row of `grant_type`; `replaces` is the (refresh,
    access) id pair a rotation retires, `redeems` the (grant id, code) a code exchange
    consumes."""
    now = timezone.now()
    groups = tokens.groups_claims(client, user, group_ids)
    access_claims = tokens.user_access_claims(client, user, scopes, roles)
    access_value = tokens.sign(
        {**access_claims, **groups}, typ="at+jwt", algorithm=client.token_signing_algorithm
    )
    refresh_value = (
        tokens.refresh_token_generate(started, auth_time, amr, idp) if with_refresh else ""
    )
    _log_sql, log_parameters = sign_in_event_insert(
        request=request, user=user, method=SignInEvent.Method.TOKEN,
        result=SignInEvent.Result.SUCCESS, app_id=client.client_id, app_name=client.name,
        grant=grant_type,
    )  # fmt: skip
    written = _write(
        _tokens_write_sql(replaces is not None, bool(redeems), with_refresh, tuple(log_parameters)),
        {
            **log_parameters,
            "now": now,
            "grant": redeems[0] if redeems else None,
            "code_checksum": checksum(redeems[1]) if redeems else None,
            "redeemed_until": now + REDEEMED_CODE_KEEP,
            "old_refresh": replaces[0] if replaces else None,
            "old_access": replaces[1] if replaces else None,
            "user": user.pk,
            "app": client.pk,
            "access_checksum": checksum(access_value),
            "refresh_checksum": checksum(refresh_value),
            "expires": now + timedelta(seconds=client.access_token_lifetime),
            "scope": " ".join(scopes),
            "family": family,
        },
    )
    if not written:
        return None  # another request used the code or refresh token first
    body = {
        "access_token": access_value,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "scope": " ".join(scopes),
    }
    if with_refresh:
        body["refresh_token"] = refresh_value
    if "openid" in scopes:
        claims = tokens.user_claims(client, user, scopes, roles, email_verified)
        claims.update(groups)
        moment = int(now.timestamp())
        claims.update(
            iss=tokens.issuer(),
            aud=client.client_id,
            iat=moment,
            exp=moment + client.id_token_lifetime,
            auth_time=auth_time or moment,
            jti=secrets.token_hex(16),
        )
        if amr:
            claims["amr"] = list(amr)
        if nonce:
            claims["nonce"] = nonce
        if idp:
            claims["idp"] = idp
        body["id_token"] = tokens.sign(claims, algorithm=client.token_signing_algorithm)
    return body


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


@functools.cache
def _tokens_write_sql(replaces: bool, redeems: bool, with_refresh: bool, log: tuple) -> str:
    return library_tables.tokens_write_sql(
        replaces_refresh=replaces, redeems_code=redeems, with_refresh=with_refresh,
        log_parameters=log,
    )  # fmt: skip


@functools.cache
def _code_read_sql(public: bool) -> str:
    return library_tables.code_read_sql(public=public)


@functools.cache
def _refresh_token_read_sql(public: bool) -> str:
    return library_tables.refresh_token_read_sql(public=public)


@functools.cache
def _client_credentials_log_sql(log: tuple) -> str:
    return library_tables.client_credentials_log_sql(log)


def token_request_client_id(request) -> str:
    """The client id a token request names (Basic header or body), for the sign-in log."""
    try:
        credentials = basic_credentials(request.META.get("HTTP_AUTHORIZATION", ""))
    except ValueError:
        return ""
    if credentials is not None:
        return "" if "\x00" in credentials[0] else credentials[0]
    return request.POST.get("client_id", "")


# Authorization code -------------------------------------------------------------------


def authorization_code(request, proof: Client) -> dict:
    client = proof.application
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot sign users in.")
    code = request.POST.get("code", "")
    if not code:
        raise GrantError("invalid_request", "Missing code.")
    row = _read(
        _code_read_sql(proof.public),
        {**proof.parameters(), "code": code, "groups": client.groups_claim},
    )
    proof.checked(row[0])
    if row[1] is None:
        _code_replayed(client, code)
        raise GrantError("invalid_grant")
    grant_id, expires, redirect_uri, scope, challenge, method, nonce, grant_claims = row[1:9]
    user, roles, email_verified, group_ids = _user_from(row[9:])
    verifier = request.POST.get("code_verifier", "")
    if expires <= timezone.now():
        problem = "The code has expired."
    elif request.POST.get("redirect_uri", "") != redirect_uri:
        problem = "The redirect_uri differs from the one the code was issued for."
    elif method != "S256" or not challenge:
        problem = "The code was issued without PKCE."
    elif not VERIFIER.match(verifier) or not _pkce_matches(verifier, challenge):
        problem = "The code_verifier does not match."  # also a missing one: PKCE downgrade
    elif not user.is_active:
        problem = "The user is disabled."
    elif client.assignment_required and not roles:
        problem = tokens.NOT_ASSIGNED
    else:
        problem = token_issue_refusal(
            request, client=client, user=user, auth_time=_grant_auth_time(grant_claims, user)
        )
    if problem:
        raise GrantError("invalid_grant", problem)
    scopes = scope.split()
    # The code's scope is what the user consented to (third-party apps), so offline_access
    # in it means "stay signed in" was allowed.
    with_refresh = "offline_access" in scopes or (client.always_refresh and client.is_first_party)
    body = _user_tokens(
        request=request, grant_type="authorization_code", client=client, user=user,
        scopes=scopes, roles=roles, email_verified=email_verified, started=None,
        family=uuid.uuid4(), with_refresh=with_refresh, nonce=nonce, redeems=(grant_id, code),
        auth_time=_grant_auth_time(grant_claims, user), amr=_grant_amr(grant_claims),
        idp=_grant_idp(grant_claims), group_ids=group_ids,
    )  # fmt: skip
    if body is None:
        # Redeemed by another request since the read: a replay, as if it came second.
        _code_replayed(client, code)
        raise GrantError("invalid_grant")
    return body


def _code_replayed(client: Application, code: str) -> None:
    """A code used again (or never issued): what an earlier redemption got is revoked."""
    redeemed = RedeemedCode.objects.filter(code_checksum=checksum(code), application=client)
    for earlier in redeemed:
        RefreshToken.revoke_family(earlier.token_family)
        AccessToken.objects.filter(token_checksum=earlier.access_token_checksum).delete()


def _grant_auth_time(grant_claims: str, user) -> int | None:
    """When the person authenticated in the browser session that asked for the code
    (oidc.views.AuthorizationView); codes issued before that was recorded: the last sign-in."""
    try:
        auth_time = json.loads(grant_claims or "{}").get("auth_time")
    except (ValueError, AttributeError):
        auth_time = None
    if isinstance(auth_time, int):
        return auth_time
    return int(user.last_login.timestamp()) if user.last_login else None


def _grant_amr(grant_claims: str) -> list[str]:
    """The `amr` of the browser session that asked for the code (none for older codes)."""
    try:
        amr = json.loads(grant_claims or "{}").get("amr")
    except (ValueError, AttributeError):
        amr = None
    return tokens.amr_clean(amr)


def _grant_idp(grant_claims: str) -> str:
    """The `idp` the browser session that asked for the code signed in with (federation)."""
    try:
        idp = json.loads(grant_claims or "{}").get("idp")
    except (ValueError, AttributeError):
        idp = None
    return idp if isinstance(idp, str) else ""


# Refresh token ------------------------------------------------------------------------


REPLAYED_REFRESH = "This refresh token was already used."


def refresh(request, proof: Client) -> dict:
    client = proof.application
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot use refresh tokens.")
    value = request.POST.get("refresh_token", "")
    if not value:
        raise GrantError("invalid_request", "Missing refresh_token.")
    row = _read(
        _refresh_token_read_sql(proof.public),
        {**proof.parameters(), "checksum": checksum(value), "groups": client.groups_claim},
    )
    proof.checked(row[0])
    if row[1] is None:
        raise GrantError("invalid_grant")
    refresh_id, revoked, family, access_id, scope = row[1:6]
    if revoked is not None:
        RefreshToken.revoke_family(family)  # a replay: end the whole sign-in
        raise GrantError("invalid_grant", REPLAYED_REFRESH)
    user, roles, email_verified, group_ids = _user_from(row[6:])
    if access_id is None or not user.is_active:
        raise GrantError("invalid_grant")
    now = timezone.now()
    started = tokens.refresh_token_started(value)
    if started is None:
        first = RefreshToken.objects.filter(token_family=family).aggregate(first=Min("created"))
        started = int(first["first"].timestamp()) if first["first"] else int(now.timestamp())
    if started + client.refresh_token_lifetime <= now.timestamp():
        RefreshToken.revoke_family(family)
        raise GrantError("invalid_grant", "The sign-in has expired; sign in again.")
    auth_time = tokens.refresh_token_auth_time(value) or (
        int(user.last_login.timestamp()) if user.last_login else None
    )
    refusal = token_issue_refusal(request, client=client, user=user, auth_time=auth_time)
    if client.assignment_required and not roles:
        # Unassigned since the sign-in (a role or a group membership removed): no more tokens.
        refusal = tokens.NOT_ASSIGNED
    if refusal:
        raise GrantError("invalid_grant", refusal)
    amr = tokens.refresh_token_amr(value)
    if client.require_mfa and "mfa" not in amr:
        # The app came to require MFA after this sign-in (or the token predates amr): only a
        # sign-in with a second factor gets its tokens. The family is left: it is no replay.
        raise GrantError(
            "invalid_grant",
            "This app requires multifactor authentication and this sign-in did not use it; "
            "sign in again.",
        )
    scopes = scope.split()
    requested = request.POST.get("scope", "").split()
    if requested and not set(requested) <= set(scopes):
        raise GrantError("invalid_scope")
    if requested and set(requested) != set(scopes):
        # The access token gets the narrower scope; the refresh tokens keep the granted one.
        RefreshScope.objects.get_or_create(
            token_family=family, defaults={"application": client, "scope": scope}
        )
    body = _user_tokens(
        request=request, grant_type="refresh_token", client=client, user=user,
        scopes=requested or scopes, roles=roles, email_verified=email_verified,
        started=started, family=family, with_refresh=True, replaces=(refresh_id, access_id),
        auth_time=auth_time, amr=amr, idp=tokens.refresh_token_idp(value), group_ids=group_ids,
    )  # fmt: skip
    if body is None:
        # Rotated by another request since the read: a replay, as if it came second.
        RefreshToken.revoke_family(family)
        raise GrantError("invalid_grant", REPLAYED_REFRESH)
    return body


# Client credentials -------------------------------------------------------------------


def client_credentials(request, proof: Client) -> dict:
    client = proof.application
    if client.app_type != Application.AppType.DAEMON:
        raise GrantError("unauthorized_client", "This app cannot use client credentials.")
    allowed = tokens.api_audience() + "/.default"
    requested = request.POST.get("scope", "").split()
    if any(scope != allowed for scope in requested):
        raise GrantError("invalid_scope", f"A daemon app asks for {allowed}.")
    # The one statement: the client's secret checked and, if valid, the sign-in log row
    # written (committed before the answer, waiting for the WAL flush: the token itself is
    # not stored, this row is its only record).
    _sql, log_parameters = sign_in_event_insert(
        request=request, user=None, method=SignInEvent.Method.TOKEN,
        result=SignInEvent.Result.SUCCESS, app_id=client.client_id, app_name=client.name,
        grant="client_credentials",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            _client_credentials_log_sql(tuple(log_parameters)),
            {**log_parameters, **proof.parameters()},
        )
        proof.checked(cursor.fetchone() is not None)
    # Not stored: the directory API validates these JWTs offline; they end when they expire.
    body = {
        "access_token": tokens.sign(
            tokens.app_access_claims(client),
            typ="at+jwt",
            algorithm=client.token_signing_algorithm,
        ),  # fmt: skip
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "scope": allowed,
    }
    return body


HANDLERS = {
    "authorization_code": authorization_code,
    "refresh_token": refresh,
    "client_credentials": client_credentials,
}
