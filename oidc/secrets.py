"""Client secrets: long random strings, so a keyed hash (HMAC-SHA256 under a key derived from
SECRET_KEY) is as safe as a password hash and costs microseconds instead of 200 ms."""

from __future__ import annotations

import secrets as random

from django.utils.crypto import salted_hmac


def secret_generate() -> str:
    return random.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return salted_hmac("oidc.client-secret", secret, algorithm="sha256").hexdigest()
