"""Limits on what requests may make the guests pages do: emails per invited address, per IP
address and per admin (email bombing), and failed invitation-link lookups per IP address; and
emails per invited address of bulk uploads.

Counted by ciam.ratelimit on the rates in settings.GUEST_RATE_LIMITS (allauth's notation,
as ACCOUNT_RATE_LIMITS: "3/h/key" counts per invited address, "/ip" per network, "/user"
per admin). Each tenant counts apart.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ciam.ratelimit import rates_take, rates_take_per_key


def rate_take(*, request, action: str, key: str | None = None, user=None) -> bool:
    """Count one `action` against each of its rates; False when one of them is used up."""
    return rates_take(
        f"guests:{action}",
        settings.GUEST_RATE_LIMITS.get(action),
        request=request,
        key=key,
        user=user,
    )


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


def addresses_limit_take(*, action: str, recipients: list[str]) -> set[str]:
    """Count one email to each of `recipients` against the per-address rates of `action`
    alone (no request, IP address or admin drives a bulk upload's worker); the addresses that
    already had their share, lower-cased. The counters are those of email_limit_take: an
    address invited one by one and in a bulk upload counts once for each."""
    return rates_take_per_key(
        f"guests:{action}",
        settings.GUEST_RATE_LIMITS.get(action),
        keys=[recipient.lower() for recipient in recipients],
    )
