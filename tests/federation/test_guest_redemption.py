"""A partner redeems an invitation of tenant B with their own identity at tenant A (B's
OpenID Connect IdP, on the running server), instead of an emailed code: the IdP must vouch
for the invited address, else a clear refusal and no account."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from federation.models import IdentityProvider
from federation.services import identity_provider_update
from guests import services as guest_services
from guests.models import GuestProfile, Invitation
from tests.federation.helpers import CSRF, Browser, base, sign_in_upstream_at
from tests.mfa.helpers import make_user

pytestmark = pytest.mark.server

APP = "https://app.fabrikam.example/welcome"


def _invite(world, email: str) -> str:
    with tenant_context(world.tenant):
        invitation = guest_services.invitation_create(
            invited_by=world.admin, email=email, redirect_url=APP
        )
    return invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]


def _redeem_with_idp(browser, fed, port, token, upstream_email):
    """Open the invitation, press the IdP's button, sign in upstream: the page it ends on."""
    landing_url = f"{base(fed.downstream, port)}/invite/{token}/"
    landing = browser.go(landing_url)
    assert f"Sign in with {fed.provider.name}" in landing.text
    assert "Email a code to" in landing.text  # the emailed code is still offered
    action = re.search(r'<form method="post" action="([^"]+/identity/)"', landing.text).group(1)
    redirect = browser.session.post(
        f"{base(fed.downstream, port)}{action}",
        data={"csrfmiddlewaretoken": CSRF.search(landing.text).group(1),
              "provider": fed.provider.slug},
        allow_redirects=False, timeout=20,
    )  # fmt: skip
    assert redirect.status_code == 302
    authorize = redirect.headers["Location"]
    assert authorize.startswith(f"{fed.issuer}/authorize/")
    return authorize, sign_in_upstream_at(browser, fed, authorize, upstream_email)


def _federate(acme, downstream, port, **kwargs):
    from tests.federation.helpers import federate

    return federate(acme, downstream, port, **kwargs)


def test_a_partner_redeems_with_their_own_identity_and_becomes_a_linked_guest(
    worlds, downstream, running_server
):
    from allauth.socialaccount.models import SocialAccount

    acme = worlds["acme"]
    person = make_user(acme, email=f"ada-{uuid.uuid4().hex[:8]}@partner.example")
    fed = _federate(acme, downstream, running_server.port)
    token = _invite(downstream, person.email)
    browser = Browser()

    authorize, consent = _redeem_with_idp(browser, fed, running_server.port, token, person.email)

    assert parse_qs(urlsplit(authorize).query)["login_hint"] == [person.email]
    assert urlsplit(browser.visited[-1]).path == "/invite/consent/"
    assert "as a guest" in consent.text and person.email in consent.text
    accepted = browser.submit(browser.visited[-1], consent, {"decision": "accept"}, stop_at=APP)
    assert accepted.headers["Location"] == APP
    with tenant_context(downstream.tenant):
        user = get_user_model().objects.get(email=person.email)
        assert user.user_type == "guest" and not user.has_usable_password()
        assert GuestProfile.objects.get(user=user).state == "Accepted"
        assert Invitation.objects.get(email=person.email).guest == user
        account = SocialAccount.objects.get(user=user)
        assert (account.provider, account.uid) == (fed.provider.slug, str(person.public_id))
        row = SignInEvent.objects.get(user=user, result="success", method="federated")
        assert (row.idp, row.idp_subject) == (fed.provider.slug, str(person.public_id))
    assert person.email in browser.go(f"{base(downstream, running_server.port)}/account/").text
    assert urlsplit(browser.visited[-1]).path == "/account/"


def test_another_address_at_the_idp_is_refused_and_no_account_is_made(
    worlds, downstream, running_server
):
    from allauth.socialaccount.models import SocialAccount

    acme = worlds["acme"]
    invited = f"ada-{uuid.uuid4().hex[:8]}@partner.example"
    someone = make_user(acme, email=f"bob-{uuid.uuid4().hex[:8]}@partner.example")
    fed = _federate(acme, downstream, running_server.port)
    token = _invite(downstream, invited)
    browser = Browser()

    _authorize, refused = _redeem_with_idp(browser, fed, running_server.port, token, someone.email)

    assert refused.status_code == 403
    assert f"as {someone.email}, but this invitation is for {invited}" in refused.text
    assert "No account was created" in refused.text
    with tenant_context(downstream.tenant):
        assert not get_user_model().objects.filter(email__in=[invited, someone.email]).exists()
        assert not SocialAccount.objects.exists()
        assert Invitation.objects.get(email=invited).status == "PendingAcceptance"
    # Nobody is signed in, and the invitation is not accepted by going to consent.
    consent = browser.go(f"{base(downstream, running_server.port)}/invite/consent/")
    assert consent.status_code == 404


def test_an_idp_not_trusted_for_emails_is_refused_unless_the_domain_is_mapped_to_it(
    worlds, downstream, running_server
):
    acme = worlds["acme"]
    domain = f"p{uuid.uuid4().hex[:8]}.partner.example"
    person = make_user(acme, email=f"ada@{domain}")
    fed = _federate(acme, downstream, running_server.port, trusted=False)
    token = _invite(downstream, person.email)

    _authorize, refused = _redeem_with_idp(Browser(), fed, running_server.port, token, person.email)
    assert refused.status_code == 403
    assert "did not confirm that" in refused.text

    with tenant_context(downstream.tenant):
        provider = IdentityProvider.objects.get(pk=fed.provider.pk)
        identity_provider_update(actor=downstream.admin, provider=provider, email_domains=[domain])
    browser = Browser()
    _authorize, consent = _redeem_with_idp(browser, fed, running_server.port, token, person.email)
    assert urlsplit(browser.visited[-1]).path == "/invite/consent/"
    browser.submit(browser.visited[-1], consent, {"decision": "accept"}, stop_at=APP)
    with tenant_context(downstream.tenant):
        assert get_user_model().objects.get(email=person.email).user_type == "guest"
