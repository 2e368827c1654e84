"""Helpers shared by test modules (fixtures live in the conftest files)."""

from __future__ import annotations

import re
import time
import uuid

from tests.mail import body_text

LINK = re.compile(r"https?://[^\s]+/invite/([A-Za-z0-9_\-]+)/")
CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def eventually(condition, *, timeout: float = 20, interval: float = 0.05, message=""):
    """The first true value `condition()` returns, asked every `interval` seconds; the test
    fails if none came within `timeout` seconds. For what another process (a server, a
    worker, the SMTP sink) does in its own time. `message` (text, or a function giving it
    when the time is up) says what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            if callable(message):
                message = message()
            raise AssertionError(message or f"not true within {timeout} seconds: {value!r}")
        time.sleep(interval)


def unique_email(prefix: str = "partner", domain: str = "partner.example") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@{domain}"


def link_token(message) -> str:
    """The invitation token in an invitation email's link."""
    match = LINK.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)


def email_code(message) -> str:
    """The six-digit code in a sign-in code email."""
    match = CODE.search(body_text(message))
    assert match, body_text(message)
    return match.group(1)
