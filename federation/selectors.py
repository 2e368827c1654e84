from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.db.models import QuerySet

from ciam.process_cache import ProcessCache
from federation.models import AppIdentityProviders, IdentityProvider


def identity_provider_list() -> QuerySet[IdentityProvider]:
    return IdentityProvider.objects.all()


# The enabled identity providers per tenant schema, kept by each process until one is saved or
# deleted (federation.apps wires the invalidation): the sign-in page's buttons and home-realm
# discovery read them on every sign-in.
_enabled = ProcessCache("federation:providers-generation", keep_in_transactions=False)


def identity_providers_enabled() -> list[IdentityProvider]:
    """The tenant's enabled IdPs (shared by the requests of this process: read-only)."""
    schema = connection.schema_name
    providers = _enabled.get(schema)
    if providers is None:
        providers = list(IdentityProvider.objects.filter(enabled=True).order_by("pk"))
        _enabled.set(schema, providers)
    return providers


def identity_providers_invalidate() -> None:
    _enabled.invalidate()


# Per-app choice (federation.models.AppIdentityProviders) -------------------------------------


def app_of_next_url(next_url: str | None):
    """The app whose authorization request a sign-in returns to, or None."""
    from conditional_access.stages import app_of_sign_in

    return app_of_sign_in(next_url)


def app_identity_provider_ids(app) -> set[int] | None:
    """The pks of the IdPs `app` allows, or None when it allows every IdP."""
    if app is None:
        return None
    choice = AppIdentityProviders.objects.filter(application=app).first()
    if choice is None:
        return None
    return set(choice.identity_providers.values_list("pk", flat=True))


def identity_provider_allowed_for_app(provider: IdentityProvider, app) -> bool:
    allowed = app_identity_provider_ids(app)
    return allowed is None or provider.pk in allowed


def identity_providers_for_sign_in(next_url: str | None) -> list[IdentityProvider]:
    """The buttons of the hosted sign-in page: enabled, shown by the user flow, and allowed by
    the app the sign-in is for."""
    allowed = app_identity_provider_ids(app_of_next_url(next_url))
    return [
        provider
        for provider in identity_providers_enabled()
        if provider.show_on_sign_in and (allowed is None or provider.pk in allowed)
    ]


def identity_provider_get(public_id) -> IdentityProvider | None:
    return IdentityProvider.objects.filter(public_id=public_id).first()


def identity_provider_by_slug(slug: str) -> IdentityProvider | None:
    return IdentityProvider.objects.filter(slug=slug).first()


def email_domain(address: str) -> str:
    """The domain of an email address, lower case ("" when it has none)."""
    _local, at, domain = (address or "").strip().rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


def identity_provider_for_domain(domain: str) -> IdentityProvider | None:
    """Home-realm discovery: the enabled IdP the tenant mapped `domain` to, or None."""
    if not domain:
        return None
    return next((idp for idp in identity_providers_enabled() if domain in idp.email_domains), None)


def identity_provider_for_email(address: str) -> IdentityProvider | None:
    return identity_provider_for_domain(email_domain(address))


def home_realm_hint(next_url: str) -> tuple[IdentityProvider | None, str]:
    """The IdP an app's `domain_hint` or `login_hint` (in the authorization request the
    sign-in page continues to) points to, and the login hint to pass on."""
    query = parse_qs(urlsplit(next_url or "").query)
    login_hint = (query.get("login_hint") or [""])[0]
    domain = (query.get("domain_hint") or [""])[0].strip().lower() or email_domain(login_hint)
    provider = identity_provider_for_domain(domain)
    return provider, login_hint if "@" in login_hint else ""


def linked_identities(user) -> list[tuple[SocialAccount, IdentityProvider | None]]:
    """The upstream identities linked to `user`, each with its IdP (None once deleted)."""
    accounts = list(SocialAccount.objects.filter(user=user).order_by("date_joined"))
    providers = {
        provider.slug: provider
        for provider in IdentityProvider.objects.filter(
            slug__in=[account.provider for account in accounts]
        )
    }
    return [(account, providers.get(account.provider)) for account in accounts]


def federated_identity_of_session(request, user) -> tuple[str, str] | None:
    """(provider slug, upstream subject) of the upstream sign-in that began this session's
    sign-in, from allauth's authentication records; None when it began otherwise."""
    from allauth.account.authentication import get_authentication_records

    records = [r for r in get_authentication_records(request, user) if r.get("method") != "mfa"]
    if records and records[-1].get("method") == "socialaccount":
        return str(records[-1].get("provider", "")), str(records[-1].get("uid", ""))
    return None


def session_idp(request) -> str:
    """The `idp` claim of what this session authorizes: the issuer of the IdP the sign-in
    went through, or "local"."""
    identity = federated_identity_of_session(request, request.user)
    if identity is None:
        return "local"
    provider = identity_provider_by_slug(identity[0])
    return provider.issuer if provider is not None else identity[0]
