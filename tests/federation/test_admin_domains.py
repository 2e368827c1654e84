"""Mapping an email domain to an identity provider sends everyone at it there (home-realm
discovery): when an administrator of the tenant has an address at that domain, the console
says so next to the field and saves only once the admin confirms."""

from __future__ import annotations

import uuid

from django_tenants.utils import tenant_context

from tests.federation.helpers import create_provider
from tests.helpers import make_user

LIST = "/console/identity-providers/"


def _form(provider, domains: str, **extra) -> dict:
    return {
        "name": provider.name, "discovery_url": provider.discovery_url, "client_id": "c",
        "client_secret": "", "scopes": "", "claim_email": "email",
        "claim_given_name": "given_name", "claim_family_name": "family_name",
        "email_domains": domains, "enabled": "on", **extra,
    }  # fmt: skip


def test_mapping_an_administrators_domain_asks_for_confirmation(acme):
    domain = f"corp{uuid.uuid4().hex[:8]}.example"
    other = f"other{uuid.uuid4().hex[:8]}.example"
    boss = make_user(acme, email=f"boss@{domain}", admin_roles=["user_administrator"])
    make_user(acme, email=f"member@{other}")  # not an administrator: no warning for it
    admin = acme.client(
        make_user(acme, email=f"sec-{uuid.uuid4().hex[:6]}@admins.example",
                  admin_roles=["security_administrator"])
    )  # fmt: skip
    provider = create_provider(acme, name=f"Corp {uuid.uuid4().hex[:6]}")
    edit = f"{LIST}{provider.public_id}/edit/"

    warned = admin.post(edit, _form(provider, f"{domain}\n{other}"))

    assert warned.status_code == 400
    page = warned.content.decode()
    assert boss.email in page and "can no longer sign in here with their password" in page
    assert 'name="confirm_admin_domains"' in page
    assert f"{domain}\n{other}" in page  # what was typed is kept
    with tenant_context(acme.tenant):
        provider.refresh_from_db()
        assert provider.email_domains == []

    fine = admin.post(edit, _form(provider, other))  # no administrator there
    assert fine.status_code == 303
    confirmed = admin.post(edit, _form(provider, f"{other}\n{domain}", confirm_admin_domains="on"))
    assert confirmed.status_code == 303
    with tenant_context(acme.tenant):
        provider.refresh_from_db()
        assert provider.email_domains == [other, domain]
    # Saved once confirmed: editing it again does not ask again.
    again = admin.get(edit).content.decode()
    assert 'name="confirm_admin_domains"' not in again
    assert admin.post(edit, _form(provider, f"{other}\n{domain}")).status_code == 303
