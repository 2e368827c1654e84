"""SAML 2.0 identity providers, through allauth's SAML provider (python3-saml, xmlsec).

- The IdP is read from its metadata (by URL, fetched through federation.http like every
  other request to an IdP, or uploaded): entity id, single sign-on URL (HTTP-Redirect
  binding), every signing certificate it lists (two for weeks during a key rollover: Entra ID,
  ADFS and Okta publish the next one beside the current one). allauth is given these values,
  never the URL (its own fetch would bypass the SSRF guard).
- This service provider signs its authentication requests with a key pair made for each IdP
  (RSA 2048, self-signed certificate); the private key is sealed at rest (mfa.crypto) as the
  client secrets are. Our metadata (per tenant and per IdP) publishes the certificate.
- Assertions must be signed by one of the IdP's certificates (saml_config_build), addressed to
  our entity id (audience), in answer to a request of this browser's session (InResponseTo,
  allauth's state), and used once: an assertion id seen before is refused while it could
  still be valid (SAML profiles 4.1.4.5). IdP-initiated responses are refused (allauth's
  `reject_idp_initiated_sso`)."""

from __future__ import annotations

import datetime
import functools
import time

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _

# The attribute names a SAML IdP is read with unless the admin says otherwise: the SAML 2.0
# attribute profile's (X.500/LDAP) names for mail, givenName and sn.
DEFAULT_ATTRIBUTES = {
    "claim_email": "urn:oid:0.9.2342.19200300.100.1.3",
    "claim_given_name": "urn:oid:2.5.4.42",
    "claim_family_name": "urn:oid:2.5.4.4",
}
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
METADATA_MAX_BYTES = 1024 * 1024
SP_CERTIFICATE_YEARS = 10
# python3-saml allows this much clock skew; a replayed assertion is remembered as long.
CLOCK_SKEW_SECONDS = 180
# The key of app_settings()'s `idp` listing every signing certificate of the IdP (ours, read
# by saml_config_build).
SIGNING_CERTIFICATES = "signing_certificates"


def sp_key_pair(common_name: str) -> tuple[str, str]:
    """A new signing key pair for this service provider: (private key PEM, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365 * SP_CERTIFICATE_YEARS))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _certificate_load(pem_or_body: str) -> x509.Certificate | None:
    body = "".join(
        line
        for line in (pem_or_body or "").strip().splitlines()
        if line and not line.startswith("-----")
    )
    if not body:
        return None
    pem = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def certificate_not_after(pem_or_body: str) -> datetime.datetime | None:
    certificate = _certificate_load(pem_or_body)
    return certificate.not_valid_after_utc if certificate is not None else None


def certificate_summary(pem_or_body: str) -> dict | None:
    """{not_after, thumbprint} of a certificate, or None when it cannot be read. The
    thumbprint is the SHA-1 digest in hexadecimal, as Entra ID, ADFS and Okta show their
    signing certificates (to tell them apart, not to trust them)."""
    certificate = _certificate_load(pem_or_body)
    if certificate is None:
        return None
    return {
        "not_after": certificate.not_valid_after_utc,
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex().upper(),
    }


def metadata_fetch(url: str) -> str:
    """The IdP's metadata document at `url`, through federation.http's guarded session.
    Raises ValidationError in plain words."""
    import requests

    from federation.http import UnsafeDestination, idp_session

    try:
        with idp_session() as session:
            response = session.get(url, stream=True, allow_redirects=True)
            body = response.raw.read(METADATA_MAX_BYTES + 1, decode_content=True)
    except UnsafeDestination as error:
        raise ValidationError(str(error)) from error
    except requests.Timeout as error:
        raise ValidationError(
            _("The IdP did not answer in time (%(url)s).") % {"url": url}
        ) from error
    except requests.RequestException as error:
        raise ValidationError(
            _("Could not fetch the metadata at %(url)s: check the URL.") % {"url": url}
        ) from error
    if response.status_code != 200:
        raise ValidationError(
            _("%(url)s answered with HTTP %(status)s instead of the IdP's metadata.")
            % {"url": url, "status": response.status_code}
        )
    if len(body) > METADATA_MAX_BYTES:
        raise ValidationError(_("The metadata at %(url)s is too large.") % {"url": url})
    return body.decode("utf-8", errors="replace")


def metadata_parse(xml: str, entity_id: str = "") -> dict:
    """{entity_id, sso_url, certificates} of the IdP the metadata describes (the one with
    `entity_id` when it describes several); `certificates` are its signing certificates (PEM
    bodies) in the metadata's order, those that cannot be read left out. Raises
    ValidationError in plain words."""
    from onelogin.saml2.constants import OneLogin_Saml2_Constants
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            xml,
            required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
            entity_id=entity_id or None,
        )
    except Exception as error:  # lxml's and python3-saml's parse errors have no common base
        raise ValidationError(
            _("This is not SAML metadata (the XML could not be read: %(error)s).")
            % {"error": str(error)[:200]}
        ) from error
    idp = parsed.get("idp") or {}
    if not idp.get("entityId"):
        if entity_id:
            raise ValidationError(
                _("The metadata describes no IdP with the entity id %(entity_id)s.")
                % {"entity_id": entity_id}
            )
        raise ValidationError(_("The metadata describes no identity provider (IDPSSODescriptor)."))
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    if not sso_url:
        raise ValidationError(
            _("The IdP's metadata has no single sign-on service with the HTTP-Redirect binding.")
        )
    # python3-saml names a lone signing certificate x509cert, and lists them in
    # x509certMulti when there are several (or when the encryption key differs).
    listed = [idp["x509cert"]] if idp.get("x509cert") else []
    listed += (idp.get("x509certMulti") or {}).get("signing") or []
    listed = list(dict.fromkeys(certificate for certificate in listed if certificate))
    if not listed:
        raise ValidationError(
            _("The IdP's metadata has no signing certificate: its assertions could not be checked.")
        )
    certificates = [body for body in listed if certificate_not_after(body) is not None]
    if not certificates:
        raise ValidationError(
            _("None of the IdP's signing certificates in the metadata can be read.")
        )
    return {"entity_id": idp["entityId"], "sso_url": sso_url, "certificates": certificates}


def sp_entity_id(provider) -> str:
    """This service provider's entity id for `provider`: our metadata URL for it, on the
    tenant's primary domain (per tenant and per IdP)."""
    from tenants.selectors import tenant_url

    return tenant_url(
        connection.tenant, reverse("saml_metadata", kwargs={"organization_slug": provider.slug})
    )


def sp_acs_url(provider) -> str:
    from tenants.selectors import tenant_url

    return tenant_url(
        connection.tenant, reverse("saml_acs", kwargs={"organization_slug": provider.slug})
    )


def app_settings(provider) -> dict:
    """allauth's SAML settings of `provider` (SocialApp.settings)."""
    from mfa.crypto import secret_open

    sealed = provider.sp_private_key_sealed
    return {
        "idp": {
            "entity_id": provider.saml_entity_id,
            "sso_url": provider.saml_sso_url,
            "x509cert": (provider.saml_certificates or [""])[0],
            # Read by saml_config_build (allauth itself copies only x509cert).
            SIGNING_CERTIFICATES: list(provider.saml_certificates),
        },
        "sp": {"entity_id": sp_entity_id(provider)},
        "attribute_mapping": {
            "uid": [SUBJECT_ID],
            "email": [provider.claim_email],
            "first_name": [provider.claim_given_name],
            "last_name": [provider.claim_family_name],
        },
        "advanced": {
            "strict": True,
            "authn_request_signed": True,
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "reject_deprecated_algorithm": True,
            "allow_single_label_domains": True,  # our own `<slug>.localhost` hosts
            "x509cert": provider.sp_certificate,
            "private_key": secret_open(sealed) if sealed else "",
        },
    }


def saml_config_build(build_saml_config):
    """allauth's build_saml_config, giving python3-saml every signing certificate of the IdP.

    Why this hook: allauth (65.x) copies only `idp.x509cert` into python3-saml's settings, so
    an assertion signed with the IdP's other certificate (the next one, during a key
    rollover) would be refused. python3-saml checks a signature against each certificate of
    `idp.x509certMulti.signing` when that list is there. allauth's build_auth, which both
    the sign-in redirect and the assertion consumer service use, calls build_saml_config
    through its module's global, where FederationConfig.ready() puts this wrapper.
    tests/test_library_contracts.py fails if a new allauth or python3-saml stops doing so."""

    @functools.wraps(build_saml_config)
    def build(request, provider_config, org):
        config = build_saml_config(request, provider_config, org)
        certificates = (provider_config.get("idp") or {}).get(SIGNING_CERTIFICATES)
        if certificates:
            config["idp"]["x509certMulti"] = {"signing": list(certificates)}
        return config

    build.every_idp_certificate = True
    return build


def saml_config_hook_install() -> None:
    """Put saml_config_build in place of allauth's build_saml_config (once)."""
    from allauth.socialaccount.providers.saml import utils

    if not getattr(utils.build_saml_config, "every_idp_certificate", False):
        utils.build_saml_config = saml_config_build(utils.build_saml_config)


class CheckedSAMLProvider(SAMLProvider):
    """allauth's SAML provider, refusing an assertion it has accepted before."""

    def sociallogin_from_response(self, request, response):
        assertion_id = response.get_last_assertion_id()
        not_after = response.get_last_assertion_not_on_or_after() or (time.time() + 300)
        keep = max(60, int(not_after - time.time()) + CLOCK_SKEW_SECONDS)
        key = f"federation:saml-assertion:{self.app.provider_id}:{assertion_id}"
        if not assertion_id or not cache.add(key, 1, timeout=keep):
            raise ImmediateHttpResponse(
                render_authentication_error(
                    request,
                    self,
                    extra_context={
                        "saml_errors": ["replayed_assertion"],
                        "saml_last_error_reason": "This assertion was used before.",
                    },
                )
            )
        login = super().sociallogin_from_response(request, response)
        # How the person authenticated at the IdP (federation.mfa_trust reads it in
        # pre_social_login, in this same request; never stored).
        login.saml_authn_contexts = list(response.get_last_authn_contexts() or [])
        return login
