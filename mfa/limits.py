"""Emails the MFA pages send, counted per account and per IP address by allauth's rate
limiter (as guests.services.limits does), on the rates in settings.MFA_RATE_LIMITS."""

from __future__ import annotations

from allauth.core.internal import ratelimit
from django.conf import settings

APP = "mfa"


def rate_take(*, request, action: str, key: str) -> bool:
    """Count one `action` for `key`; False, and nothing counted, when a rate is used up."""
    usage = ratelimit.consume(
        request,
        app=APP,
        action=action,
        config=settings.MFA_RATE_LIMITS,
        key=key.lower(),
        limit_get=True,
    )
    return usage is not None
