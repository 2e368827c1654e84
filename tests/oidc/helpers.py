"""Helpers for the OpenID Connect provider tests: app registrations, PKCE and token calls."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django_tenants.utils import tenant_context


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict, dict]:
    def decode(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    header, payload, _signature = token.split(".")
    return decode(header), decode(payload)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def consent_form(consent_page) -> dict:
    """What the consent page's form sends, its CSRF token included (a POST to the
    authorization endpoint without one is an authorization request, not a decision)."""
    form = {name: value or "" for name, value in consent_page.context["form"].initial.items()}
    return {**form, "csrfmiddlewaretoken": str(consent_page.context["csrf_token"])}


@dataclass
class RegisteredApp:
    application: object
    secret: str | None
    redirect_uri: str

    @property
    def client_id(self) -> str:
        return self.application.client_id


def register_app(world, *, app_type="web", redirect_uri="https://app.example/callback",
                 first_party=True, permissions=(), post_logout="", name="Test app",
                 claim_mappings="", always_refresh=False, signing="RS256"):  # fmt: skip
    from oidc.services import application_create

    with tenant_context(world.tenant):
        application, secret = application_create(
            actor=world.admin,
            name=name,
            app_type=app_type,
            redirect_uris=redirect_uri if app_type != "daemon" else "",
            post_logout_redirect_uris=post_logout,
            is_first_party=first_party,
            access_token_lifetime=3600,
            id_token_lifetime=3600,
            refresh_token_lifetime=14 * 24 * 3600,
            api_permissions=list(permissions),
            claim_mappings=claim_mappings,
            always_refresh=always_refresh,
            token_signing_algorithm=signing,
        )
    return RegisteredApp(application, secret, redirect_uri)


class Flow:
    """Drives the endpoints of one tenant with Django's test client, signed in as `user`."""

    def __init__(self, world, user=None):
        self.world = world
        self.browser = world.client(user=user)
        self.api = world.client()

    def authorize(self, app: RegisteredApp, *, scope="openid profile email offline_access",
                  verifier_pair=None, **extra):  # fmt: skip
        verifier, challenge = verifier_pair or pkce_pair()
        params = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": scope,
            "state": "state-123",
            "nonce": "nonce-456",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        params = {key: value for key, value in params.items() if value is not None}
        response = self.browser.get("/o/authorize/?" + urlencode(params))
        return response, verifier

    def code(self, app: RegisteredApp, **extra) -> tuple[str, str]:
        response, verifier = self.authorize(app, **extra)
        assert response.status_code == 302, response.content[:500]
        location = response["Location"]
        assert location.startswith(app.redirect_uri), location
        return query_of(location)["code"], verifier

    def token(self, app: RegisteredApp, data: dict, *, secret: str | None = "default"):
        secret = app.secret if secret == "default" else secret
        body = {"client_id": app.client_id, **data}
        if secret:
            body["client_secret"] = secret
        response = self.api.post("/o/token/", body)
        return response.status_code, response.json()

    def exchange(self, app: RegisteredApp, code: str, verifier: str, **extra):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "code_verifier": verifier,
            **extra,
        }
        return self.token(app, {key: value for key, value in data.items() if value is not None})

    def sign_in(self, app: RegisteredApp, **extra) -> dict:
        code, verifier = self.code(app, **extra)
        status, body = self.exchange(app, code, verifier)
        assert status == 200, body
        return body


# The console's app registration form, filled in for a web app.
APP_FORM = {
    "name": "Contoso portal",
    "app_type": "web",
    "redirect_uris": "https://portal.example/callback\nhttp://localhost:3000/callback",
    "post_logout_redirect_uris": "https://portal.example/",
    "is_first_party": "on",
    "access_token_hours": "1",
    "id_token_hours": "1",
    "refresh_token_days": "14",
}


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if "form-action" in part)


def authorize_path(app, redirect_uri: str | None = None, **extra) -> str:
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code", "client_id": app.client_id,
        "redirect_uri": redirect_uri or app.redirect_uri, "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256", **extra,
    }  # fmt: skip
    return f"/o/authorize/?{urlencode(query)}"
