"""Helpers for the sign-up and sign-in tests.

Lockout state lives in Redis and outlives the rolled-back database, so every test uses fresh
email addresses and its own client IP address."""

from __future__ import annotations

import itertools
import random
import re
import uuid

import pytest
from django.test import Client

_ip_numbers = itertools.count(random.randrange(1, 60000))


def fresh_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.org"


def fresh_ip() -> str:
    number = next(_ip_numbers)
    return f"10.{random.randrange(1, 250)}.{number // 250 % 250}.{number % 250 + 1}"


def tenant_client(world) -> Client:
    """An anonymous client on the tenant's host, from an address no other test uses."""
    return Client(HTTP_HOST=world.host, REMOTE_ADDR=fresh_ip())


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+", text)
    assert match, text
    return match.group(0)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (such as queueing an email task) inside a rolled-back test."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
