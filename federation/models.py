"""A tenant's identity providers, as the console writes them. allauth reads them as its
SocialApp objects through federation.adapter; the linked accounts are allauth's
SocialAccount rows (provider, uid), in the tenant's schema."""

from __future__ import annotations

import uuid

from allauth.socialaccount.models import SocialApp
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

DISCOVERY_PATH = "/.well-known/openid-configuration"
LINKEDIN_ISSUER = "https://www.linkedin.com/oauth"
# The issuers our ID tokens' `idp` claim names for the built-in providers with fixed hosts.
BUILTIN_ISSUERS = {
    "apple": "https://appleid.apple.com",
    "facebook": "https://www.facebook.com",
    "linkedin": LINKEDIN_ISSUER,
    "github": "https://github.com",
}


class IdentityProvider(models.Model):
    class Kind(models.TextChoices):
        OPENID_CONNECT = "openid_connect", _("OpenID Connect")
        GOOGLE = "google", _("Google")
        MICROSOFT = "microsoft", _("Microsoft")
        GITHUB = "github", _("GitHub")
        APPLE = "apple", _("Apple")
        FACEBOOK = "facebook", _("Facebook")
        # LinkedIn is an OpenID Connect provider (allauth's `openid_connect`, provider id
        # "linkedin"), with its fixed discovery document.
        LINKEDIN = "linkedin", _("LinkedIn")
        SAML = "saml", _("SAML 2.0")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # allauth's provider id: the path of the callback (/accounts/oidc/<slug>/login/callback/)
    # and SocialAccount.provider of the accounts linked through it. Built-in providers use
    # their kind (one of each per tenant). Never changes once created.
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=40)
    client_id = models.CharField(max_length=191)
    # Sealed with mfa.crypto (Fernet); never shown again, only replaced.
    client_secret_sealed = models.TextField(blank=True)
    discovery_url = models.URLField(max_length=500, blank=True)
    # Microsoft: "common" (work and personal accounts), "organizations", "consumers", or one
    # Entra tenant id to accept that organisation only.
    entra_tenant = models.CharField(max_length=64, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    # Sign in with Apple: the client id is the Services ID, and the client secret is made per
    # token request, a JWT signed with the team's private key (sealed in client_secret_sealed,
    # like every other secret), naming the team and the key.
    apple_team_id = models.CharField(max_length=10, blank=True)
    apple_key_id = models.CharField(max_length=10, blank=True)
    claim_email = models.CharField(max_length=100, default="email")
    claim_given_name = models.CharField(max_length=100, default="given_name")
    claim_family_name = models.CharField(max_length=100, default="family_name")
    # Trust this IdP's `email_verified` to offer linking to an existing account with that
    # email (the owner still signs in and confirms). Off by default (SECURITY.md 29).
    trust_verified_email = models.BooleanField(default=False)
    # Home-realm discovery: an address at one of these domains signs in here straight away.
    # Lower case; a domain belongs to one IdP of the tenant (federation.services checks).
    email_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    # SAML 2.0 (kind SAML): the IdP as its metadata describes it (by URL, fetched through
    # federation.http, or uploaded), and this service provider's own signing key pair, made
    # per IdP (its private key sealed like the client secret). The attribute names to read
    # are claim_email, claim_given_name and claim_family_name.
    saml_metadata_url = models.URLField(max_length=500, blank=True)
    saml_metadata_xml = models.TextField(blank=True)
    saml_entity_id = models.CharField(max_length=500, blank=True)
    saml_sso_url = models.URLField(max_length=500, blank=True)
    # Every signing certificate the IdP's metadata lists (PEM bodies, in its order): an
    # assertion signed with any of them is accepted (two during a key rollover).
    saml_certificates = ArrayField(models.TextField(), default=list, blank=True)
    sp_certificate = models.TextField(blank=True)
    sp_private_key_sealed = models.TextField(blank=True)
    # An IdP's MFA counts as ours when its ID token says so (`amr`/`acr`): mfa.stages.
    trust_idp_mfa = models.BooleanField(default=False)
    # SAML: the AuthnContextClassRef values of an assertion that count as MFA (with
    # trust_idp_mfa); federation.mfa_trust.
    saml_mfa_contexts = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    # The user flow: its button shows on the hosted sign-in page. Off: it is reached only
    # through home-realm discovery (its email domains), an app's hint, or an invitation.
    show_on_sign_in = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(kind__in=["openid_connect", "saml"]),
                name="federation_one_builtin_provider_of_each_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def allauth_provider_id(self) -> str:
        """What allauth stores as SocialAccount.provider for this IdP."""
        return self.slug

    @property
    def is_saml(self) -> bool:
        return self.kind == self.Kind.SAML

    @property
    def sign_in_url(self) -> str:
        """Where its button leads the browser (the page's `form-action` must allow its
        origin): the IdP's single sign-on service for SAML, its issuer otherwise."""
        return self.saml_sso_url if self.is_saml else self.issuer

    @property
    def issuer(self) -> str:
        """The issuer its tokens carry, as our ID tokens' `idp` claim names it."""
        if self.is_saml:
            return self.saml_entity_id
        if self.kind == self.Kind.OPENID_CONNECT:
            url = self.discovery_url
            return url[: -len(DISCOVERY_PATH)] if url.endswith(DISCOVERY_PATH) else url
        if self.kind == self.Kind.GOOGLE:
            return "https://accounts.google.com"
        if self.kind == self.Kind.MICROSOFT:
            return f"https://login.microsoftonline.com/{self.entra_tenant or 'common'}/v2.0"
        return BUILTIN_ISSUERS.get(self.kind, "https://github.com")

    @property
    def is_openid_connect(self) -> bool:
        """Served to allauth as its generic `openid_connect` provider (by discovery)."""
        return self.kind in (self.Kind.OPENID_CONNECT, self.Kind.LINKEDIN)


class AppIdentityProviders(models.Model):
    """The identity providers an app allows (Entra's per-app user flows): its sign-in page
    shows only their buttons and a sign-in for it through another IdP is refused. An app
    without a row allows every enabled IdP."""

    application = models.OneToOneField(
        "oidc.Application", on_delete=models.CASCADE, related_name="identity_provider_choice"
    )
    identity_providers = models.ManyToManyField(IdentityProvider, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.application)


class FederationSocialApp(SocialApp):
    """The SocialApp federation.adapter builds per request from an IdentityProvider (never
    saved): SAML IdPs get federation.saml's provider, which refuses replayed assertions."""

    class Meta:
        proxy = True

    def get_provider(self, request):
        if self.provider == "saml":
            from federation.saml import CheckedSAMLProvider

            return CheckedSAMLProvider(request=request, app=self)
        from federation.providers import federated_provider

        return federated_provider(super().get_provider(request))  # (and federation.adapter's)
