"""SECURITY.md items 13-20 and 23-26: the provider's answers to hostile or sloppy requests."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.helpers import PASSWORD
from tests.oidc.helpers import Flow, consent_form, pkce_pair, query_of, register_app

# 13. Exact redirect URIs; unknown client or redirect: an error page, never a redirect.


@pytest.mark.parametrize(
    "variant",
    [
        "https://app.example/callback/extra",
        "https://app.example/callback/",
        "https://app.example/Callback",
        "https://APP.example/callback",
        "https://app.example/callback?x=1",
        "https://app.example/callback#frag",
        "https://app.example:8443/callback",
        "https://app.example.evil.test/callback",
        "http://app.example/callback",
    ],
)
def test_redirect_uri_variants_get_an_error_page_not_a_redirect(acme_web, acme_flow, variant):
    response, _ = acme_flow.authorize(acme_web, redirect_uri=variant)
    assert response.status_code == 400
    assert "Location" not in response
    assert b"cannot be completed" in response.content


def test_unknown_client_gets_an_error_page(acme_web, acme_flow):
    response, _ = acme_flow.authorize(acme_web, client_id="no-such-client")
    assert response.status_code in (400, 401)
    assert "Location" not in response


# 14. http redirect URIs only for loopback.


@pytest.mark.parametrize(
    "uri", ["http://app.example/cb", "https://*.example/cb", "ftp://app.example/cb", "javascript:x"]
)
def test_registration_refuses_non_https_and_wildcard_redirects(acme, uri):
    with pytest.raises(ValidationError) as error:
        register_app(acme, redirect_uri=uri)
    assert "redirect_uris" in error.value.message_dict


def test_loopback_redirects_accept_any_port_at_request_time(acme):
    native = register_app(acme, app_type="native", redirect_uri="http://127.0.0.1/callback")
    flow = Flow(acme, user=acme.member)
    native.redirect_uri = "http://127.0.0.1:53117/callback"
    code, verifier = flow.code(native)
    status, body = flow.exchange(native, code, verifier)
    assert status == 200, body
    assert register_app(acme, app_type="native", redirect_uri="http://localhost:8000/cb")


# 15. PKCE S256 required; plain refused; wrong verifier and downgrade give invalid_grant.


def test_authorization_without_pkce_is_refused(acme_web, acme_flow):
    response, _ = acme_flow.authorize(acme_web, code_challenge=None, code_challenge_method=None)
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert "code" not in query_of(response["Location"])


def test_pkce_plain_is_refused(acme_web, acme_flow):
    response, _ = acme_flow.authorize(
        acme_web, verifier_pair=("v" * 50, "v" * 50), code_challenge_method="plain"
    )
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert "code" not in query_of(response["Location"])


def test_wrong_verifier_gives_invalid_grant(acme_web, acme_flow):
    code, _verifier = acme_flow.code(acme_web)
    status, body = acme_flow.exchange(acme_web, code, pkce_pair()[0])
    assert (status, body["error"]) == (400, "invalid_grant")


def test_pkce_downgrade_gives_invalid_grant(acme_web, acme_flow):
    code, _verifier = acme_flow.code(acme_web)
    status, body = acme_flow.exchange(acme_web, code, None)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_public_client_needs_pkce_and_no_secret(acme):
    spa = register_app(acme, app_type="spa", redirect_uri="https://spa.example/")
    assert spa.secret is None
    flow = Flow(acme, user=acme.member)
    code, verifier = flow.code(spa)
    status, body = flow.exchange(spa, code, verifier)
    assert status == 200 and body["id_token"]


# 16. A code works once, expires within a minute, bound to client and redirect URI; a second
# redemption revokes the tokens of the first.


def test_second_redemption_fails_and_revokes_the_first_tokens(acme, acme_web, acme_flow):
    code, verifier = acme_flow.code(acme_web)
    status, first = acme_flow.exchange(acme_web, code, verifier)
    assert status == 200
    status, second = acme_flow.exchange(acme_web, code, verifier)
    assert (status, second["error"]) == (400, "invalid_grant")
    status, refreshed = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert (status, refreshed["error"]) == (400, "invalid_grant")
    userinfo = acme.client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}"
    )
    assert userinfo.status_code == 401


def test_code_expires_within_a_minute(acme, acme_web, acme_flow):
    from oauth2_provider.models import Grant

    code, verifier = acme_flow.code(acme_web)
    with tenant_context(acme.tenant):
        grant = Grant.objects.get(code=code)
        assert grant.expires <= timezone.now() + timedelta(seconds=60)
        Grant.objects.filter(pk=grant.pk).update(expires=timezone.now() - timedelta(seconds=1))
    status, body = acme_flow.exchange(acme_web, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_code_is_bound_to_client_and_redirect_uri(acme, acme_web, acme_flow):
    other = register_app(acme, redirect_uri="https://other.example/cb", name="Other")
    code, verifier = acme_flow.code(acme_web)
    status, body = acme_flow.exchange(other, code, verifier, redirect_uri=acme_web.redirect_uri)
    assert (status, body["error"]) == (400, "invalid_grant")
    code, verifier = acme_flow.code(acme_web)
    status, body = acme_flow.exchange(
        acme_web, code, verifier, redirect_uri="https://app.example/callback/"
    )
    assert status == 400 and body["error"] in ("invalid_grant", "invalid_request")


# 17. Only response_type=code; implicit, hybrid and password grants refused.


@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token", "code id_token"])
def test_implicit_and_hybrid_response_types_are_refused(acme_web, acme_flow, response_type):
    response, _ = acme_flow.authorize(acme_web, response_type=response_type)
    assert response.status_code == 302
    error = query_of(response["Location"])["error"]
    assert error in ("unsupported_response_type", "unauthorized_client")
    assert "access_token" not in response["Location"] and "id_token" not in response["Location"]


def test_password_grant_is_refused(acme, acme_web, acme_flow):
    status, body = acme_flow.token(
        acme_web,
        {"grant_type": "password", "username": acme.member.email, "password": PASSWORD},
    )
    assert (status, body["error"]) == (400, "unsupported_grant_type")


# 18. Each client only its own grant types and scopes.


def test_web_app_cannot_use_client_credentials(acme_web, acme_flow):
    status, body = acme_flow.token(acme_web, {"grant_type": "client_credentials"})
    assert status in (400, 401) and body["error"] == "unauthorized_client"


def test_daemon_cannot_sign_users_in(acme, acme_flow):
    daemon = register_app(acme, app_type="daemon")
    daemon.redirect_uri = "https://app.example/callback"
    response, _ = acme_flow.authorize(daemon)
    assert "code=" not in response.get("Location", "")


def test_scopes_outside_the_clients_set_are_invalid_scope(acme, acme_web, acme_flow):
    daemon = register_app(acme, app_type="daemon")
    status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials", "scope": "openid"})
    assert (status, body["error"]) == (400, "invalid_scope")
    response, _ = acme_flow.authorize(acme_web, scope=f"openid http://{acme.host}/o/api/.default")
    assert query_of(response["Location"])["error"] == "invalid_scope"


# 19. Confidential clients authenticate at token, revoke and introspect; secrets are stored
# with a fast keyed hash.


def test_confidential_client_with_wrong_or_no_secret_is_refused(acme, acme_web, acme_flow):
    code, verifier = acme_flow.code(acme_web)
    status, body = acme_flow.token(
        acme_web,
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
         "redirect_uri": acme_web.redirect_uri},
        secret="wrong",
    )  # fmt: skip
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = acme_flow.token(
        acme_web,
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
         "redirect_uri": acme_web.redirect_uri},
        secret=None,
    )  # fmt: skip
    assert status == 401


def test_revoke_and_introspect_need_client_authentication(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    client = acme.client()
    denied = client.post("/o/introspect/", {"token": body["access_token"]})
    assert denied.status_code == 401
    wrong = client.post(
        "/o/introspect/",
        {"token": body["access_token"], "client_id": acme_web.client_id, "client_secret": "x"},
    )
    assert wrong.status_code == 401
    credentials = {"client_id": acme_web.client_id, "client_secret": acme_web.secret}
    active = client.post("/o/introspect/", {"token": body["access_token"], **credentials})
    assert active.json()["active"] is True
    assert active.json()["sub"] == str(acme.member.public_id)
    refused = client.post("/o/revoke/", {"token": body["refresh_token"]})
    assert refused.status_code == 401
    revoked = client.post("/o/revoke/", {"token": body["refresh_token"], **credentials})
    assert revoked.status_code == 200
    gone = client.post("/o/introspect/", {"token": body["refresh_token"], **credentials})
    assert gone.json() == {"active": False}


def test_client_secret_is_stored_as_a_keyed_hash(acme, acme_web):
    from django.contrib.auth.hashers import identify_hasher

    from oidc.client_secrets import secret_digest

    with tenant_context(acme.tenant):
        stored = acme_web.application.secrets.get()
        assert stored.digest == secret_digest(acme_web.secret)
        assert acme_web.secret not in stored.digest and len(stored.digest) == 64
        with pytest.raises(ValueError):
            identify_hasher(stored.digest)
        acme_web.application.refresh_from_db()
        assert acme_web.application.client_secret == ""


def test_two_secrets_work_during_rotation_and_a_revoked_one_stops(acme, acme_flow):
    from oidc.services import client_secret_create, client_secret_revoke

    daemon = register_app(acme, app_type="daemon")
    with tenant_context(acme.tenant):
        old = daemon.application.secrets.get()
        _record, new_secret = client_secret_create(application=daemon.application, actor=acme.admin)
        with pytest.raises(ValidationError):
            client_secret_create(application=daemon.application, actor=acme.admin)
    flow = Flow(acme)
    assert flow.token(daemon, {"grant_type": "client_credentials"})[0] == 200
    assert flow.token(daemon, {"grant_type": "client_credentials"}, secret=new_secret)[0] == 200
    with tenant_context(acme.tenant):
        client_secret_revoke(secret=old, actor=acme.admin)
    assert flow.token(daemon, {"grant_type": "client_credentials"})[0] == 401
    assert flow.token(daemon, {"grant_type": "client_credentials"}, secret=new_secret)[0] == 200


# 20. Refresh tokens rotate; reuse revokes the family; absolute lifetime.


def test_reusing_a_rotated_refresh_token_revokes_the_family(acme_web, acme_flow):
    first = acme_flow.sign_in(acme_web)
    grant = {"grant_type": "refresh_token"}
    status, second = acme_flow.token(acme_web, {**grant, "refresh_token": first["refresh_token"]})
    assert status == 200
    status, replay = acme_flow.token(acme_web, {**grant, "refresh_token": first["refresh_token"]})
    assert (status, replay["error"]) == (400, "invalid_grant")
    status, after = acme_flow.token(acme_web, {**grant, "refresh_token": second["refresh_token"]})
    assert (status, after["error"]) == (400, "invalid_grant")


def test_refresh_tokens_have_an_absolute_lifetime(acme, acme_web, acme_flow):
    from oidc.clients import clients_forget
    from oidc.models import Application

    first = acme_flow.sign_in(acme_web)
    grant = {"grant_type": "refresh_token"}
    status, second = acme_flow.token(acme_web, {**grant, "refresh_token": first["refresh_token"]})
    assert status == 200
    # The app's absolute lifetime (counted from the sign-in, not the last refresh) has run out.
    with tenant_context(acme.tenant):
        Application.objects.filter(pk=acme_web.application.pk).update(refresh_token_lifetime=0)
        clients_forget()
    status, body = acme_flow.token(acme_web, {**grant, "refresh_token": second["refresh_token"]})
    assert (status, body["error"]) == (400, "invalid_grant")


# 23. prompt=none without a session; max_age forces sign-in and sets auth_time.


def test_prompt_none_without_session_returns_login_required(acme, acme_web):
    response, _ = Flow(acme).authorize(acme_web, prompt="none")
    assert response.status_code == 302
    assert response["Location"].startswith(acme_web.redirect_uri)
    assert query_of(response["Location"])["error"] == "login_required"


# max_age, prompt=login and auth_time: tests/oidc/test_authorization_requests.py


# 24. RP-initiated logout only to registered post-logout URIs.


def test_logout_redirects_only_to_registered_post_logout_uris(acme):
    app = register_app(acme, post_logout="https://app.example/signed-out")
    flow = Flow(acme, user=acme.member)
    body = flow.sign_in(app)
    unregistered = flow.browser.get(
        "/o/logout/?"
        + urlencode(
            {"id_token_hint": body["id_token"], "post_logout_redirect_uri": "https://evil.test/"}
        )
    )
    assert unregistered.status_code == 400 and "Location" not in unregistered
    unknown_client = flow.browser.get(
        "/o/logout/?"
        + urlencode({"client_id": "nope", "post_logout_redirect_uri": "https://evil.test/"})
    )
    assert unknown_client.status_code == 400
    registered = flow.browser.post(
        "/o/logout/",
        {
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": "https://app.example/signed-out",
            "state": "s1",
            "allow": "on",
        },
    )
    assert registered.status_code == 302
    assert registered["Location"] == "https://app.example/signed-out?state=s1"


# 26. Sign-in and consent pages cannot be framed; credential POSTs answer 302/303.


def test_consent_and_sign_in_pages_cannot_be_framed(acme):
    third_party = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    consent, _ = flow.authorize(third_party)
    assert consent.status_code == 200
    assert b"Partner app" in consent.content
    login = acme.client().get("/accounts/login/")
    for response in (consent, login):
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_consent_is_asked_once_and_can_be_revoked(acme):
    third_party = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    consent_page, verifier = flow.authorize(third_party)
    posted = flow.browser.post("/o/authorize/", {**consent_form(consent_page), "allow": "on"})
    assert posted.status_code in (302, 303)
    code = query_of(posted["Location"])["code"]
    status, tokens = flow.exchange(third_party, code, verifier)
    assert status == 200
    again, _ = flow.authorize(third_party)
    assert again.status_code == 302 and "code=" in again["Location"]
    listing = flow.browser.get("/account/apps/")
    assert b"Partner app" in listing.content
    consent_id = listing.context["consents"][0].public_id
    flow.browser.post(f"/account/apps/{consent_id}/revoke/")
    status, body = flow.token(
        third_party, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    asked_again, _ = flow.authorize(third_party)
    assert asked_again.status_code == 200


def test_declining_consent_returns_access_denied(acme):
    third_party = register_app(acme, first_party=False, name="Partner app")
    flow = Flow(acme, user=acme.member)
    consent_page, _ = flow.authorize(third_party)
    posted = flow.browser.post("/o/authorize/", consent_form(consent_page))
    assert posted.status_code == 302
    assert query_of(posted["Location"])["error"] == "access_denied"


def test_prompt_none_for_a_third_party_app_without_consent_returns_consent_required(acme):
    third_party = register_app(acme, first_party=False, name="Partner app")
    response, _ = Flow(acme, user=acme.member).authorize(third_party, prompt="none")
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "consent_required"


# 25 (part). An ID token is not an access token.


def test_an_id_token_is_refused_as_a_bearer_token(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    response = acme.client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['id_token']}")
    assert response.status_code == 401


def test_a_user_sees_and_withdraws_only_their_own_consents(acme, globex):
    from oidc.services import consent_grant

    third_party = register_app(acme, first_party=False, name="Partner app")
    with tenant_context(acme.tenant):
        consent = consent_grant(
            user=acme.member, application=third_party.application, scopes=["openid"]
        )
    other_user = acme.client(user=acme.admin)
    assert b"Partner app" not in other_user.get("/account/apps/").content
    assert other_user.post(f"/account/apps/{consent.public_id}/revoke/").status_code == 404
    outsider = globex.client(user=globex.member)
    assert outsider.post(f"/account/apps/{consent.public_id}/revoke/").status_code == 404
    with tenant_context(acme.tenant):
        consent.refresh_from_db()  # still there


def test_my_account_links_to_the_apps_you_allowed(acme, acme_web, acme_flow):
    acme_flow.sign_in(acme_web)
    page = acme_flow.browser.get("/account/")
    assert page.status_code == 200
    assert b'href="/account/apps/"' in page.content
