"""Creating a tenant in a real browser, and what the platform and console pages look like
to assistive technology."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import axe_violations
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
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert "Browser Test Inc" in page.title()
    assert axe_violations(page) == []


def test_unknown_host_in_a_browser_is_a_plain_404(page, running_server, committed):
    response = page.goto(running_server.url("nobody-here.localhost", "/"))
    assert response.status == 404
    assert "There is nothing here" in page.content()
