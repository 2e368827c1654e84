"""Authorization code + PKCE, client credentials and rotating refresh, through the endpoints."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from tests.oidc.helpers import Flow, jwt_parts, register_app


def test_code_with_pkce_issues_signed_id_and_access_tokens(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    issuer = f"http://{acme.host}/o"
    id_header, id_claims = jwt_parts(body["id_token"])
    assert id_header["alg"] == "RS256" and id_header["kid"]
    assert id_claims["iss"] == issuer
    assert id_claims["aud"] == acme_web.client_id
    assert id_claims["nonce"] == "nonce-456"
    assert id_claims["sub"] == str(acme.member.public_id)
    assert id_claims["email"] == acme.member.email
    assert id_claims["tid"] == str(acme.tenant.public_id)
    at_header, at_claims = jwt_parts(body["access_token"])
    assert at_header["typ"] == "at+jwt"
    assert at_claims["iss"] == issuer and at_claims["aud"] == acme_web.client_id
    assert at_claims["sub"] == str(acme.member.public_id)
    assert "openid" in at_claims["scp"].split() and at_claims["exp"] > at_claims["iat"]
    assert body["refresh_token"]


def test_authorization_response_carries_the_tenant_issuer(acme, acme_web, acme_flow):
    response, _verifier = acme_flow.authorize(acme_web)
    assert f"iss=http%3A%2F%2F{acme.host}%2Fo" in response["Location"]


def test_userinfo_answers_with_the_users_claims(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    response = acme.client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    )
    assert response.status_code == 200
    assert response.json()["email"] == acme.member.email


def test_client_credentials_token_carries_application_permissions(acme):
    daemon = register_app(acme, app_type="daemon", permissions=["User.Invite.All"])
    status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials"})
    assert status == 200, body
    _header, claims = jwt_parts(body["access_token"])
    assert claims["roles"] == ["User.Invite.All"]
    assert claims["aud"] == f"http://{acme.host}/o/api"
    assert claims["sub"] == daemon.client_id
    assert "refresh_token" not in body


def test_refresh_rotates_and_keeps_the_user(acme, acme_web, acme_flow):
    first = acme_flow.sign_in(acme_web)
    status, second = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert jwt_parts(second["access_token"])[1]["sub"] == str(acme.member.public_id)


def test_app_roles_assigned_to_a_user_are_in_the_tokens(acme, acme_web, acme_flow):
    from oidc.services import app_role_assign, app_role_create

    with tenant_context(acme.tenant):
        role = app_role_create(
            application=acme_web.application, value="Reports.Read", display_name="Reader",
            actor=acme.admin,
        )  # fmt: skip
        app_role_assign(role=role, user=acme.member, actor=acme.admin)
    body = acme_flow.sign_in(acme_web)
    assert jwt_parts(body["access_token"])[1]["roles"] == ["Reports.Read"]
    assert jwt_parts(body["id_token"])[1]["roles"] == ["Reports.Read"]


def test_every_token_issue_and_refusal_is_in_the_sign_in_log(acme, acme_web, acme_flow):
    from audit.models import SignInEvent

    acme_flow.sign_in(acme_web)
    acme_flow.token(acme_web, {"grant_type": "client_credentials"})
    with tenant_context(acme.tenant):
        events = list(SignInEvent.objects.filter(app_id=acme_web.client_id).order_by("occurred_at"))
    assert [(e.result, e.grant) for e in events] == [
        ("success", "authorization_code"),
        ("failure", "client_credentials"),
    ]
    assert events[0].user_id == acme.member.pk
    assert events[0].app_name == "Test app"


def test_custom_attributes_reach_the_id_token_by_mapping_with_the_profile_scope(acme):
    app = register_app(acme, claim_mappings="loyalty_level = loyaltyLevel")
    with tenant_context(acme.tenant):
        type(acme.member).objects.filter(pk=acme.member.pk).update(
            attributes={"loyaltyLevel": "gold", "secretNote": "not mapped"}
        )
    flow = Flow(acme, user=acme.member)
    with_profile = jwt_parts(flow.sign_in(app, scope="openid profile")["id_token"])[1]
    assert with_profile["loyalty_level"] == "gold"
    assert "secretNote" not in with_profile
    without_profile = jwt_parts(flow.sign_in(app, scope="openid")["id_token"])[1]
    assert "loyalty_level" not in without_profile and "email" not in without_profile


def test_standard_claims_cannot_be_remapped(acme):
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        register_app(acme, claim_mappings="sub = loyaltyLevel\nemail = x")
    assert "claim_mappings" in error.value.message_dict


def test_cleanup_keeps_live_tokens_and_deletes_outlived_ones(acme, acme_web, acme_flow):
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import RefreshToken

    from oidc.services import tokens_cleanup as cleanup

    live = acme_flow.sign_in(acme_web)
    status, rotated = acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": live["refresh_token"]}
    )
    assert status == 200
    with tenant_context(acme.tenant):
        mine = RefreshToken.objects.filter(application=acme_web.application)
        cleanup()
        assert mine.count() == 2  # the revoked one stays to catch a replay
        # Other tests may have left tokens in the shared tenant: they count too.
        counts = cleanup(now=timezone.now() + timedelta(days=15))
        assert counts["refresh tokens"] >= 2 and counts["redeemed codes"] >= 1
        assert not mine.exists()


def test_single_page_apps_may_call_the_token_endpoint_from_their_origin(acme):
    spa = register_app(acme, app_type="spa", redirect_uri="https://spa.example/auth")
    web = register_app(acme, redirect_uri="https://web.example/cb")
    flow = Flow(acme, user=acme.member)
    code, verifier = flow.code(spa)
    response = flow.api.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
         "redirect_uri": spa.redirect_uri, "client_id": spa.client_id},
        HTTP_ORIGIN="https://spa.example",
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://spa.example"
    other = flow.api.post(
        "/o/token/", {"grant_type": "refresh_token", "client_id": spa.client_id,
                      "refresh_token": "x"}, HTTP_ORIGIN="https://evil.example",
    )  # fmt: skip
    assert "Access-Control-Allow-Origin" not in other
    confidential = flow.api.post(
        "/o/token/", {"grant_type": "client_credentials", "client_id": web.client_id,
                      "client_secret": web.secret}, HTTP_ORIGIN="https://web.example",
    )  # fmt: skip
    assert "Access-Control-Allow-Origin" not in confidential


def test_no_code_token_or_secret_reaches_the_logs(acme, acme_web, acme_flow, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    code, verifier = acme_flow.code(acme_web)
    status, body = acme_flow.exchange(acme_web, code, verifier)
    assert status == 200
    acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    acme_flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    acme_flow.exchange(acme_web, code, verifier)  # a replay, refused
    acme_flow.token(
        acme_web, {"grant_type": "client_credentials"}, secret="wrong-" + acme_web.secret
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the flows did log something
    for value in (code, verifier, acme_web.secret, body["access_token"], body["refresh_token"],
                  body["id_token"]):  # fmt: skip
        assert value not in logged


def test_identity_claims_relying_parties_trust_cannot_be_mapped(acme):
    import pytest
    from django.core.exceptions import ValidationError

    trusted = ["oid", "preferred_username", "upn", "groups", "wids", "email_verified", "sub",
               "iss", "aud", "tid", "roles", "nonce", "auth_time", "acr", "amr", "azp", "sid",
               "OID", "Preferred_Username", "xms_pl", "unique_name", "idp"]  # fmt: skip
    for claim in trusted:
        with pytest.raises(ValidationError) as error:
            register_app(acme, claim_mappings=f"{claim} = nickname")
        assert f"{claim} is a standard claim" in " ".join(
            error.value.message_dict["claim_mappings"]
        ), claim
    register_app(acme, claim_mappings="loyalty_tier = loyaltyLevel")


def test_the_nightly_cleanup_deletes_only_where_something_is_past_its_time(
    acme, acme_web, acme_flow
):
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone
    from oauth2_provider.models import RefreshToken

    from oidc.services import tokens_cleanup, tokens_cleanup_condition
    from oidc.tasks import tenant_tokens_cleanup
    from tenants.selectors import schema_has

    schedule = settings.CELERY_BEAT_SCHEDULE["oidc-tokens-cleanup"]
    assert schedule["task"] == "oidc.tasks.tokens_cleanup_all"
    acme_flow.sign_in(acme_web)
    with tenant_context(acme.tenant):
        tokens_cleanup()  # what other tests left behind in the shared tenant
        now = timezone.now()
        assert not schema_has(tokens_cleanup_condition(), {"now": now})
        assert tenant_tokens_cleanup() == {}  # nothing asked of the tables but the condition
        mine = RefreshToken.objects.filter(application=acme_web.application)
        assert mine.exists()
        # The sign-in outlived the app's absolute refresh lifetime.
        ended = now - timedelta(seconds=acme_web.application.refresh_token_lifetime + 60)
        mine.update(created=ended)
        assert schema_has(tokens_cleanup_condition(), {"now": now})
        counts = tenant_tokens_cleanup()
        assert counts["refresh tokens"] >= 1 and not mine.exists()
        assert not schema_has(tokens_cleanup_condition(), {"now": timezone.now()})
