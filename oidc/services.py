"""Writes: app registrations, client secrets, app roles, signing keys, consents, and the
nightly deletion of codes and tokens past their time."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jwcrypto import jwk
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.roles import holds_permission_roles, permission_roles_label
from audit.services import audit_record
from oidc import keys
from oidc.client_secrets import secret_digest, secret_generate
from oidc.clients import clients_forget
from oidc.models import (
    ApiPermissionGrant,
    Application,
    AppRole,
    ClientSecret,
    Consent,
    SigningKey,
)

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
SECRET_LIFETIME = timedelta(days=730)
# A new key is published this long before it signs, so relying parties that cache the JWKS
# (we let them for 10 minutes) know it before they see a token signed with it.
KEY_PUBLISH_AHEAD = timedelta(hours=1)
# After a newer key takes over, the old one stays published until every token it signed has
# expired: the longest token lifetime an app may choose.
KEY_RETIRE_AFTER = timedelta(days=1)
MAX_TOKEN_LIFETIME = int(KEY_RETIRE_AFTER.total_seconds())
DIRECTORY_PERMISSIONS = {
    "User.Invite.All": gettext_lazy("Invite guest users"),
    "User.Read.All": gettext_lazy("Read all users' profiles"),
    "User.ReadWrite.All": gettext_lazy("Create, change and delete users"),
    "Group.Read.All": gettext_lazy("Read all groups and their members"),
    "Group.ReadWrite.All": gettext_lazy("Create, change and delete groups and their members"),
}
CONFIDENTIAL_TYPES = {Application.AppType.WEB, Application.AppType.DAEMON}


# Redirect URIs ---------------------------------------------------------------------------


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered, or None. Exact URIs only: https, or http on loopback."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return _("%(uri)s is not a valid URL.") % {"uri": uri}
    if "*" in uri:
        return _("%(uri)s: wildcards are not allowed; register each URI exactly.") % {"uri": uri}
    if "#" in uri:
        return _("%(uri)s: a redirect URI cannot have a fragment.") % {"uri": uri}
    if parts.username or parts.password:
        return _("%(uri)s: a redirect URI cannot carry credentials.") % {"uri": uri}
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    if parts.scheme == "http":
        return _("%(uri)s: http is allowed only for localhost and 127.0.0.1; use https.") % {
            "uri": uri
        }
    return _("%(uri)s: use an https URL.") % {"uri": uri}


def _clean_uris(text: str, field: str, errors: dict) -> str:
    uris = text.split()
    problems = [problem for uri in uris if (problem := redirect_uri_problem(uri))]
    if problems:
        errors[field] = problems
    return " ".join(dict.fromkeys(uris))


# Claims a mapping may not produce: the protocol's own, and those relying parties trust to
# identify the user or their rights (a user-editable attribute must never become them).
# Compared without case, since some libraries read claims that way.
RESERVED_CLAIMS = {
    # JWT and OpenID Connect protocol claims
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce", "azp", "at_hash",
    "c_hash", "s_hash", "acr", "amr", "sid", "cnf", "act", "may_act", "scope", "scp",
    "client_id", "typ", "ver", "events",
    # identity and rights as Entra and its libraries name them
    "tid", "oid", "roles", "groups", "hasgroups", "wids", "idtyp", "upn", "unique_name",
    "preferred_username", "login_hint", "idp", "uti", "rh", "onprem_sid",
    # standard profile claims we issue ourselves
    "email", "email_verified", "phone_number", "phone_number_verified", "name",
    "given_name", "family_name", "updated_at",
}  # fmt: skip
RESERVED_CLAIM_PREFIXES = ("xms_",)  # Microsoft's extension claims
CLAIM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")


def _clean_claim_mappings(text: str, errors: dict) -> dict:
    """`claim = attributeKey` lines into {claim: attributeKey}."""
    mappings = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        claim, separator, attribute = (part.strip() for part in line.partition("="))
        if not separator or not CLAIM_NAME.match(claim) or not CLAIM_NAME.match(attribute):
            errors.setdefault("claim_mappings", []).append(
                _("%(line)s: write claim = attributeKey.") % {"line": line.strip()[:80]}
            )
        elif claim.lower() in RESERVED_CLAIMS or claim.lower().startswith(RESERVED_CLAIM_PREFIXES):
            errors.setdefault("claim_mappings", []).append(
                _("%(claim)s is a standard claim and cannot be mapped.") % {"claim": claim}
            )
        else:
            mappings[claim] = attribute
    return mappings


def _clean_lifetime(value: int, field: str, errors: dict, minimum: int, maximum: int) -> int:
    if not minimum <= int(value) <= maximum:
        errors[field] = [
            _("Choose between %(min)d and %(max)d seconds.") % {"min": minimum, "max": maximum}
        ]
    return int(value)


def _app_fields(
    *,
    name: str,
    app_type: str,
    redirect_uris: str,
    post_logout_redirect_uris: str,
    is_first_party: bool,
    access_token_lifetime: int,
    id_token_lifetime: int,
    refresh_token_lifetime: int,
    api_permissions: list[str],
    claim_mappings: str = "",
    home_url: str = "",
    always_refresh: bool = False,
    require_mfa: bool = False,
    assignment_required: bool = False,
    groups_claim: bool = False,
    token_signing_algorithm: str = Application.SigningAlgorithm.RS256,
) -> dict:
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Enter a name.")]
    if app_type not in Application.AppType.values:
        errors["app_type"] = [_("Choose an app type.")]
    redirect_uris = _clean_uris(redirect_uris, "redirect_uris", errors)
    post_logout_redirect_uris = _clean_uris(
        post_logout_redirect_uris, "post_logout_redirect_uris", errors
    )
    home_url = home_url.strip()
    if home_url and (problem := redirect_uri_problem(home_url)):
        errors["home_url"] = [problem]
    if (
        app_type != Application.AppType.DAEMON
        and not redirect_uris
        and "redirect_uris" not in errors
    ):
        errors["redirect_uris"] = [_("Register at least one redirect URI.")]
    if always_refresh and not is_first_party:
        # A third-party app gets a refresh token only when the user allowed offline access.
        errors["always_refresh"] = [_("Only first-party apps can always get refresh tokens.")]
    if token_signing_algorithm not in Application.SigningAlgorithm.values:
        errors["token_signing_algorithm"] = [_("Choose RS256 or ES256.")]
    unknown = set(api_permissions) - set(DIRECTORY_PERMISSIONS)
    if unknown:
        errors["api_permissions"] = [_("Unknown permission.")]
    fields = {
        "name": name,
        "app_type": app_type,
        "client_type": Application.CLIENT_CONFIDENTIAL
        if app_type in CONFIDENTIAL_TYPES
        else Application.CLIENT_PUBLIC,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS
        if app_type == Application.AppType.DAEMON
        else Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": redirect_uris if app_type != Application.AppType.DAEMON else "",
        "post_logout_redirect_uris": post_logout_redirect_uris,
        "home_url": home_url if app_type != Application.AppType.DAEMON else "",
        "is_first_party": is_first_party,
        "skip_authorization": is_first_party,
        "always_refresh": always_refresh and app_type != Application.AppType.DAEMON,
        "require_mfa": require_mfa and app_type != Application.AppType.DAEMON,
        "assignment_required": assignment_required and app_type != Application.AppType.DAEMON,
        "groups_claim": groups_claim and app_type != Application.AppType.DAEMON,
        "access_token_lifetime": _clean_lifetime(
            access_token_lifetime, "access_token_lifetime", errors, 300, MAX_TOKEN_LIFETIME
        ),
        "id_token_lifetime": _clean_lifetime(
            id_token_lifetime, "id_token_lifetime", errors, 300, MAX_TOKEN_LIFETIME
        ),
        "refresh_token_lifetime": _clean_lifetime(
            refresh_token_lifetime, "refresh_token_lifetime", errors, 3600, 365 * 24 * 3600
        ),
        "api_permissions": sorted(set(api_permissions))
        if app_type == Application.AppType.DAEMON
        else [],
        "claim_mappings": _clean_claim_mappings(claim_mappings, errors),
        "token_signing_algorithm": token_signing_algorithm,
    }
    if errors:
        raise ValidationError(errors)
    return fields


def _snapshot(application: Application) -> dict:
    return {
        "name": application.name,
        "app_type": application.app_type,
        "redirect_uris": application.redirect_uris,
        "post_logout_redirect_uris": application.post_logout_redirect_uris,
        "home_url": application.home_url,
        "is_first_party": application.is_first_party,
        "always_refresh": application.always_refresh,
        "require_mfa": application.require_mfa,
        "assignment_required": application.assignment_required,
        "groups_claim": application.groups_claim,
        "access_token_lifetime": application.access_token_lifetime,
        "id_token_lifetime": application.id_token_lifetime,
        "refresh_token_lifetime": application.refresh_token_lifetime,
        "api_permissions": list(application.api_permissions),
        "claim_mappings": dict(application.claim_mappings),
        "token_signing_algorithm": application.token_signing_algorithm,
    }


@transaction.atomic
def application_create(*, actor, request=None, **values) -> tuple[Application, str | None]:
    """Register an app. Returns it and, for confidential apps, its first secret (shown once)."""
    application = Application.objects.create(**_app_fields(**values))
    _signing_key_ensure(application.token_signing_algorithm)
    _forget_clients()
    audit_record(
        actor=actor, action="app.create", target=application, after=_snapshot(application),
        request=request,
    )  # fmt: skip
    _permission_grants_apply(application=application, actor=actor, before=set(), request=request)
    secret = None
    if application.is_confidential:
        _record, secret = client_secret_create(
            application=application, actor=actor, description=_("Initial secret"), request=request
        )
    return application, secret


@transaction.atomic
def application_update(*, application: Application, actor, request=None, **values) -> Application:
    before = _snapshot(application)
    values["app_type"] = application.app_type  # the type decides grants; it never changes
    for field, value in _app_fields(**values).items():
        setattr(application, field, value)
    application.save()
    _signing_key_ensure(application.token_signing_algorithm)
    _forget_clients()
    audit_record(
        actor=actor, action="app.update", target=application, before=before,
        after=_snapshot(application), request=request,
    )  # fmt: skip
    _permission_grants_apply(
        application=application, actor=actor, before=set(before["api_permissions"]),
        request=request,
    )  # fmt: skip
    return application


def _permission_grants_apply(*, application: Application, actor, before: set, request) -> None:
    """Record who grants each directory permission of `application`. Adding a permission
    needs the roles it stands for. A permission kept from before stays with the admin who
    granted it; if that grant no longer stands, an admin holding the roles renews it by
    saving the app. Removed permissions lose their grant."""
    wanted = set(application.api_permissions)
    grants = {
        grant.permission: grant
        for grant in application.permission_grants.select_related("granted_by")
    }
    refused = []
    for permission in sorted(wanted):
        grant = grants.get(permission)
        if (
            permission in before
            and grant is not None
            and holds_permission_roles(grant.granted_by, permission)
        ):
            continue
        if not holds_permission_roles(actor, permission):
            if permission not in before:
                refused.append(permission)
            continue
        ApiPermissionGrant.objects.update_or_create(
            application=application,
            permission=permission,
            defaults={"granted_by": actor, "granted_at": timezone.now()},
        )
        audit_record(
            actor=actor, action="app.permission.grant", target=application,
            after={"permission": permission}, request=request,
        )  # fmt: skip
    if refused:
        raise ValidationError(
            {
                "api_permissions": [
                    _("Granting %(permission)s needs the %(roles)s role.")
                    % {"permission": permission, "roles": permission_roles_label(permission)}
                    for permission in refused
                ]
            }
        )
    for permission, grant in grants.items():
        if permission not in wanted:
            grant.delete()
            audit_record(
                actor=actor, action="app.permission.revoke", target=application,
                before={"permission": permission}, request=request,
            )  # fmt: skip


@transaction.atomic
def application_delete(*, application: Application, actor, request=None) -> None:
    audit_record(
        actor=actor, action="app.delete", target=application, before=_snapshot(application),
        request=request,
    )  # fmt: skip
    AccessToken.objects.filter(application=application).delete()
    RefreshToken.objects.filter(application=application).delete()
    application.delete()
    _forget_clients()


# Client secrets ------------------------------------------------------------------------


@transaction.atomic
def client_secret_create(
    *, application: Application, actor, description: str = "", request=None
) -> tuple[ClientSecret, str]:
    """Add a secret. At most two are active, so a rotation overlaps old and new."""
    if not application.is_confidential:
        raise ValidationError(_("Only web and daemon apps have client secrets."))
    # A secret lets its holder act as the app: only an admin who could grant the app's
    # directory permissions may make one.
    for permission in application.api_permissions:
        if not holds_permission_roles(actor, permission):
            raise ValidationError(
                _("This app holds %(permission)s: a new secret needs the %(roles)s role.")
                % {"permission": permission, "roles": permission_roles_label(permission)}
            )
    active = application.secrets.filter(expires_at__gt=timezone.now()).count()
    if active >= 2:
        raise ValidationError(
            _("An app has at most two secrets. Revoke the old one once your app uses the new one.")
        )
    secret = secret_generate()
    record = ClientSecret.objects.create(
        application=application,
        description=description.strip()[:100],
        hint=secret[:4],
        digest=secret_digest(secret),
        expires_at=timezone.now() + SECRET_LIFETIME,
    )
    _forget_clients()
    audit_record(
        actor=actor, action="app.secret.create", target=application,
        after={"secret": record.hint + "…"}, request=request,
    )  # fmt: skip
    return record, secret


@transaction.atomic
def client_secret_revoke(*, secret: ClientSecret, actor, request=None) -> None:
    audit_record(
        actor=actor, action="app.secret.revoke", target=secret.application,
        before={"secret": secret.hint + "…"}, request=request,
    )  # fmt: skip
    secret.delete()
    _forget_clients()


# App roles -----------------------------------------------------------------------------


@transaction.atomic
def app_role_create(
    *, application: Application, value: str, display_name: str, actor, description: str = "",
    request=None,
) -> AppRole:  # fmt: skip
    value = value.strip()
    if not value or len(value) > 64 or any(c.isspace() for c in value):
        raise ValidationError({"value": [_("Use up to 64 characters without spaces.")]})
    if application.roles.filter(value=value).exists():
        raise ValidationError({"value": [_("This app already has that role.")]})
    role = AppRole.objects.create(
        application=application, value=value, display_name=display_name.strip()[:100] or value,
        description=description.strip()[:500],
    )  # fmt: skip
    audit_record(
        actor=actor, action="app.role.create", target=application, after={"role": value},
        request=request,
    )  # fmt: skip
    return role


@transaction.atomic
def app_role_assign(*, role: AppRole, user, actor, request=None) -> None:
    role.users.add(user)
    audit_record(
        actor=actor, action="app.role.assign", target=user,
        after={"app": role.application.name, "role": role.value}, request=request,
    )  # fmt: skip


@transaction.atomic
def app_role_unassign(*, role: AppRole, user, actor, request=None) -> None:
    role.users.remove(user)
    audit_record(
        actor=actor, action="app.role.unassign", target=user,
        before={"app": role.application.name, "role": role.value}, request=request,
    )  # fmt: skip


@transaction.atomic
def app_role_delete(*, role: AppRole, actor, request=None) -> None:
    audit_record(
        actor=actor, action="app.role.delete", target=role.application,
        before={"role": role.value}, request=request,
    )  # fmt: skip
    role.delete()


# Signing keys --------------------------------------------------------------------------


def _new_key(active_from, algorithm: str = "RS256") -> SigningKey:
    if algorithm == Application.SigningAlgorithm.ES256:
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = jwk.JWK.from_pem(pem.encode())
    public = json.loads(key.export_public())
    kid = hashlib.sha256(key.thumbprint().encode()).hexdigest()[:16]
    public.update(kid=kid, alg=algorithm, use="sig")
    return SigningKey.objects.create(
        kid=kid, algorithm=algorithm, private_pem=keys.private_pem_seal(pem), public_jwk=public,
        active_from=active_from,
    )  # fmt: skip


def _signing_key_ensure(algorithm: str) -> None:
    """A tenant's first app signing with `algorithm` (ES256) gets the tenant a key for it,
    published in JWKS before the app's first token (RS256 keys exist from the start)."""
    moment = timezone.now()
    waiting = SigningKey.objects.filter(algorithm=algorithm, active_from__lte=moment).filter(
        models.Q(retire_at__isnull=True) | models.Q(retire_at__gt=moment)
    )
    if algorithm != Application.SigningAlgorithm.RS256 and not waiting.exists():
        _new_key(moment, algorithm)
        _forget_key_list()


def _forget_clients() -> None:
    clients_forget()


def _forget_key_list() -> None:
    # Now for the rest of this transaction, and again after commit in case another thread
    # of this process re-read the old list meanwhile.
    keys.key_list_forget()
    transaction.on_commit(keys.key_list_forget)


def tenant_signing_keys_create(*, tenant, admin) -> None:
    """TENANT_DEFAULTS hook: a new tenant signs with its own key from the start: the one
    made with its schema (TENANT_SPARE_DEFAULTS), or a new one when that one was sealed under
    a SECRET_KEY retired since the spare was made."""
    usable = False
    for waiting in SigningKey.objects.all():
        try:
            keys.private_pem_open(waiting.private_pem)
        except InvalidToken:
            # Sealed under a SECRET_KEY no longer among the fallbacks: it could never sign.
            waiting.delete()
        else:
            usable = True
    if not usable:
        _new_key(timezone.now())


def spare_signing_key_create() -> None:
    """TENANT_SPARE_DEFAULTS hook: the first key of the tenant that will take this spare
    schema. Generating an RSA key is most of a tenant creation's time after the schema."""
    _new_key(timezone.now())


@transaction.atomic
def signing_key_rotate(*, actor, publish_ahead: timedelta = KEY_PUBLISH_AHEAD, request=None):
    """Publish a new key now; it signs from `publish_ahead` on. The key it replaces stays
    published until the tokens it signed have expired."""
    now = timezone.now()
    SigningKey.objects.filter(active_from__gt=now).delete()  # a pending key never signed
    # A tenant without any key (created before keys existed) needs one that signs at once.
    takes_over = now + publish_ahead if SigningKey.objects.exists() else now
    # Every algorithm in use rotates together (ES256 once an app chose it).
    algorithms = {"RS256", *SigningKey.objects.filter(retire_at__isnull=True).values_list(
        "algorithm", flat=True)}  # fmt: skip
    SigningKey.objects.filter(retire_at__isnull=True).update(
        retire_at=takes_over + KEY_RETIRE_AFTER
    )
    key = _new_key(takes_over)
    for algorithm in sorted(algorithms - {"RS256"}):
        _new_key(takes_over, algorithm)
    audit_record(
        actor=actor, action="signing_key.rotate", target=key,
        after={"active_from": str(takes_over)}, request=request,
    )  # fmt: skip
    _forget_key_list()
    return key


@transaction.atomic
def signing_keys_retire_expired(*, now=None) -> int:
    """Delete keys whose retirement time has passed (they left the JWKS already)."""
    deleted, _by_model = SigningKey.objects.filter(retire_at__lte=now or timezone.now()).delete()
    _forget_key_list()
    return deleted


# Consent -------------------------------------------------------------------------------


@transaction.atomic
def consent_grant(*, user, application: Application, scopes: list[str]) -> Consent:
    consent, _created = Consent.objects.get_or_create(user=user, application=application)
    consent.scopes = sorted(set(consent.scopes) | set(scopes))
    consent.save()
    audit_record(
        actor=user, action="app.consent.grant", target=application, after={"scopes": consent.scopes}
    )
    return consent


@transaction.atomic
def consent_revoke(*, consent: Consent, user, request=None) -> None:
    """Withdraw consent and end the app's access: its tokens for this user are revoked."""
    application = consent.application
    for refresh in RefreshToken.objects.filter(user=user, application=application, revoked=None):
        refresh.revoke()
    AccessToken.objects.filter(user=user, application=application).delete()
    audit_record(
        actor=user, action="app.consent.revoke", target=application,
        before={"scopes": consent.scopes}, request=request,
    )  # fmt: skip
    consent.delete()


def user_tokens_revoke(*, user) -> int:
    """Revoke every refresh token of `user` and delete their stored access tokens (a disabled
    user's apps lose access at their next refresh). Returns how many refresh tokens ended."""
    refresh_tokens = list(RefreshToken.objects.filter(user=user, revoked=None))
    for refresh in refresh_tokens:
        refresh.revoke()
    AccessToken.objects.filter(user=user).delete()
    return len(refresh_tokens)


# Codes and tokens past their time ---------------------------------------------------------


def _refresh_lifetime():
    from django.db.models import DurationField, ExpressionWrapper, F, Value

    return ExpressionWrapper(
        F("application__refresh_token_lifetime") * Value(timedelta(seconds=1)),
        output_field=DurationField(),
    )


def tokens_cleanup(now=None) -> dict[str, int]:
    """Delete what the provider of the current tenant no longer needs: redeemed-code records
    and codes past their time, refresh tokens whose sign-in outlived the app's absolute
    lifetime (revoked ones are kept until then: they are how a replay is recognised) and the
    granted scopes kept for their sign-ins, expired access tokens that no refresh token
    holds, and signing keys past their retirement. Returns the rows deleted per kind."""
    from django.db.models import F
    from oauth2_provider.models import Grant

    from oidc.models import RedeemedCode, RefreshScope

    now = now or timezone.now()
    # A token is never older than its sign-in, so created + lifetime bounds the family's end.
    outlived = RefreshToken.objects.alias(ends=F("created") + _refresh_lifetime()).filter(
        ends__lte=now
    )
    counts = {
        "redeemed codes": RedeemedCode.objects.filter(expires_at__lte=now).delete()[0],
        "codes": Grant.objects.filter(expires__lte=now).delete()[0],
        "refresh tokens": outlived.delete()[0],
    }
    families = RefreshToken.objects.filter(token_family__isnull=False).values("token_family")
    counts["refresh scopes"] = RefreshScope.objects.exclude(token_family__in=families).delete()[0]
    counts["access tokens"] = AccessToken.objects.filter(
        expires__lte=now, refresh_token__isnull=True
    ).delete()[0]
    counts["signing keys"] = signing_keys_retire_expired(now=now)
    return counts


def tokens_cleanup_condition() -> str:
    """True in a tenant's schema when `tokens_cleanup` has something to delete at
    `%(now)s` (tenants.selectors.schema_has): a tenant without apps or whose codes and
    tokens are all alive answers from the indexes and the small application table."""
    from oauth2_provider.models import Grant

    from oidc.models import RedeemedCode, RefreshScope

    def table(model) -> str:
        return f"{{schema}}.{model._meta.db_table}"

    refresh, application = table(RefreshToken), table(Application)
    return " OR ".join(
        [
            f"EXISTS (SELECT 1 FROM {table(RedeemedCode)} WHERE expires_at <= %(now)s)",
            f"EXISTS (SELECT 1 FROM {table(Grant)} WHERE expires <= %(now)s)",
            f"EXISTS (SELECT 1 FROM {refresh} token JOIN {application} app ON app.id = "
            "token.application_id WHERE token.created + app.refresh_token_lifetime * "
            "interval '1 second' <= %(now)s)",
            f"EXISTS (SELECT 1 FROM {table(RefreshScope)} scope WHERE NOT EXISTS (SELECT 1 "
            f"FROM {refresh} token WHERE token.token_family = scope.token_family))",
            f"EXISTS (SELECT 1 FROM {table(AccessToken)} access WHERE expires <= %(now)s "
            f"AND NOT EXISTS (SELECT 1 FROM {refresh} token "
            "WHERE token.access_token_id = access.id))",
            f"EXISTS (SELECT 1 FROM {table(SigningKey)} WHERE retire_at <= %(now)s)",
        ]
    )
