"""App registrations (our swapped-in oauth2_provider Application), their secrets and roles,
the tenant's signing keys, redeemed codes and users' consents."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication


class Application(AbstractApplication):
    """An app registration. `app_type` decides the client type and the grants it may use."""

    class AppType(models.TextChoices):
        WEB = "web", _("Web")
        SPA = "spa", _("Single-page")
        NATIVE = "native", _("Native (mobile or desktop)")
        DAEMON = "daemon", _("Daemon (service, no user)")

    # Client secrets live in ClientSecret (keyed hash, two during rotation); the library's
    # column stays empty so its password-hasher path is never taken.
    client_secret = models.CharField(max_length=255, blank=True, default="")
    hash_client_secret = models.BooleanField(default=False)
    algorithm = models.CharField(max_length=5, default=AbstractApplication.RS256_ALGORITHM)

    class SigningAlgorithm(models.TextChoices):
        RS256 = "RS256", _("RS256 (RSA; every library verifies it)")
        ES256 = "ES256", _("ES256 (ECDSA P-256; smaller tokens, cheaper to sign)")

    # Our tokens' signature (README "Tokens"): the access and ID tokens of this app. The
    # library's `algorithm` above stays RS256, as its own code paths expect.
    token_signing_algorithm = models.CharField(
        _("token signing algorithm"),
        max_length=5,
        choices=SigningAlgorithm.choices,
        default=SigningAlgorithm.RS256,
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    app_type = models.CharField(max_length=16, choices=AppType.choices, default=AppType.WEB)
    is_first_party = models.BooleanField(
        _("first-party app"),
        default=True,
        help_text=_("First-party apps skip the consent screen; third-party apps ask users."),
    )
    access_token_lifetime = models.PositiveIntegerField(default=3600)
    id_token_lifetime = models.PositiveIntegerField(default=3600)
    refresh_token_lifetime = models.PositiveIntegerField(
        default=14 * 24 * 3600,
        help_text=_(
            "Absolute: a sign-in can be refreshed for this long, then it must sign in again."
        ),
    )
    always_refresh = models.BooleanField(
        _("always issue refresh tokens"),
        default=False,
        help_text=_(
            "First-party apps only: a refresh token with every sign-in, even when the app "
            "does not ask for offline_access."
        ),
    )
    require_mfa = models.BooleanField(
        _("require MFA"),
        default=False,
        help_text=_(
            "Users prove a second factor before the app gets a code; someone without one sets "
            "it up first."
        ),
    )
    assignment_required = models.BooleanField(
        _("assignment required"),
        default=False,
        help_text=_(
            "Only users holding one of the app's roles, themselves or through a group, may "
            "sign in to it; others see a page saying they have no access."
        ),
    )
    groups_claim = models.BooleanField(
        _("groups claim"),
        default=False,
        help_text=_(
            "Tokens list the ids of the user's groups in `groups` (past 150 groups, a link to "
            "read them from the directory API instead)."
        ),
    )
    # Extra ID token / userinfo claims with the profile scope: {claim name: user attribute key}.
    claim_mappings = models.JSONField(default=dict, blank=True)
    # Directory API application permissions (daemon apps), e.g. User.Invite.All. Each one
    # works only while an ApiPermissionGrant names an admin who still holds its roles.
    api_permissions = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    home_url = models.URLField(
        _("home page URL"),
        max_length=2000,
        blank=True,
        help_text=_("Where the app's users start; invitations may send guests there."),
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        ordering = ["name"]

    @property
    def is_confidential(self) -> bool:
        return self.client_type == AbstractApplication.CLIENT_CONFIDENTIAL

    def allows_grant_type(self, *grant_types):
        allowed = {
            self.AppType.WEB: {self.GRANT_AUTHORIZATION_CODE},
            self.AppType.SPA: {self.GRANT_AUTHORIZATION_CODE},
            self.AppType.NATIVE: {self.GRANT_AUTHORIZATION_CODE},
            self.AppType.DAEMON: {self.GRANT_CLIENT_CREDENTIALS},
        }[self.app_type]
        return bool(allowed.intersection(grant_types))

    def redirect_uri_allowed(self, uri: str) -> bool:
        return _uri_registered(uri, self.redirect_uris.split())

    def origin_allowed(self, origin: str) -> bool:
        """Browsers may call the token endpoint from the origin of a single-page app's
        redirect URIs."""
        if self.app_type != self.AppType.SPA:
            return False
        origins = {
            f"{parts.scheme}://{parts.netloc}"
            for parts in map(urlsplit, self.redirect_uris.split())
        }
        return origin in origins

    def post_logout_redirect_uri_allowed(self, uri: str) -> bool:
        return _uri_registered(uri, self.post_logout_redirect_uris.split())


def _uri_registered(uri: str, registered: list[str]) -> bool:
    """Simple string comparison (RFC 9700 4.1.1), except that a loopback URI may name any port
    at request time (RFC 8252 7.3): no case, slash, query or fragment variants.

    Not django-oauth-toolkit's redirect_to_uri_allowed (3.4): it compares the scheme and host
    of the parsed URIs, so `https://APP.example/cb` matches a registered `https://app.example/cb`
    (tests/oidc/test_security.py refuses that variant, as OpenID Connect Core 3.1.2.1 asks)."""
    if uri in registered:
        return True
    parts = urlsplit(uri)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return False
    try:
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return False
    without_port = parts._replace(
        netloc=parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    )
    for candidate in registered:
        registered_parts = urlsplit(candidate)
        if registered_parts.port:
            registered_parts = registered_parts._replace(
                netloc=registered_parts.netloc.rsplit(":", 1)[0]
            )
        if registered_parts.geturl() == without_port.geturl() and candidate.startswith("http://"):
            return True
    return False


class ClientSecret(models.Model):
    """One client secret, stored as HMAC-SHA256 under a server key (never the plain value)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="secrets")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(max_length=100, blank=True)
    hint = models.CharField(max_length=8)  # first characters, so admins can tell secrets apart
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}…"


class ApiPermissionGrant(models.Model):
    """Which admin granted an app one of its directory permissions. The app acts with that
    admin's authority: when the admin no longer holds the permission's roles (or is gone),
    the permission stops working until another admin holding them grants it again."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="permission_grants"
    )
    permission = models.CharField(max_length=64)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "permission"], name="apipermissiongrant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.permission} of {self.application_id}"


class AppRole(models.Model):
    """A role an app defines (`roles` claim); assigned to users of the app, and to groups
    (groups.GroupAppRoleAssignment), whose members then hold it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="roles")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    value = models.CharField(max_length=64)
    display_name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="app_roles")

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(fields=["application", "value"], name="approle_value_unique")
        ]

    def __str__(self) -> str:
        return self.value


class SigningKey(models.Model):
    """A signing key of this tenant: RS256 (every tenant), ES256 (once an app signs with
    it). Published in JWKS from creation until `retire_at`; signs from `active_from` until a
    newer key of its algorithm becomes active."""

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(
        max_length=5,
        choices=Application.SigningAlgorithm.choices,
        default=Application.SigningAlgorithm.RS256,
    )
    private_pem = models.TextField()  # encrypted with a key derived from SECRET_KEY
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    active_from = models.DateTimeField()
    retire_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-active_from"]

    def __str__(self) -> str:
        return self.kid


class RedeemedCode(models.Model):
    """An authorization code that was exchanged, kept until it would have expired anyway, so
    a second redemption can revoke the tokens of the first (RFC 6749 4.1.2)."""

    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    token_family = models.UUIDField(null=True)
    access_token_checksum = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"redeemed code of {self.application_id}"


class RefreshScope(models.Model):
    """The scope a sign-in (refresh token family) was granted, kept once a refresh narrowed
    its access token: the refresh tokens that follow keep the original scope (RFC 6749 6).
    Families never narrowed read it from their access token."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    token_family = models.UUIDField(unique=True)
    scope = models.TextField()

    def __str__(self) -> str:
        return f"scope of family {self.token_family}"


class Consent(models.Model):
    """A user's consent to a third-party app for some scopes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=64), default=list)
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "application"], name="consent_unique")
        ]

    def __str__(self) -> str:
        return f"consent of {self.user_id} to {self.application_id}"

    @property
    def scope_descriptions(self) -> list[str]:
        from oidc.scopes import scope_descriptions

        return scope_descriptions(self.scopes)
