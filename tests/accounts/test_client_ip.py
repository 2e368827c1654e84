"""Which address counts as the client's: what the sign-in log records and per-IP lockout
uses. Behind a proxy that must be the client's, not the proxy's; never one the client
can pick by sending its own X-Forwarded-For."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from tests.helpers import unique_email

LOCKED = "Too many failed sign-in attempts"


def fail_sign_in(world, email: str, **headers):
    return world.client().post(
        "/accounts/login/", {"login": email, "password": "not the password at all"}, **headers
    )


def logged_ip(world, email: str) -> str:
    with tenant_context(world.tenant):
        return SignInEvent.objects.filter(email_typed=email).latest("occurred_at").ip_address


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(acme):
    email = unique_email()
    fail_sign_in(acme, email, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="192.0.2.10")
    assert logged_ip(acme, email) == "192.0.2.10"


def test_behind_one_trusted_proxy_the_address_it_saw_counts_not_what_the_client_claimed(
    acme, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    email = unique_email()
    fail_sign_in(acme, email, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    assert logged_ip(acme, email) == "203.0.113.7"
    garbage = unique_email()
    fail_sign_in(acme, garbage, HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.2")
    assert logged_ip(acme, garbage) == "10.0.0.2"


def test_per_ip_lockout_behind_a_proxy_separates_clients(acme, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOCKOUT_IP_THRESHOLD = 3
    attacker = {"HTTP_X_FORWARDED_FOR": "192.0.2.10", "REMOTE_ADDR": "10.0.0.2"}
    for _ in range(3):
        fail_sign_in(acme, unique_email(), **attacker)
    assert LOCKED in fail_sign_in(acme, unique_email(), **attacker).content.decode()
    neighbour = {"HTTP_X_FORWARDED_FOR": "192.0.2.11", "REMOTE_ADDR": "10.0.0.2"}
    response = fail_sign_in(acme, unique_email(), **neighbour)
    assert LOCKED not in response.content.decode()
