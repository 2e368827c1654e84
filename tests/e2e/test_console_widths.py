"""Console pages in Chromium at phone width (390 px) and laptop width (1366 px): the page is
never wider than the window; wide tables scroll inside their own focusable region; the audit
log's Changes column wraps instead of being squeezed."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from audit.services import audit_record, sign_in_record
from guests import services as guest_services
from tests.browser import axe_violations
from tests.oidc.helpers import register_app

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a fresh passphrase for the console"
WIDTHS = (390, 1366)
# For each table: whether its box scrolls sideways, its tabindex, its role, whether it is named.
TABLE_BOXES = """[...document.querySelectorAll('main table')].map(table => {
  const box = table.parentElement;
  return [getComputedStyle(box).overflowX === 'auto', box.getAttribute('tabindex'),
          box.getAttribute('role'), Boolean(box.getAttribute('aria-label'))];
})"""


@pytest.fixture
def console_world(worlds, committed, running_server):
    """A Global administrator of acme and rows long enough to stretch every console table."""
    world = worlds["acme"]
    marker = uuid.uuid4().hex[:8]
    long_url = f"https://portal-{marker}.example/a/rather/long/path/to/the/callback/endpoint"
    with tenant_context(world.tenant):
        users = get_user_model().objects
        admin = users.create_user(
            email=f"width-admin-{marker}@example.org",
            password=PASSWORD,
            admin_roles=["global_administrator"],
        )
        member = users.create_user(
            email=f"a-very-long-mailbox-name-for-width-{marker}@subdomain.example.org",
            display_name="Maximiliana Wolfeschlegelsteinhausenbergerdorff",
        )
        invitation = guest_services.invitation_create(
            invited_by=admin,
            email=f"a-long-partner-address-{marker}@partner-company.example.com",
            redirect_url=long_url,
        )
        app = register_app(world, name=f"Customer portal with a long name {marker}")
        audit_record(
            actor=admin,
            action="app.update",
            target_label=f"Customer portal of the northern region sales team {marker} {long_url}",
            before={"redirect_uris": f"{long_url}\n{long_url}/second", "name": "Old"},
            after={"redirect_uris": long_url, "post_logout_redirect_uris": long_url},
        )
        for result, reason in (("success", ""), ("failure", "wrong_password")):
            sign_in_record(
                user=member, method="password", result=result, failure_reason=reason,
                app_name=f"Customer portal with a long name {marker}",
            )  # fmt: skip
    return {
        "world": world,
        "admin": admin,
        "member": member,
        "invitation": invitation,
        "app": app.application,
    }


def _app_page(console_world) -> str:
    return f"/console/apps/{console_world['app'].public_id}/"


def _pages(console_world) -> list[str]:
    member = console_world["member"]
    invitation = console_world["invitation"]
    return [
        "/console/",
        "/console/users/",
        f"/console/users/{member.public_id}/",
        "/console/users/?state=deleted&sort=-last_login",
        "/console/users/new/",
        f"/console/users/{member.public_id}/edit/",
        f"/console/users/{member.public_id}/delete/",
        "/console/users/import/",
        "/console/user-flows/",
        "/console/guests/",
        f"/console/guests/invitations/{invitation.public_id}/",
        "/console/guests/api-keys/",
        "/console/apps/",
        _app_page(console_world),
        "/console/apps/signing-keys/",
        "/console/logs/sign-ins/",
        "/console/logs/audit/",
        "/console/policies/conditional-access/",
        "/console/policies/conditional-access/new/",
        "/console/policies/conditional-access/locations/",
        "/console/policies/conditional-access/locations/new/",
        f"/console/policies/conditional-access/what-if/?email={member.email}&ip=192.0.2.1"
        "&method=password",
    ]


def _signed_in_page(browser, running_server, world, email, width):
    # The page runs under the policy the server sends, as in an admin's browser.
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(running_server.url(world.host, "/accounts/login/?next=/console/"))
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(running_server.url(world.host, "/console/"))
    return context, page


@pytest.mark.parametrize("width", WIDTHS)
def test_console_pages_are_never_wider_than_the_window(
    browser, running_server, console_world, width
):
    world = console_world["world"]
    context, page = _signed_in_page(
        browser, running_server, world, console_world["admin"].email, width
    )
    try:
        too_wide, unscrollable, inaccessible = {}, {}, {}
        for path in _pages(console_world):
            response = page.goto(running_server.url(world.host, path))
            assert response.status == 200, path
            violations = axe_violations(page)
            if violations:
                inaccessible[path] = violations
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                too_wide[path] = widths
            tables = page.evaluate(TABLE_BOXES)
            if any(box != [True, "0", "region", True] for box in tables):
                unscrollable[path] = tables
        assert inaccessible == {}
        assert too_wide == {}
        # Each table scrolls in its own box, which a keyboard reaches and a screen reader names.
        assert unscrollable == {}
    finally:
        context.close()


def test_audit_log_changes_column_is_wide_enough_to_read_on_a_laptop(
    browser, running_server, console_world
):
    world = console_world["world"]
    context, page = _signed_in_page(
        browser, running_server, world, console_world["admin"].email, 1366
    )
    try:
        page.goto(running_server.url(world.host, "/console/logs/audit/?action=app.update"))
        column = page.get_by_role("columnheader", name="Changes").bounding_box()
        assert column["width"] >= 300
        # Long values wrap inside the column rather than running over the next one.
        assert page.evaluate(
            "[...document.querySelectorAll('.audit-changes li')]"
            ".every(item => item.scrollWidth <= item.clientWidth)"
        )
    finally:
        context.close()
