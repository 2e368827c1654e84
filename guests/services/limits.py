"""Limits on what requests may make the guests pages do: emails per invited address, per IP
address and per admin (email bombing), and failed invitation-link lookups per IP address.

Counted by ciam.ratelimit on the rates in settings.GUEST_RATE_LIMITS (allauth's notation,
as ACCOUNT_RATE_LIMITS: "3/h/key" counts per invited address, "/ip" per network, "/user"
per admin). Each tenant counts apart.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ciam.http import client_ip
from ciam.ratelimit import hit, ip_source, rates_parse, text_source


def rate_take(*, request, action: str, key: str | None = None, user=None) -> bool:
    """Count one `action` against each of its rates, in order. False when one of them is used
    up (the rates after it are not counted)."""
    for rate in rates_parse(settings.GUEST_RATE_LIMITS.get(action)):
        if rate.per == "ip":
            source = ip_source(client_ip(request))
        elif rate.per == "key":
            source = text_source(key or "")
        elif rate.per == "user":
            source = str((user or request.user).pk)
        else:
            raise ValueError(f"GUEST_RATE_LIMITS[{action!r}]: cannot count per {rate.per}.")
        if not hit(f"guests:{action}:{rate}:{source}", rate.limit, rate.period).allowed:
            return False
    return True


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
