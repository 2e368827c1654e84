"""OpenID Connect and the second factor: an app may require MFA (a session without it proves
one, or sets one up, before the code is issued), and max_age / prompt=login ask for the whole
chain again: the password, then the second factor."""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from ciam.sessions import SIGNED_IN_AT
from oidc.models import Application
from tests.helpers import PASSWORD, tenant_client
from tests.mfa.helpers import (
    code_for,
    code_from_secret,
    make_user,
    password_step,
    recovery_codes_on_page,
    secret_on_page,
    with_authenticator,
)
from tests.oidc.helpers import Flow, jwt_parts, query_of, register_app

RECORDS = "account_authentication_methods"


@pytest.fixture
def web_app(acme):
    return register_app(acme)


@pytest.fixture
def mfa_app(acme):
    app = register_app(acme, name="Payroll", redirect_uri="https://payroll.example/callback")
    with tenant_context(acme.tenant):
        Application.objects.filter(pk=app.application.pk).update(require_mfa=True)
        from oidc.clients import clients_forget_all

        clients_forget_all()
    return app


def flow_of(world, client) -> Flow:
    flow = Flow(world)
    flow.browser = client
    return flow


def signed_in_with_password(world, user):
    client = tenant_client(world)
    assert password_step(client, user)["Location"] == "/account/"
    return client


def signed_in_with_app_code(world, user, device):
    client = tenant_client(world)
    challenge = password_step(client, user)["Location"]
    assert client.post(challenge, {"code": code_for(device), "method": "totp"}).status_code == 302
    return client


def long_ago(world, client, seconds=7200):
    with tenant_context(world.tenant):
        session = client.session
        session[SIGNED_IN_AT] -= seconds
        session[RECORDS] = [{**record, "at": record["at"] - seconds} for record in session[RECORDS]]
        session.save()


def id_token(flow, app, code, verifier) -> dict:
    status, body = flow.exchange(app, code, verifier)
    assert status == 200, body
    return jwt_parts(body["id_token"])[1]


def test_an_app_requiring_mfa_has_a_password_only_session_set_one_up_then_gets_its_code(
    acme, mfa_app
):
    user = make_user(acme)
    client = signed_in_with_password(acme, user)
    flow = flow_of(acme, client)
    response, verifier = flow.authorize(mfa_app)
    assert response.status_code == 302
    step_up = response["Location"]
    assert step_up.startswith("/accounts/mfa/verify/?next=%2Fo%2Fauthorize%2F")
    page = client.get(step_up)
    assert page.status_code == 200
    # Its form may lead on to the app once the authorize URL answers (form-action CSP).
    assert "https://payroll.example" in page["Content-Security-Policy"]
    codes_page = client.post(step_up, {"code": code_from_secret(secret_on_page(page))})
    assert codes_page.status_code == 200
    assert len(recovery_codes_on_page(codes_page)) == 10
    back = client.post(step_up, {"action": "continue"})
    assert back.status_code == 302 and back["Location"].startswith("/o/authorize/?")
    issued = client.get(back["Location"])
    assert issued.status_code == 302
    assert issued["Location"].startswith(mfa_app.redirect_uri)
    claims = id_token(flow, mfa_app, query_of(issued["Location"])["code"], verifier)
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_an_app_requiring_mfa_asks_a_session_without_it_for_a_code(acme, mfa_app, web_app):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    flow = Flow(acme, user=user)  # a session that never proved the second factor
    # Another app does not ask.
    assert flow.authorize(web_app)[0]["Location"].startswith(web_app.redirect_uri)
    response, verifier = flow.authorize(mfa_app)
    step_up = response["Location"]
    assert step_up.startswith("/accounts/mfa/verify/")
    assert flow.browser.get(step_up).status_code == 200
    back = flow.browser.post(step_up, {"code": code_for(device), "method": "totp"})
    issued = flow.browser.get(back["Location"])
    assert issued["Location"].startswith(mfa_app.redirect_uri)
    # prompt=none is answered at once from now on.
    response, _ = flow.authorize(mfa_app, prompt="none")
    assert "code=" in response["Location"]


def test_prompt_none_to_an_app_requiring_mfa_without_it_is_interaction_required(acme, mfa_app):
    user = make_user(acme)
    flow = flow_of(acme, signed_in_with_password(acme, user))
    response, _ = flow.authorize(mfa_app, prompt="none")
    assert query_of(response["Location"])["error"] == "interaction_required"


@pytest.mark.parametrize("option", [{"max_age": "60"}, {"prompt": "login"}])
def test_max_age_and_prompt_login_ask_for_the_password_then_the_second_factor(
    acme, web_app, option
):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = signed_in_with_app_code(acme, user, device)
    long_ago(acme, client)
    flow = flow_of(acme, client)
    response, verifier = flow.authorize(web_app, **option)
    reauthenticate = response["Location"]
    assert reauthenticate.startswith("/accounts/reauthenticate/")
    after_password = client.post(reauthenticate, {"password": PASSWORD})
    step_up = after_password["Location"]
    assert step_up.startswith("/accounts/mfa/verify/?next=%2Fo%2Fauthorize%2F")
    # The password alone does not make the sign-in recent: the app still waits.
    again, _ = flow.authorize(web_app, max_age="60")
    assert again["Location"].startswith("/accounts/reauthenticate/")
    back = client.post(step_up, {"code": code_for(device, steps=1), "method": "totp"})
    assert back["Location"].startswith("/o/authorize/")
    issued = client.get(back["Location"])
    assert issued["Location"].startswith(web_app.redirect_uri)
    claims = id_token(flow, web_app, query_of(issued["Location"])["code"], verifier)
    assert time.time() - claims["auth_time"] < 60
    assert claims["amr"] == ["pwd", "otp", "mfa"]


def test_an_admin_turns_require_mfa_on_in_the_console_audited(acme, web_app):
    from audit.models import AuditEvent
    from tests.oidc.helpers import APP_FORM

    client = acme.client(user=acme.admin)
    url = f"/console/apps/{web_app.application.public_id}/"
    form = client.get(url + "edit/").content.decode()
    assert 'name="require_mfa"' in form
    response = client.post(url + "edit/", {**APP_FORM, "require_mfa": "on"})
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        web_app.application.refresh_from_db()
        assert web_app.application.require_mfa
        event = AuditEvent.objects.filter(action="app.update").latest("id")
        assert (event.before["require_mfa"], event.after["require_mfa"]) == (False, True)
    assert "Required: users prove a second factor" in client.get(url).content.decode()
    # From now on the app's sign-ins ask for one.
    web_app.redirect_uri = "https://portal.example/callback"
    response, _ = Flow(acme, user=acme.member).authorize(web_app)
    assert response["Location"].startswith("/accounts/mfa/verify/")


def require_mfa_of(world, app):
    from oidc.clients import clients_forget_all

    with tenant_context(world.tenant):
        Application.objects.filter(pk=app.application.pk).update(require_mfa=True)
    clients_forget_all()


def test_a_refresh_token_from_a_sign_in_without_mfa_is_refused_once_its_app_requires_it(
    acme, web_app
):
    user = make_user(acme)
    flow = flow_of(acme, signed_in_with_password(acme, user))
    issued = flow.sign_in(web_app)
    status, body = flow.token(
        web_app, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    )
    assert status == 200, body
    require_mfa_of(acme, web_app)
    status, refused = flow.token(
        web_app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 400
    assert refused["error"] == "invalid_grant"
    assert "requires multifactor authentication" in refused["error_description"]


def test_a_refresh_token_from_a_sign_in_with_mfa_still_serves_an_app_requiring_it(acme, web_app):
    user = make_user(acme)
    device = with_authenticator(acme, user)
    flow = flow_of(acme, signed_in_with_app_code(acme, user, device))
    require_mfa_of(acme, web_app)
    issued = flow.sign_in(web_app)
    status, body = flow.token(
        web_app, {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    )
    assert status == 200, body
    assert jwt_parts(body["id_token"])[1]["amr"] == ["pwd", "otp", "mfa"]
    status, again = flow.token(
        web_app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 200, again
