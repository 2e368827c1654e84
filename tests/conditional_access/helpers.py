"""Helpers for the conditional access tests: policies written as the console writes them,
users of each kind, clients from addresses of their own."""

from __future__ import annotations

import itertools
import random
import uuid

from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import tenant_context

from conditional_access.models import ConditionalAccessPolicy, NamedLocation
from tests.conftest import PASSWORD

Policy = ConditionalAccessPolicy
_ip_numbers = itertools.count(random.randrange(1, 60000))


def fresh_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def fresh_ip() -> str:
    """An address no other test uses (lockouts count per IP in Redis, outside rollbacks)."""
    number = next(_ip_numbers)
    return f"10.{random.randrange(1, 250)}.{number // 250 % 250}.{number % 250 + 1}"


def client_from(world, ip: str | None = None) -> Client:
    return Client(HTTP_HOST=world.host, REMOTE_ADDR=ip or fresh_ip())


def make_user(world, email=None, **fields):
    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(
            email=email or fresh_email(), password=PASSWORD, **fields
        )


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
