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
import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from psycopg.pq import TransactionStatus

from audit.models import SignInEvent
from audit.services import sign_in_event_insert
from ciam.crypto import checksum
from ciam.http import basic_credentials
from conditional_access.tokens import token_issue_refusal
from oidc import library_tables, tokens
from oidc.clients import client_get, client_secret_matches
from oidc.models import Application, RedeemedCode, RefreshScope
from oidc.sign_in_log import sign_in_row_write

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


def client_authenticate(request) -> Application:
    """The client of a token request: a confidential client by its secret (Basic or body),
    a public one by its id alone (it has no secret to show)."""
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
        if not secret or not client_secret_matches(application, secret):
            raise GrantError("invalid_client", status=401)
    elif secret:
        raise GrantError("invalid_client", "Public clients have no secret.", status=401)
    return application


def _set_synchronous_commit(on: bool) -> None:
    """A token issue commits without waiting for the WAL flush: on a database crash the last
    fraction of a second of issued tokens may be lost (those clients sign in again), the
    trade Keycloak makes by keeping sessions in memory. It makes an issue several times
    cheaper on a disk with slow flushes. Revocations still wait for the flush."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit TO {'ON' if on else 'OFF'}")


def _locked_read(sql: str, parameters: dict):
    """The first statement of a token transaction: its locked read, sent in one round trip
    with the switch to asynchronous commit (see _set_synchronous_commit) and, when the
    transaction is the request's own (_in_transaction), with its BEGIN."""
    with connection.cursor() as cursor:
        prefix = "SET LOCAL synchronous_commit TO OFF; "
        if _folding() and connection.connection.info.transaction_status == TransactionStatus.IDLE:
            # psycopg would send BEGIN on its own first: sent here in the same message instead.
            # psycopg's autocommit only decides whether it sends BEGIN itself; the transaction
            # is open until the COMMIT of the last statement (_write) or Django's rollback.
            # (Not when the cursor's SET search_path, ciam.db, began it already.)
            connection.connection.autocommit = True
            prefix = "BEGIN; " + prefix
        cursor.execute(prefix + sql, parameters)
        if prefix.startswith("BEGIN"):
            cursor.nextset()
        cursor.nextset()
        return cursor.fetchone()


def _write(sql: str, parameters: dict) -> None:
    """The last statement of a token transaction, with its COMMIT in the same message when
    the transaction is the request's own (Django's commit then finds nothing to commit)."""
    with connection.cursor() as cursor:
        cursor.execute(sql + ("; COMMIT" if _folding() else ""), parameters)


# Round trips of a token transaction: BEGIN, the locked read, the write, COMMIT; folded into
# two messages when the transaction is the outermost one (not inside a caller's atomic
# block, such as a test's). Per connection (a thread has its own).
_FOLD = "_ciam_token_transaction_folded"


def _folding() -> bool:
    return getattr(connection, _FOLD, False)


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


def _record(request, client: Application, user, grant_type: str) -> None:
    """The sign-in log row of a token issued without a transaction of its own (client
    credentials): written in a batch by this process's writer thread (oidc.sign_in_log).
    One database round trip per issue was a third of a client-credentials call's time."""
    sql, parameters = sign_in_event_insert(
        request=request, user=user, method=SignInEvent.Method.TOKEN,
        result=SignInEvent.Result.SUCCESS, app_id=client.client_id, app_name=client.name,
        grant=grant_type,
    )  # fmt: skip
    sign_in_row_write(sql, parameters)


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
    log_sql, log_parameters = sign_in_event_insert(
        request=request, user=user, method=SignInEvent.Method.TOKEN,
        result=SignInEvent.Result.SUCCESS, app_id=client.client_id, app_name=client.name,
        grant=grant_type,
    )  # fmt: skip
    _write(
        library_tables.tokens_write_sql(
            replaces_refresh=replaces is not None,
            redeems_code=bool(redeems),
            with_refresh=with_refresh,
            log_sql=log_sql,
        ),
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


def _in_transaction(work):
    """Run `work` in a transaction; a GrantError it returns is raised after the commit, so
    the revocations it made (a replayed code or refresh token) stay."""
    outermost = connection.get_autocommit() and not connection.in_atomic_block
    setattr(connection, _FOLD, outermost)
    try:
        with transaction.atomic():
            outcome = work()  # its first statement turns synchronous commit off (_locked_read)
            if isinstance(outcome, GrantError):
                _set_synchronous_commit(True)  # a revocation must survive a database crash
    finally:
        setattr(connection, _FOLD, False)
    if isinstance(outcome, GrantError):
        raise outcome
    return outcome


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


def authorization_code(request, client: Application) -> dict:
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot sign users in.")
    code = request.POST.get("code", "")
    if not code:
        raise GrantError("invalid_request", "Missing code.")
    return _in_transaction(lambda: _redeem(request, client, code))


def _redeem(request, client: Application, code: str):
    row = _locked_read(
        library_tables.code_read_sql(),
        {"code": code, "app": client.pk, "groups": client.groups_claim},
    )
    if row is None:
        redeemed = RedeemedCode.objects.filter(code_checksum=checksum(code), application=client)
        for earlier in redeemed:
            RefreshToken.revoke_family(earlier.token_family)
            AccessToken.objects.filter(token_checksum=earlier.access_token_checksum).delete()
        return GrantError("invalid_grant")
    grant_id, expires, redirect_uri, scope, challenge, method, nonce, grant_claims = row[:8]
    user, roles, email_verified, group_ids = _user_from(row[8:])
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
        return GrantError("invalid_grant", problem)
    scopes = scope.split()
    # The code's scope is what the user consented to (third-party apps), so offline_access
    # in it means "stay signed in" was allowed.
    with_refresh = "offline_access" in scopes or (client.always_refresh and client.is_first_party)
    return _user_tokens(
        request=request, grant_type="authorization_code", client=client, user=user,
        scopes=scopes, roles=roles, email_verified=email_verified, started=None,
        family=uuid.uuid4(), with_refresh=with_refresh, nonce=nonce, redeems=(grant_id, code),
        auth_time=_grant_auth_time(grant_claims, user), amr=_grant_amr(grant_claims),
        idp=_grant_idp(grant_claims), group_ids=group_ids,
    )  # fmt: skip


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


def refresh(request, client: Application) -> dict:
    if not client.allows_grant_type(Application.GRANT_AUTHORIZATION_CODE):
        raise GrantError("unauthorized_client", "This app cannot use refresh tokens.")
    value = request.POST.get("refresh_token", "")
    if not value:
        raise GrantError("invalid_request", "Missing refresh_token.")
    return _in_transaction(lambda: _rotate(request, client, value))


def _rotate(request, client: Application, value: str):
    row = _locked_read(
        library_tables.refresh_token_read_sql(),
        {"checksum": checksum(value), "app": client.pk, "groups": client.groups_claim},
    )
    if row is None:
        return GrantError("invalid_grant")
    refresh_id, revoked, family, access_id, scope = row[:5]
    if revoked is not None:
        RefreshToken.revoke_family(family)  # a replay: end the whole sign-in
        return GrantError("invalid_grant", "This refresh token was already used.")
    user, roles, email_verified, group_ids = _user_from(row[5:])
    if access_id is None or not user.is_active:
        return GrantError("invalid_grant")
    now = timezone.now()
    started = tokens.refresh_token_started(value)
    if started is None:
        first = RefreshToken.objects.filter(token_family=family).aggregate(first=Min("created"))
        started = int(first["first"].timestamp()) if first["first"] else int(now.timestamp())
    if started + client.refresh_token_lifetime <= now.timestamp():
        RefreshToken.revoke_family(family)
        return GrantError("invalid_grant", "The sign-in has expired; sign in again.")
    auth_time = tokens.refresh_token_auth_time(value) or (
        int(user.last_login.timestamp()) if user.last_login else None
    )
    refusal = token_issue_refusal(request, client=client, user=user, auth_time=auth_time)
    if client.assignment_required and not roles:
        # Unassigned since the sign-in (a role or a group membership removed): no more tokens.
        refusal = tokens.NOT_ASSIGNED
    if refusal:
        return GrantError("invalid_grant", refusal)
    amr = tokens.refresh_token_amr(value)
    if client.require_mfa and "mfa" not in amr:
        # The app came to require MFA after this sign-in (or the token predates amr): only a
        # sign-in with a second factor gets its tokens. The family is left: it is no replay.
        return GrantError(
            "invalid_grant",
            "This app requires multifactor authentication and this sign-in did not use it; "
            "sign in again.",
        )
    scopes = scope.split()
    requested = request.POST.get("scope", "").split()
    if requested and not set(requested) <= set(scopes):
        return GrantError("invalid_scope")
    if requested and set(requested) != set(scopes):
        # The access token gets the narrower scope; the refresh tokens keep the granted one.
        RefreshScope.objects.get_or_create(
            token_family=family, defaults={"application": client, "scope": scope}
        )
    return _user_tokens(
        request=request, grant_type="refresh_token", client=client, user=user,
        scopes=requested or scopes, roles=roles, email_verified=email_verified,
        started=started, family=family, with_refresh=True, replaces=(refresh_id, access_id),
        auth_time=auth_time, amr=amr, idp=tokens.refresh_token_idp(value), group_ids=group_ids,
    )  # fmt: skip


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
        "access_token": tokens.sign(
            tokens.app_access_claims(client),
            typ="at+jwt",
            algorithm=client.token_signing_algorithm,
        ),  # fmt: skip
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
