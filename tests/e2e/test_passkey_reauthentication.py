"""Re-authentication with a passkey in Chromium under the CSP the server sends, with a virtual
authenticator: a person without a password, signed in with their passkey, confirms it is them
with the passkey before adding another one."""

from __future__ import annotations

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context

from tests.browser import axe_violations, with_virtual_authenticator
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_without_a_password_the_passkey_confirms_it_is_them(
    browser, running_server, worlds, committed
):
    acme = worlds["acme"]
    email = f"passkey-only-{uuid.uuid4().hex[:8]}@example.org"
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    connection.close()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    session, authenticator = with_virtual_authenticator(context, page)

    # The first passkey, made while the account still had a password; its recovery codes.
    page.goto(running_server.url(acme.host, "/account/security/passkeys/add/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/security/passkeys/add/")
    page.get_by_label("Name").fill("Phone")
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_selector("#recovery-codes li")
    page.get_by_role("link", name="I saved them").click()
    page.wait_for_url("**/account/security/")
    page.get_by_role("button", name="Sign out").click()
    with tenant_context(acme.tenant):
        person = get_user_model().objects.get(pk=user.pk)
        person.set_unusable_password()
        person.save(update_fields=["password"])
    connection.close()

    # Signed in with the passkey (the sign-in page's autofill), then a sensitive page: the
    # passkey is asked for again, with no password page on the way.
    page.goto(running_server.url(acme.host, "/accounts/login/"))
    page.wait_for_url("**/account/")
    page.goto(running_server.url(acme.host, "/account/security/passkeys/add/"))
    page.wait_for_url("**/accounts/reauthenticate/passkey/**")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/account/security/passkeys/add/")
    # Another device (the phone's passkey is excluded from a new registration on the phone).
    session.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    with_virtual_authenticator(context, page)
    page.get_by_label("Name").fill("Tablet")
    page.get_by_role("button", name="Create the passkey").click()
    page.wait_for_url("**/account/security/")
    assert page.locator("#passkeys strong").all_inner_texts() == ["Phone", "Tablet"]
    context.close()
