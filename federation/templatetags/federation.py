"""The identity provider buttons of the hosted pages."""

from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse

from ciam.csp import form_action_allow
from federation.models import IdentityProvider
from federation.selectors import identity_providers_enabled, identity_providers_for_sign_in

register = template.Library()

# The brand mark shown before a built-in provider's name (decoration, aria-hidden: the
# button's text names the provider); its colours are hosted.css's `.idp-button--<kind>`.
BRAND_MARKS = {
    "apple": "",  # no glyph: Apple's logo character shows on Apple devices only
    "facebook": "f",
    "linkedin": "in",
    "google": "G",
    "microsoft": "\u229e",
    "github": "",
}


def login_url(provider: IdentityProvider) -> str:
    if provider.is_openid_connect:
        return reverse("openid_connect_login", kwargs={"provider_id": provider.slug})
    if provider.is_saml:
        return reverse("saml_login", kwargs={"organization_slug": provider.slug})
    return reverse(f"{provider.kind}_login")


@register.inclusion_tag("federation/provider_buttons.html", takes_context=True)
def identity_provider_buttons(
    context, process: str = "login", next_url: str = "", start_url: str = ""
):
    """One POST form per enabled IdP, to allauth's login URL for it (or to `start_url` with
    the IdP's slug as `provider`), which redirects to the IdP: browsers apply `form-action`
    to that redirect, so the IdP's origin is allowed on this page (ciam.csp)."""
    request = context["request"]
    if process == "login" and not start_url:
        # The hosted sign-in page: what the user flow shows and the app allows.
        providers = identity_providers_for_sign_in(next_url)
    else:
        providers = identity_providers_enabled()
    for provider in providers:
        form_action_allow(request, provider.sign_in_url)
    return {
        "buttons": [
            {
                "name": p.name,
                "url": start_url or login_url(p),
                "slug": p.slug,
                "kind": p.kind,
                "mark": BRAND_MARKS.get(p.kind, ""),
            }
            for p in providers
        ],
        "start_url": start_url,
        "process": process,
        "next_url": next_url,
        "csrf_token": get_token(request) if providers else "",
    }


@register.filter
def upstream_email(extra_data) -> str:
    """The email an upstream identity carried, to tell linked identities apart."""
    if not isinstance(extra_data, dict):
        return ""
    for part in (extra_data.get("userinfo"), extra_data.get("id_token"), extra_data):
        if isinstance(part, dict) and isinstance(part.get("email"), str):
            return part["email"]
    return ""
