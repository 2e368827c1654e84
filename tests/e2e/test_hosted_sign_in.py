"""The main end-user journeys in headless Chromium against the real server, with the real
Celery worker delivering the emails, and axe-core on the entrance pages."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.mail import body_text

pytestmark = [pytest.mark.server, pytest.mark.browser]

PASSWORD = "a fresh passphrase for the browser"
NEW_PASSWORD = "another fresh passphrase for today"


@pytest.fixture
def acme_live(worlds, committed, celery_worker_process, running_server, mailbox):
    return worlds["acme"]


def link_in(message) -> str:
    for word in body_text(message).split():
        if word.startswith("http"):
            return word
    raise AssertionError(body_text(message))


def fits_a_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sign_up_verify_sign_in_and_sign_out(page, acme_live, running_server, mailbox):
    email = f"browser-{uuid.uuid4().hex[:10]}@example.org"
    base = running_server.url(acme_live.host)
    page.goto(running_server.url(acme_live.host, "/accounts/signup/"))
    assert axe_violations(page) == []

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("too short")
    page.get_by_label("Given name").fill("Ada")
    page.get_by_role("button", name="Create account").click()
    # The error sits next to the field and what was typed stays.
    assert "Use at least 12 characters" in page.locator("#id_password1_error").inner_text()
    assert page.get_by_label("Email").input_value() == email
    assert page.get_by_label("Given name").input_value() == "Ada"
    assert axe_violations(page) == []

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    (message,) = mailbox.wait_for(email)
    link = link_in(message)
    assert link.startswith(base.rstrip("/"))
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(base.rstrip("/") + "/account/")
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    assert "verified" in page.content()

    page.get_by_role("button", name="Sign out").first.click()
    page.goto(running_server.url(acme_live.host, "/account/"))
    page.wait_for_url("**/accounts/login/?next=/account/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(base.rstrip("/") + "/account/")
    assert email in page.content()
    assert axe_violations(page) == []


def test_forgot_password_from_the_sign_in_page(page, acme_live, running_server, mailbox):
    email = f"forgot-{uuid.uuid4().hex[:10]}@example.org"
    with tenant_context(acme_live.tenant):
        get_user_model().objects.create_user(email=email, password=PASSWORD)
    # On the way to a page of My account: after the reset, the sign-in goes on there.
    page.goto(running_server.url(acme_live.host, "/account/apps/"))
    page.wait_for_url("**/accounts/login/?next=/account/apps/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send a reset link").click()
    page.wait_for_url("**/accounts/password/reset/done/")

    (message,) = mailbox.wait_for(email)
    page.goto(link_in(message))
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    page.wait_for_url("**/accounts/password/reset/key/done/")

    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/accounts/login/?next=%2Faccount%2Fapps%2F")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "not correct" in page.locator(".alert-danger").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(running_server.url(acme_live.host, "/account/apps/"))
    expect(page.get_by_role("heading", name="Apps you allowed")).to_be_visible()


def test_entrance_pages_fit_a_phone_and_work_with_the_keyboard(browser, acme_live, running_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        for path in (
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/login/code/",
            "/accounts/password/reset/",
        ):
            page.goto(running_server.url(acme_live.host, path))
            assert fits_a_phone(page), path
            assert axe_violations(page) == [], path
        page.goto(running_server.url(acme_live.host, "/accounts/login/"))
        page.keyboard.press("Tab")  # the skip link comes first
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    finally:
        context.close()
