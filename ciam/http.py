"""What every app reads from an HTTP request the same way: the client's address and the
credentials of an `Authorization: Basic` header."""

from __future__ import annotations

import base64
import ipaddress
from urllib.parse import unquote_plus, urlencode

from django.conf import settings

_CLIENT_IP = "_ciam_client_ip"


def client_ip(request) -> str | None:
    """The client's address. With TRUSTED_PROXY_COUNT = n, the n-th entry from the right of
    X-Forwarded-For (what our outermost proxy saw; entries left of it are whatever the client
    claimed); otherwise, or when the header is short or malformed, the peer address.
    Worked out once per request: a sign-in asks for it several times (lockout, sign-in log,
    session row)."""
    if not hasattr(request, _CLIENT_IP):
        setattr(request, _CLIENT_IP, _client_ip(request.META))
    return getattr(request, _CLIENT_IP)


def _client_ip(meta) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            try:
                return str(ipaddress.ip_address(hops[-count]))
            except ValueError:
                pass
    return meta.get("REMOTE_ADDR") or None


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """The (user id, password) of an `Authorization` header value of the Basic scheme (RFC
    7617), each form-decoded as OAuth clients encode them (RFC 6749 2.3.1); None for another
    scheme or none. Raises ValueError for a Basic header that cannot be read (not strict
    base64, not UTF-8, no colon)."""
    if not authorization.startswith("Basic "):
        return None
    user_id, password = base64.b64decode(authorization[6:], validate=True).decode().split(":", 1)
    return unquote_plus(user_id), unquote_plus(password)


def url_with_next(url: str, next_url: str | None) -> str:
    """`url` going on to `next_url` afterwards (`?next=`), when there is one. `next_url` must
    be checked as safe already (allauth's get_next_redirect_url)."""
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
