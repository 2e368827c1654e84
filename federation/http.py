"""The HTTP session federation uses to reach identity providers (discovery, token, userinfo,
JWKS): allauth's, guarded against reaching this server's own network (SSRF), with
`*.localhost` names reaching loopback where loopback IdPs are allowed.

Every request it sends (and every redirect it follows) must go over https to a host whose
addresses are all public: not private, loopback, link-local (169.254.169.254, the cloud
metadata service), shared, multicast or reserved. An admin types the discovery URL, and the
discovery document names the other endpoints: both are someone else's words.

RFC 6761 (6.3) reserves `localhost` and every name under it for the loopback interface, as
browsers treat them; the system resolver often only knows `localhost` itself. With
FEDERATION_ALLOW_LOOPBACK_IDPS (development and tests) the guard is off, and a request to
`http://x.localhost:p/` goes to 127.0.0.1:p with its Host header kept, so a tenant can
federate to another tenant of the same platform in development exactly as it would on real
hosts."""

from __future__ import annotations

import functools
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class UnsafeDestination(requests.ConnectionError):
    """A request to an address an IdP may not have; its message says why in plain words."""


def is_loopback_name(hostname: str) -> bool:
    hostname = hostname.lower().strip("[]")
    if hostname in LOOPBACK_NAMES or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(hostname: str) -> list[str]:
    """The addresses `hostname` resolves to (itself for an IP literal); [] when it does not
    resolve (the request then fails to connect, as it would anyway)."""
    hostname = hostname.strip("[]")
    try:
        return [str(ipaddress.ip_address(hostname))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def destination_problem(url: str) -> str | None:
    """Why federation may not send a request to `url`, in plain words, or None."""
    try:
        parts = urlsplit(url)
        hostname = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return _("This is not a valid URL.")
    if not hostname or parts.username or parts.password:
        return _("This is not a valid URL.")
    if settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_name(hostname)):
            return None
        return _("Use an https URL.")
    if is_loopback_name(hostname):
        return _("An identity provider on this server's own host cannot be used.")
    if parts.scheme != "https":
        return _("Use an https URL.")
    for address in _addresses(hostname):
        if not _is_public(address):
            return _(
                "%(host)s is at %(address)s, a private, loopback, link-local or reserved "
                "address: an identity provider must be reachable on the public internet."
            ) % {"host": hostname, "address": address}
    return None


class GuardedAdapter(HTTPAdapter):
    """Refuses, before connecting, a request `destination_problem` objects to (redirects
    included: requests sends each through the adapter)."""

    def send(self, request, *args, **kwargs):
        problem = destination_problem(request.url)
        if problem:
            raise UnsafeDestination(problem, request=request)
        return super().send(request, *args, **kwargs)


class LocalhostNamesAdapter(GuardedAdapter):
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
    session.mount("https://", GuardedAdapter())
    if settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        session.mount("http://", LocalhostNamesAdapter())
    else:
        session.mount("http://", GuardedAdapter())
    return session
