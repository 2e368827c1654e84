"""The console's navigation is what the apps register: an area appears once its app
registers it, in its order, to the roles it names, and never twice."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from console import navigation


@pytest.fixture
def registry(monkeypatch):
    """The registry as the apps left it, restored after the test."""
    monkeypatch.setattr(navigation, "_registry", dict(navigation._registry))
    return navigation


def _nav(body: str) -> str:
    return body.split('<nav class="console-nav"', 1)[1].split("</nav>", 1)[0]


def test_a_registered_area_appears_in_its_order_to_its_roles_only(acme, registry):
    registry.register(
        navigation.Area("Key vault", "console:apps:signing-keys", ("security_administrator",)),
        order=85,
    )
    with tenant_context(acme.tenant):
        security = get_user_model().objects.create_user(
            email="security-nav@acme.test", admin_roles=["security_administrator"]
        )
        reader = get_user_model().objects.create_user(
            email="reader-nav@acme.test", admin_roles=["reports_reader"]
        )
    nav = _nav(acme.client(security).get("/console/").content.decode())
    assert 'href="/console/apps/signing-keys/">Key vault</a>' in nav
    assert nav.index("Key vault") < nav.index(">Logs<")
    assert "Key vault" not in _nav(acme.client(reader).get("/console/").content.decode())


def test_registering_an_area_again_replaces_it(acme, registry):
    area = navigation.Area("Key vault", "console:apps:signing-keys", ("security_administrator",))
    registry.register(area, order=85)
    registry.register(area, order=85)
    nav = _nav(acme.client(acme.admin).get("/console/").content.decode())
    assert nav.count("Key vault") == 1
