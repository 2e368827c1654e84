"""The ID token's `amr` says how this browser session signed in (RFC 8176), and a refreshed
ID token keeps it, as it keeps `auth_time`."""

from __future__ import annotations

import pytest

from tests.helpers import tenant_client
from tests.mfa.helpers import code_for, make_user, password_step, with_authenticator
from tests.oidc.helpers import Flow, jwt_parts, register_app


@pytest.fixture
def acme_web(acme):
    return register_app(acme)


def signed_in_flow(world, client) -> Flow:
    flow = Flow(world)
    flow.browser = client
    return flow


def id_token_claims(body: dict) -> dict:
    return jwt_parts(body["id_token"])[1]


def test_a_password_sign_in_gives_amr_pwd_and_a_refresh_keeps_it(acme, acme_web):
    user = make_user(acme)
    client = tenant_client(acme)
    assert password_step(client, user)["Location"] == "/account/"
    flow = signed_in_flow(acme, client)
    body = flow.sign_in(acme_web)
    assert id_token_claims(body)["amr"] == ["pwd"]
    status, refreshed = flow.token(
        acme_web, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 200
    assert id_token_claims(refreshed)["amr"] == ["pwd"]


def test_password_and_authenticator_app_give_pwd_otp_mfa_kept_across_refreshes(acme, acme_web):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    assert client.post(challenge, {"code": code_for(device), "method": "totp"}).status_code == 302
    flow = signed_in_flow(acme, client)
    body = flow.sign_in(acme_web)
    claims = id_token_claims(body)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    refresh_token = body["refresh_token"]
    for _ in range(2):
        status, body = flow.token(
            acme_web, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        assert status == 200
        assert id_token_claims(body)["amr"] == ["pwd", "otp", "mfa"]
        assert id_token_claims(body)["auth_time"] == claims["auth_time"]
        refresh_token = body["refresh_token"]


def test_an_emailed_code_as_second_factor_is_email(acme, acme_web):
    from django_tenants.utils import tenant_context

    from emails.models import OutboxEmail
    from tests.helpers import CODE

    user = make_user(acme)
    with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    client.post(challenge, {"action": "send", "method": "email_code"})
    with tenant_context(acme.tenant):
        email = OutboxEmail.objects.filter(to=user.email).latest("id")
        code = CODE.search(email.payload["text"]).group(1)
    assert client.post(challenge, {"code": code, "method": "email_code"}).status_code == 302
    body = signed_in_flow(acme, client).sign_in(acme_web)
    assert id_token_claims(body)["amr"] == ["pwd", "email", "mfa"]
