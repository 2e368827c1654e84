"""Emails the MFA pages send, counted per account and per IP address by ciam.ratelimit on
the rates in settings.MFA_RATE_LIMITS (as guests.services.limits does)."""

from __future__ import annotations

from django.conf import settings

from ciam.ratelimit import rates_take


def rate_take(*, request, action: str, key: str) -> bool:
    """Count one `action` for `key`; False when a rate is used up."""
    return rates_take(
        f"mfa:{action}", settings.MFA_RATE_LIMITS.get(action), request=request, key=key
    )
