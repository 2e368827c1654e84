"""Every hosted account page renders in the hosted layout, and no log line carries a secret."""

from __future__ import annotations

import logging

import pytest

from tests.helpers import PASSWORD, make_user, sign_in, tenant_client, unique_email

ANONYMOUS_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/login/code/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/confirm-email/",
    "/accounts/inactive/",
    "/accounts/password/reset/key/done/",
    "/accounts/password/reset/key/1-bogus/",
    "/accounts/confirm-email/bogus-key/",
]
SIGNED_IN_PAGES = [
    "/account/",
    "/account/profile/",
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/sessions/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_pages_render_in_the_hosted_layout(acme, path):
    response = tenant_client(acme).get(path, follow=True)
    body = response.content.decode()
    assert response.status_code == 200, path
    assert 'class="hosted-card' in body and body.count("<h1") == 1, path


def test_signed_in_pages_render_in_the_hosted_layout(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    sign_in(client, user.email, PASSWORD)
    for path in SIGNED_IN_PAGES:
        response = client.get(path)
        body = response.content.decode()
        assert response.status_code == 200, path
        assert 'class="hosted-card' in body and body.count("<h1") == 1, path
        assert 'style="' not in body, path  # the Content-Security-Policy forbids inline styles


def test_no_log_line_holds_a_password_or_code(acme, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user(acme)
    secret = "a-very-secret-wrong-passphrase"
    sign_in(tenant_client(acme), user.email, secret)
    sign_in(tenant_client(acme), user.email, PASSWORD)
    tenant_client(acme).post("/accounts/signup/", {"email": unique_email(), "password1": secret})
    client = tenant_client(acme)
    client.post("/accounts/login/code/", {"email": user.email})
    client.post("/accounts/login/code/confirm/", {"code": "123456"})
    text = caplog.text
    assert secret not in text and PASSWORD not in text and "123456" not in text
