"""Every hosted page of the journeys, at a laptop's width and a phone's: no accessibility
violation axe-core can find, and nothing wider than the screen."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.browser import axe_violations
from tests.helpers import PASSWORD
from tests.oidc.helpers import pkce_pair, register_app

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

WIDTHS = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.fixture(scope="module")
def pages_to_visit(worlds, django_db_blocker):
    """Paths on acme: the anonymous ones, then those seen signed in."""
    from guests.services import invitation_create

    acme = worlds["acme"]
    with django_db_blocker.unblock():
        app = register_app(
            acme, first_party=False, name=f"Fit app {uuid.uuid4().hex[:6]}",
            redirect_uri="https://partner.example/cb", post_logout="https://partner.example/out",
        )  # fmt: skip
        with tenant_context(acme.tenant):
            invitation = invitation_create(
                invited_by=acme.admin,
                email=f"fit-{uuid.uuid4().hex[:8]}@partner.example",
                redirect_url="https://partner.example/",
                send_email=False,
            )
        connection.close()
    _verifier, challenge = pkce_pair()
    authorize = "/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
        "scope": "openid email", "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    logout = "/o/logout/?" + urlencode({
        "client_id": app.client_id, "post_logout_redirect_uri": "https://partner.example/out",
    })  # fmt: skip
    anonymous = [
        "/accounts/login/?" + urlencode({"next": authorize}),
        "/accounts/signup/",
        "/accounts/login/code/",
        "/accounts/password/reset/",
        re.search(r"/invite/[\w-]+/", invitation.redeem_url).group(0),
    ]
    signed_in = [authorize, logout, "/account/", "/account/apps/"]
    return anonymous, signed_in


@pytest.mark.parametrize("width", WIDTHS)
def test_hosted_pages_are_accessible_and_fit_the_screen(
    browser, running_server, worlds, committed, pages_to_visit, width
):
    acme = worlds["acme"]
    anonymous, signed_in = pages_to_visit
    viewport_width, viewport_height = WIDTHS[width]
    context = browser.new_context(viewport={"width": viewport_width, "height": viewport_height})
    page = context.new_page()
    problems = []

    def check(url: str) -> None:
        page.goto(url)
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        violations = axe_violations(page)
        if not fits or violations:
            problems.append((url, "wider than the screen" if not fits else "", violations))

    try:
        check(running_server.url("localhost", "/"))
        for path in anonymous:
            check(running_server.url(acme.host, path))
        page.goto(running_server.url(acme.host, "/accounts/login/"))
        page.get_by_label("Email").fill(acme.member.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/account/")
        for path in signed_in:
            check(running_server.url(acme.host, path))
    finally:
        context.close()
    assert problems == []
