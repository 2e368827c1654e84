"""Familiar browsers (Entra's "familiar locations"): a browser that signed in to an account
keeps a signed cookie saying so. Its failed attempts at that account are counted apart from
everyone else's, so that a lock someone caused from elsewhere (lockout as a weapon) does not
stop the account's owner, while guesses from that browser still lock it out on their own. The
per-IP lock applies to it as to anyone."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import connection

from accounts.sign_in.lockout import familiar_subject
from ciam.crypto import keyed_hash

COOKIE_NAME = "ciam_familiar"
SALT = "accounts.familiar-browser"
# Accounts a browser is remembered for (a shared computer), and for how long.
MAX_ACCOUNTS = 5
REMEMBER_SECONDS = 90 * 24 * 3600


def _digest(email: str) -> str:
    # Keyed, and bound to the tenant: the cookie names no address and serves one tenant only.
    text = f"{connection.schema_name}\0{email.strip().lower()}"
    return keyed_hash(text, purpose=SALT, length=32)


def _digests(request) -> list[str]:
    raw = getattr(request, "COOKIES", {}).get(COOKIE_NAME)
    if not raw:
        return []
    try:
        value = signing.loads(raw, salt=SALT, max_age=REMEMBER_SECONDS)
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [digest for digest in value if isinstance(digest, str)][:MAX_ACCOUNTS]


def lockout_subject(request, email: str) -> str:
    """The name attempts at `email` from this browser are counted under in accounts.sign_in.lockout:
    the email itself, or a name of their own from a browser that signed in to it before."""
    if request is not None and email and _digest(email) in _digests(request):
        return familiar_subject(email)
    return email


def familiar_browser_remember(request, response, email: str) -> None:
    """After a successful sign-in: this browser is familiar to the account from now on."""
    digest = _digest(email)
    digests = [digest, *(other for other in _digests(request) if other != digest)]
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps(digests[:MAX_ACCOUNTS], salt=SALT),
        max_age=REMEMBER_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
