"""Passkeys in Chromium under the CSP the server sends, with a virtual authenticator (DevTools
protocol: a platform authenticator that stores discoverable credentials and verifies the
person): added in My account, then signing in to an app on another origin without a
password, as a second factor after a password, refused when unknown, and removed."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
from allauth.account.models import EmailAddress
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import axe_violations, with_virtual_authenticator
from tests.e2e.relying_party import RelyingParty
from tests.helpers import PASSWORD
from tests.oidc.helpers import register_app

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def relying_party():
    party = RelyingParty().start()
    yield party
    party.stop()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_passkey_added_then_signs_in_without_password_as_second_factor_and_is_removed(
    browser, relying_party, running_server, worlds, committed
):
    acme = worlds["acme"]
    email = f"passkey-journey-{uuid.uuid4().hex[:8]}@example.org"
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    app = register_app(
        acme,
        name=f"Passkey journey {uuid.uuid4().hex[:6]}",
        redirect_uri=relying_party.redirect_uri,
    )
    relying_party.connect(
        tenant_host=acme.host,
        server_port=running_server.port,
        client_id=app.client_id,
        secret=app.secret,
    )
    connection.close()
    rp_id = acme.host.split(":")[0]

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    session, authenticator = with_virtual_authenticator(context, page)

    # My account > Security > Add a passkey, after the password typed again.
    page.goto(running_server.url(acme.host, "/account/security/passkeys/add/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/security/passkeys/add/")
    assert axe_violations(page) == []
    page.get_by_label("Name").fill("Test phone")
    page.get_by_role("button", name="Create the passkey").click()
    # The first second factor: its recovery codes, shown once.
    page.wait_for_selector("#recovery-codes li")
    expect(page.get_by_text("Your passkey Test phone is set up.")).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I saved them").click()
    page.wait_for_url("**/account/security/")
    assert page.locator("#passkeys strong").inner_text() == "Test phone"
    credentials = session.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["rpId"] for c in credentials["credentials"]] == [rp_id]
    assert credentials["credentials"][0]["isResidentCredential"]
    page.get_by_role("button", name="Sign out").click()

    # The app sends the person to sign in. The sign-in page asks the browser for a passkey in
    # the email field's autofill (conditional UI); the virtual authenticator answers as a
    # person picking it would: no password, and back to the app.
    page.goto(relying_party.url("/login"))
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {email}"

    # Another browser session: the password, then the passkey as the second step. The
    # authenticator waits for a touch meanwhile, so that the autofill request stays pending.
    context.clear_cookies()
    session.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator, "enabled": False},
    )
    page.goto(running_server.url(acme.host, "/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/mfa/**")
    assert axe_violations(page) == []
    session.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator, "enabled": True},
    )
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/account/")

    # Removed from My account: the list is empty and the password alone signs in again.
    page.goto(running_server.url(acme.host, "/account/security/"))
    page.get_by_role("link", name="Remove Test phone").click()
    if "/accounts/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        # A sensitive change asks for the second factor too (mfa.step_up): the passkey.
        page.wait_for_url("**/accounts/mfa/verify/**")
        page.get_by_role("button", name="Use a passkey").click()
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/account/security/")
    expect(page.get_by_text("The passkey is removed.")).to_be_visible()
    assert page.locator("#passkeys").count() == 0
    context.close()


def test_an_unknown_passkey_is_refused(browser, running_server, worlds, committed):
    acme = worlds["acme"]
    rp_id = acme.host.split(":")[0]
    context = browser.new_context()
    page = context.new_page()
    session, authenticator = with_virtual_authenticator(context, page)
    # A passkey for this very host that the site never registered.
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    session.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": b64(os.urandom(32)),
                "isResidentCredential": True,
                "rpId": rp_id,
                "privateKey": b64(pkcs8),
                "userHandle": b64(os.urandom(16)),
                "signCount": 0,
            },
        },
    )
    # The autofill request gets it first (as if picked): refused, and not asked again by
    # itself; the button asks again: refused again.
    page.goto(running_server.url(acme.host, "/accounts/login/"))
    page.wait_for_url("**/accounts/login/?passkey=retry")
    page.get_by_text("This passkey was not accepted").wait_for()
    assert axe_violations(page) == []
    with page.expect_navigation(url="**/accounts/login/?passkey=retry"):
        page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_text("This passkey was not accepted")).to_be_visible()
    page.goto(running_server.url(acme.host, "/account/"))
    page.wait_for_url("**/accounts/login/**")
    context.close()
