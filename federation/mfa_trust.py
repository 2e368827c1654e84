""" "Trust the IdP's MFA" (a per-IdP setting): when the ID token of a sign-in through an IdP
the tenant trusts for it says the person used multi-factor authentication (`amr` has "mfa",
or `acr` names a multi-factor context), our MFA stage counts it as the second factor
(mfa.stages) and the session's `amr` carries "mfa" and the IdP's methods (oidc.selectors
reads the authentication record written here). A SAML IdP says it with the assertion's
AuthnContextClassRef, one of the values the tenant listed for that IdP.

The upstream facts are kept in the session by federation.adapter.pre_social_login, for the
identity (provider, subject) that signs in, for a few minutes; the stage uses them only for
that same identity, as allauth's authentication records name it."""

from __future__ import annotations

import time

SESSION_KEY = "federation_upstream_mfa"
FRESH_SECONDS = 10 * 60
# RFC 8176's registered `amr` values: only these are passed on.
RFC8176_AMR = {
    "face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pwd", "rba",
    "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia",
}  # fmt: skip
# `acr` values that name a multi-factor sign-in (OpenID PAPE, Okta, common IdPs).
MFA_ACR_VALUES = {
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical",
    "urn:okta:loa:2fa:any",
    "urn:okta:loa:2fa:any:ifpossible",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "mfa",
}


def upstream_mfa_methods(claims: dict) -> list[str] | None:
    """The RFC 8176 methods of a multi-factor upstream sign-in (with "mfa"), or None when
    the claims do not say it was one."""
    amr = claims.get("amr")
    amr = [value for value in amr if isinstance(value, str)] if isinstance(amr, list) else []
    acr = claims.get("acr")
    if "mfa" not in amr and not (isinstance(acr, str) and acr in MFA_ACR_VALUES):
        return None
    return sorted({value for value in amr if value in RFC8176_AMR} | {"mfa"})


def saml_mfa_methods(provider, sociallogin) -> list[str] | None:
    """["mfa"] when the SAML assertion's AuthnContextClassRef is one of those the tenant
    listed for this IdP as meaning MFA (federation.saml keeps them on the sign-in)."""
    contexts = getattr(sociallogin, "saml_authn_contexts", None) or []
    listed = set(provider.saml_mfa_contexts or [])
    return ["mfa"] if listed and listed.intersection(contexts) else None


def upstream_mfa_remember(request, sociallogin, provider, claims: dict) -> None:
    """Called for every upstream sign-in: keeps (or forgets) what it says of MFA."""
    request.session.pop(SESSION_KEY, None)
    if provider is None or not provider.trust_idp_mfa:
        return
    if provider.is_saml:
        methods = saml_mfa_methods(provider, sociallogin)
    else:
        methods = upstream_mfa_methods(claims)
    if methods:
        request.session[SESSION_KEY] = {
            "provider": sociallogin.account.provider,
            "uid": str(sociallogin.account.uid),
            "amr": methods,
            "at": time.time(),
        }


def upstream_mfa_accept(request, user) -> dict | None:
    """When this sign-in is an upstream one whose trusted IdP said MFA: record it as this
    sign-in's second factor and return mfa.sign_in's verified marker; otherwise None."""
    from allauth.account.internal.flows.login import record_authentication

    from federation.selectors import federated_identity_of_session, identity_provider_by_slug

    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict) or time.time() - float(kept.get("at", 0)) > FRESH_SECONDS:
        return None
    identity = federated_identity_of_session(request, user)
    if identity is None or identity != (kept.get("provider"), kept.get("uid")):
        return None
    provider = identity_provider_by_slug(identity[0])
    if provider is None or not provider.enabled or not provider.trust_idp_mfa:
        return None
    request.session.pop(SESSION_KEY, None)
    record_authentication(request, user, method="mfa", type="idp", amr=list(kept["amr"]))
    return {"method": "idp", "device": "", "user": str(user.pk)}
