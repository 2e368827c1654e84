"""Fixtures for guest invitation tests."""

from __future__ import annotations

import re
import uuid

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
