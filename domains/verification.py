"""How a tenant proves it controls a host (README, "Custom domains"): a TXT record at
`_ciam-challenge.<host>` holding `ciam-verification=<token>`, or a file at
`http://<host>/.well-known/ciam-domain-verification/<token>` holding the token.

Each check answers an Outcome: found, or why not in words an admin can act on. DNS goes
through dnspython; with DNS_RESOLVER_ADDRESS set, to that server only (tests run an
authoritative server on loopback), with no cache, so that a record just created is seen at
the next try. The HTTP check resolves the host through the same resolver, refuses addresses
that are not public (the host is the admin's words: it must not make us call our own
network), connects to the address it checked, sends the host in the Host header, follows no
redirect and reads at most a few bytes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.resolver
import requests
from django.conf import settings
from django.utils.translation import gettext as _

from domains.models import WELL_KNOWN_PATH, CustomDomain


@dataclass(frozen=True)
class Outcome:
    found: bool
    reason: str = ""
    # A wrong value or an unreachable file will not fix itself as a record being created
    # might, but an admin may be fixing it right now: every outcome but `found` is retried.


def resolver() -> dns.resolver.Resolver:
    address = settings.DNS_RESOLVER_ADDRESS
    if address:
        result = dns.resolver.Resolver(configure=False)
        result.nameservers = [address]
        result.port = settings.DNS_RESOLVER_PORT
    else:
        result = dns.resolver.Resolver()
    result.lifetime = settings.DNS_RESOLVER_TIMEOUT_SECONDS
    result.cache = None
    return result


def dns_check(custom_domain: CustomDomain) -> Outcome:
    name = custom_domain.txt_name
    try:
        answer = resolver().resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Outcome(False, _("No TXT record named %(name)s exists yet.") % {"name": name})
    except dns.resolver.NoNameservers:
        return Outcome(
            False,
            _("The DNS servers of %(host)s refused to answer for %(name)s.")
            % {"host": custom_domain.host, "name": name},
        )
    except dns.exception.Timeout:
        return Outcome(
            False,
            _("The DNS servers of %(host)s did not answer in time.") % {"host": custom_domain.host},
        )
    except dns.exception.DNSException:
        return Outcome(False, _("The DNS lookup of %(name)s failed.") % {"name": name})
    values = [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
    if not values:
        return Outcome(False, _("No TXT record named %(name)s exists yet.") % {"name": name})
    if custom_domain.txt_value in values:
        return Outcome(True)
    return Outcome(
        False,
        _(
            "A TXT record named %(name)s exists, but its value is not the one this page shows. "
            "Copy the value again."
        )
        % {"name": name},
    )


def _is_allowed_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if settings.DOMAIN_VERIFICATION_ALLOW_PRIVATE_ADDRESSES:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(host: str) -> list[str]:
    found: list[str] = []
    for kind in ("A", "AAAA"):
        try:
            answer = resolver().resolve(host, kind, raise_on_no_answer=False)
        except dns.exception.DNSException:
            continue
        found.extend(record.address for record in answer)
    return found


def http_check(custom_domain: CustomDomain) -> Outcome:
    host = custom_domain.host
    addresses = _addresses(host)
    if not addresses:
        return Outcome(False, _("%(host)s has no address in DNS yet.") % {"host": host})
    address = addresses[0]
    if not all(_is_allowed_address(each) for each in addresses):
        return Outcome(
            False,
            _("%(host)s points to a private or reserved address; it must be reachable from the "
              "internet.") % {"host": host},
        )  # fmt: skip
    literal = f"[{address}]" if ":" in address else address
    port = settings.DOMAIN_VERIFICATION_HTTP_PORT
    url = f"http://{literal}:{port}{WELL_KNOWN_PATH}{custom_domain.token}"
    try:
        with requests.get(
            url,
            headers={"Host": host if port == 80 else f"{host}:{port}"},
            allow_redirects=False,
            timeout=settings.DNS_RESOLVER_TIMEOUT_SECONDS,
            stream=True,
        ) as response:
            status = response.status_code
            body = next(response.iter_content(256), b"") if status == 200 else b""
    except requests.RequestException:
        return Outcome(False, _("Nothing answered at http://%(host)s/.") % {"host": host})
    if status != 200:
        return Outcome(
            False,
            _("http://%(host)s%(path)s… answered %(status)s instead of the file.")
            % {"host": host, "path": WELL_KNOWN_PATH, "status": status},
        )
    if body.decode("utf-8", "replace").strip() != custom_domain.token:
        return Outcome(
            False,
            _("The file at http://%(host)s%(path)s… does not hold the token this page shows.")
            % {"host": host, "path": WELL_KNOWN_PATH},
        )
    return Outcome(True)


def check(custom_domain: CustomDomain) -> tuple[Outcome, str]:
    """The DNS record first, then the file: the outcome and which proof it is ("dns" or
    "http"). When neither is found, the reason says what each check saw."""
    outcome = dns_check(custom_domain)
    if outcome.found:
        return outcome, "dns"
    by_file = http_check(custom_domain)
    if by_file.found:
        return by_file, "http"
    return Outcome(False, f"{outcome.reason} {by_file.reason}"), ""
