"""Fixtures for guest invitation tests."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.mail import body_text

LINK = re.compile(r"https?://[^\s]+/invite/([A-Za-z0-9_\-]+)/")
CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def unique_email(prefix: str = "partner", domain: str = "partner.example") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@{domain}"


def link_token(message) -> str:
    match = LINK.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


def email_code(message) -> str:
    match = CODE.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


@pytest.fixture
def acme_committed(worlds, committed):
    """acme with autocommit database access: what the test writes, the worker sees."""
    return worlds["acme"]


@pytest.fixture
def globex_committed(worlds, committed):
    return worlds["globex"]


@pytest.fixture(autouse=True)
def _fresh_guest_rate_limits(worlds):
    """Every test starts with nothing counted toward the guests pages' limits (invitation
    link failures, emails per address, IP address and admin): the counters live in Redis,
    which outlives a test, and every test client has the same address."""
    from django.core.cache import cache
    from django_tenants.utils import tenant_context

    for world in worlds.values():
        with tenant_context(world.tenant):
            cache.delete_pattern("allauth:rl:guests:*")
