"""Home-realm discovery: a tenant maps email domains to an identity provider; an address at
one of them, typed on the sign-in page or hinted by an app (`domain_hint`, `login_hint`),
goes straight to that IdP, and the sign-in comes back to where it was going."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from federation.models import IdentityProvider
from federation.services import identity_provider_update
from tests.federation.helpers import (
    CSRF,
    Browser,
    base,
    create_provider,
    federate,
    sign_in_upstream_at,
)
from tests.helpers import make_user as make_admin
from tests.mfa.helpers import make_user
from tests.oidc.helpers import pkce_pair, register_app

LIST = "/console/identity-providers/"


def _map(fed, *domains):
    with tenant_context(fed.downstream.tenant):
        provider = IdentityProvider.objects.get(pk=fed.provider.pk)
        identity_provider_update(
            actor=fed.downstream.admin, provider=provider, email_domains=list(domains)
        )


def _partner(acme):
    domain = f"p{uuid.uuid4().hex[:8]}.partner.example"
    return make_user(acme, email=f"ada@{domain}", first_name="Ada"), domain


# Console -------------------------------------------------------------------------------


def test_email_domains_are_saved_lower_case_and_one_idp_per_domain(acme):
    client = acme.client(make_admin(acme, admin_roles=["security_administrator"]))
    first = create_provider(acme, name="Partner One")
    second = create_provider(acme, name="Partner Two")

    saved = client.post(
        f"{LIST}{first.public_id}/edit/",
        {"name": "Partner One", "discovery_url": first.discovery_url, "client_id": "c",
         "client_secret": "", "scopes": "", "claim_email": "email",
         "claim_given_name": "given_name", "claim_family_name": "family_name",
         "email_domains": "Partner.Example\n@sub.partner.example, partner.example",
         # This test's administrator has an address at partner.example (see
         # test_mapping_an_administrators_domain_asks_for_confirmation).
         "confirm_admin_domains": "on", "enabled": "on"},
    )  # fmt: skip
    taken = client.post(
        f"{LIST}{second.public_id}/edit/",
        {"name": "Partner Two", "discovery_url": second.discovery_url, "client_id": "c",
         "client_secret": "", "scopes": "", "claim_email": "email",
         "claim_given_name": "given_name", "claim_family_name": "family_name",
         "email_domains": "other.example\nsub.partner.example", "enabled": "on"},
    )  # fmt: skip
    invalid = client.post(
        f"{LIST}{second.public_id}/edit/",
        {"name": "Partner Two", "discovery_url": second.discovery_url, "client_id": "c",
         "client_secret": "", "scopes": "", "claim_email": "email",
         "claim_given_name": "given_name", "claim_family_name": "family_name",
         "email_domains": "not a domain", "enabled": "on"},
    )  # fmt: skip

    assert saved.status_code == 303
    with tenant_context(acme.tenant):
        first.refresh_from_db()
        second.refresh_from_db()
        assert AuditEvent.objects.filter(action="identity_provider.update").exists()
    assert first.email_domains == ["partner.example", "sub.partner.example"]
    detail = client.get(f"{LIST}{first.public_id}/").content.decode()
    assert "partner.example, sub.partner.example" in detail
    assert taken.status_code == 400
    assert "sub.partner.example already signs in with Partner One" in taken.content.decode()
    assert invalid.status_code == 400
    assert "is not a domain name" in invalid.content.decode()
    assert second.email_domains == []


# Sign-in -------------------------------------------------------------------------------


@pytest.mark.server
def test_an_address_at_a_mapped_domain_goes_straight_to_its_idp_and_comes_back(
    worlds, downstream, running_server
):
    acme = worlds["acme"]
    person, domain = _partner(acme)
    fed = federate(acme, downstream, running_server.port)
    _map(fed, domain)
    browser = Browser()
    sign_in = f"{base(downstream, running_server.port)}/accounts/login/?next=/account/apps/"
    page = browser.go(sign_in)
    policy = page.headers["Content-Security-Policy"]
    assert urlsplit(fed.issuer)._replace(path="").geturl() in policy.split("form-action")[1]

    # No password: the address alone decides (the page works without JS).
    redirect = browser.session.post(
        sign_in,
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1),
              "login": person.email.upper().replace("ADA@", "ada@"), "password": "",
              "next": "/account/apps/"},
        allow_redirects=False, timeout=20,
    )  # fmt: skip

    assert redirect.status_code == 302
    authorize = redirect.headers["Location"]
    assert authorize.startswith(f"{fed.issuer}/authorize/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["login_hint"] == [person.email.upper().replace("ADA@", "ada@")]
    assert query["code_challenge_method"] == ["S256"]
    sign_in_upstream_at(browser, fed, authorize, person.email)
    assert urlsplit(browser.visited[-1]).path == "/account/apps/"


@pytest.mark.server
def test_an_unmapped_address_signs_in_with_its_password_as_before(
    worlds, downstream, running_server
):
    from tests.helpers import PASSWORD

    acme = worlds["acme"]
    _person, domain = _partner(acme)
    fed = federate(acme, downstream, running_server.port)
    _map(fed, domain)
    local = make_user(downstream)
    browser = Browser()
    sign_in = f"{base(downstream, running_server.port)}/accounts/login/"
    page = browser.go(sign_in)

    browser.submit(sign_in, page, {"login": local.email, "password": PASSWORD})

    assert urlsplit(browser.visited[-1]).path == "/account/"


@pytest.mark.server
def test_the_email_code_form_also_goes_to_the_idp(worlds, downstream, running_server):
    acme = worlds["acme"]
    person, domain = _partner(acme)
    fed = federate(acme, downstream, running_server.port)
    _map(fed, domain)
    browser = Browser()
    url = f"{base(downstream, running_server.port)}/accounts/login/code/"
    page = browser.go(url)

    redirect = browser.session.post(
        url, data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1), "email": person.email},
        allow_redirects=False, timeout=20,
    )  # fmt: skip

    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(f"{fed.issuer}/authorize/")


@pytest.mark.server
@pytest.mark.parametrize("hint", ["domain_hint", "login_hint"])
def test_an_apps_hint_sends_the_person_to_the_idp_and_the_app_gets_its_code(
    worlds, downstream, running_server, hint
):
    acme = worlds["acme"]
    person, domain = _partner(acme)
    fed = federate(acme, downstream, running_server.port)
    _map(fed, domain)
    app = register_app(downstream, redirect_uri="http://127.0.0.1:9/callback")
    _verifier, challenge = pkce_pair()
    authorize = "/o/authorize/?" + urlencode(
        {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
         "scope": "openid email", "state": "s1", "code_challenge": challenge,
         "code_challenge_method": "S256",
         hint: domain if hint == "domain_hint" else person.email}
    )  # fmt: skip
    browser = Browser()

    upstream = browser.go(
        f"{base(downstream, running_server.port)}{authorize}", stop_at=f"{fed.issuer}/authorize/"
    )
    assert browser.visited[-1].startswith(f"{fed.issuer}/authorize/")
    assert upstream.status_code == 302
    query = parse_qs(urlsplit(browser.visited[-1]).query)
    assert query.get("login_hint") == ([person.email] if hint == "login_hint" else None)
    redirect = sign_in_upstream_at(
        browser, fed, browser.visited[-1], person.email, stop_at=app.redirect_uri
    )
    assert parse_qs(urlsplit(redirect.headers["Location"]).query)["state"] == ["s1"]
    assert "code" in parse_qs(urlsplit(redirect.headers["Location"]).query)


@pytest.mark.server
def test_a_disabled_idp_takes_no_one_and_the_page_works_as_before(
    worlds, downstream, running_server
):
    acme = worlds["acme"]
    person, domain = _partner(acme)
    fed = federate(acme, downstream, running_server.port)
    _map(fed, domain)
    with tenant_context(downstream.tenant):
        IdentityProvider.objects.filter(pk=fed.provider.pk).update(enabled=False)
    url = f"{base(downstream, running_server.port)}/accounts/login/?" + urlencode(
        {"next": f"/o/authorize/?domain_hint={domain}"}
    )

    page = requests.Session()
    page.mount("http://", Browser().session.get_adapter("http://"))
    response = page.get(url, allow_redirects=False, timeout=20)

    assert response.status_code == 200 and "Sign in" in response.text
