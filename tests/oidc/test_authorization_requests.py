"""The authorization endpoint as OpenID Connect Core asks (issue 12): authentication time per
browser session, prompt values, max_age, RFC 9207 `iss` on every answer, response modes,
requests by POST, refused request objects, and what discovery says of them."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from ciam.sessions import SIGNED_IN_AT
from oidc import tokens
from tests.helpers import PASSWORD
from tests.oidc.helpers import (
    Flow,
    consent_form,
    jwt_parts,
    pkce_pair,
    query_of,
    register_app,
)


def issuer(world) -> str:
    with tenant_context(world.tenant):
        return tokens.issuer()


def signed_in_long_ago(flow: Flow, seconds: int = 7200) -> None:
    """Move this browser session's sign-in into the past."""
    with tenant_context(flow.world.tenant):
        session = flow.browser.session
        assert SIGNED_IN_AT in session
        session[SIGNED_IN_AT] = time.time() - seconds
        session.save()


def reauthenticate(flow: Flow, location: str, password: str = PASSWORD):
    assert location.startswith("/accounts/reauthenticate/"), location
    return flow.browser.post(location, {"password": password})


def test_max_age_counts_this_browsers_sign_in_not_another_ones(acme, acme_web):
    browser_a, browser_b = Flow(acme, user=acme.member), Flow(acme, user=acme.member)
    signed_in_long_ago(browser_a)
    # The same person signs in on browser B now: browser A's sign-in is still old.
    browser_b.sign_in(acme_web)
    response, _ = browser_a.authorize(acme_web, max_age="60")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/accounts/reauthenticate/")
    assert "max_age" not in location
    # Asking again does not end A's session: it is still signed in.
    assert browser_a.browser.get("/account/").status_code == 200
    again = reauthenticate(browser_a, location)
    assert again.status_code == 302 and again["Location"].startswith("/o/authorize/")
    body = browser_a.sign_in(acme_web, max_age="60")
    assert abs(jwt_parts(body["id_token"])[1]["auth_time"] - time.time()) < 30


def test_auth_time_is_the_sessions_and_a_refreshed_id_token_keeps_it(acme, acme_web):
    flow = Flow(acme, user=acme.member)
    signed_in_long_ago(flow, 3600)
    body = flow.sign_in(acme_web)
    auth_time = jwt_parts(body["id_token"])[1]["auth_time"]
    assert abs(auth_time - (time.time() - 3600)) < 30
    # Another browser signing in later changes nothing for this one.
    Flow(acme, user=acme.member).sign_in(acme_web)
    status, refreshed = flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 200
    assert jwt_parts(refreshed["id_token"])[1]["auth_time"] == auth_time


def test_prompt_none_with_an_exceeded_max_age_answers_login_required(acme, acme_web):
    flow = Flow(acme, user=acme.member)
    signed_in_long_ago(flow)
    response, _ = flow.authorize(acme_web, prompt="none", max_age="1")
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "login_required" and answer["iss"] == issuer(acme)
    assert flow.browser.get("/account/").status_code == 200  # still signed in


def test_max_age_without_a_valid_client_is_an_error_page_and_signs_nobody_out(acme):
    flow = Flow(acme, user=acme.member)
    response = flow.browser.get("/o/authorize/?max_age=0")
    assert response.status_code == 400
    assert flow.browser.get("/account/").status_code == 200


def test_prompt_login_asks_again_even_with_remembered_consent(acme):
    third_party = register_app(acme, first_party=False, name="Remembered partner")
    flow = Flow(acme, user=acme.member)
    with tenant_context(acme.tenant):
        from oidc.services import consent_grant

        consent_grant(user=acme.member, application=third_party.application, scopes=["openid"])
    response, _ = flow.authorize(third_party, scope="openid", prompt="login")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert "prompt" not in response["Location"]
    # A wrong password does not get through.
    refused = reauthenticate(flow, response["Location"], password="not the password at all")
    assert refused.status_code == 200
    done = reauthenticate(flow, response["Location"])
    assert done["Location"].startswith("/o/authorize/")
    code_answer = flow.browser.get(done["Location"])
    assert "code" in query_of(code_answer["Location"])


def test_prompt_none_with_a_wider_scope_than_consented_answers_consent_required(acme):
    third_party = register_app(acme, first_party=False, name="Narrow partner")
    with tenant_context(acme.tenant):
        from oidc.services import consent_grant

        consent_grant(user=acme.member, application=third_party.application, scopes=["openid"])
    response, _ = Flow(acme, user=acme.member).authorize(
        third_party, scope="openid email", prompt="none"
    )
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "consent_required"


def test_prompt_consent_asks_again_for_a_consented_third_party_app(acme):
    third_party = register_app(acme, first_party=False, name="Asking partner")
    with tenant_context(acme.tenant):
        from oidc.services import consent_grant

        consent_grant(user=acme.member, application=third_party.application, scopes=["openid"])
    response, _ = Flow(acme, user=acme.member).authorize(
        third_party, scope="openid", prompt="consent"
    )
    assert response.status_code == 200
    assert b"Allow" in response.content


def test_prompt_select_account_lets_the_person_switch(acme, acme_web):
    flow = Flow(acme, user=acme.member)
    response, _ = flow.authorize(acme_web, prompt="select_account")
    assert response["Location"].startswith("/o/select-account/")
    page = flow.browser.get(response["Location"])
    assert f"Continue as {acme.member.email}" in page.content.decode()
    continue_url = re.search(r'href="(/o/authorize/[^"]+)"', page.content.decode()).group(1)
    assert "select_account" not in continue_url
    switched = flow.browser.post(response["Location"])
    assert switched["Location"].startswith("/accounts/login/")
    assert flow.browser.get("/account/").status_code == 302  # signed out to switch


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://app.example/request.jwt"}, "request_uri_not_supported"),
        ({"claims": '{"id_token": {"acr": {"essential": true}}}'}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "sideways"}, "invalid_request"),
    ],
)
def test_what_is_not_supported_is_refused_not_ignored(acme, acme_web, parameters, error):
    response, _ = Flow(acme, user=acme.member).authorize(acme_web, **parameters)
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == error and answer["iss"] == issuer(acme)


@pytest.mark.parametrize(
    ("parameters", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid https://graph.example/all"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_every_error_redirect_carries_iss(acme, acme_web, parameters, error):
    response, _ = Flow(acme, user=acme.member).authorize(acme_web, **parameters)
    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == error
    assert answer["iss"] == issuer(acme)


def test_access_denied_and_login_required_carry_iss(acme):
    third_party = register_app(acme, first_party=False, name="Declined partner")
    flow = Flow(acme, user=acme.member)
    page, _ = flow.authorize(third_party)
    declined = flow.browser.post("/o/authorize/", consent_form(page))
    answer = query_of(declined["Location"])
    assert answer["error"] == "access_denied" and answer["iss"] == issuer(acme)
    anonymous = Flow(acme)
    silent, _ = anonymous.authorize(third_party, prompt="none")
    assert query_of(silent["Location"])["iss"] == issuer(acme)


def test_fragment_response_mode_answers_in_the_fragment(acme, acme_web):
    response, _ = Flow(acme, user=acme.member).authorize(acme_web, response_mode="fragment")
    location = urlsplit(response["Location"])
    assert location.query == ""
    answer = dict(parse_qsl(location.fragment))
    assert answer["code"] and answer["state"] == "state-123" and answer["iss"] == issuer(acme)


def test_form_post_response_mode_posts_the_answer_to_the_app(acme, acme_web):
    response, verifier = Flow(acme, user=acme.member).authorize(acme_web, response_mode="form_post")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'action="{acme_web.redirect_uri}"' in page
    assert re.search(r'name="code" value="[^"]+"', page)
    assert 'name="iss"' in page and 'name="state" value="state-123"' in page
    assert "https://app.example" in response["Content-Security-Policy"]
    code = re.search(r'name="code" value="([^"]+)"', page).group(1)
    status, body = Flow(acme).exchange(acme_web, code, verifier)
    assert status == 200 and "id_token" in body


def test_an_authorization_request_may_come_by_post(acme, acme_web):
    _verifier, challenge = pkce_pair()
    browser = acme.client(user=acme.member)
    browser.handler.enforce_csrf_checks = True  # as a real browser meets it
    parameters = {
        "response_type": "code", "client_id": acme_web.client_id,
        "redirect_uri": acme_web.redirect_uri, "scope": "openid", "state": "posted",
        "code_challenge": challenge, "code_challenge_method": "S256",
    }  # fmt: skip
    response = browser.post("/o/authorize/", parameters)
    assert response.status_code == 303
    answer = browser.get(response["Location"])
    assert query_of(answer["Location"])["state"] == "posted"
    assert "code" in query_of(answer["Location"])


def test_an_expired_id_token_hint_still_names_who_signs_out(acme, acme_web):
    flow = Flow(acme, user=acme.member)
    with tenant_context(acme.tenant):
        now = int(time.time())
        hint = tokens.sign({
            "iss": tokens.issuer(), "aud": acme_web.client_id, "sub": str(acme.member.public_id),
            "iat": now - 7200, "exp": now - 3600,
        })  # fmt: skip
    response = flow.browser.get("/o/logout/?" + urlencode({"id_token_hint": hint}))
    assert response.status_code in (200, 302)
    assert b"cannot be completed" not in response.content


def test_discovery_says_what_the_endpoint_does(acme):
    document = Client(HTTP_HOST=acme.host).get("/o/.well-known/openid-configuration").json()
    assert document["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert document["prompt_values_supported"] == ["none", "login", "consent", "select_account"]
    assert document["request_parameter_supported"] is False
    assert document["request_uri_parameter_supported"] is False
    assert document["claims_parameter_supported"] is False
    assert f"{issuer(acme)}/api/.default" in document["scopes_supported"]
