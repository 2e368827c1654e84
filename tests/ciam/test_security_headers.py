from __future__ import annotations

from django.test import Client


def assert_cannot_be_framed_and_sniffed(response):
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_platform_and_tenant_pages_cannot_be_framed(acme):
    assert_cannot_be_framed_and_sniffed(Client(HTTP_HOST="localhost").get("/"))
    assert_cannot_be_framed_and_sniffed(acme.client().get("/accounts/login/"))
    assert_cannot_be_framed_and_sniffed(acme.client(acme.admin).get("/console/"))


def test_every_response_carries_a_request_id(acme):
    response = acme.client().get("/", HTTP_X_REQUEST_ID="abcdef123456")
    assert response["X-Request-ID"] == "abcdef123456"
    forged = acme.client().get("/", HTTP_X_REQUEST_ID="<script>")
    assert len(forged["X-Request-ID"]) == 32 and "<" not in forged["X-Request-ID"]


def test_session_cookie_is_httponly_samesite_and_host_only(acme):
    from tests.helpers import PASSWORD

    client = acme.client()
    client.post("/accounts/login/", {"login": acme.admin.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["domain"] == ""  # host-only: never shared with other tenants' subdomains


def test_the_policy_is_the_settings_policy_with_each_requests_own_nonce(rf):
    """Each request's nonce and each view's own changes (csp_update) reach its header only."""
    from csp.decorators import csp_update
    from csp.utils import build_policy
    from django.http import HttpResponse

    from ciam.middleware import ContentSecurityPolicyMiddleware

    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())

    def answer(view=lambda request: HttpResponse(), *, with_nonce=False):
        request = rf.get("/")
        middleware.process_request(request)
        nonce = str(request.csp_nonce) if with_nonce else None
        return middleware.process_response(request, view(request)), nonce

    plain, _ = answer()
    assert plain["Content-Security-Policy"] == build_policy()
    assert "nonce-" not in plain["Content-Security-Policy"]
    first, first_nonce = answer(with_nonce=True)
    second, second_nonce = answer(with_nonce=True)
    assert first_nonce != second_nonce
    assert first["Content-Security-Policy"] == build_policy(nonce=first_nonce)
    assert f"'nonce-{second_nonce}'" in second["Content-Security-Policy"]
    assert first_nonce not in second["Content-Security-Policy"]

    own = csp_update({"img-src": ["https://cdn.example"]})(lambda request: HttpResponse())
    updated, _ = answer(own)
    assert "https://cdn.example" in updated["Content-Security-Policy"]
    assert "https://cdn.example" not in answer()[0]["Content-Security-Policy"]
