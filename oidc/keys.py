"""The tenant's signing keys, parsed once per process.

Parsing a PEM costs tens of milliseconds, so parsed keys are kept per (schema, kid) for the
life of the process (a kid names one key: it never changes). The list of a tenant's keys
(which one signs, which are published) is re-read at most every KEY_LIST_SECONDS, and at once
in the process that rotated them. Both are bounded: beyond the bound, the oldest is forgotten.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import connection
from django.utils import timezone
from jwcrypto import jwk

from ciam.process_cache import ProcessCache
from oidc.models import SigningKey

KEY_LIST_SECONDS = 5.0
MAX_KEY_LISTS = 10_000  # tenants
MAX_PARSED_KEYS = 40_000  # a tenant has two or three keys, each kept private and public

_parsed = ProcessCache(None, max_entries=MAX_PARSED_KEYS)
_key_lists = ProcessCache(None, max_age=KEY_LIST_SECONDS, max_entries=MAX_KEY_LISTS)


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    algorithm: str
    public_jwk: dict
    active_from: datetime
    retire_at: datetime | None


def _schema() -> str:
    return connection.schema_name


def _fernet() -> MultiFernet:
    # One key per SECRET_KEY (the current one first, then SECRET_KEY_FALLBACKS), so keys
    # sealed before a secret rotation still open.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(hashlib.sha256(f"oidc.signing-key:{s}".encode()).digest())
            )
            for s in secrets
        ]
    )


def private_pem_seal(pem: str) -> str:
    """Encrypt a private key for storage: a database dump alone cannot forge tokens."""
    return _fernet().encrypt(pem.encode()).decode()


def private_pem_open(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode()).decode()


def key_list() -> list[KeyInfo]:
    """The current tenant's keys not yet retired (the published ones), newest first."""
    schema = _schema()
    keys = _key_lists.get(schema)
    if keys is None:
        keys = [
            KeyInfo(k.kid, k.algorithm, k.public_jwk, k.active_from, k.retire_at)
            for k in SigningKey.objects.only(
                "kid", "algorithm", "public_jwk", "active_from", "retire_at"
            )
        ]
        _key_lists.set(schema, keys)
    moment = timezone.now()
    return [k for k in keys if k.retire_at is None or k.retire_at > moment]


def key_list_forget() -> None:
    """Forget this process's key list of the current tenant (after a rotation here)."""
    _key_lists.forget(_schema())


def key_lists_forget_all() -> None:
    """Forget every tenant's key list in this process (after a transaction that rolled back,
    as each test's does)."""
    _key_lists.forget_local()


def signing_kid(algorithm: str = "RS256") -> str:
    """The kid of the key that signs with `algorithm` now (the newest active one)."""
    moment = timezone.now()
    for key in key_list():
        if key.algorithm == algorithm and key.active_from <= moment:
            return key.kid
    raise LookupError(f"this tenant has no active {algorithm} signing key")


def private_key(kid: str) -> jwk.JWK:
    """The parsed private key `kid` of the current tenant."""
    cache_key = (_schema(), kid)
    key = _parsed.get(cache_key)
    if key is None:
        sealed = SigningKey.objects.values_list("private_pem", flat=True).get(kid=kid)
        key = jwk.JWK.from_pem(private_pem_open(sealed).encode())
        _parsed.set(cache_key, key)
    return key


def public_key(kid: str, algorithm: str = "RS256") -> jwk.JWK | None:
    """The published public key `kid` of the current tenant for `algorithm`, or None if no
    such key is published (a token's `alg` must be its key's: no algorithm confusion)."""
    for key in key_list():
        if key.kid == kid and key.algorithm == algorithm:
            cache_key = (_schema(), "public:" + kid)
            parsed = _parsed.get(cache_key)
            if parsed is None:
                parsed = jwk.JWK(**key.public_jwk)
                _parsed.set(cache_key, parsed)
            return parsed
    return None
