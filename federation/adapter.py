"""allauth's social account adapter (settings.SOCIALACCOUNT_ADAPTER): serves the tenant's
identity providers to allauth, maps upstream claims, and decides what an upstream email may
do.

The rules (SECURITY.md 27-29):
- An upstream identity is its (provider, subject): allauth's SocialAccount (provider, uid).
  An identity seen before signs in to the account it is linked to, whatever email it says.
- A new identity never signs in to, nor links itself to, an existing account because the
  emails match (SOCIALACCOUNT_EMAIL_AUTHENTICATION is off). When the IdP is marked trusted
  for verified email and says `email_verified: true`, the person is offered to link: the
  account's owner signs in (password or code) and confirms (federation.views.link_*).
  Otherwise allauth's sign-up answers as it does for any registered email (an "account
  already exists" email to the address, the same page as a new sign-up).
- A new account's email counts as verified only under the same two conditions; otherwise the
  sign-up waits for the emailed link like any other (accounts.sign_in.stages)."""

from __future__ import annotations

import time

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from federation.http import idp_session
from federation.models import FederationSocialApp, IdentityProvider
from federation.selectors import identity_providers_enabled

PENDING_LINK_SESSION_KEY = "federation_pending_link"
PENDING_LINK_SECONDS = 15 * 60  # to sign in to the account and confirm
# allauth's `process` of a sign-in that redeems a guest invitation (guests.views): the
# upstream identity proves the invited address instead of an emailed code.
REDEEM_PROCESS = "redeem"


NO_PKCE_KINDS = {IdentityProvider.Kind.APPLE, IdentityProvider.Kind.LINKEDIN}
# Upstream token values a provider's user data may carry (Apple's merges the token
# response): never kept in the linked account's extra data (SOCIALACCOUNT_STORE_TOKENS off).
TOKEN_KEYS = ("access_token", "refresh_token", "id_token", "token_type", "expires_in")


def token_values_drop(extra_data) -> None:
    """Upstream token values out of a linked account's extra data (never stored)."""
    if isinstance(extra_data, dict):
        for key in TOKEN_KEYS:
            if isinstance(extra_data.get(key), str):
                del extra_data[key]


class IdentityProviderUnavailable(SocialApp.DoesNotExist, Http404):
    """No enabled IdP by that id: allauth's views answer 404 (not a 500)."""


def social_app(provider: IdentityProvider) -> SocialApp:
    """The SocialApp allauth reads for `provider` (not stored: built per request from our
    row, with the secret opened)."""
    from federation.services import client_secret_of

    if provider.is_saml:
        from federation.saml import app_settings

        # allauth's SAML: the "organization slug" of its URLs is client_id; the accounts
        # linked through it are stored under provider_id. Both are our slug.
        return FederationSocialApp(
            provider="saml", provider_id=provider.slug, name=provider.name,
            client_id=provider.slug, secret="", settings=app_settings(provider),
        )  # fmt: skip

    Kind = IdentityProvider.Kind
    settings = {
        # S256 for every upstream that supports it (SECURITY.md 27); not Apple's nor
        # LinkedIn's: neither takes PKCE from a web app (LinkedIn: native apps it approved).
        "oauth_pkce_enabled": provider.kind not in NO_PKCE_KINDS,
        "scope": provider.scopes.split(),
        "verified_email": False,  # trust is decided in populate_user, not by allauth
        "email_authentication": False,
    }
    if provider.is_openid_connect:
        settings["server_url"] = provider.discovery_url
    if provider.kind == Kind.MICROSOFT:
        settings["tenant"] = provider.entra_tenant or "common"
    secret, key = client_secret_of(provider), ""
    if provider.kind == Kind.APPLE:
        # allauth's Apple client signs each client secret (ES256) with the private key,
        # naming the team (`key`) and the key id (`secret`).
        settings["certificate_key"] = secret
        secret, key = provider.apple_key_id, provider.apple_team_id
    return FederationSocialApp(
        provider="openid_connect" if provider.is_openid_connect else provider.kind,
        provider_id=provider.slug if provider.is_openid_connect else "",
        name=provider.name,
        client_id=provider.client_id,
        secret=secret,
        key=key,
        settings=settings,
    )


def _enabled_apps(request) -> list[SocialApp]:
    """The SocialApps of the tenant's enabled IdPs, built once per request: allauth looks its
    provider up about ten times in one callback. The rows come from the per-process list
    (federation.selectors); secrets are opened for this request only, never kept."""
    schema = connection.schema_name
    kept = getattr(request, "_federation_apps", None)
    if kept is not None and kept[0] == schema:
        return kept[1]
    apps = [social_app(row) for row in identity_providers_enabled()]
    if request is not None:
        request._federation_apps = (schema, apps)
    return apps


def _is_known(sociallogin) -> bool:
    """allauth's `is_existing` (the identity is linked to an account), without its query when
    allauth's lookup has just read the linked account and its user."""
    user = sociallogin.user
    if sociallogin.account.pk is not None and user is not None and user.pk is not None:
        return True
    return sociallogin.is_existing


def _truthy_claim(value) -> bool:
    # Some IdPs send "true" as a string; anything else (False, "false", missing) is not.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def upstream_claims(sociallogin) -> dict:
    """The claims the IdP sent: the ID token's, overridden by userinfo's (OpenID Connect), or
    the provider's user data (GitHub)."""
    data = sociallogin.account.extra_data or {}
    if isinstance(data.get("id_token"), dict) or isinstance(data.get("userinfo"), dict):
        return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}
    return dict(data)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_requests_session(self):
        return idp_session(keep_metadata=True)  # discovery kept (federation.http)

    def list_apps(self, request, provider=None, client_id=None) -> list[SocialApp]:
        apps = []
        for app in _enabled_apps(request):
            if provider and provider not in (app.provider, app.provider_id):
                continue
            if client_id and app.client_id != client_id:
                continue
            apps.append(app)
        return apps

    def get_provider(self, request, provider, client_id=None):
        """Built once per request, like its app (_enabled_apps): allauth asks for it about ten
        times in one callback."""
        from federation.providers import federated_provider

        key = (connection.schema_name, provider, client_id)
        kept = getattr(request, "_federation_providers", None)
        if kept is not None and key in kept:
            return kept[key]
        built = federated_provider(super().get_provider(request, provider, client_id=client_id))
        if request is not None:
            if kept is None:
                kept = request._federation_providers = {}
            kept[key] = built
        return built

    def get_app(self, request, provider, client_id=None):
        apps = self.list_apps(request, provider=provider, client_id=client_id)
        if len(apps) != 1:
            raise IdentityProviderUnavailable
        return apps[0]

    def identity_provider(self, sociallogin) -> IdentityProvider | None:
        slug = sociallogin.account.provider
        for provider in identity_providers_enabled():
            if provider.slug == slug:
                return provider
        return IdentityProvider.objects.filter(slug=slug).first()  # disabled, or gone

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        provider = self.identity_provider(sociallogin)
        claims = upstream_claims(sociallogin)
        email = data.get("email") or ""
        upstream_verified = any(
            address.verified for address in sociallogin.email_addresses if address.email == email
        )
        if provider is not None and provider.is_saml:
            # A signed assertion's email: believed as far as the tenant trusts this IdP.
            upstream_verified = bool(email)
        if provider is not None and provider.kind == IdentityProvider.Kind.OPENID_CONNECT:
            email = str(claims.get(provider.claim_email) or "")
            upstream_verified = _truthy_claim(claims.get("email_verified"))
            user.first_name = str(claims.get(provider.claim_given_name) or "")[:150]
            user.last_name = str(claims.get(provider.claim_family_name) or "")[:150]
        email = email.strip().lower()
        trusted = bool(provider and provider.trust_verified_email and upstream_verified)
        user.email = email
        sociallogin.email_addresses = (
            [EmailAddress(email=email, verified=trusted, primary=True)] if email else []
        )
        return user

    def pre_social_login(self, request, sociallogin):
        from federation.mfa_trust import upstream_mfa_remember
        from federation.nonce import nonce_check

        token_values_drop(sociallogin.account.extra_data)
        nonce_check(request, sociallogin, upstream_claims(sociallogin))

        upstream_mfa_remember(
            request, sociallogin, self.identity_provider(sociallogin), upstream_claims(sociallogin)
        )
        self._app_allows(request, sociallogin)
        known = _is_known(sociallogin)
        if sociallogin.state.get("process") == REDEEM_PROCESS and not known:
            # A new identity redeeming an invitation: the invitation decides, not a sign-up.
            # (A known identity signs in to its account, then accepts as that account.)
            from guests.views import identity_returned

            sociallogin.token = None
            raise ImmediateHttpResponse(identity_returned(request, sociallogin))
        if known or sociallogin.state.get("process") == AuthProcess.CONNECT:
            return
        address = sociallogin.email_addresses[0] if sociallogin.email_addresses else None
        if address is None or not address.verified:
            return  # allauth's sign-up: a registered email gets the same answer as a new one
        if not get_user_model().objects.with_email(address.email).exists():
            return
        # A trusted IdP vouches for an email an account already has: offer to link, once
        # that account's owner has signed in and confirmed.
        sociallogin.token = None  # upstream tokens are not kept, not even in the session
        request.session[PENDING_LINK_SESSION_KEY] = {
            "sociallogin": sociallogin.serialize(),
            "email": address.email,
            "since": time.time(),
        }
        raise ImmediateHttpResponse(redirect("federation:link"))

    def _app_allows(self, request, sociallogin) -> None:
        """A sign-in for an app that allows only some IdPs, through another one: refused
        (a crafted request may reach any IdP's login URL, whatever buttons showed)."""
        from django.shortcuts import render

        from federation.selectors import app_of_next_url, identity_provider_allowed_for_app

        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            return
        provider = self.identity_provider(sociallogin)
        app = app_of_next_url(sociallogin.state.get("next"))
        if app is None or provider is None or identity_provider_allowed_for_app(provider, app):
            return
        from audit.models import SignInEvent
        from audit.services import sign_in_record

        sign_in_record(
            request=request, method=SignInEvent.Method.FEDERATED,
            result=SignInEvent.Result.FAILURE,
            failure_reason=SignInEvent.FailureReason.METHOD_DISABLED,
            app_id=app.client_id, app_name=app.name,
            idp=provider.slug, idp_subject=str(sociallogin.account.uid),
            upstream_error="identity provider not allowed for this app",
        )  # fmt: skip
        raise ImmediateHttpResponse(
            render(
                request,
                "federation/idp_not_allowed.html",
                {"provider": provider, "app": app},
                status=403,
            )
        )

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        """A first sign-in creates the account at once when the IdP supplied what the user
        flow requires; otherwise one page asks for the rest (federation.forms)."""
        from accounts.selectors import user_flow_for
        from federation.forms import attributes_missing

        if not sociallogin.email_addresses or user_flow_for(request).terms_required:
            return False
        if attributes_missing(request, sociallogin, required_only=True):
            return False
        return super().is_auto_signup_allowed(request, sociallogin)

    def save_user(self, request, sociallogin, form=None):
        """The new account of a first sign-in, with what the sign-up page asked (the
        flow's attributes, the terms accepted); never a password."""
        if form is None:
            return super().save_user(request, sociallogin, form)
        from allauth.account.adapter import get_adapter as get_account_adapter
        from allauth.account.utils import user_email
        from django.utils import timezone

        from accounts.forms import attribute_values
        from accounts.services import user_attributes_apply

        user = sociallogin.user
        user.set_unusable_password()
        user_email(user, form.cleaned_data["email"])
        user_attributes_apply(user=user, attributes=attribute_values(form))
        if form.cleaned_data.get("accept_terms"):
            user.attributes["termsAcceptedAt"] = timezone.now().isoformat()
        get_account_adapter(request).populate_username(request, user)
        sociallogin.save(request)
        return user

    def get_connect_redirect_url(self, request, socialaccount) -> str:
        return reverse("federation:identities")

    def validate_disconnect(self, account, accounts) -> None:
        from django.core.exceptions import ValidationError

        from federation.services import sign_in_ways_other_than

        if not sign_in_ways_other_than(account.user, account):
            raise ValidationError(
                _(
                    "This is your only way to sign in: set a password or link another "
                    "identity first."
                )
            )

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        from audit.models import SignInEvent
        from audit.services import sign_in_record

        upstream = request.GET.get("error", "") if request is not None else ""
        detail = upstream or str(error or "")
        saml_reason = (extra_context or {}).get("saml_last_error_reason")
        if saml_reason:
            detail = f"{detail} {saml_reason}".strip()
        if exception is not None:
            detail = f"{detail} {type(exception).__name__}".strip()
        app = getattr(provider, "app", None)
        sign_in_record(
            request=request,
            method=SignInEvent.Method.FEDERATED,
            result=SignInEvent.Result.FAILURE,
            failure_reason=SignInEvent.FailureReason.IDP_ERROR,
            idp=(app.provider_id or app.provider) if app is not None else "",
            upstream_error=detail,
        )
        super().on_authentication_error(request, provider, error, exception, extra_context)
