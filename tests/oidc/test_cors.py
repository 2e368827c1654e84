"""CORS for single-page apps at token, userinfo and revoke: preflight included, only for the
origins of the tenant's registered single-page apps, never `*`."""

from __future__ import annotations

import pytest

from tests.oidc.helpers import Flow, register_app

SPA_ORIGIN = "https://spa.example"
ENDPOINTS = ["/o/token/", "/o/userinfo/", "/o/revoke/"]


@pytest.fixture
def spa(acme):
    return register_app(acme, app_type="spa", redirect_uri=f"{SPA_ORIGIN}/callback")


def preflight(world, path: str, origin: str):
    # CSRF checks on, as in a browser: the preflight must not meet them.
    return world.client(enforce_csrf_checks=True).options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@pytest.mark.parametrize("path", ENDPOINTS)
def test_preflight_from_a_registered_spa_origin_is_allowed(acme, spa, path):
    response = preflight(acme, path, SPA_ORIGIN)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "Origin" in response["Vary"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_preflight_from_other_origins_gets_no_cors_headers(acme, globex, spa, path):
    register_app(globex, app_type="spa", redirect_uri="https://globex-spa.example/callback")
    web = register_app(acme, redirect_uri="https://web.example/callback", name="Web")
    for origin in ("https://evil.example", "https://globex-spa.example", "https://web.example"):
        response = preflight(acme, path, origin)
        assert "Access-Control-Allow-Origin" not in response, (origin, web.client_id)


def test_spa_reads_token_userinfo_and_revoke_answers_from_its_origin(acme, spa):
    flow = Flow(acme, user=acme.member)
    code, verifier = flow.code(spa)
    browser = acme.client(enforce_csrf_checks=True, HTTP_ORIGIN=SPA_ORIGIN)
    token = browser.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
         "redirect_uri": spa.redirect_uri, "client_id": spa.client_id},
    )  # fmt: skip
    assert token.status_code == 200
    body = token.json()
    userinfo = browser.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert userinfo.status_code == 200
    refused = browser.get("/o/userinfo/", HTTP_AUTHORIZATION="Bearer expired-or-wrong")
    assert refused.status_code == 401
    revoke = browser.post(
        "/o/revoke/", {"token": body["refresh_token"], "client_id": spa.client_id}
    )
    assert revoke.status_code == 200
    for response in (token, userinfo, refused, revoke):
        assert response["Access-Control-Allow-Origin"] == SPA_ORIGIN
        assert response.get("Access-Control-Allow-Credentials") != "true"


def test_answers_to_other_origins_carry_no_cors_headers(acme, spa):
    body = Flow(acme, user=acme.member).sign_in(spa)
    browser = acme.client(HTTP_ORIGIN="https://evil.example")
    userinfo = browser.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    revoke = browser.post(
        "/o/revoke/", {"token": body["refresh_token"], "client_id": spa.client_id}
    )
    for response in (userinfo, revoke):
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response
