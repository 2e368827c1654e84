"""Federation never reaches this server's own network (SSRF): the discovery URL an admin
types, and the token, userinfo and JWKS endpoints a discovery document names, must be https
on a host whose addresses are all public, unless loopback IdPs are allowed (development and
tests). Names are resolved by the system resolver, stood in for here so that a public-looking
name resolves to the address under test."""

from __future__ import annotations

import socket

import pytest
import requests
from django_tenants.utils import tenant_context

from federation.models import IdentityProvider
from tests.federation.helpers import SECRET, create_provider
from tests.helpers import make_user

LIST = "/console/identity-providers/"
NAMES = {
    "loop.partner.example": "127.0.0.1",
    "intranet.partner.example": "10.20.30.40",
    "metadata.partner.example": "169.254.169.254",
    "mapped.partner.example": "::ffff:10.0.0.1",
}
PLAIN_WORDS = "a private, loopback, link-local or reserved address"


@pytest.fixture
def resolver(monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in NAMES:
            address = NAMES[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (
                (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
            )
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def guard_on(settings, resolver):
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False


def _oidc_form(discovery_url: str) -> dict:
    return {
        "name": "Partner", "discovery_url": discovery_url, "client_id": "partner-client",
        "client_secret": SECRET, "scopes": "", "claim_email": "email",
        "claim_given_name": "given_name", "claim_family_name": "family_name", "enabled": "on",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://loop.partner.example/", "127.0.0.1"),
        ("https://intranet.partner.example/", "10.20.30.40"),
        ("https://metadata.partner.example/", "169.254.169.254"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://10.0.0.8/", "10.0.0.8"),
        ("https://mapped.partner.example/", "::ffff:10.0.0.1"),
    ],
)
def test_saving_a_discovery_url_on_a_private_address_is_refused_in_plain_words(
    acme, guard_on, url, address
):
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))

    response = client.post(f"{LIST}new/openid_connect/", _oidc_form(url))

    assert response.status_code == 400
    page = response.content.decode()
    assert PLAIN_WORDS in page and address in page
    with tenant_context(acme.tenant):
        assert not IdentityProvider.objects.filter(client_id="partner-client").exists()


def test_loopback_names_and_http_are_refused_when_loopback_idps_are_not_allowed(acme, guard_on):
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))

    loopback = client.post(f"{LIST}new/openid_connect/", _oidc_form("http://idp.localhost:8000/"))
    plain_http = client.post(f"{LIST}new/openid_connect/", _oidc_form("http://idp.example/"))

    assert "this server&#x27;s own host cannot be used" in loopback.content.decode()
    assert "Use an https URL." in plain_http.content.decode()


def test_test_connection_refuses_a_provider_that_now_resolves_to_a_private_address(
    acme, settings, resolver
):
    # Saved while the name was public (here: while loopback IdPs were allowed); the name
    # now points at the cloud metadata service.
    provider = create_provider(acme, discovery_url="https://metadata.partner.example/")
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))

    page = client.post(f"{LIST}{provider.public_id}/test/").content.decode()

    assert "Connection test failed" in page
    assert "metadata.partner.example is at 169.254.169.254" in page


@pytest.mark.parametrize(
    "url",
    [
        "https://intranet.partner.example/token",  # a token endpoint
        "https://metadata.partner.example/latest/meta-data/",  # a JWKS uri
        "https://loop.partner.example/userinfo",
        "http://93.184.215.14/jwks",  # public, but not https
    ],
)
def test_allauths_requests_to_endpoints_of_a_discovery_document_are_refused(guard_on, url):
    from allauth.socialaccount.adapter import get_adapter

    # allauth fetches discovery, token, userinfo and JWKS through the adapter's session.
    with (
        get_adapter().get_requests_session() as session,
        pytest.raises(requests.ConnectionError) as refused,
    ):
        session.get(url)
    assert "public internet" in str(refused.value) or "https" in str(refused.value)


def test_loopback_idps_stay_usable_where_allowed(acme, settings, resolver):
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = True

    provider = create_provider(acme, discovery_url="http://127.0.0.1:9/")

    assert provider.discovery_url == "http://127.0.0.1:9/.well-known/openid-configuration"


def test_a_sign_in_sent_to_an_idp_now_on_a_private_address_fails_plainly_and_is_logged(
    acme, settings, resolver
):
    from audit.models import SignInEvent

    provider = create_provider(
        acme, discovery_url="https://metadata.partner.example/", email_domains=["ssrf.example"]
    )
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False

    response = acme.client().post("/accounts/login/", {"login": "ada@ssrf.example", "password": ""})

    assert response.status_code < 500 and "Location" not in response
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(idp=provider.slug, result="failure").latest("pk")
    assert "UnsafeDestination" in row.upstream_error


def test_the_button_of_an_idp_now_on_a_private_address_fails_plainly_and_is_logged(
    acme, settings, resolver
):
    from audit.models import SignInEvent

    provider = create_provider(acme, discovery_url="https://metadata.partner.example/")
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False

    response = acme.client().post(f"/accounts/oidc/{provider.slug}/login/")

    assert response.status_code < 500 and "Location" not in response
    with tenant_context(acme.tenant):
        row = SignInEvent.objects.filter(idp=provider.slug, result="failure").latest("pk")
    assert "UnsafeDestination" in row.upstream_error


def test_reading_a_saml_idps_metadata_again_from_a_private_address_is_refused_plainly(
    acme, settings, resolver
):
    """Its metadata URL now resolves to the cloud metadata service: "Read the metadata
    again" sends nothing there, says why, and the IdP keeps its certificates."""
    from federation.services import identity_provider_create
    from tests.federation.saml_idp import SamlIdp

    idp = SamlIdp()  # never started: its metadata is uploaded beside the URL
    idp.server.server_close()
    with tenant_context(acme.tenant):
        provider = identity_provider_create(
            actor=acme.admin, kind="saml", name="Partner SAML",
            saml_metadata_url="https://metadata.partner.example/saml/metadata",
            saml_metadata_file=idp.metadata(),
        )  # fmt: skip
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False
    client = acme.client(make_user(acme, admin_roles=["security_administrator"]))

    page = client.post(
        f"{LIST}{provider.public_id}/metadata/refresh/", follow=True
    ).content.decode()

    assert "The metadata could not be read again; nothing changed." in page
    assert "metadata.partner.example is at 169.254.169.254" in page
    with tenant_context(acme.tenant):
        assert IdentityProvider.objects.get(pk=provider.pk).saml_certificates == idp.certificates
