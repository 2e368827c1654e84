"""Digests the project stores or compares instead of a secret itself."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac


def keyed_hash(value: str, *, purpose: str | None, length: int = 64) -> str:
    """HMAC-SHA256 of `value` under a key derived from SECRET_KEY, in hex (the first `length`
    digits). Without SECRET_KEY a stolen digest cannot be tested against guesses, and a
    long random value needs no slow password hash. Each `purpose` gets its own key (Django's
    salted_hmac), so a digest made for one use means nothing to another.

    `purpose=None` keys with SECRET_KEY itself: API keys and invitation codes were stored
    that way, and their stored digests must keep matching."""
    if purpose is None:
        digest = hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
    else:
        digest = salted_hmac(purpose, value, algorithm="sha256").hexdigest()
    return digest[:length]


def checksum(value: str) -> str:
    """SHA-256 in hex: how a long random token is found again without being stored (a token
    has too many bits for a table of guesses to help)."""
    return hashlib.sha256(value.encode()).hexdigest()
