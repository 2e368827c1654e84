"""Encryption at rest of MFA secrets (authenticator app keys).

django-otp's own TOTP device stores its key in clear: a database dump would let anyone compute
every user's codes. Ours are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under keys derived
with HKDF from settings:

- MFA_ENCRYPTION_KEYS: a list of long random strings. The first seals, all open, so a new key
  is put first, `mfa_secrets_reseal()` (mfa.services) rewrites every row under it, and the old
  one is dropped afterwards.
- Without it (development, tests) the keys derive from SECRET_KEY and SECRET_KEY_FALLBACKS,
  which rotate the same way.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"ciam.mfa.secret-encryption"


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _secrets() -> list[str]:
    configured = list(getattr(settings, "MFA_ENCRYPTION_KEYS", None) or [])
    if configured:
        return configured
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(_secrets()))


@lru_cache(maxsize=4)
def _fernet_for(secrets: tuple[str, ...]) -> MultiFernet:
    # Keyed by the secrets themselves: a test or a deployment that changes them gets new keys.
    return MultiFernet([_derive(secret) for secret in secrets])


def secret_seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def secret_open(sealed: str) -> str:
    """The plain secret; cryptography.fernet.InvalidToken when no configured key opens it."""
    return _fernet().decrypt(sealed.encode()).decode()


def secret_reseal(sealed: str) -> str:
    """The same secret sealed under the first key (key rotation)."""
    return _fernet().rotate(sealed.encode()).decode()
