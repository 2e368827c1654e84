"""A branded sign-in page in headless Chromium, under the policy the server sends: the theme
stylesheet and logo load without a CSP violation and axe-core finds nothing."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_branded_sign_in_page_keeps_the_csp_and_passes_axe(
    browser, running_server, worlds, committed
):
    from branding import services
    from tenants.services import tenant_create

    # A tenant of its own: other tests' pages keep the default look.
    slug = f"brand-{uuid.uuid4().hex[:8]}"
    tenant = tenant_create(
        name="Branded Ltd", slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    logo = io.BytesIO()
    Image.new("RGB", (300, 80), (122, 31, 92)).save(logo, "PNG")
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=f"admin@{slug}.test")
        services.branding_draft_update(
            actor=admin,
            background_color="#fdf6e3",
            primary_color="#7a1f5c",
            accent_color="#7a1f5c",
            sign_in_text="Welcome to Branded Ltd",
            privacy_url="https://branded.example/privacy",
            help_url="https://branded.example/help",
            layout="full_page",
        )
        services.branding_logo_upload(actor=admin, data=logo.getvalue())
        services.branding_publish(actor=admin)
    connection.close()

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.add_init_script(WATCH_CSP)
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(running_server.url(tenant.primary_host, "/accounts/login/"))

    expect(page.get_by_text("Welcome to Branded Ltd")).to_be_visible()
    assert page.get_by_role("link", name="Privacy").get_attribute("href") == (
        "https://branded.example/privacy"
    )
    assert page.get_by_role("img", name="Branded Ltd").evaluate("img => img.naturalWidth") == 300
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(253, 246, 227)"
    button = page.get_by_role("button", name="Sign in", exact=True)
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
    assert page.evaluate("window.__cspViolations") == []
    assert not [text for text in messages if "Content Security Policy" in text]
    assert axe_violations(page) == []

    # The admin signs in on that page and opens Console > Branding and the draft's preview.
    page.get_by_label("Email").fill(f"admin@{slug}.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    for path in ("/console/branding/", "/console/branding/preview/"):
        response = page.goto(running_server.url(tenant.primary_host, path))
        assert response.status == 200, path
        assert axe_violations(page) == [], path
        assert page.evaluate("window.__cspViolations") == [], path
    expect(page.get_by_text("Preview of the draft branding")).to_be_visible()
    expect(page.get_by_text("Welcome to Branded Ltd")).to_be_visible()
    assert not [text for text in messages if "Content Security Policy" in text]
    context.close()
