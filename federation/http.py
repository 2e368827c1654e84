"""The HTTP session federation uses to reach identity providers (discovery, token, userinfo,
JWKS): allauth's, with `*.localhost` names reaching loopback where loopback IdPs are allowed.

RFC 6761 (6.3) reserves `localhost` and every name under it for the loopback interface, as
browsers treat them; the system resolver often only knows `localhost` itself. With
FEDERATION_ALLOW_LOOPBACK_IDPS (development and tests) a request to `http://x.localhost:p/`
goes to 127.0.0.1:p with its Host header kept, so a tenant can federate to another tenant of
the same platform in development exactly as it would on real hosts."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter


class LocalhostNamesAdapter(HTTPAdapter):
    def send(self, request, *args, **kwargs):
        parts = urlsplit(request.url)
        hostname = parts.hostname or ""
        if not hostname.endswith(".localhost"):
            return super().send(request, *args, **kwargs)
        # A copy goes to loopback; the response names the URL asked for (cookies, redirects).
        loopback = request.copy()
        loopback.headers["Host"] = parts.netloc
        port = f":{parts.port}" if parts.port else ""
        loopback.url = urlunsplit(parts._replace(netloc=f"127.0.0.1{port}"))
        response = super().send(loopback, *args, **kwargs)
        response.url, response.request = request.url, request
        return response


def idp_session(timeout: float | None = None) -> requests.Session:
    from allauth.socialaccount import app_settings

    session = requests.Session()
    session.request = functools.partial(
        session.request, timeout=timeout or app_settings.REQUESTS_TIMEOUT
    )
    if settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        session.mount("http://", LocalhostNamesAdapter())
    return session
