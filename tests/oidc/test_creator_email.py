"""A tenant's creator typed an email on the platform site that nothing has proven: ID tokens
say `email_verified: false` until the creator opens the link the console offers to send."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from tenants.services import tenant_create
from tests.helpers import PASSWORD, TenantWorld, emails_to, link_in
from tests.oidc.helpers import Flow, jwt_parts, register_app

CREATOR = "creator@example.org"


def new_tenant() -> TenantWorld:
    tenant = tenant_create(
        name="Initech", slug="initech", admin_email=CREATOR, admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email=CREATOR)
    return TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)


def email_verified_claim(world, app) -> bool:
    tokens = Flow(world, user=world.admin).sign_in(app)
    return jwt_parts(tokens["id_token"])[1]["email_verified"]


def test_a_new_tenants_creator_is_unverified_until_the_emailed_link_is_opened(db):
    world = new_tenant()
    app = register_app(world)
    assert email_verified_claim(world, app) is False

    # The creator signs in with the password chosen at creation and lands on the console,
    # which asks to verify the address.
    console = world.client(REMOTE_ADDR="192.0.2.40")
    signed_in = console.post("/accounts/login/", {"login": CREATOR, "password": PASSWORD})
    assert signed_in.status_code == 302
    page = console.get("/console/")
    assert page.status_code == 200
    assert "Verify your email" in page.content.decode()
    sent = console.post("/console/verify-email/", follow=True)
    assert sent.status_code == 200
    assert emails_to(world, CREATOR), "no verification email was written"

    link = link_in(emails_to(world, CREATOR)[-1])
    assert console.post(urlsplit(link).path).status_code == 302
    assert "Verify your email" not in console.get("/console/").content.decode()
    assert email_verified_claim(world, app) is True

    # The password the creator chose, and signed in with from this browser, still works.
    again = world.client(REMOTE_ADDR="192.0.2.41")
    response = again.post("/accounts/login/", {"login": CREATOR, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] != "/accounts/login/"
    assert again.get("/console/").status_code == 200


def test_with_mandatory_verification_the_creator_reaches_the_console_through_the_link(db):
    from tests.helpers import save_flow

    world = new_tenant()
    assert save_flow(world, email_verification="mandatory").status_code == 302
    browser = world.client(REMOTE_ADDR="192.0.2.42")
    held = browser.post("/accounts/login/", {"login": CREATOR, "password": PASSWORD})
    assert held["Location"] == "/accounts/confirm-email/"
    assert browser.get("/console/").status_code == 302  # not signed in yet

    link = link_in(emails_to(world, CREATOR)[-1])
    assert browser.post(urlsplit(link).path).status_code == 302
    page = browser.get("/console/")
    assert page.status_code == 200 and "Verify your email" not in page.content.decode()
    again = world.client(REMOTE_ADDR="192.0.2.43")
    response = again.post("/accounts/login/", {"login": CREATOR, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] != "/accounts/confirm-email/"
    assert again.get("/console/").status_code == 200
