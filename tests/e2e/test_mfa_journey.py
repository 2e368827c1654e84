"""MFA in Chromium under the CSP the server sends: a person adds an authenticator app in My
account (QR code and key, recovery codes shown once), then signs in to an app on its own
origin with a code from it; the challenge page's form leads on to the app."""

from __future__ import annotations

import re
import uuid
from base64 import b32decode

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django_otp.oath import totp
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.e2e.relying_party import RelyingParty
from tests.helpers import PASSWORD, TenantWorld
from tests.oidc.helpers import register_app

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def relying_party():
    party = RelyingParty().start()
    yield party
    party.stop()


def code_of(secret_text: str, *, steps: int = 0) -> str:
    secret = secret_text.replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, step=30, digits=6, drift=steps):06d}"


def test_add_an_authenticator_app_then_sign_in_to_an_app_with_it(
    browser, relying_party, running_server, worlds, committed
):
    acme = worlds["acme"]
    email = f"mfa-journey-{uuid.uuid4().hex[:8]}@example.org"
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    app = register_app(
        acme, name=f"MFA journey {uuid.uuid4().hex[:6]}", redirect_uri=relying_party.redirect_uri
    )
    relying_party.connect(
        tenant_host=acme.host,
        server_port=running_server.port,
        client_id=app.client_id,
        secret=app.secret,
    )
    connection.close()

    # Phone-sized: the QR code and the codes fit the screen.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(running_server.url(acme.host, "/account/security/authenticator/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/account/security/authenticator/")
    expect(page.locator("svg.mfa-qr")).to_be_visible()
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_of(secret))
    page.get_by_role("button", name="Verify and turn on").click()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()

    # Another browser: the app sends the person to sign in; password, then a code.
    context = browser.new_context()
    page = context.new_page()
    page.goto(relying_party.url("/login"))
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/mfa/**")
    expect(page.get_by_role("heading", name="Verify it's you")).to_be_visible()
    assert axe_violations(page) == []
    # A wrong code first: the message is next to the field.
    page.get_by_label("Code").fill("000000" if code_of(secret, steps=1) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("That code is not correct").wait_for()
    page.wait_for_timeout(1100)  # the wait after a wrong code
    # The code of the next step: the enrolment used this step's (a code works once).
    page.get_by_label("Code").fill(code_of(secret, steps=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {email}"
    assert re.match(r"[a-z2-9]{5}-[a-z2-9]{5}", codes[0])
    context.close()


def test_required_mfa_sets_up_an_app_during_a_sign_in_for_an_app(
    browser, relying_party, running_server, worlds, committed
):
    from mfa.models import MfaPolicy
    from tenants.services import tenant_create

    # A tenant of its own: the policy applies to everyone in it.
    slug = f"mfa-{uuid.uuid4().hex[:8]}"
    email = f"admin@{slug}.test"
    tenant = tenant_create(
        name="Required MFA Ltd", slug=slug, admin_email=email, admin_password=PASSWORD
    )
    with tenant_context(tenant):
        MfaPolicy.objects.create(requirement=MfaPolicy.Requirement.REQUIRED_ALL)
        admin = get_user_model().objects.get(email=email)
    world = TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)
    app = register_app(world, name="Required MFA app", redirect_uri=relying_party.redirect_uri)
    relying_party.connect(
        tenant_host=tenant.primary_host,
        server_port=running_server.port,
        client_id=app.client_id,
        secret=app.secret,
    )
    connection.close()

    context, page = _password_sign_in_to_app(browser, relying_party, email)
    page.wait_for_url("**/accounts/mfa/setup/**")
    expect(page.get_by_text("Required MFA Ltd asks for a second step")).to_be_visible()
    _set_up_an_app_and_land_on(page, relying_party, email)
    context.close()


def test_an_app_requiring_mfa_has_a_password_sign_in_set_up_an_app_then_lands_on_it(
    browser, relying_party, running_server, worlds, committed
):
    from oidc.clients import clients_forget_all
    from oidc.models import Application

    acme = worlds["acme"]
    email = f"mfa-app-{uuid.uuid4().hex[:8]}@example.org"
    with tenant_context(acme.tenant):
        user = get_user_model().objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    app = register_app(
        acme, name=f"Requires MFA {uuid.uuid4().hex[:6]}", redirect_uri=relying_party.redirect_uri
    )
    with tenant_context(acme.tenant):
        Application.objects.filter(pk=app.application.pk).update(require_mfa=True)
    clients_forget_all()
    relying_party.connect(
        tenant_host=acme.host,
        server_port=running_server.port,
        client_id=app.client_id,
        secret=app.secret,
    )
    connection.close()

    context, page = _password_sign_in_to_app(browser, relying_party, email)
    # Signed in with the password; the app wants a second factor: set one up, then go on.
    page.wait_for_url("**/accounts/mfa/verify/**")
    expect(page.get_by_text("your account needs a second step")).to_be_visible()
    _set_up_an_app_and_land_on(page, relying_party, email)
    context.close()


def _password_sign_in_to_app(browser, relying_party, email):
    """A phone-sized browser opens the app and signs in with the password."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(relying_party.url("/login"))
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    return context, page


def _set_up_an_app_and_land_on(page, relying_party, email):
    """On an app set-up page: scan (read the key), confirm with a code, see the recovery
    codes, go on to the app, signed in."""
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_of(secret))
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_selector("#recovery-codes li")  # the answer's page, not the form's
    assert len(page.locator("#recovery-codes li").all_inner_texts()) == 10
    assert axe_violations(page) == []
    page.get_by_role("button", name="I saved them, continue").click()
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {email}"
