"""What the third-party consent page tells the user."""

from __future__ import annotations

from tests.oidc.helpers import Flow, register_app


def test_consent_page_names_the_tenant_by_its_display_name(acme):
    third_party = register_app(acme, first_party=False, name="Partner app")
    consent, _verifier = Flow(acme, user=acme.member).authorize(third_party)
    body = consent.content.decode()
    assert consent.status_code == 200
    assert f"Partner app is not made by {acme.tenant.name}." in body
    assert f"not made by {acme.tenant.slug}" not in body
