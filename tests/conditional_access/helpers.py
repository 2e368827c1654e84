"""Helpers for the conditional access tests: policies written as the console writes them,
users of each kind, clients from addresses of their own."""

from __future__ import annotations

import uuid

from django.test import Client
from django_tenants.utils import tenant_context

from conditional_access.models import ConditionalAccessPolicy, NamedLocation
from tests.helpers import PASSWORD, make_user, tenant_client  # noqa: F401  (the tests' one make_user)

Policy = ConditionalAccessPolicy


def client_from(world, ip: str | None = None) -> Client:
    """A client from `ip`, or from an address of its own (tests.helpers.tenant_client)."""
    if ip is None:
        return tenant_client(world)
    return Client(HTTP_HOST=world.host, REMOTE_ADDR=ip)


def make_location(world, name, ranges, kind=NamedLocation.Kind.TRUSTED) -> NamedLocation:
    with tenant_context(world.tenant):
        return NamedLocation.objects.create(name=name, ip_ranges=list(ranges), kind=kind)


def make_policy(world, *, relations=None, **fields) -> Policy:
    """A policy row as the console saves it (state on unless told), without the lock-out
    check: the matrix needs policies that block everyone."""
    fields.setdefault("name", f"policy {uuid.uuid4().hex[:8]}")
    fields.setdefault("state", Policy.State.ON)
    with tenant_context(world.tenant):
        policy = Policy.objects.create(**fields)
        for name, objects in (relations or {}).items():
            getattr(policy, name).set(objects)
    return policy


def policies_clear(world) -> None:
    """Without the default report-only policy, so each test sees only its own."""
    with tenant_context(world.tenant):
        Policy.objects.all().delete()


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})
