"""Signing in with an identity provider, scripted against the real server: tenant acme of
the running platform is the OpenID Provider of a new tenant (generic OpenID Connect, through
allauth), and a person's requests go through both as a browser's would.

What a person would notice: who they are signed in as (or that they are not), the account
created, the identity linked, the sign-in log's rows, and the `idp` claim of the ID token an
app of the downstream tenant receives."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django_tenants.utils import tenant_context

from tests.federation.helpers import (
    Browser,
    base,
    federate,
    log_rows,
    sign_in_upstream,
    signed_in_as,
    start,
)
from tests.helpers import PASSWORD, unique_email
from tests.mfa.helpers import make_user
from tests.oidc.helpers import jwt_parts, pkce_pair, register_app

pytestmark = pytest.mark.server


def test_a_user_of_tenant_a_signs_in_to_tenant_b_and_is_created_there(
    worlds, downstream, running_server
):
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model

    acme = worlds["acme"]
    person = make_user(acme, first_name="Ada", last_name="Lovelace")
    fed = federate(acme, downstream, running_server.port)
    browser = Browser()

    final = sign_in_upstream(browser, fed, running_server.port, person.email)

    assert final.status_code == 200
    assert browser.visited[-1] == f"{base(downstream, running_server.port)}/account/"
    assert person.email in final.text
    with tenant_context(downstream.tenant):
        user = get_user_model().objects.get(email=person.email)
        assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
        assert not user.has_usable_password()
        account = SocialAccount.objects.get(user=user)
        assert (account.provider, account.uid) == (fed.provider.slug, str(person.public_id))
        assert EmailAddress.objects.get(user=user).verified  # trusted IdP, verified upstream
    [row] = log_rows(downstream, result="success")
    assert (row.method, row.idp, row.idp_subject) == (
        "federated",
        fed.provider.slug,
        str(person.public_id),
    )
    assert row.user_email == person.email
    sign_in_log = downstream.client(downstream.admin).get("/console/logs/sign-ins/")
    assert f"<code>federated</code> · {fed.provider.slug}" in sign_in_log.content.decode()


def test_an_app_of_tenant_b_gets_an_id_token_naming_the_idp(worlds, downstream, running_server):
    acme = worlds["acme"]
    person = make_user(acme)
    fed = federate(acme, downstream, running_server.port)
    app = register_app(downstream, redirect_uri="http://127.0.0.1:9/callback")
    verifier, challenge = pkce_pair()
    authorize = "/o/authorize/?" + urlencode(
        {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
         "scope": "openid email", "state": "s1", "code_challenge": challenge,
         "code_challenge_method": "S256"}
    )  # fmt: skip
    browser = Browser()

    # The app's authorization request is the sign-in page's `next`: it survives the trip.
    redirect = sign_in_upstream(
        browser, fed, running_server.port, person.email,
        start={"next_url": authorize}, stop_at=app.redirect_uri,
    )  # fmt: skip

    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"http://127.0.0.1:{running_server.port}/o/token/",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri,
              "code_verifier": verifier, "client_id": app.client_id, "client_secret": app.secret},
        headers={"Host": f"{downstream.host}:{running_server.port}"},
        timeout=20,
    ).json()  # fmt: skip
    _header, claims = jwt_parts(tokens["id_token"])
    assert claims["idp"] == fed.issuer
    assert claims["email"] == person.email


def test_a_local_sign_in_gets_idp_local(worlds, downstream, running_server):
    from tests.oidc.helpers import Flow

    user = make_user(downstream)
    app = register_app(downstream)
    with tenant_context(downstream.tenant):
        tokens = Flow(downstream, user).sign_in(app)
    assert jwt_parts(tokens["id_token"])[1]["idp"] == "local"


@pytest.mark.parametrize(
    ("trusted", "upstream_verified"),
    [(False, True), (True, False)],
    ids=["untrusted", "unverified"],
)
def test_an_idp_asserting_an_existing_accounts_email_does_not_sign_into_it(
    worlds, downstream, running_server, trusted, upstream_verified
):
    from allauth.socialaccount.models import SocialAccount

    acme = worlds["acme"]
    email = unique_email("victim")
    victim = make_user(downstream, email=email)
    make_user(acme, email=email, verified=upstream_verified)
    fed = federate(acme, downstream, running_server.port, trusted=trusted)
    browser = Browser()

    final = sign_in_upstream(browser, fed, running_server.port, email)

    assert final.status_code == 200
    assert signed_in_as(browser, downstream, running_server.port) is None
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(user=victim).exists()
    assert log_rows(downstream, result="success") == []


def test_a_trusted_verified_email_links_only_once_the_owner_signs_in_and_confirms(
    worlds, downstream, running_server
):
    from allauth.socialaccount.models import SocialAccount

    acme = worlds["acme"]
    email = unique_email("owner")
    owner = make_user(downstream, email=email)
    upstream_person = make_user(acme, email=email)
    fed = federate(acme, downstream, running_server.port, trusted=True)
    browser = Browser()
    port = running_server.port

    offer = sign_in_upstream(browser, fed, port, email)

    assert browser.visited[-1] == f"{base(downstream, port)}/account/identities/link/"
    assert "This email belongs to an account" in offer.text
    assert signed_in_as(browser, downstream, port) is None
    # The owner signs in with the password, then confirms.
    login_url = f"{base(downstream, port)}/accounts/login/?next=/account/identities/link/"
    login_page = browser.go(login_url)
    confirm = browser.submit(
        login_url, login_page,
        {"login": email, "password": PASSWORD, "next": "/account/identities/link/"},
    )  # fmt: skip
    assert "Link" in confirm.text and browser.visited[-1].endswith("/account/identities/link/")
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(user=owner).exists()
    browser.submit(browser.visited[-1], confirm, {"decision": "link"})
    with tenant_context(downstream.tenant):
        account = SocialAccount.objects.get(user=owner)
    assert account.uid == str(upstream_person.public_id)

    # From now on the identity signs in to that account directly.
    again = Browser()
    sign_in_upstream(again, fed, port, email)
    assert again.visited[-1] == f"{base(downstream, port)}/account/"
    assert email in signed_in_as(again, downstream, port)


def test_a_callback_with_another_state_is_refused_and_logged(worlds, downstream, running_server):
    fed = federate(worlds["acme"], downstream, running_server.port)
    browser = Browser()
    redirect = start(browser, fed, running_server.port)
    assert redirect.status_code == 302

    page = browser.go(f"{fed.callback}?code=stolen-code&state=not-the-state")

    assert page.status_code == 401
    assert signed_in_as(browser, downstream, running_server.port) is None
    [row] = log_rows(downstream, method="federated")
    assert (row.result, row.failure_reason, row.idp) == ("failure", "idp_error", fed.provider.slug)


def test_an_upstream_error_is_shown_and_logged(worlds, downstream, running_server):
    fed = federate(worlds["acme"], downstream, running_server.port)
    browser = Browser()
    redirect = start(browser, fed, running_server.port)
    state = parse_qs(urlsplit(redirect.headers["Location"]).query)["state"][0]

    browser.go(f"{fed.callback}?error=temporarily_unavailable&state={state}")

    assert signed_in_as(browser, downstream, running_server.port) is None
    [row] = log_rows(downstream, method="federated")
    assert row.upstream_error == "temporarily_unavailable" and row.result == "failure"


def test_mfa_required_by_the_downstream_tenant_still_applies(worlds, downstream, running_server):
    """An IdP sign-in is a first factor: the tenant's MFA policy asks for the second. (The
    first sign-in creates the account: sign-ups are not asked, as with local ones.)"""
    from mfa.services import mfa_policy_update

    acme = worlds["acme"]
    person = make_user(acme)
    fed = federate(acme, downstream, running_server.port)
    sign_in_upstream(Browser(), fed, running_server.port, person.email)
    with tenant_context(downstream.tenant):
        mfa_policy_update(
            actor=downstream.admin, requirement="required_all", totp_allowed=True,
            email_code_allowed=False, recovery_codes_allowed=False,
        )  # fmt: skip
    # A server checks for such changes once a second (ciam/process_cache.py).
    time.sleep(1.1)
    browser = Browser()

    final = sign_in_upstream(browser, fed, running_server.port, person.email)

    assert urlsplit(browser.visited[-1]).path != "/account/"
    assert "authenticator" in final.text.lower()
    assert signed_in_as(browser, downstream, running_server.port) is None


def test_a_signed_in_person_links_an_identity_from_my_account(worlds, downstream, running_server):
    from allauth.socialaccount.models import SocialAccount

    from audit.models import AuditEvent

    acme = worlds["acme"]
    port = running_server.port
    local = make_user(downstream)
    upstream_person = make_user(acme)  # another email: linking is by choice, not by email
    fed = federate(acme, downstream, port, trusted=False)
    browser = Browser()
    login_url = f"{base(downstream, port)}/accounts/login/"
    browser.submit(login_url, browser.go(login_url), {"login": local.email, "password": PASSWORD})
    identities = browser.go(f"{base(downstream, port)}/account/identities/")
    assert f"Link {fed.provider.name}" in identities.text

    redirect = browser.submit(
        f"{base(downstream, port)}/accounts/oidc/{fed.provider.slug}/login/",
        identities,
        {"process": "connect", "next": "/account/identities/"},
        stop_at=fed.issuer,
    )
    login_page = browser.go(redirect.headers["Location"])
    next_url = parse_qs(urlsplit(browser.visited[-1]).query)["next"][0]
    reauthenticate = browser.submit(
        browser.visited[-1], login_page,
        {"login": upstream_person.email, "password": PASSWORD, "next": next_url},
    )  # fmt: skip
    # Linking is a sensitive change: the person types their password again first.
    assert urlsplit(browser.visited[-1]).path == "/accounts/reauthenticate/"
    with tenant_context(downstream.tenant):
        assert not SocialAccount.objects.filter(user=local).exists()
    browser.submit(browser.visited[-1], reauthenticate, {"password": PASSWORD})

    assert urlsplit(browser.visited[-1]).path == "/account/identities/"
    with tenant_context(downstream.tenant):
        account = SocialAccount.objects.get(user=local)
        assert AuditEvent.objects.filter(action="identity.link").exists()
    assert account.uid == str(upstream_person.public_id)
