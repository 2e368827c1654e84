"""The main journeys in Chromium under the Content-Security-Policy the server sends, each
ending on another origin: an app on its own port signs a user in (first-party, and a
third-party app through consent), signs in again on `prompt=login` and signs out to its
registered post-logout URI; a partner accepts an invitation and lands on its redirect URL.

Chromium applies `form-action` to the redirects that follow a form submission: with a
policy that does not name the app's origin, each of these stops silently on its last page.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tests.browser import axe_violations
from tests.e2e.relying_party import RelyingParty
from tests.helpers import PASSWORD
from tests.mail import body_text
from tests.oidc.helpers import register_app

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture(params=[(1366, 768), (390, 844)], ids=["laptop", "phone"])
def page(browser, request):
    """Each journey at a laptop's width and at a phone's, under the policy the server sends."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


def page_is_usable(page) -> bool:
    """No accessibility violation axe-core finds, and nothing wider than the screen."""
    assert axe_violations(page) == []
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def relying_party():
    party = RelyingParty().start()
    yield party
    party.stop()


def _connect(party, world, running_server, *, first_party: bool) -> None:
    app = register_app(
        world,
        first_party=first_party,
        name=f"Journey app {uuid.uuid4().hex[:6]}",
        redirect_uri=party.redirect_uri,
        post_logout=party.post_logout_uri,
    )
    party.connect(
        tenant_host=world.host,
        server_port=running_server.port,
        client_id=app.client_id,
        secret=app.secret,
    )
    party.app_name = app.application.name
    # Playwright's event loop gives this test its own connection; closed, it does not keep
    # the test database from being dropped at the end of the session.
    connection.close()


def _sign_in(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _form_action(response) -> str:
    policy = response.header_value("content-security-policy") or ""
    return next(part for part in policy.split(";") if part.strip().startswith("form-action"))


def test_an_app_on_its_own_origin_signs_a_user_in(
    page, relying_party, running_server, worlds, committed
):
    acme = worlds["acme"]
    _connect(relying_party, acme, running_server, first_party=True)

    page.goto(relying_party.url("/login"))
    page.wait_for_url("**/accounts/login/**")
    assert page_is_usable(page)
    response = page.reload()
    assert relying_party.origin in _form_action(response)
    _sign_in(page, acme.member.email)

    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {acme.member.email}"


def test_a_third_party_app_signs_a_user_in_through_consent(
    page, relying_party, running_server, worlds, committed
):
    acme = worlds["acme"]
    _connect(relying_party, acme, running_server, first_party=False)

    page.goto(relying_party.url("/login"))
    page.wait_for_url("**/accounts/login/**")
    _sign_in(page, acme.member.email)
    expect(page.get_by_role("heading", name=f"Allow {relying_party.app_name}")).to_be_visible()
    assert page_is_usable(page)

    # Cancel goes back to the app too, with the error the app reads.
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert relying_party.callbacks[-1]["error"] == "access_denied"

    page.goto(relying_party.url("/login"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {acme.member.email}"


def test_prompt_login_signs_in_again_and_sign_out_returns_to_the_app(
    page, relying_party, running_server, worlds, committed
):
    acme = worlds["acme"]
    _connect(relying_party, acme, running_server, first_party=True)
    page.goto(relying_party.url("/login"))
    _sign_in(page, acme.member.email)
    page.wait_for_url(f"{relying_party.redirect_uri}?**")

    # Signed in, the app asks for a fresh sign-in: the person proves it is them again.
    page.goto(relying_party.url("/login?prompt=login"))
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert page_is_usable(page)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{relying_party.redirect_uri}?**")
    assert page.locator("#result").inner_text() == f"Signed in as {acme.member.email}"

    # Without an ID token hint the provider asks before signing out.
    page.goto(relying_party.url("/logout?hint=no"))
    page.wait_for_url("**/o/logout/**")
    assert page_is_usable(page)
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    page.wait_for_url(relying_party.post_logout_uri + "**")
    expect(page.get_by_role("heading", name="Signed out")).to_be_visible()

    page.goto(running_server.url(acme.host, "/account/"))
    page.wait_for_url("**/accounts/login/**")


def test_a_partner_accepts_an_invitation_and_lands_on_its_redirect_url(
    page, relying_party, running_server, celery_worker_process, mailbox, worlds, committed
):
    from guests.services import invitation_create

    acme = worlds["acme"]
    email = f"journey-{uuid.uuid4().hex[:8]}@partner.example"
    landing = relying_party.url("/welcome")
    with tenant_context(acme.tenant):
        invitation = invitation_create(
            invited_by=acme.admin, email=email, redirect_url=landing, send_email=False
        )
    connection.close()
    token_path = re.search(r"/invite/[\w-]+/", invitation.redeem_url).group(0)

    page.goto(running_server.url(acme.host, token_path))
    page.get_by_role("button", name=f"Email a code to {email}").click()
    page.wait_for_url("**/invite/code/verify/")
    (code_email,) = mailbox.wait_for(email)
    code = re.search(r"^\s*(\d{6})\s*$", body_text(code_email), re.MULTILINE).group(1)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/invite/consent/")
    assert page_is_usable(page)

    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(landing)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
