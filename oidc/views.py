"""The tenant's OpenID Connect endpoints (django-oauth-toolkit views made per tenant) and the
end user's list of apps they allowed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import View
from oauth2_provider import views as dot
from oauth2_provider.exceptions import (
    ClientIdMissmatch,
    InvalidIDTokenError,
    InvalidOIDCClientError,
    OAuthToolkitError,
)
from oauth2_provider.models import AccessToken, RefreshToken

from audit.models import SignInEvent
from audit.services import sign_in_record
from ciam import crypto, metrics
from ciam.csp import form_action_allow
from conditional_access.blocking import authorize_refusal
from federation.views import app_idp_refusal
from oidc import authorize, cors, grants, keys, selectors, services, tokens
from oidc.assignment import assignment_refusal
from oidc.clients import client_get
from oidc.form_action import next_authorization_redirect_uri
from oidc.grants import token_request_client_id
from oidc.models import Application, Consent
from oidc.scopes import USER_SCOPES

JWKS_MAX_AGE = 600


@csrf_exempt
@require_GET
def discovery(request):
    issuer = tokens.issuer()
    data = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize/",
        "token_endpoint": f"{issuer}/token/",
        "userinfo_endpoint": f"{issuer}/userinfo/",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "end_session_endpoint": f"{issuer}/logout/",
        "revocation_endpoint": f"{issuer}/revoke/",
        "introspection_endpoint": f"{issuer}/introspect/",
        "scopes_supported": [*USER_SCOPES, f"{tokens.api_audience()}/.default"],
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(tokens.SIGNING_ALGORITHMS),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "nonce", "tid", "roles",
            "groups", "email", "email_verified", "name", "given_name", "family_name",
        ],
        "prompt_values_supported": list(PROMPT_VALUES),
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }  # fmt: skip
    response = JsonResponse(data)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


@csrf_exempt
@require_GET
def jwks(request):
    response = JsonResponse({"keys": [key.public_jwk for key in keys.key_list()]})
    response["Access-Control-Allow-Origin"] = "*"
    # Shorter than the time a new key is published before it signs (oidc.services).
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


def _without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return f"{request.path}?{query.urlencode()}"


# Parameters of an authorization response, moved out of the query for other response modes.
RESPONSE_PARAMETERS = ("code", "state", "iss", "error", "error_description", "error_uri")
RESPONSE_MODES = ("query", "fragment", "form_post")


class AuthorizationView(dot.AuthorizationView):
    """Signs in through the hosted pages; asks consent only for third-party apps.

    Every answer that goes back to the app carries `iss` (RFC 9207) and honours the request's
    `response_mode`. A request with `max_age` or `prompt` is validated (client, redirect URI)
    before anything else happens; no parameter ever ends a session."""

    template_name = "oidc/consent.html"

    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        # OIDC Core 3.1.2.1: an authorization request may come by POST (a form the app
        # submits). It carries no CSRF token, and it is answered like the same request by
        # GET. The consent form, which does carry one, is checked as every form is.
        if request.method == "POST" and "csrfmiddlewaretoken" not in request.POST:
            return HttpResponseRedirect(f"{request.path}?{request.POST.urlencode()}", status=303)
        # A session signed in through an IdP this app does not allow gets no code (README,
        # Federation): the page that says so (federation.views).
        refusal = app_idp_refusal(request, self._parameters().get("client_id", ""))
        if refusal is not None:
            if request.method == "GET" and "none" in self._prompt():
                # prompt=none shows no page: the app hears that a sign-in is needed (OIDC
                # Core 3.1.2.6), once its request is valid.
                return self._prompt_none_error("login_required")
            return refusal
        if request.method == "POST":
            return csrf_protect(super().dispatch)(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _parameters(self):
        return self.request.POST if self.request.method == "POST" else self.request.GET

    def _prompt(self) -> set[str]:
        return set(self._parameters().get("prompt", "").split())

    def _sign_in_again(self):
        """Ask the signed-in person to prove it is them again, without ending the session;
        then the request goes on without `prompt=login` and `max_age`, which the fresh
        authentication satisfies."""
        next_url = _without(self.request, "prompt", "max_age")
        if self.request.user.has_usable_password():
            return HttpResponseRedirect(
                f"{reverse('account_reauthenticate')}?{urlencode({'next': next_url})}"
            )
        # Someone who signs in with emailed codes proves it again by signing in again.
        logout(self.request)
        return redirect_to_login(next_url)

    def _needs_mfa(self, application) -> bool:
        """An app that requires MFA, and a session that has not proved a second factor."""
        from mfa.selectors import session_mfa_at

        return (
            application is not None
            and application.require_mfa
            and (session_mfa_at(self.request) is None)
        )

    def _step_up(self, next_url: str | None = None):
        """Prove a second factor (or set one up), then back to this request."""
        from mfa.step_up import step_up_url

        return HttpResponseRedirect(step_up_url(next_url or self.request.get_full_path()))

    def handle_prompt_login(self):
        return self._sign_in_again()

    def handle_no_permission(self):
        if "none" in self._prompt():
            return super().handle_no_permission()
        return redirect_to_login(_without(self.request, "prompt", "max_age"))

    def get(self, request, *args, **kwargs):
        query = request.GET
        application = client_get(query.get("client_id", ""))
        refusal = authorize_refusal(request, application) or assignment_refusal(
            request, application
        )
        if refusal is not None:
            return refusal
        prompt = self._prompt()
        if prompt or "max_age" in query or UNSUPPORTED_REQUEST_PARAMETERS.keys() & set(query):
            return self._get_with_options(request, prompt, *args, **kwargs)
        if self._needs_mfa(application):
            return self._step_up()
        if application is not None and application.is_first_party:
            code_redirect = authorize.first_party_code(request, application)
            if code_redirect is not None:
                return self.redirect(code_redirect, application)
        if application is not None and not application.is_first_party:
            consent = Consent.objects.filter(user=request.user, application=application).first()
            if consent is not None:
                return self._authorize_with_consent(request, application, consent)
        return super().get(request, *args, **kwargs)

    def _get_with_options(self, request, prompt: set[str], *args, **kwargs):
        """A request with prompt, max_age or an unsupported parameter: validated first."""
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = client_get(credentials["client_id"])
        for name, error in UNSUPPORTED_REQUEST_PARAMETERS.items():
            if name in request.GET:
                return self._error_redirect(credentials, application, error)
        if "none" in prompt and len(prompt) > 1:
            return self._error_redirect(credentials, application, "invalid_request")
        if not prompt <= set(PROMPT_VALUES):
            return self._error_redirect(credentials, application, "invalid_request")
        if "login" in prompt:
            return self._sign_in_again()
        if "select_account" in prompt:
            return HttpResponseRedirect(
                f"{reverse('oidc:select-account')}?"
                f"{urlencode({'next': _without(request, 'prompt')})}"
            )
        max_age = request.GET.get("max_age", "")
        if max_age:
            if not max_age.isdigit():
                return self._error_redirect(credentials, application, "invalid_request")
            authenticated_at = selectors.session_authenticated_at(request)
            if authenticated_at is None or time.time() - authenticated_at > int(max_age):
                if "none" in prompt:
                    return self._error_redirect(credentials, application, "login_required")
                return self._sign_in_again()
        if self._needs_mfa(application):
            if "none" in prompt:
                return self._error_redirect(credentials, application, "interaction_required")
            return self._step_up()
        if application.is_first_party or "consent" in prompt:
            # First-party apps are consented by the tenant; prompt=consent asks third-party
            # apps' users again (README, OpenID Connect).
            return super().get(request, *args, **kwargs)
        consent = Consent.objects.filter(user=request.user, application=application).first()
        if consent is not None and set(scopes) <= set(consent.scopes):
            return self._authorize_with_consent(request, application, consent)
        if "none" in prompt:
            return self._error_redirect(credentials, application, "consent_required")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        # The consent page: "Allow" and "Cancel" both lead to the app's redirect URI, which
        # oauthlib has validated by now.
        context = super().get_context_data(**kwargs)
        if context.get("redirect_uri") and context.get("form") is not None:
            form_action_allow(self.request, context["redirect_uri"])
            context["response_mode"] = self._response_mode()
        return context

    def _authorize_with_consent(self, request, application, consent):
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        if not set(scopes) <= set(consent.scopes):
            return super().get(request)
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def create_authorization_response(self, request, scopes, credentials, allow):
        # The code remembers when this session's person last authenticated (oidc.grants).
        credentials = {**credentials, "claims": authorize.session_grant_claims(request)}
        return super().create_authorization_response(request, scopes, credentials, allow)

    def _prompt_none_error(self, error: str):
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as invalid:
            return self.error_response(invalid, application=None)
        application = client_get(credentials["client_id"])
        return self._error_redirect(credentials, application, error)

    def _error_redirect(self, credentials, application, error: str):
        parameters = {"error": error}
        if credentials.get("state"):
            parameters["state"] = credentials["state"]
        uri = credentials["redirect_uri"]
        return self.redirect(
            f"{uri}{'&' if '?' in uri else '?'}{urlencode(parameters)}", application
        )

    def _response_mode(self) -> str:
        mode = self._parameters().get("response_mode", "query")
        return mode if mode in RESPONSE_MODES else "query"

    def redirect(self, redirect_to, application):
        """Every answer to the app: with `iss`, in the response mode the app asked for."""
        parts = urlsplit(redirect_to)
        # oauthlib may already have put the answer in the fragment: gather it with the query.
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += parse_qsl(parts.fragment, keep_blank_values=True)
        parts = parts._replace(fragment="")
        if any(name in ("code", "error") for name, _value in query) and not any(
            name == "iss" for name, _value in query
        ):
            query.append(("iss", tokens.issuer()))
        mode = self._response_mode()
        if mode == "query":
            target = urlunsplit(parts._replace(query=urlencode(query)))
            return super().redirect(target, application)
        answer = [(name, value) for name, value in query if name in RESPONSE_PARAMETERS]
        kept = [(name, value) for name, value in query if name not in RESPONSE_PARAMETERS]
        target = urlunsplit(parts._replace(query=urlencode(kept), fragment=""))
        if mode == "fragment":
            return super().redirect(f"{target}#{urlencode(answer)}", application)
        form_action_allow(self.request, target)
        response = render(self.request, "oidc/form_post.html", {"action": target, "fields": answer})
        response["Cache-Control"] = "no-store"
        return response

    def form_valid(self, form):
        application = client_get(form.cleaned_data.get("client_id", ""))
        if form.cleaned_data.get("allow") and self._needs_mfa(application):
            # A consent posted by a session that has not proved the second factor the app
            # requires: the request again, after the second factor.
            fields = {k: v for k, v in form.cleaned_data.items() if k != "allow" and v}
            return self._step_up(f"{reverse('oidc:authorize')}?{urlencode(fields)}")
        response = super().form_valid(form)
        location = response.get("Location", "") if response.status_code in (302, 303) else ""
        if form.cleaned_data.get("allow") and (
            "code=" in location or b'name="code"' in getattr(response, "content", b"")
        ):
            application = Application.objects.get(client_id=form.cleaned_data["client_id"])
            if not application.is_first_party:
                services.consent_grant(
                    user=self.request.user,
                    application=application,
                    scopes=form.cleaned_data.get("scope", "").split(),
                )
        return response


PROMPT_VALUES = ("none", "login", "consent", "select_account")
# Request objects are not supported (discovery says so): refused, never ignored.
UNSUPPORTED_REQUEST_PARAMETERS = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "claims": "invalid_request",
}


@never_cache
@login_required
def select_account(request):
    """prompt=select_account: continue as the signed-in person, or sign in as someone else."""
    next_url = request.GET.get("next", "")
    if next_authorization_redirect_uri(next_url) is None:
        raise Http404
    if request.method == "POST":
        logout(request)
        return redirect_to_login(next_url)
    return render(request, "oidc/select_account.html", {"next_url": next_url})


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(
    sensitive_post_parameters("client_secret", "code", "code_verifier", "refresh_token"),
    name="dispatch",
)
class TokenView(View):
    """The token endpoint (oidc.grants); every answer, issued or refused, writes a sign-in
    log row."""

    http_method_names = ["post", "options"]

    def options(self, request, *args, **kwargs):
        return cors.preflight(request, methods="POST")

    def post(self, request, *args, **kwargs):
        grant_type = request.POST.get("grant_type", "")
        handler = grants.HANDLERS.get(grant_type)
        body_error = ""
        try:
            if not grant_type:
                raise grants.GrantError("invalid_request", "Missing grant_type.")
            if handler is None:
                raise grants.GrantError("unsupported_grant_type")
            body = grants.token_issue(request, handler)
        except grants.GrantError as error:
            body_error = error.error
            self._record_failure(request, error.error)
            response = JsonResponse(error.body(), status=error.status)
            if error.status == 401:
                response["WWW-Authenticate"] = 'Basic realm="token"'
        else:
            response = JsonResponse(body)
        metrics.token_counted(grant=grant_type, result=body_error or "issued")
        _no_store(response)
        if request.headers.get("Origin"):
            cors.cors_allow(response, request, client_get(token_request_client_id(request)))
        return response

    def _record_failure(self, request, error: str):
        client_id = token_request_client_id(request)[:100]
        application = client_get(client_id) if client_id else None
        sign_in_record(
            request=request,
            method="token",
            result=SignInEvent.Result.FAILURE,
            failure_reason=error,
            app_id=client_id,
            app_name=application.name if application else "",
            grant=request.POST.get("grant_type", "")[:40],
        )


@dataclass
class _IdTokenHint:
    user: object
    application: Application


class LogoutView(dot.RPInitiatedLogoutView):
    template_name = "oidc/logout_confirm.html"

    def validate_logout_request_user(self, id_token_hint, client_id):
        """An id_token_hint is trusted by its signature with this tenant's key (ID tokens are
        not stored)."""
        if not id_token_hint:
            return None
        # RP-Initiated Logout 1.0, 2: an expired hint is still a good hint of who signs out.
        claims = selectors.id_token_claims(id_token_hint, allow_expired=True)
        application = client_get(claims["aud"]) if claims else None
        if application is None:
            raise InvalidIDTokenError()
        if client_id and application.client_id != client_id:
            raise ClientIdMissmatch()
        user = get_user_model().objects.filter(public_id=claims["sub"]).first()
        return _IdTokenHint(user=user, application=application)

    def get_context_data(self, **kwargs):
        # The sign-out prompt leads to the post-logout URI, validated for the app by now.
        context = super().get_context_data(**kwargs)
        uri = self.oidc_data.get("post_logout_redirect_uri")
        if uri and context.get("application") is not None and "error" not in context:
            form_action_allow(self.request, uri)
        return context

    def get_request_application(self, id_token, client_id):
        if client_id:
            application = Application.objects.filter(client_id=client_id).first()
            if application is None:
                raise InvalidOIDCClientError()
            return application
        return id_token.application if id_token else None


def _no_store(response):
    # Pragma for HTTP/1.0 caches (RFC 6749 5.1).
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@method_decorator(csrf_exempt, name="dispatch")
class UserInfoView(dot.UserInfoView):
    """The access token comes in the Authorization header (or a POST body), never in the
    query string (RFC 9700 4.3.2); a valid token without `openid` is insufficient_scope
    (oidc.server)."""

    def options(self, request, *args, **kwargs):
        return cors.preflight(request, methods="GET, POST")

    def _create_userinfo_response(self, request):
        if "access_token" in request.GET:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Send the access token in the Authorization header.",
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
        else:
            response = super()._create_userinfo_response(request)
            if response.status_code >= 400:
                response["Content-Type"] = "application/json"  # oauthlib's error body
            if response.status_code == 403:
                response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return cors.cors_allow_any_app(response, request)


@method_decorator(csrf_exempt, name="dispatch")
class RevokeView(dot.RevokeTokenView):
    """RFC 7009 for access and refresh tokens. Client-credentials access tokens are not
    stored (the directory API validates them offline), so they cannot be revoked: they end
    when they expire, and revoking one answers unsupported_token_type (RFC 7009 2.2.1)."""

    def options(self, request, *args, **kwargs):
        return cors.preflight(request, methods="POST")

    def post(self, request, *args, **kwargs):
        if grants.client_authentication_doubled(request):
            response = JsonResponse(
                {"error": "invalid_request", "error_description": grants.DOUBLED_AUTHENTICATION},
                status=400,
            )
        else:
            response = super().post(request, *args, **kwargs)
            token = request.POST.get("token", "")
            if response.status_code == 200 and selectors.app_access_token_claims(token):
                response = JsonResponse(
                    {
                        "error": "unsupported_token_type",
                        "error_description": "Client-credentials tokens end when they expire.",
                    },
                    status=400,
                )
        _no_store(response)
        return cors.cors_allow(response, request, client_get(token_request_client_id(request)))


@csrf_exempt
@require_POST
def introspect(request):
    """RFC 7662 for confidential clients, about their own tokens only."""
    try:
        client = grants.client_authenticate(request)
    except grants.GrantError as error:
        if error.status != 401:
            return JsonResponse(error.body(), status=error.status)
        client = None
    if client is None or not client.is_confidential:
        response = JsonResponse({"error": "invalid_client"}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="token"'
        return response
    value = request.POST.get("token", "")
    checksum = crypto.checksum(value)
    access = (
        AccessToken.objects.filter(token_checksum=checksum, application=client)
        .select_related("user")
        .first()
    )
    if access is not None and access.is_valid():
        claims = selectors.jwt_claims(
            value, typ="at+jwt", audience=tokens.api_audience()
        ) or selectors.jwt_claims(value, typ="at+jwt", audience=client.client_id)
        data = {"active": True, "token_type": "access_token", "client_id": client.client_id}
        data.update(
            {k: claims[k] for k in ("sub", "aud", "iss", "exp", "iat") if claims and k in claims}
        )
        data["scope"] = access.scope
        return JsonResponse(data)
    refresh = RefreshToken.objects.filter(
        token_checksum=checksum, application=client, revoked=None
    ).first()
    if refresh is not None:
        return JsonResponse(
            {"active": True, "token_type": "refresh_token", "client_id": client.client_id}
        )
    # Client-credentials tokens are not stored: valid by their signature, issuer, audience
    # and expiry (oidc.grants.client_credentials).
    claims = selectors.app_access_token_claims(value)
    if claims is not None and claims["client_id"] == client.client_id:
        data = {"active": True, "token_type": "access_token", "client_id": client.client_id}
        data.update({k: claims[k] for k in ("sub", "aud", "iss", "exp", "iat") if k in claims})
        data["scope"] = tokens.api_audience() + "/.default"
        return JsonResponse(data)
    return JsonResponse({"active": False})


@never_cache
@login_required
def consent_list(request):
    return render(
        request, "oidc/consent_list.html", {"consents": selectors.consent_list(user=request.user)}
    )


@require_POST
@login_required
def consent_revoke(request, public_id):
    consent = get_object_or_404(Consent, public_id=public_id, user=request.user)
    services.consent_revoke(consent=consent, user=request.user, request=request)
    return redirect("consents:list")
