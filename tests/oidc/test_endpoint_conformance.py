"""Token, userinfo, revocation and introspection answers as the RFCs spell them (issue 12):
client-credentials tokens at introspection and revocation, bearer transport and scope at
userinfo, refresh scope, missing grant_type, cache headers, one client authentication."""

from __future__ import annotations

import base64

import pytest

from tests.oidc.helpers import Flow, jwt_parts, register_app


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def daemon(acme):
    return register_app(acme, app_type="daemon", permissions=["User.Read.All"])


def daemon_token(acme, daemon) -> str:
    status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials"})
    assert status == 200
    return body["access_token"]


def test_client_credentials_token_introspects_as_active_for_its_app(acme, daemon):
    token = daemon_token(acme, daemon)
    credentials = {"client_id": daemon.client_id, "client_secret": daemon.secret}
    answer = acme.client().post("/o/introspect/", {"token": token, **credentials}).json()
    assert answer["active"] is True
    assert answer["client_id"] == daemon.client_id
    assert answer["sub"] == daemon.client_id
    assert answer["aud"] == f"http://{acme.host}/o/api"
    assert answer["scope"] == f"http://{acme.host}/o/api/.default"
    # Another app learns nothing about it; a tampered token is not active.
    other = register_app(acme, app_type="daemon", name="Other daemon")
    foreign = acme.client().post(
        "/o/introspect/",
        {"token": token, "client_id": other.client_id, "client_secret": other.secret},
    )
    assert foreign.json() == {"active": False}
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    forged = acme.client().post("/o/introspect/", {"token": tampered, **credentials})
    assert forged.json() == {"active": False}


def test_revoking_a_client_credentials_token_answers_unsupported_token_type(acme, daemon):
    token = daemon_token(acme, daemon)
    credentials = {"client_id": daemon.client_id, "client_secret": daemon.secret}
    response = acme.client().post("/o/revoke/", {"token": token, **credentials})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_token_type"
    still = acme.client().post("/o/introspect/", {"token": token, **credentials})
    assert still.json()["active"] is True
    # Unknown tokens still answer 200 (RFC 7009 2.2).
    unknown = acme.client().post("/o/revoke/", {"token": "not-a-token", **credentials})
    assert unknown.status_code == 200


def test_userinfo_refuses_the_access_token_in_the_query_string(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    client = acme.client()
    in_query = client.get(f"/o/userinfo/?access_token={body['access_token']}")
    assert in_query.status_code == 400
    assert in_query.json()["error"] == "invalid_request"
    assert "email" not in in_query.json()
    in_header = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert in_header.status_code == 200
    assert in_header.json()["sub"] == str(acme.member.public_id)
    in_body = client.post("/o/userinfo/", {"access_token": body["access_token"]})
    assert in_body.status_code == 200


def test_userinfo_with_a_token_without_openid_is_insufficient_scope(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web, scope="email offline_access")
    response = acme.client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert response["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    bad = acme.client().get("/o/userinfo/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad["WWW-Authenticate"]


def test_a_narrowed_refresh_keeps_the_refresh_tokens_original_scope(acme, acme_web, acme_flow):
    granted = "openid profile email offline_access"
    body = acme_flow.sign_in(acme_web, scope=granted)
    status, narrowed = acme_flow.token(
        acme_web,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
         "scope": "openid offline_access"},
    )  # fmt: skip
    assert status == 200
    assert narrowed["scope"] == "openid offline_access"
    assert jwt_parts(narrowed["access_token"])[1]["scp"] == "openid offline_access"
    assert "email" not in jwt_parts(narrowed["id_token"])[1]
    status, again = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": narrowed["refresh_token"]}
    )
    assert status == 200
    assert set(again["scope"].split()) == set(granted.split())
    assert jwt_parts(again["id_token"])[1]["email"] == acme.member.email
    status, wider = acme_flow.token(
        acme_web,
        {"grant_type": "refresh_token", "refresh_token": again["refresh_token"],
         "scope": granted + " phone"},
    )  # fmt: skip
    assert (status, wider["error"]) == (400, "invalid_scope")


def test_cleanup_forgets_the_scope_of_ended_sign_ins(acme, acme_web, acme_flow):
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from oidc.services import tokens_cleanup as cleanup

    body = acme_flow.sign_in(acme_web)
    acme_flow.token(
        acme_web,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "scope": "openid"},
    )
    with tenant_context(acme.tenant):
        assert cleanup()["refresh scopes"] == 0
        assert cleanup(now=timezone.now() + timedelta(days=15))["refresh scopes"] == 1


def test_token_request_without_grant_type_is_invalid_request(acme, acme_web, acme_flow):
    status, body = acme_flow.token(acme_web, {"code": "x"})
    assert (status, body["error"]) == (400, "invalid_request")
    status, body = acme_flow.token(acme_web, {"grant_type": "urn:example:unknown"})
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_token_responses_are_not_cached_by_old_caches_either(acme, acme_web, acme_flow):
    code, verifier = acme_flow.code(acme_web)
    client = acme.client()
    issued = client.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
         "redirect_uri": acme_web.redirect_uri, "client_id": acme_web.client_id,
         "client_secret": acme_web.secret},
    )  # fmt: skip
    refused = client.post("/o/token/", {"grant_type": "authorization_code", "code": code})
    for response in (issued, refused):
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"
    assert issued.status_code == 200 and refused.status_code == 401


def test_two_client_authentication_methods_are_refused(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    client = acme.client()
    header = basic(acme_web.client_id, acme_web.secret)
    both = {"client_id": acme_web.client_id, "client_secret": acme_web.secret}
    token = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], **both},
        HTTP_AUTHORIZATION=header,
    )
    revoke = client.post(
        "/o/revoke/", {"token": body["refresh_token"], **both}, HTTP_AUTHORIZATION=header
    )
    introspect = client.post(
        "/o/introspect/", {"token": body["access_token"], **both}, HTTP_AUTHORIZATION=header
    )
    for response in (token, revoke, introspect):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    # Each method alone works, and the refresh token survived the refused calls.
    refreshed = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        HTTP_AUTHORIZATION=header,
    )
    assert refreshed.status_code == 200
    active = client.post("/o/introspect/", {"token": refreshed.json()["access_token"], **both})
    assert active.json()["active"] is True


def test_public_client_revokes_with_its_client_id_alone(acme):
    spa = register_app(acme, app_type="spa", redirect_uri="https://spa.example/callback")
    flow = Flow(acme, user=acme.member)
    body = flow.sign_in(spa)
    revoked = acme.client().post(
        "/o/revoke/", {"token": body["refresh_token"], "client_id": spa.client_id}
    )
    assert revoked.status_code == 200
    status, error = flow.token(
        spa, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert (status, error["error"]) == (400, "invalid_grant")
