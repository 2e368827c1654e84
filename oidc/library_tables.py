"""Every statement this project sends to django-oauth-toolkit's tables without the ORM.

The token endpoint, and the authorization endpoint's common case, read and write the
library's Grant, AccessToken and RefreshToken rows in SQL: the ORM spent more time compiling
the token endpoint's locked read with its two subqueries (about 1.2 ms) than PostgreSQL spent
answering it, and each issue is written in one statement. Those statements live here and
nowhere else, so an upgrade of the library has one module to check: table and column names
come from the models' metadata, and tests/oidc/test_library_tables.py checks that each INSERT
writes every column the library's schema requires (NOT NULL without a default). The search
path selects the tenant.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from audit.models import SignInEvent
from groups.models import Group, GroupAppRoleAssignment, GroupMembership
from groups.selectors import GROUPS_CLAIM_LIMIT
from oidc.models import AppRole, ClientSecret, RedeemedCode, RefreshScope

# What each INSERT writes: {model field: SQL value}; %(name)s are the statement's parameters.
GRANT_VALUES = {
    "user": "%(user)s",
    "code": "%(code)s",
    "application": "%(app)s",
    "expires": "%(expires)s",
    "redirect_uri": "%(redirect_uri)s",
    "scope": "%(scope)s",
    "created": "%(now)s",
    "updated": "%(now)s",
    "code_challenge": "%(code_challenge)s",
    "code_challenge_method": "'S256'",
    "nonce": "%(nonce)s",
    "claims": "%(claims)s",
    "resource": "'[]'::jsonb",
}
# Tokens are stored as checksums only (hashed token storage): the token columns stay empty.
ACCESS_TOKEN_VALUES = {
    "user": "%(user)s",
    "source_refresh_token": "%(old_refresh)s",
    "token": "''",
    "token_checksum": "%(access_checksum)s",
    "id_token": "NULL",
    "application": "%(app)s",
    "expires": "%(expires)s",
    "scope": "%(scope)s",
    "resource": "'[]'::jsonb",
    "created": "%(now)s",
    "updated": "%(now)s",
}
REFRESH_TOKEN_VALUES = {
    "user": "%(user)s",
    "token": "''",
    "token_checksum": "%(refresh_checksum)s",
    "application": "%(app)s",
    "access_token": "access.id",  # the access token inserted by the same statement
    "token_family": "%(family)s",
    "resource": "'[]'::jsonb",
    "created": "%(now)s",
    "updated": "%(now)s",
    "revoked": "NULL",
}
INSERTS = (
    (Grant, GRANT_VALUES),
    (AccessToken, ACCESS_TOKEN_VALUES),
    (RefreshToken, REFRESH_TOKEN_VALUES),
)


def _column(model, field: str) -> str:
    return model._meta.get_field(field).column


def _columns(model, values: dict[str, str]) -> str:
    return ", ".join(_column(model, field) for field in values)


def grant_insert_sql() -> str:
    """An authorization code with PKCE (S256) for a signed-in user."""
    return (
        f"INSERT INTO {Grant._meta.db_table} ({_columns(Grant, GRANT_VALUES)}) "
        f"VALUES ({', '.join(GRANT_VALUES.values())})"
    )


# The user's columns that the claims, the sign-in log and conditional access (type and admin
# roles) use, read with the code or refresh token (u), and the facts the tokens carry: roles in
# the app (%(app)s), theirs or their groups', email verified, and, when the app asks for them
# (%(groups)s), the ids of their groups (one more than the claim holds, to tell an overage).
USER_COLUMNS = (
    "u.id, u.public_id, u.email, u.is_active, u.last_login, u.first_name, u.last_name, "
    "u.display_name, u.attributes, u.user_type, u.admin_roles"
)


def _user_facts_sql() -> str:
    role_users = AppRole.users.through._meta.db_table
    memberships = GroupMembership._meta.db_table
    return (
        f"ARRAY(SELECT r.value FROM {AppRole._meta.db_table} r "
        "WHERE r.application_id = %(app)s AND ("
        f"EXISTS(SELECT 1 FROM {role_users} ru WHERE ru.approle_id = r.id AND ru.user_id = u.id) "
        f"OR EXISTS(SELECT 1 FROM {GroupAppRoleAssignment._meta.db_table} ga "
        f"JOIN {memberships} gm ON gm.group_id = ga.group_id "
        "WHERE ga.role_id = r.id AND gm.user_id = u.id)) ORDER BY r.value), "
        f"EXISTS(SELECT 1 FROM {EmailAddress._meta.db_table} e WHERE e.user_id = u.id "
        "AND e.verified AND e.email = u.email), "
        f"CASE WHEN %(groups)s THEN ARRAY(SELECT g.public_id FROM {Group._meta.db_table} g "
        f"JOIN {memberships} gm ON gm.group_id = g.id WHERE gm.user_id = u.id "
        f"ORDER BY g.public_id LIMIT {GROUPS_CLAIM_LIMIT + 1}) END"
    )


def client_secret_valid_sql(*, public: bool) -> str:
    """Whether the client %(app)s showed a valid secret: one of its secrets has the keyed
    hash %(digest)s and has not expired at %(checked_at)s (TRUE for a public client, which
    has none). Read with the first statement of each grant: a secret revoked or rotated
    anywhere is refused by every process at once."""
    if public:
        return "TRUE"
    return (
        f"EXISTS(SELECT 1 FROM {ClientSecret._meta.db_table} cs WHERE cs.digest = %(digest)s "
        "AND cs.application_id = %(app)s AND cs.expires_at > %(checked_at)s)"
    )


def code_read_sql(*, public: bool) -> str:
    """The client's secret check (client_secret_valid_sql), then the code %(code)s of app
    %(app)s with its user: id, expires, redirect_uri, scope, code_challenge,
    code_challenge_method, nonce, claims, then the user's columns; the code's columns are
    NULL when there is no such code. Not locked: the write consumes the code only if it is
    still there (tokens_write_sql)."""
    g = {field: "g." + _column(Grant, field) for field in GRANT_VALUES}
    return (
        f"SELECT {client_secret_valid_sql(public=public)}, g.id, {g['expires']}, "
        f"{g['redirect_uri']}, {g['scope']}, {g['code_challenge']}, "
        f"{g['code_challenge_method']}, {g['nonce']}, {g['claims']}, "
        f"{USER_COLUMNS}, {_user_facts_sql()} "
        f"FROM (SELECT 1) client LEFT JOIN ({Grant._meta.db_table} g "
        f"JOIN {get_user_model()._meta.db_table} u ON u.id = {g['user']}) "
        f"ON {g['code']} = %(code)s AND {g['application']} = %(app)s"
    )


def refresh_token_read_sql(*, public: bool) -> str:
    """The client's secret check (client_secret_valid_sql), then the refresh token of
    checksum %(checksum)s of app %(app)s with its user: id, revoked, token_family,
    access_token_id, the family's granted scope, then the user's columns (NULL when there is
    no such token). Of two rows with one checksum, the one still in use. Not locked: the
    write retires the token only if it is still unused (tokens_write_sql)."""
    rt = {field: "rt." + _column(RefreshToken, field) for field in REFRESH_TOKEN_VALUES}
    return (
        f"SELECT {client_secret_valid_sql(public=public)}, token.* FROM (SELECT 1) client "
        f"LEFT JOIN (SELECT rt.id, {rt['revoked']}, {rt['token_family']}, "
        f"{rt['access_token']}, COALESCE(fs.scope, at.{_column(AccessToken, 'scope')}), "
        f"{USER_COLUMNS}, {_user_facts_sql()} "
        f"FROM {RefreshToken._meta.db_table} rt "
        f"JOIN {get_user_model()._meta.db_table} u ON u.id = {rt['user']} "
        f"LEFT JOIN {AccessToken._meta.db_table} at ON at.id = {rt['access_token']} "
        f"LEFT JOIN {RefreshScope._meta.db_table} fs ON fs.token_family = {rt['token_family']} "
        f"WHERE {rt['token_checksum']} = %(checksum)s AND {rt['application']} = %(app)s "
        f"ORDER BY {rt['revoked']} DESC NULLS FIRST LIMIT 1) token ON TRUE"
    )


def sign_in_row_sql(parameters: tuple[str, ...], *, source: str, condition: str = "") -> str:
    """An INSERT of one sign-in log row from the `log_<column>` `parameters` of
    audit.services.sign_in_event_insert, made only if `source` (a CTE or subquery) gives a
    row and `condition` holds."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name.removeprefix("log_")) for name in parameters)
    values = ", ".join(f"%({name})s" for name in parameters)
    where = f" WHERE {condition}" if condition else ""
    return (
        f"INSERT INTO {SignInEvent._meta.db_table} ({columns}) SELECT {values} FROM {source}{where}"
    )


def client_credentials_log_sql(parameters: tuple[str, ...]) -> str:
    """A client-credentials issue's sign-in log row, written only if the client showed a
    valid secret (client_secret_valid_sql): the one statement of that grant, RETURNING a row
    when the client is authenticated."""
    return (
        sign_in_row_sql(
            parameters, source="(SELECT 1) client", condition=client_secret_valid_sql(public=False)
        )
        + " RETURNING 1"
    )


def tokens_write_sql(
    *, replaces_refresh: bool, redeems_code: bool, with_refresh: bool, log_parameters: tuple
) -> str:
    """One statement (atomic on its own): retire the previous refresh token if it is still
    unused (a rotation: %(old_refresh)s, and its access token %(old_access)s) or consume the
    code %(grant)s if it is still there and remember it (a code exchange); then, only if
    that happened, write the sign-in log row (`log_parameters`), insert the access token and
    the refresh token pointing at it (`with_refresh`). It returns a row when the tokens were
    written, none when another request used the code or refresh token first."""
    access_table, refresh_table = AccessToken._meta.db_table, RefreshToken._meta.db_table
    if replaces_refresh:
        gate = "retired"
        revoked, updated = _column(RefreshToken, "revoked"), _column(RefreshToken, "updated")
        before = (
            f"retired AS (UPDATE {refresh_table} SET {revoked} = %(now)s, {updated} = %(now)s, "
            f"{_column(RefreshToken, 'access_token')} = NULL "
            f"WHERE id = %(old_refresh)s AND {revoked} IS NULL RETURNING id), "
            f"removed AS (DELETE FROM {access_table} WHERE id = %(old_access)s "
            "AND EXISTS(SELECT 1 FROM retired)), "
        )
    elif redeems_code:
        gate = "consumed"
        before = (
            f"consumed AS (DELETE FROM {Grant._meta.db_table} WHERE id = %(grant)s "
            "RETURNING id), "
            f"remembered AS (INSERT INTO {RedeemedCode._meta.db_table} (code_checksum, "
            "application_id, token_family, access_token_checksum, expires_at) "
            "SELECT %(code_checksum)s, %(app)s, %(family)s, %(access_checksum)s, "
            "%(redeemed_until)s FROM consumed), "
        )
    else:
        raise ValueError("a token write retires a refresh token or consumes a code")
    before += f"logged AS ({sign_in_row_sql(log_parameters, source=gate)}), "
    access = (
        f"WITH {before}access AS (INSERT INTO {access_table} "
        f"({_columns(AccessToken, ACCESS_TOKEN_VALUES)}) "
        f"SELECT {', '.join(ACCESS_TOKEN_VALUES.values())} FROM {gate} RETURNING id) "
    )
    if not with_refresh:
        return access + "SELECT id FROM access"
    return access + (
        f"INSERT INTO {refresh_table} ({_columns(RefreshToken, REFRESH_TOKEN_VALUES)}) "
        f"SELECT {', '.join(REFRESH_TOKEN_VALUES.values())} FROM access RETURNING id"
    )
