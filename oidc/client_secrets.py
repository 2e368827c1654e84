"""Client secrets: long random strings, so a keyed hash (HMAC-SHA256 under a key derived from
SECRET_KEY) is as safe as a password hash and costs microseconds instead of 200 ms."""

from __future__ import annotations

import secrets

from ciam.crypto import keyed_hash


def secret_generate() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return keyed_hash(secret, purpose="oidc.client-secret")
