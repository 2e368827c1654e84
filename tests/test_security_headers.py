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
    from tests.conftest import PASSWORD

    client = acme.client()
    client.post("/accounts/login/", {"login": acme.admin.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["domain"] == ""  # host-only: never shared with other tenants' subdomains
