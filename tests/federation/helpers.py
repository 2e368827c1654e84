"""Helpers of the federation tests: a tenant adds another tenant of the same running
platform as its OpenID Connect identity provider."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from django.db import connection
from django_tenants.utils import tenant_context

from federation.http import LocalhostNamesAdapter
from tests.helpers import PASSWORD
from tests.oidc.helpers import register_app

SECRET = "upstream-client-secret-" + "x" * 24


def create_provider(world, *, name=None, kind="openid_connect", secret=SECRET, **fields):
    from federation.services import identity_provider_create

    fields.setdefault("client_id", "client-" + uuid.uuid4().hex[:8])
    if kind == "openid_connect":
        fields.setdefault("discovery_url", "https://idp.example/")
    with tenant_context(world.tenant):
        return identity_provider_create(
            actor=world.admin,
            kind=kind,
            name=name or f"IdP {uuid.uuid4().hex[:6]}",
            client_secret=secret,
            **fields,
        )


@dataclass
class Federation:
    """Tenant `downstream` signs people in with tenant `upstream` (an app registered there)."""

    upstream: object
    downstream: object
    provider: object
    client_id: str
    callback: str
    issuer: str


def federate(upstream, downstream, port: int, *, trusted: bool = True) -> Federation:
    """Register an app for `downstream` at `upstream` and add `upstream` as `downstream`'s
    generic OpenID Connect IdP, both on the running server's port."""
    from oidc.clients import clients_forget
    from oidc.models import Application

    issuer = f"http://{upstream.host}:{port}/o"
    suffix = uuid.uuid4().hex[:6]
    app = register_app(
        upstream,
        name=f"{downstream.tenant.name} federation {suffix}",
        redirect_uri="http://127.0.0.1/placeholder",
    )
    provider = create_provider(
        downstream,
        name=f"{upstream.tenant.name} {suffix}",
        discovery_url=issuer,
        client_id=app.client_id,
        secret=app.secret,
        trust_verified_email=trusted,
    )
    callback = f"http://{downstream.host}:{port}/accounts/oidc/{provider.slug}/login/callback/"
    # The registration allows http redirect URIs on loopback IP literals and `localhost`
    # only; a tenant host under `.localhost` (loopback too, RFC 6761) is set directly.
    with tenant_context(upstream.tenant):
        Application.objects.filter(pk=app.application.pk).update(redirect_uris=callback)
        clients_forget()
    connection.close()
    return Federation(upstream, downstream, provider, app.client_id, callback, issuer)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFRESH = re.compile(r'<meta http-equiv="refresh" content="0;url=([^"]+)">')


def _next_location(response) -> str | None:
    """Where a browser goes on by itself: a redirect, or a page's meta refresh."""
    if response.status_code in (301, 302, 303) and "Location" in response.headers:
        return response.headers["Location"]
    refresh = REFRESH.search(response.text) if response.status_code == 200 else None
    return html.unescape(refresh.group(1)) if refresh else None


class Browser:
    """Cookies per host, redirects followed by hand (to stop at an app's redirect URI)."""

    def __init__(self):
        self.session = requests.Session()
        self.session.mount("http://", LocalhostNamesAdapter())
        self.visited: list[str] = []

    def go(self, url: str, data: dict | None = None, *, stop_at: str = "") -> requests.Response:
        response = (
            self.session.post(url, data=data, allow_redirects=False, timeout=20)
            if data is not None
            else self.session.get(url, allow_redirects=False, timeout=20)
        )
        self.visited.append(url)
        while (location := _next_location(response)) is not None:
            url = urljoin(url, location)
            self.visited.append(url)
            if stop_at and url.startswith(stop_at):
                return response
            response = self.session.get(url, allow_redirects=False, timeout=20)
        return response

    def submit(self, url: str, page: requests.Response, fields: dict, **kwargs):
        token = CSRF.search(page.text).group(1)
        return self.go(url, {"csrfmiddlewaretoken": token, **fields}, **kwargs)


def base(world, port: int) -> str:
    return f"http://{world.host}:{port}"


def start(browser: Browser, fed, port: int, next_url: str = "/account/") -> requests.Response:
    """Open the downstream sign-in page and press the IdP's button: the answer is the
    redirect to the upstream's authorization endpoint."""
    downstream = base(fed.downstream, port)
    page = browser.go(f"{downstream}/accounts/login/?{urlencode({'next': next_url})}")
    assert f"Sign in with {fed.provider.name}" in page.text
    token = CSRF.search(page.text).group(1)
    return browser.session.post(
        f"{downstream}/accounts/oidc/{fed.provider.slug}/login/",
        data={"csrfmiddlewaretoken": token, "process": "login", "next": next_url},
        allow_redirects=False,
        timeout=20,
    )


def sign_in_upstream(browser: Browser, fed, port: int, email: str, **kwargs):
    """Press the button, sign in at the upstream with a password, and come back."""
    redirect = start(browser, fed, port, **kwargs.pop("start", {}))
    assert redirect.status_code == 302
    authorize = redirect.headers["Location"]
    assert authorize.startswith(f"{fed.issuer}/authorize/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"]
    login_page = browser.go(authorize)
    assert "/accounts/login/" in browser.visited[-1]
    return browser.submit(
        browser.visited[-1],
        login_page,
        {
            "login": email,
            "password": PASSWORD,
            "next": parse_qs(urlsplit(browser.visited[-1]).query)["next"][0],
        },  # noqa: E501
        **kwargs,
    )


def signed_in_as(browser: Browser, world, port: int) -> str | None:
    """The email My account shows, or None when it is not reached (sign-in asked, or a
    sign-in step still pending)."""
    page = browser.go(f"{base(world, port)}/account/")
    if urlsplit(browser.visited[-1]).path != "/account/":
        return None
    match = re.search(r"[\w.+-]+@[\w.-]+", page.text.split("Profile", 1)[-1])
    return page.text if match is None else match.group(0)


def log_rows(world, **filters):
    from audit.models import SignInEvent

    with tenant_context(world.tenant):
        return list(SignInEvent.objects.filter(**filters).order_by("occurred_at"))


def sign_in_upstream_at(browser, fed, authorize_url, email, **kwargs):
    login_page = browser.go(authorize_url)
    assert "/accounts/login/" in browser.visited[-1]
    return browser.submit(
        browser.visited[-1],
        login_page,
        {"login": email, "password": PASSWORD,
         "next": parse_qs(urlsplit(browser.visited[-1]).query)["next"][0]},
        **kwargs,
    )  # fmt: skip
