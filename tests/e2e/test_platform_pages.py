"""Creating a tenant in a real browser, and what the platform and console pages look like
to assistive technology."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_create_a_tenant_in_the_browser_and_land_on_its_console_sign_in(
    page, running_server, committed
):
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    page.goto(running_server.url("localhost", "/"))
    assert axe_violations(page) == []

    page.get_by_label("Organisation name").fill("Browser Test Inc")
    page.get_by_label("Tenant address").fill("ab")
    page.wait_for_selector("#slug-availability .text-danger")  # live check (htmx)
    page.get_by_label("Tenant address").fill(slug)
    page.wait_for_selector("#slug-availability .text-success")
    page.get_by_label("Your email (first administrator)").fill("owner@browser.example")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create tenant").click()

    # A bad password keeps everything else that was typed and says what is wrong.
    assert page.get_by_label("Tenant address").input_value() == slug
    assert "Use at least 12 characters" in page.locator("#id_admin_password_error").inner_text()
    assert axe_violations(page) == []

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create tenant").click()
    page.get_by_role("link", name="Go to your tenant's sign-in").click()
    page.wait_for_url(f"http://{slug}.localhost:{running_server.port}/accounts/login/**")

    page.get_by_label("Email").fill("owner@browser.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"http://{slug}.localhost:{running_server.port}/console/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert "Browser Test Inc" in page.title()
    assert axe_violations(page) == []


def test_unknown_host_in_a_browser_is_a_plain_404(page, running_server, committed):
    response = page.goto(running_server.url("nobody-here.localhost", "/"))
    assert response.status == 404
    assert "There is nothing here" in page.content()


def test_an_operator_sets_up_an_authenticator_app_then_signs_in_with_a_code(
    page, running_server, committed
):
    from django.contrib.auth import get_user_model

    from tests.mfa.helpers import code_from_secret

    email = f"ops-{uuid.uuid4().hex[:8]}@platform.example"
    get_user_model().objects.create_superuser(email=email, password=PASSWORD)

    def password_step():
        page.goto(running_server.url("localhost", "/operator/"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    password_step()
    page.wait_for_url("**/operator/login/setup/**")
    expect(page.locator("svg.mfa-qr")).to_be_visible()
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_from_secret(secret))
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_selector("#recovery-codes li")  # the answer's page, not the form's
    assert page.locator("#recovery-codes li").count() == 10
    assert axe_violations(page) == []
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url("**/operator/")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    password_step()
    page.wait_for_url("**/operator/login/code/**")
    assert axe_violations(page) == []
    page.get_by_label("Code").fill("000000" if code_from_secret(secret) != "000000" else "000001")
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("That code is not correct").wait_for()
    assert axe_violations(page) == []
    page.wait_for_timeout(1100)  # the wait after a wrong code (MFA_THROTTLE_FACTOR, 1 s)
    # The setup's code served once: the app's next one (one step of tolerance) is accepted.
    page.get_by_label("Code").fill(code_from_secret(secret, steps=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/operator/")
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
