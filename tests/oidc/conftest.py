"""Fixtures for the OpenID Connect provider tests; helpers live in tests/oidc/helpers.py."""

import pytest

from tests.oidc.helpers import Flow, register_app


@pytest.fixture(autouse=True)
def _provider_caches_forget():
    """Keys and apps cached by this process during a test may have been rolled back since."""
    from oidc.clients import clients_forget_all
    from oidc.keys import key_lists_forget_all

    yield
    key_lists_forget_all()
    clients_forget_all()


@pytest.fixture
def acme_web(acme):
    return register_app(acme)


@pytest.fixture
def acme_flow(acme):
    return Flow(acme, user=acme.member)
