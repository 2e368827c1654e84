"""Limits on what requests may make the guests pages do: emails per invited address, per IP
address and per admin (email bombing), and failed invitation-link lookups per IP address.

Counted by allauth's rate limiter, the one that limits the account emails, on the rates in
settings.GUEST_RATE_LIMITS. Its cache keys go through django_tenants.cache.make_key, so each
tenant counts apart.
"""

from __future__ import annotations

# The internal module: the public wrapper reads only allauth.account's rates and never counts
# a GET (opening an invitation link is one).
from allauth.core.internal import ratelimit
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

APP = "guests"


def rate_take(*, request, action: str, key: str | None = None, user=None) -> bool:
    """Count one `action` against each of its rates. False, and nothing counted, when one of
    them is used up."""
    usage = ratelimit.consume(
        request,
        app=APP,
        action=action,
        config=settings.GUEST_RATE_LIMITS,
        key=key.lower() if key else key,
        user=user,
        limit_get=True,
    )
    return usage is not None


def email_limit_take(*, request, action: str, recipient: str, user=None) -> None:
    """Count one email to `recipient`, or raise ValidationError (code "rate_limited") when
    this address, this IP address or this admin already had its share."""
    if not rate_take(request=request, action=action, key=recipient, user=user):
        raise ValidationError(
            _(
                "Too many emails were sent to this address, from your network or by you "
                "recently. Nothing was sent: wait a while and try again."
            ),
            code="rate_limited",
        )
