"""Tenant A of the running platform as tenant B's identity provider, in Chromium under the
Content-Security-Policy the server sends: a person of A signs in to an app of B.

Chromium applies `form-action` to the redirects that follow a form submission: B's sign-in
page must allow A's origin (its IdP button POSTs to B, which redirects to A), and A's sign-in
page must allow B's callback (the authorization request's redirect URI)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.browser import axe_violations, in_own_thread
from tests.e2e.relying_party import RelyingParty
from tests.federation.helpers import federate
from tests.helpers import PASSWORD
from tests.mfa.helpers import make_user
from tests.oidc.helpers import jwt_parts, register_app

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def relying_party():
    party = RelyingParty().start()
    yield party
    party.stop()


def _form_action(response) -> str:
    policy = response.header_value("content-security-policy") or ""
    return next(part for part in policy.split(";") if part.strip().startswith("form-action"))


def test_a_person_of_tenant_a_signs_in_to_an_app_of_tenant_b(
    relying_party, running_server, worlds, downstream
):
    from audit.models import SignInEvent

    acme = worlds["acme"]
    person = make_user(acme, first_name="Grace")
    fed = federate(acme, downstream, running_server.port)
    app = register_app(
        downstream, name=f"B app {uuid.uuid4().hex[:6]}", redirect_uri=relying_party.redirect_uri
    )
    relying_party.connect(
        tenant_host=downstream.host, server_port=running_server.port,
        client_id=app.client_id, secret=app.secret,
    )  # fmt: skip
    connection.close()

    def scenario(page):
        page.goto(relying_party.url("/login"))
        page.wait_for_url("**/accounts/login/**")
        response = page.reload()
        assert f"http://{acme.host}:{running_server.port}" in _form_action(response)
        assert axe_violations(page) == []
        page.get_by_role("button", name=f"Sign in with {fed.provider.name}").click()

        page.wait_for_url(f"http://{acme.host}:{running_server.port}/accounts/login/**")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()

        page.wait_for_url(f"{relying_party.redirect_uri}?**")
        assert page.locator("#result").inner_text() == f"Signed in as {person.email}"

    # Its own Playwright: the e2e tests' browser may be running in this process.
    in_own_thread(scenario)
    assert jwt_parts(relying_party.id_token)[1]["idp"] == fed.issuer
    with tenant_context(downstream.tenant):
        row = SignInEvent.objects.get(method="federated", result="success")
    assert (row.idp_subject, row.user_email) == (str(person.public_id), person.email)
    connection.close()


def test_home_realm_discovery_and_a_guest_redeeming_with_their_idp_in_chromium(
    running_server, worlds, downstream
):
    """An address at a mapped domain typed on B's sign-in page goes to A under the policy
    the server sends (no JS needed); a guest of B redeems an invitation with A."""
    from federation.services import identity_provider_update
    from guests import services as guest_services

    acme = worlds["acme"]
    domain = f"p{uuid.uuid4().hex[:8]}.partner.example"
    person = make_user(acme, email=f"ada@{domain}")
    fed = federate(acme, downstream, running_server.port)
    with tenant_context(downstream.tenant):
        identity_provider_update(
            actor=downstream.admin, provider=fed.provider, email_domains=[domain]
        )
        invitation = guest_services.invitation_create(
            invited_by=downstream.admin, email=person.email,
            redirect_url=running_server.url(downstream.host, "/account/"),
        )  # fmt: skip
    connection.close()
    token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    b = f"http://{downstream.host}:{running_server.port}"
    a = f"http://{acme.host}:{running_server.port}"

    def scenario(page):
        page.goto(f"{b}/accounts/login/")
        page.get_by_label("Email").fill(person.email)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{a}/accounts/login/**")
        page.context.clear_cookies()

        page.goto(f"{b}/invite/{token}/")
        assert axe_violations(page) == []
        page.get_by_role("button", name=f"Sign in with {fed.provider.name}").click()
        page.wait_for_url(f"{a}/accounts/login/**")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{b}/invite/consent/")
        page.get_by_role("button", name="Accept").click()
        page.wait_for_url(f"{b}/account/")
        assert person.email in page.content()

    in_own_thread(scenario)
    with tenant_context(downstream.tenant):
        from django.contrib.auth import get_user_model

        assert get_user_model().objects.get(email=person.email).user_type == "guest"
    connection.close()
