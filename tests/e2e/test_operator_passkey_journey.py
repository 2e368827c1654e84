"""An operator's passkey in Chromium under the CSP the server sends, with a virtual
authenticator (DevTools protocol WebAuthn.addVirtualAuthenticator): created at the set-up step
instead of an authenticator app (recovery codes shown once), then the second factor after the
password at the next sign-in."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import axe_violations, with_virtual_authenticator
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_an_operator_creates_a_passkey_at_set_up_then_signs_in_with_it(
    browser, running_server, committed
):
    from django.contrib.auth import get_user_model

    from operators.models import OperatorPasskeyDevice

    email = f"ops-key-{uuid.uuid4().hex[:8]}@platform.example"
    operator = get_user_model().objects.create_superuser(email=email, password=PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    session, authenticator = with_virtual_authenticator(context, page)

    def password_step():
        page.goto(running_server.url("localhost", "/operator/"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    password_step()
    page.wait_for_url("**/operator/login/setup/**")
    assert axe_violations(page) == []
    page.get_by_label("Name").fill("Desk key")
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_selector("#recovery-codes li")  # the answer's page, not the form's
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url("**/operator/")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    credentials = session.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["rpId"] for c in credentials["credentials"]] == ["localhost"]
    assert OperatorPasskeyDevice.objects.filter(user=operator, name="Desk key").exists()

    # Operator > Passkeys lists it.
    page.get_by_role("link", name="Passkeys").click()
    page.wait_for_url("**/operator/passkeys/")
    assert page.locator("#operator-passkeys strong").inner_text() == "Desk key"
    assert axe_violations(page) == []

    # The next sign-in: the password, then the passkey.
    page.get_by_role("button", name="Sign out").click()
    password_step()
    page.wait_for_url("**/operator/login/code/**")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/operator/")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    context.close()
