"""A real SAML 2.0 identity provider for the federation tests, on loopback: it publishes its
metadata, takes signed authentication requests (HTTP-Redirect binding, the signature checked
with the certificate of the service provider's metadata, fetched from the running server),
and answers with assertions signed by xmlsec (python3-saml's signer) on a page whose form
posts them to the service provider (HTTP-POST binding). A test may ask it for a response
with a defect (unsigned, altered, wrong audience, unsolicited, signed by a key it does not
publish) to post itself, have it roll its key over (two certificates in its metadata), or
make its metadata URL fail (`metadata_status`)."""

from __future__ import annotations

import base64
import datetime
import html
import threading
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit

import requests
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils as U

from federation.http import LocalhostNamesAdapter
from federation.saml import sp_key_pair

NS = {"samlp": C.NS_SAMLP, "saml": C.NS_SAML, "md": C.NS_MD, "ds": C.NS_DS}
EMAIL = "urn:oid:0.9.2342.19200300.100.1.3"
GIVEN = "urn:oid:2.5.4.42"
FAMILY = "urn:oid:2.5.4.4"


def _instant(delta_seconds: int = 0) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delta_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AuthnRequest:
    id: str
    acs_url: str
    issuer: str
    relay_state: str


class SamlIdp:
    def __init__(self, people: dict | None = None):
        self.people = dict(people or {})  # subject -> {email, given_name, family_name}
        # Its signing key pairs (private key PEM, certificate PEM), each published in its
        # metadata; it signs with keys[signing_key].
        self.keys = [sp_key_pair("test SAML IdP")]
        self.signing_key = 0
        self.requests: list[AuthnRequest] = []
        self.signature_problems: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base}/metadata"
        self.sso_url = f"{self.base}/sso"
        self.chosen_subject = next(iter(self.people), "")
        # What its metadata URL answers with: 200 and the metadata, or this status (broken).
        self.metadata_status = 200
        # How the person authenticated here (the assertion's AuthnContextClassRef).
        self.authn_context = C.AC_PASSWORD_PROTECTED
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SamlIdp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What it publishes ----------------------------------------------------------------

    @staticmethod
    def body(certificate: str) -> str:
        """A certificate's PEM body, as metadata carries it."""
        return "".join(certificate.strip().splitlines()[1:-1])

    @property
    def certificates(self) -> list[str]:
        """The bodies of the certificates its metadata lists."""
        return [self.body(certificate) for _, certificate in self.keys]

    def roll_over(self) -> None:
        """A key rollover begins: a new signing key, whose certificate the metadata lists
        after the current one (it still signs with the current one)."""
        self.keys.append(sp_key_pair("test SAML IdP, next key"))

    def metadata(self) -> str:
        key_descriptors = "".join(
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
            f"<ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            f"</md:KeyDescriptor>"
            for body in self.certificates
        )
        return (
            f'<md:EntityDescriptor xmlns:md="{C.NS_MD}" xmlns:ds="{C.NS_DS}" '
            f'entityID="{self.entity_id}"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" '
            f'protocolSupportEnumeration="{C.NS_SAMLP}">{key_descriptors}'
            f'<md:SingleSignOnService Binding="{C.BINDING_HTTP_REDIRECT}" '
            f'Location="{self.sso_url}"/></md:IDPSSODescriptor></md:EntityDescriptor>'
        )

    # Requests --------------------------------------------------------------------------

    def _sp_certificate(self, sp_entity_id: str) -> str:
        """The signing certificate in the service provider's metadata (its entity id is its
        metadata URL)."""
        session = requests.Session()
        session.mount("http://", LocalhostNamesAdapter())
        document = etree.fromstring(session.get(sp_entity_id, timeout=10).content)
        found = document.xpath(
            "//md:SPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']"
            "//ds:X509Certificate/text()",
            namespaces=NS,
        )
        return found[0].strip()

    def read_request(self, raw_query: str) -> AuthnRequest:
        """The AuthnRequest of an HTTP-Redirect binding query, its signature checked."""
        raw = dict(part.split("=", 1) for part in raw_query.split("&") if "=" in part)
        xml = zlib.decompress(base64.b64decode(unquote_plus(raw["SAMLRequest"])), -15)
        document = etree.fromstring(xml)
        request = AuthnRequest(
            id=document.get("ID"),
            acs_url=document.get("AssertionConsumerServiceURL"),
            issuer=document.find("saml:Issuer", NS).text,
            relay_state=unquote_plus(raw.get("RelayState", "")),
        )
        signed = "&".join(
            f"{name}={raw[name]}" for name in ("SAMLRequest", "RelayState", "SigAlg") if name in raw
        )
        if "Signature" not in raw:
            self.signature_problems.append("unsigned request")
        elif not U.validate_binary_sign(
            signed,
            base64.b64decode(unquote_plus(raw["Signature"])),
            U.format_cert(self._sp_certificate(request.issuer)),
            unquote_plus(raw["SigAlg"]),
        ):
            self.signature_problems.append("bad request signature")
        self.requests.append(request)
        return request

    # Responses -------------------------------------------------------------------------

    def response(
        self,
        request: AuthnRequest | None,
        subject: str,
        *,
        sign: bool = True,
        audience: str | None = None,
        acs_url: str | None = None,
        alter: dict | None = None,
        key_pair: tuple[str, str] | None = None,
    ) -> str:
        """A base64 SAMLResponse for `subject`, in answer to `request` (None: unsolicited,
        IdP-initiated), its assertion signed unless `sign` is false (with `key_pair`, else
        its current key); `alter` replaces text in the assertion after signing."""
        person = self.people[subject]
        in_response_to = f' InResponseTo="{request.id}"' if request else ""
        acs = acs_url or request.acs_url
        # Our entity id is our metadata URL, next to the ACS.
        sp_entity_id = request.issuer if request else acs.replace("/acs/", "/metadata/")
        audience = audience if audience is not None else sp_entity_id
        attributes = "".join(
            f'<saml:Attribute Name="{name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">'  # noqa: E501
            f"<saml:AttributeValue>{html.escape(value)}</saml:AttributeValue></saml:Attribute>"
            for name, value in (
                (EMAIL, person.get("email", "")),
                (GIVEN, person.get("given_name", "")),
                (FAMILY, person.get("family_name", "")),
            )
            if value
        )
        assertion = (
            f'<saml:Assertion xmlns:saml="{C.NS_SAML}" ID="_a{uuid.uuid4().hex}" Version="2.0" '
            f'IssueInstant="{_instant()}"><saml:Issuer>{self.entity_id}</saml:Issuer>'
            f'<saml:Subject><saml:NameID Format="{C.NAMEID_PERSISTENT}">{subject}</saml:NameID>'
            f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{_instant(300)}" Recipient="{acs}"'
            f"{in_response_to}/></saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{_instant(-60)}" NotOnOrAfter="{_instant(300)}">'
            f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience>"
            f"</saml:AudienceRestriction></saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_instant()}" SessionIndex="_s{uuid.uuid4().hex}">'
            f"<saml:AuthnContext><saml:AuthnContextClassRef>{self.authn_context}"
            f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{attributes}</saml:AttributeStatement></saml:Assertion>"
        )
        if sign:
            key, certificate = key_pair or self.keys[self.signing_key]
            assertion = U.add_sign(
                assertion, key, certificate,
                sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256,
            ).decode()  # fmt: skip
        for old, new in (alter or {}).items():
            assert old in assertion
            assertion = assertion.replace(old, new)
        response = (
            f'<samlp:Response xmlns:samlp="{C.NS_SAMLP}" xmlns:saml="{C.NS_SAML}" '
            f'ID="_r{uuid.uuid4().hex}" Version="2.0" IssueInstant="{_instant()}" '
            f'Destination="{acs}"{in_response_to}><saml:Issuer>{self.entity_id}</saml:Issuer>'
            f'<samlp:Status><samlp:StatusCode Value="{C.STATUS_SUCCESS}"/></samlp:Status>'
            f"{assertion}</samlp:Response>"
        )
        return base64.b64encode(response.encode()).decode()

    def page(self, request: AuthnRequest) -> str:
        """The IdP's answer to a sign-in: a form posting the response to the service provider
        (no script: a person presses Continue)."""
        saml_response = self.response(request, self.chosen_subject)
        return (
            "<!doctype html><html lang=en><head><title>Test IdP</title></head><body><main>"
            f"<h1>Test IdP</h1><p>Signed in as {html.escape(self.chosen_subject)}</p>"
            f'<form method="post" action="{html.escape(request.acs_url)}">'
            f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
            f'<input type="hidden" name="RelayState" value="{html.escape(request.relay_state)}">'
            '<button type="submit">Continue</button></form></main></body></html>'
        )

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: str, content_type: str, headers=()):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == "/metadata" and idp.metadata_status != 200:
                    return self._answer(idp.metadata_status, "Unavailable", "text/plain")
                if parts.path == "/metadata":
                    return self._answer(200, idp.metadata(), "application/samlmetadata+xml")
                if parts.path == "/sso" and "SAMLRequest" in parse_qs(parts.query):
                    try:
                        request = idp.read_request(parts.query)
                    except Exception as error:  # a malformed request: the IdP says so
                        return self._answer(400, f"Bad request: {error}", "text/plain")
                    if idp.signature_problems:
                        return self._answer(400, idp.signature_problems[-1], "text/plain")
                    # Its own policy: its form may post to the service provider only.
                    origin = "{0.scheme}://{0.netloc}".format(urlsplit(request.acs_url))
                    csp = f"default-src 'none'; form-action {origin}"
                    return self._answer(
                        200, idp.page(request), "text/html; charset=utf-8",
                        [("Content-Security-Policy", csp)],
                    )  # fmt: skip
                return self._answer(404, "Not found", "text/plain")

        return Handler
