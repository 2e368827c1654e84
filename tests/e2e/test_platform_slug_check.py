"""The live slug check on the platform's create-tenant form, in a real browser."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import PASSWORD

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_an_available_slug_replaces_the_forms_slug_error(page, running_server, committed):
    page.goto(running_server.url("localhost", "/"))
    page.get_by_label("Organisation name").fill("Slug Check Inc")
    page.get_by_label("Tenant address").fill("www")
    page.get_by_label("Your email (first administrator)").fill("owner@slug-check.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create tenant").click()

    address = page.get_by_label("Tenant address")
    assert "is reserved" in page.locator("#id_slug_error").inner_text()
    assert address.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Password").input_value() == PASSWORD  # kept for the next round

    slug = f"slug-{uuid.uuid4().hex[:8]}"
    address.fill(slug)
    page.wait_for_selector("#slug-availability .text-success")
    assert page.locator("#id_slug_error").count() == 0
    assert address.get_attribute("aria-invalid") is None
    assert "is-invalid" not in (address.get_attribute("class") or "")
