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
hosts. FEDERATION_IDP_HOST_OVERRIDES (tests) sends a built-in provider's fixed host to a
stand-in on loopback, under the same allowance only.

With the guard on, a request goes to the address its host resolved to when it was checked
(resolved once: DNS rebinding), with its Host header and TLS name (SNI, certificate) kept.

Sign-ins (allauth, through federation.adapter) use a session that keeps an IdP's discovery
document for FEDERATION_METADATA_SECONDS per process (allauth reads it twice per sign-in);
federation.oidc keeps the keys (JWKS) as long, fetching them again for a key id it does not
know. "Test connection" and SAML metadata checks use a session without it.

Sessions are made per use (their cookies are their own) but send through one adapter per
process, whose connection pools and TLS context are shared: a sign-in's requests to its IdP
reuse open connections instead of a TCP and TLS handshake each, and the CA bundle is
loaded once, not per connection."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit, urlunsplit
from urllib.request import getproxies

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from urllib3.util.ssl_ import create_urllib3_context

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
    return _destination(url)[0]


def _destination(url: str) -> tuple[str | None, list[str]]:
    """(why `url` may not be reached or None, the public addresses its host resolved to
    when the guard resolved it: the request is sent to those, never resolved again)."""
    try:
        parts = urlsplit(url)
        hostname = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return _("This is not a valid URL."), []
    if not hostname or parts.username or parts.password:
        return _("This is not a valid URL."), []
    if settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_name(hostname)):
            return None, []
        return _("Use an https URL."), []
    if is_loopback_name(hostname):
        return _("An identity provider on this server's own host cannot be used."), []
    if parts.scheme != "https":
        return _("Use an https URL."), []
    addresses = _addresses(hostname)
    for address in addresses:
        if not _is_public(address):
            return _(
                "%(host)s is at %(address)s, a private, loopback, link-local or reserved "
                "address: an identity provider must be reachable on the public internet."
            ) % {"host": hostname, "address": address}, []
    return None, addresses


def host_override(url: str) -> str | None:
    """Tests only: the loopback `host:port` FEDERATION_IDP_HOST_OVERRIDES names for the host
    of `url` (a built-in provider's fixed host, like appleid.apple.com), honoured only while
    loopback IdPs are allowed (FEDERATION_ALLOW_LOOPBACK_IDPS, never in production)."""
    if not settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
        return None
    overrides = getattr(settings, "FEDERATION_IDP_HOST_OVERRIDES", None) or {}
    target = overrides.get((urlsplit(url).hostname or "").lower())
    if not target or not is_loopback_name(target.rsplit(":", 1)[0]):
        return None
    return target


def _redirected_copy(request, url: str):
    """A copy of `request` sent to `url` with the Host header of the URL asked for."""
    copy = request.copy()
    copy.headers["Host"] = urlsplit(request.url).netloc
    copy.url = url
    return copy


class GuardedAdapter(HTTPAdapter):
    """Refuses, before connecting, a request `destination_problem` objects to (redirects
    included: requests sends each through the adapter), and sends an allowed one to the very
    address the check resolved (DNS rebinding: a name that answered a public address to the
    check and a private one to the connection would otherwise reach the private one). The
    TLS handshake still names the host (SNI) and checks its certificate for that name. A
    request through a proxy is left to the proxy to resolve."""

    def send(self, request, *args, **kwargs):
        override = host_override(request.url)
        if override is not None:
            parts = urlsplit(request.url)
            target = urlunsplit(parts._replace(scheme="http", netloc=override))
            return self._send_as(request, _redirected_copy(request, target), args, kwargs)
        problem, addresses = _destination(request.url)
        if problem:
            raise UnsafeDestination(problem, request=request)
        proxies = kwargs.get("proxies") or {}
        if not addresses or select_proxy(request.url, proxies):
            if not addresses and not settings.FEDERATION_ALLOW_LOOPBACK_IDPS:
                raise requests.ConnectionError(
                    _("%(host)s could not be resolved.") % {"host": urlsplit(request.url).hostname},
                    request=request,
                )
            return super().send(request, *args, **kwargs)
        parts = urlsplit(request.url)
        address = addresses[0]
        host = f"[{address}]" if ":" in address else address
        port = f":{parts.port}" if parts.port else ""
        pinned = _redirected_copy(request, urlunsplit(parts._replace(netloc=f"{host}{port}")))
        pinned.tls_hostname = parts.hostname
        return self._send_as(request, pinned, args, kwargs)

    def _send_as(self, request, sent, args, kwargs):
        response = super().send(sent, *args, **kwargs)
        # The response names the URL asked for (cookies, redirects, error messages).
        response.url, response.request = request.url, request
        return response

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if host_params.get("scheme") != "https":
            return host_params, pool_kwargs
        tls_hostname = getattr(request, "tls_hostname", None)
        if tls_hostname:
            pool_kwargs["server_hostname"] = tls_hostname
            pool_kwargs["assert_hostname"] = tls_hostname
        if verify is True or verify == ca_bundle():  # the bundle, as the environment names it
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            pool_kwargs["ssl_context"] = tls_context()
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, verify, cert)
        if conn.conn_kw.get("ssl_context") is tls_context():
            # The kept context has the CA bundle already: loading it again for each new
            # connection is most of a connection's CPU.
            conn.ca_certs = conn.ca_cert_dir = None

    kept = False  # the process's own (idp_session): a session's close leaves its pools open

    def close(self) -> None:
        if not self.kept:
            super().close()


class LocalhostNamesAdapter(GuardedAdapter):
    def send(self, request, *args, **kwargs):
        parts = urlsplit(request.url)
        hostname = parts.hostname or ""
        if not hostname.endswith(".localhost"):
            return super().send(request, *args, **kwargs)
        # A copy goes to loopback; the response names the URL asked for (cookies, redirects).
        port = f":{parts.port}" if parts.port else ""
        loopback = _redirected_copy(request, urlunsplit(parts._replace(netloc=f"127.0.0.1{port}")))
        return self._send_as(request, loopback, args, kwargs)


class MetadataResponse:
    """A kept answer to an unauthenticated JSON GET: what allauth reads of a response."""

    status_code = 200
    ok = True

    def __init__(self, url: str, content: bytes, headers: dict):
        self.url, self.content = url, content
        self.headers = requests.structures.CaseInsensitiveDict(headers)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self, **kwargs):
        return json.loads(self.content, **kwargs)

    def raise_for_status(self) -> None:
        return None


# Kept per URL and per loopback stand-in it goes to (tests point fixed hosts elsewhere).
_metadata: dict[tuple[str, str | None], tuple[float, bytes, dict]] = {}
_metadata_lock = threading.Lock()


class MetadataKeepingSession(requests.Session):
    def get(self, url, **kwargs):
        headers = {key.lower() for key in (kwargs.get("headers") or {})}
        discovery = urlsplit(url).path.endswith("/.well-known/openid-configuration")
        if not discovery or kwargs.get("params") or self.auth or "authorization" in headers:
            return super().get(url, **kwargs)
        now = time.monotonic()
        key = (url, host_override(url))
        kept = _metadata.get(key)
        if kept and kept[0] > now:
            return MetadataResponse(url, kept[1], kept[2])
        response = super().get(url, **kwargs)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code == 200 and "json" in content_type:
            seconds = getattr(settings, "FEDERATION_METADATA_SECONDS", 300)
            with _metadata_lock:
                if len(_metadata) >= 1000:  # many IdPs: start again rather than grow
                    _metadata.clear()
                _metadata[key] = (now + seconds, response.content, {"Content-Type": content_type})
        return response


@functools.cache
def ca_bundle() -> str:
    """The CA bundle requests uses: the one the environment names (REQUESTS_CA_BUNDLE, then
    CURL_CA_BUNDLE, as requests reads them) or certifi's."""
    return (
        os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or DEFAULT_CA_BUNDLE_PATH
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every connection to an IdP, made once per process: urllib3's
    defaults (TLS 1.2 or later, certificate required) with requests' CA bundle. Hostnames are
    checked by urllib3 after the handshake (as for a pinned address), never by the context,
    which urllib3 may otherwise change between connections."""
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.check_hostname = False
    bundle = ca_bundle()
    if os.path.isdir(bundle):
        context.load_verify_locations(capath=bundle)
    else:
        context.load_verify_locations(cafile=bundle)
    return context


_adapters: dict[bool, GuardedAdapter] = {}
_adapters_lock = threading.Lock()


def _adapter() -> GuardedAdapter:
    """This process's adapter: its connection pools are shared by every IdP session (urllib3's
    are thread-safe), so a sign-in reuses an open connection, TLS included, rather than
    making one per request. A pool is per address the guard checked (and TLS name): a
    request reuses a connection only to the address its own check allowed."""
    loopback = bool(settings.FEDERATION_ALLOW_LOOPBACK_IDPS)
    adapter = _adapters.get(loopback)
    if adapter is None:
        with _adapters_lock:
            adapter = _adapters.get(loopback)
            if adapter is None:
                cls = LocalhostNamesAdapter if loopback else GuardedAdapter
                adapter = cls(pool_connections=100, pool_maxsize=10)
                adapter.kept = True
                _adapters[loopback] = adapter
    return adapter


@functools.cache
def _environment_names_a_proxy() -> bool:
    """Whether this process's environment names a proxy (read once). When it does not,
    sessions skip requests' reading of the environment at each request (a third of a
    millisecond: every variable is read twice) and of ~/.netrc, whose passwords are no
    IdP's business anyway; the CA bundle the environment names is still used (tls_context)."""
    return bool(getproxies())


def idp_session(timeout: float | None = None, *, keep_metadata: bool = False) -> requests.Session:
    """A session of its own (cookies), sending through this process's adapter."""
    from allauth.socialaccount import app_settings

    session = MetadataKeepingSession() if keep_metadata else requests.Session()
    session.trust_env = _environment_names_a_proxy()
    session.request = functools.partial(
        session.request, timeout=timeout or app_settings.REQUESTS_TIMEOUT
    )
    adapter = _adapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
