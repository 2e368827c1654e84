"""Every stored digest keeps its exact value: client secrets, API keys, invitation links and
codes, tokens and lockout state written before a change must still match after it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django_tenants.utils import schema_context

from accounts.sign_in import familiar, lockout
from ciam.crypto import checksum
from guests import services as guest_services
from guests.services.invitations import _code_hash
from oidc.client_secrets import secret_digest

EMAIL = " Ann@Example.com "


@pytest.fixture(autouse=True)
def _known_secret_key(settings):
    settings.SECRET_KEY = "pinned-secret-key-for-digest-tests"


def test_client_secret_digest():
    assert secret_digest("the-client-secret") == (
        "4edefdbff1a5732e983abbf4da311c6a6e7778045fe1e0e6cd79872d461fff8e"
    )


def test_api_key_digest():
    assert guest_services.api_key_hash("ciam_the-api-key") == (
        "0ad73f7abc13250656a033747faf9537983ffcef0809eed3ea2231168a6677f0"
    )


def test_invitation_link_digest():
    assert guest_services.token_hash("the-invitation-token") == (
        "1edede57beda57086ff299ebe465d4b3e2465018010242884ee0076f4da44340"
    )


def test_redemption_code_digest():
    assert _code_hash(SimpleNamespace(pk=42), "123456") == (
        "35a015d96c2e0bb1284a159c1a752bf769f6516c4b71ac76e89e0b954142a009"
    )


def test_token_checksum():
    assert checksum("the-access-token") == (
        "b9bcbd67c19bfc7ff1e1f3e3c0dce0bbbf786fceb489fc0fb1bc2795f362085b"
    )


def test_lockout_keys_and_remembered_bad_passwords():
    assert lockout._account_key(EMAIL) == "lockout:account:71d4f55f72fa128dfb468a1a3901507c804b7431"
    assert lockout._bad_password_fingerprint(EMAIL, "wrong password") == (
        "25dc773130e0a8dd19e2f7d8756d1143"
    )


def test_familiar_browser_digest():
    with schema_context("acme"):
        assert familiar._digest(EMAIL) == "5732231af59cc60a8c890e72ad2cbdf7"
