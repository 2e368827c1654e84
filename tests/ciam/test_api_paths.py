"""Every view under the API prefixes is served without CSRF checks and never touches the
session: what the real server (ciam.handlers) guarantees by sending these paths through the
lean middleware stack, which has neither."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.test.client import ClientHandler
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ciam.handlers import ApiMiddlewareMixin, uses_api_stack

# Fixed values: xdist workers must collect the same test ids.
SAMPLES = {
    "uuid": "8a0b5c1e-2f3d-4e5a-9b6c-7d8e9f0a1b2c",
    "str": "someone",
    "int": "1",
    "slug": "someone",
}


class ApiClientHandler(ApiMiddlewareMixin, ClientHandler):
    """The test client's handler on API_MIDDLEWARE, as the server's (ciam.handlers)."""


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _path(route: str) -> str:
    path = "/" + route
    for converter, sample in SAMPLES.items():
        while f"<{converter}:" in path:
            start = path.index(f"<{converter}:")
            path = path[:start] + sample + path[path.index(">", start) + 1 :]
    assert "<" not in path, path
    return path


API_PATHS = sorted(
    _path(route)
    for route in _routes(get_resolver(settings.ROOT_URLCONF).url_patterns)
    if ("/" + route).startswith(tuple(settings.API_PATH_PREFIXES))
)


def test_the_api_prefixes_cover_the_machine_endpoints():
    assert {"/o/token/", "/o/userinfo/", "/o/.well-known/jwks.json", "/api/v1/users"} <= set(
        API_PATHS
    )
    assert all(uses_api_stack(path) for path in API_PATHS)
    lean = set(settings.API_MIDDLEWARE)
    assert "django.middleware.csrf.CsrfViewMiddleware" not in lean
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in lean


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_api_view_needs_no_csrf_token_and_never_touches_the_session(acme, path, method):
    client = Client(HTTP_HOST=acme.host)
    # CSRF checks enforced, and no `request.session` (nor `request.user`) at all: a view that
    # reads either raises here, as it would on the real server.
    client.handler = ApiClientHandler(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "a-browser-session"
    client.cookies["csrftoken"] = "a" * 32
    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, data="{}", content_type="application/json")
    assert response.status_code < 500, (method, path, response.status_code)
    assert b"CSRF verification failed" not in response.content, (method, path)
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_the_lean_client_catches_a_view_that_reads_the_session(acme):
    """The check above has teeth: a browser page (sign-in, which reads the session) fails on
    the lean stack."""
    client = Client(HTTP_HOST=acme.host)
    client.handler = ApiClientHandler(enforce_csrf_checks=True)
    with pytest.raises(AttributeError):
        client.get("/accounts/login/")


@pytest.mark.parametrize("path", API_PATHS)
def test_api_view_is_csrf_exempt_on_either_stack(path):
    """Machine calls carry no CSRF token: each view says so itself, so it also holds where a
    request goes through the full middleware stack (the test client, another server)."""
    view = resolve(path, urlconf=settings.ROOT_URLCONF).func
    assert getattr(view, "csrf_exempt", False), path


@pytest.mark.parametrize("path", [path for path in API_PATHS if path.startswith("/api/v1/")])
def test_every_directory_api_view_asks_for_a_bearer_credential(acme, path):
    """One decorator guards each /api/v1 view: without a credential, Graph's 401."""
    answer = acme.client().generic(
        "POST" if path == "/api/v1/invitations" else "GET", path, content_type="application/json"
    )
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="api"'
    assert answer.json()["error"]["code"] == "unauthorized"


def test_api_answers_carry_a_fixed_policy_that_allows_nothing(acme):
    """On the lean stack JSON answers get a fixed, stricter CSP and X-Frame-Options than the
    pages (ciam.handlers.ApiSecurityHeadersMiddleware), success and error alike."""
    client = Client(HTTP_HOST=acme.host)
    client.handler = ApiClientHandler(enforce_csrf_checks=True)
    for response in (
        client.get("/o/.well-known/jwks.json"),
        client.post("/o/token/", {"grant_type": "client_credentials", "client_id": "nobody"}),
    ):
        policy = response["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "nonce-" not in policy
        assert response["X-Frame-Options"] == "DENY"
