"""Hosted pages of federation: linking an upstream identity to the existing account whose
email it carries (after its owner signs in), My account > Linked identities, and the sign-in
pages' home-realm discovery."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from allauth.account import views as allauth_views
from allauth.account.authentication import get_authentication_records
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import email_normalize
from ciam.csp import form_action_allow
from federation import selectors, services
from federation.adapter import PENDING_LINK_SECONDS, PENDING_LINK_SESSION_KEY

# How the account's owner must have signed in to confirm a link: a password or an emailed
# code (never the upstream identity itself, nor another one).
OWNER_PROOFS = {"password", "code"}


def _pending(request) -> tuple[SocialLogin | None, dict]:
    pending = request.session.get(PENDING_LINK_SESSION_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if time.time() - float(pending.get("since", 0)) > PENDING_LINK_SECONDS:
        request.session.pop(PENDING_LINK_SESSION_KEY, None)
        return None, {}
    try:
        sociallogin = SocialLogin.deserialize(pending["sociallogin"])
    except (KeyError, ValueError, Http404):
        return None, {}
    return sociallogin, pending


def _owner_signed_in_since(request, since: float) -> bool:
    records = [
        record
        for record in get_authentication_records(request, request.user)
        if record.get("method") != "mfa"
    ]
    return bool(
        records
        and records[-1].get("method") in OWNER_PROOFS
        and float(records[-1].get("at", 0)) >= since
    )


def _same_email(first: str, second: str) -> bool:
    return email_normalize(first).lower() == email_normalize(second).lower()


def _safe_next(request, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse("accounts:my-account")


@require_http_methods(["GET", "POST"])
def link(request):
    """The upstream identity's email belongs to an account: its owner signs in (password or
    code) and confirms; then the identity signs in to that account from now on."""
    sociallogin, pending = _pending(request)
    if sociallogin is None:
        return render(request, "federation/link_gone.html", status=400)
    provider = selectors.identity_provider_by_slug(sociallogin.account.provider)
    context = {"provider": provider, "email": pending["email"]}
    user = request.user
    if not user.is_authenticated or not _owner_signed_in_since(request, pending["since"]):
        if user.is_authenticated and not _same_email(user.email, pending["email"]):
            context["signed_in_as"] = user.email
        context["sign_in_url"] = f"{reverse('account_login')}?next={reverse('federation:link')}"
        return render(request, "federation/link_sign_in.html", context)
    if not _same_email(user.email, pending["email"]):
        context["signed_in_as"] = user.email
        return render(request, "federation/link_sign_in.html", context, status=403)
    if request.method == "POST":
        request.session.pop(PENDING_LINK_SESSION_KEY, None)
        if request.POST.get("decision") != "link":
            messages.info(request, _("Nothing was linked."))
            return redirect("accounts:my-account")
        try:
            services.identity_link(request=request, user=user, sociallogin=sociallogin)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("federation:identities")
        messages.success(
            request,
            _("%(name)s is linked: you can sign in with it from now on.")
            % {"name": provider.name if provider else sociallogin.account.provider},
        )
        response = redirect(_safe_next(request, sociallogin.state.get("next")))
        response.status_code = 303
        return response
    return render(request, "federation/link_confirm.html", context)


@login_required
def identities(request):
    linked = selectors.linked_identities(request.user)
    linked_slugs = {account.provider for account, _provider in linked}
    available = [
        provider
        for provider in selectors.identity_providers_enabled()
        if provider.slug not in linked_slugs
    ]
    return render(
        request,
        "federation/identities.html",
        {"linked": linked, "available": available},
    )


@require_POST
@login_required
def identity_unlink(request):
    account = SocialAccount.objects.filter(
        user=request.user,
        provider=request.POST.get("provider", ""),
        uid=request.POST.get("subject", ""),
    ).first()
    if account is None:
        raise Http404
    try:
        services.identity_unlink(user=request.user, account=account, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The identity is unlinked."))
    response = redirect("federation:identities")
    response.status_code = 303
    return response


def oidc_login(request, provider_id):
    """allauth's OpenID Connect login (the sign-in page's button), which fetches the
    provider's discovery document first: when that fails (unreachable, or refused by
    federation.http), allauth's "sign-in failed" page, logged, rather than a server error."""
    import requests
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.helpers import render_authentication_error
    from allauth.socialaccount.providers.openid_connect.views import login

    try:
        return login(request, provider_id)
    except requests.RequestException as error:
        provider = get_adapter().get_provider(request, provider_id)
        return render_authentication_error(request, provider, exception=error)


def oidc_callback(request, provider_id):
    """allauth's OpenID Connect callback, ending the redirect chain of the upstream's sign-in
    form: its answer, a redirect to where the sign-in goes on (an app of this tenant, on its
    own origin), becomes a page that goes on by itself (meta refresh, no script).

    Browsers check the `form-action` of the page whose form started a navigation against
    every redirect that follows it. An upstream with a strict policy (another tenant of this
    platform, which allows only the redirect URI its app registered: our callback) would
    block the redirects after our callback to an origin it cannot know. A page that answers
    200 ends that navigation; its own refresh is not a form submission."""
    from federation.oidc import callback

    try:
        response = callback(request, provider_id)
    except SocialApp.DoesNotExist as error:
        raise Http404 from error
    if response.status_code in (302, 303) and response.has_header("Location"):
        page = render(request, "federation/continue.html", {"url": response["Location"]})
        for cookie in response.cookies.values():
            page.cookies[cookie.key] = cookie
        return page
    return response


# An app that does not accept the IdP this session signed in with -----------------------


def app_idp_refusal(request, client_id: str):
    """At the authorization endpoint, for a session that signed in through an IdP: when the
    app asking (`client_id`) allows only other IdPs, the page that says so and offers to sign
    in again another way (no code is issued), after a sign-in log row; else None. Costs
    nothing for a session that signed in locally (the session's records are read)."""
    user = request.user
    if not client_id or not user.is_authenticated:
        return None
    identity = selectors.federated_identity_of_session(request, user)
    if identity is None:
        return None
    from oidc.clients import client_get

    app = client_get(client_id)
    allowed = selectors.app_identity_provider_ids(app)
    if allowed is None:
        return None
    provider = selectors.identity_provider_by_slug(identity[0])
    if provider is not None and provider.pk in allowed:
        return None
    from audit.models import SignInEvent
    from audit.services import sign_in_record

    sign_in_record(
        request=request, user=user, email=user.email, method=SignInEvent.Method.FEDERATED,
        result=SignInEvent.Result.FAILURE,
        failure_reason=SignInEvent.FailureReason.METHOD_DISABLED,
        app_id=app.client_id, app_name=app.name, idp=identity[0], idp_subject=identity[1],
        upstream_error="identity provider not allowed for this app",
    )  # fmt: skip
    continue_url = request.get_full_path()
    if request.method == "POST":  # the consent form: the request it answered
        continue_url = f"{request.path}?{urlencode({'client_id': client_id})}"
    return render(
        request,
        "federation/idp_not_allowed.html",
        {
            "provider": provider or {"name": identity[0]},
            "app": app,
            "continue_url": continue_url,
        },
        status=403,
    )


# Home-realm discovery -------------------------------------------------------------------


class HomeRealmDiscoveryMixin:
    """An address whose domain the tenant mapped to an IdP goes straight to that IdP: typed
    on the sign-in page (the form's POST), or hinted by an app (`domain_hint` or
    `login_hint` in the authorization request the sign-in continues to). Works without JS:
    the answer is the redirect a button of that IdP would give."""

    address_field = "login"

    def _home_realm_redirect(self, provider, login_hint: str):
        next_url = self.get_next_url() or ""
        return services.home_realm_redirect(
            self.request, provider, next_url=next_url, login_hint=login_hint
        )

    def _allowed(self, provider) -> bool:
        """The app the sign-in is for may allow only some IdPs."""
        app = selectors.app_of_next_url(self.get_next_url())
        return provider is not None and selectors.identity_provider_allowed_for_app(provider, app)

    def get(self, request, *args, **kwargs):
        provider, login_hint = selectors.home_realm_hint(self.get_next_url() or "")
        if self._allowed(provider):
            return self._home_realm_redirect(provider, login_hint)
        # The page's form may lead to a mapped IdP (its POST answers with that redirect).
        for mapped in selectors.identity_providers_enabled():
            if mapped.email_domains:
                form_action_allow(request, mapped.sign_in_url)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        address = str(request.POST.get(self.address_field, "")).strip()
        provider = selectors.identity_provider_for_email(address)
        if self._allowed(provider):
            return self._home_realm_redirect(provider, address)
        return super().post(request, *args, **kwargs)


class SignInView(HomeRealmDiscoveryMixin, allauth_views.LoginView):
    """The hosted sign-in page (allauth's), with home-realm discovery."""


class RequestLoginCodeView(HomeRealmDiscoveryMixin, allauth_views.RequestLoginCodeView):
    """Email me a sign-in code (allauth's), with home-realm discovery."""

    address_field = "email"


sign_in = SignInView.as_view()
request_login_code = RequestLoginCodeView.as_view()


def saml_finish_acs(request, organization_slug):
    """allauth's SAML assertion consumer service, second half (the first stored the IdP's
    cross-site POST in a cookie of its own and redirected here: the session cookie, SameSite
    Lax, is sent on this same-site GET). As for OpenID Connect (oidc_callback), its redirect
    to where the sign-in goes on becomes a page that goes on by itself: the IdP page's
    `form-action` would otherwise apply to the redirects after its POST."""
    from allauth.socialaccount.providers.saml.views import finish_acs

    return _continue_page(request, finish_acs(request, organization_slug=organization_slug))


def apple_finish(request):
    """allauth's Sign in with Apple callback, second half (the first took Apple's cross-site
    form post and redirected here), with the continue page as for OpenID Connect."""
    from allauth.socialaccount.providers.apple.views import oauth2_finish_login

    try:
        return _continue_page(request, oauth2_finish_login(request))
    except SocialApp.DoesNotExist as error:
        raise Http404 from error


def not_offered(request):
    raise Http404


def _continue_page(request, response):
    if response.status_code in (302, 303) and response.has_header("Location"):
        page = render(request, "federation/continue.html", {"url": response["Location"]})
        for cookie in response.cookies.values():
            page.cookies[cookie.key] = cookie
        return page
    return response
