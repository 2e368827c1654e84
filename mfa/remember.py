""" "Remember this browser": after a second factor, a browser may skip it for the tenant's
MfaPolicy.remember_browser_days.

The cookie is signed (django.core.signing, its own salt), HttpOnly, Secure outside DEBUG,
SameSite=Lax, host-only, and names the user, the tenant and the user's MFA generation: a
keyed hash of the password hash and of the second factors set up (their ids and when they
were confirmed). A password change or reset, an authenticator app added or removed, new
recovery codes or a reset by an administrator all change the generation, so every
remembered browser of that person is asked again. Its age is checked against the policy's
current number of days: shortening it, or turning it off (0), applies to cookies already
given.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import connection

from ciam.crypto import keyed_hash

COOKIE = "ciam_mfa_browser"
_SALT = "mfa.remember-browser"


def mfa_generation(user) -> str:
    """Changes whenever the person's password or second factors change."""
    from mfa.models import RecoveryCodeDevice, TOTPDevice

    totp = (
        TOTPDevice.objects.filter(user=user, confirmed=True)
        .values_list("public_id", "confirmed_at")
        .first()
    )
    recovery = RecoveryCodeDevice.objects.filter(user=user).values_list("public_id").first()
    material = f"{user.pk}\0{user.password}\0{totp}\0{recovery}"
    return keyed_hash(material, purpose="mfa.generation", length=32)


def _tenant_id() -> str:
    return str(getattr(connection.tenant, "public_id", connection.schema_name))


def remember_cookie_set(response, *, user, days: int) -> None:
    value = signing.dumps(
        {"u": str(user.public_id), "t": _tenant_id(), "g": mfa_generation(user)}, salt=_SALT
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=days * 86400,
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )


def is_remembered(request, *, user, days: int) -> bool:
    """Whether this browser holds a valid remembered-browser cookie for `user` here."""
    value = request.COOKIES.get(COOKIE)
    if not days or not value:
        return False
    try:
        data = signing.loads(value, salt=_SALT, max_age=days * 86400)
    except signing.BadSignature:  # SignatureExpired included
        return False
    return (
        isinstance(data, dict)
        and data.get("u") == str(user.public_id)
        and data.get("t") == _tenant_id()
        and data.get("g") == mfa_generation(user)
    )
