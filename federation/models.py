"""A tenant's identity providers, as the console writes them. allauth reads them as its
SocialApp objects through federation.adapter; the linked accounts are allauth's
SocialAccount rows (provider, uid), in the tenant's schema."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

DISCOVERY_PATH = "/.well-known/openid-configuration"


class IdentityProvider(models.Model):
    class Kind(models.TextChoices):
        OPENID_CONNECT = "openid_connect", _("OpenID Connect")
        GOOGLE = "google", _("Google")
        MICROSOFT = "microsoft", _("Microsoft")
        GITHUB = "github", _("GitHub")

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
    claim_email = models.CharField(max_length=100, default="email")
    claim_given_name = models.CharField(max_length=100, default="given_name")
    claim_family_name = models.CharField(max_length=100, default="family_name")
    # Trust this IdP's `email_verified` to offer linking to an existing account with that
    # email (the owner still signs in and confirms). Off by default (SECURITY.md 29).
    trust_verified_email = models.BooleanField(default=False)
    # Home-realm discovery: an address at one of these domains signs in here straight away.
    # Lower case; a domain belongs to one IdP of the tenant (federation.services checks).
    email_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(kind="openid_connect"),
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
    def issuer(self) -> str:
        """The issuer its tokens carry, as our ID tokens' `idp` claim names it."""
        if self.kind == self.Kind.OPENID_CONNECT:
            url = self.discovery_url
            return url[: -len(DISCOVERY_PATH)] if url.endswith(DISCOVERY_PATH) else url
        if self.kind == self.Kind.GOOGLE:
            return "https://accounts.google.com"
        if self.kind == self.Kind.MICROSOFT:
            return f"https://login.microsoftonline.com/{self.entra_tenant or 'common'}/v2.0"
        return "https://github.com"
