"""Requests to IdPs share one TLS context and the connections they open (federation.http):
the certificate is still checked against the CA bundle and the name asked for, and a second
request to the same IdP reuses the connection instead of a new TLS handshake."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from federation.http import idp_session, tls_context


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(value) -> bytes:
    if isinstance(value, x509.Certificate):
        return value.public_bytes(serialization.Encoding.PEM)
    return value.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class TLSServer:
    """An https server on loopback presenting `certificate`, counting TLS handshakes."""

    def __init__(self, tmp_path, certificate, key):
        (tmp_path / "cert.pem").write_bytes(_pem(certificate))
        (tmp_path / "key.pem").write_bytes(_pem(key))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        self.handshakes = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                server.handshakes += 1
                super().setup()

            def do_GET(self):  # noqa: N802 (http.server's name)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def authority(settings):
    """A test CA the kept TLS context trusts for this test only (a context of its own)."""
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = True  # the server is on loopback
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate("Test CA", key, "Test CA", key, ca=True)
    tls_context.cache_clear()
    tls_context().load_verify_locations(cadata=_pem(certificate).decode())
    yield key
    tls_context.cache_clear()


def _server(tmp_path, authority_key, names):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate("idp", key, "Test CA", authority_key, ca=False, names=names)
    return TLSServer(tmp_path, certificate, key)


def test_requests_to_an_idp_reuse_one_verified_tls_connection(tmp_path, authority):
    server = _server(tmp_path, authority, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    try:
        for _ in range(3):
            with idp_session(timeout=5) as session:
                assert session.get(server.url).json() == {"ok": True}
        assert server.handshakes == 1
    finally:
        server.stop()


def test_a_certificate_for_another_name_is_refused(tmp_path, authority):
    server = _server(tmp_path, authority, [x509.DNSName("other.example")])
    try:
        with idp_session(timeout=5) as session, pytest.raises(requests.exceptions.SSLError):
            session.get(server.url)
    finally:
        server.stop()


def test_a_certificate_from_an_unknown_authority_is_refused(tmp_path, authority):
    stranger = ec.generate_private_key(ec.SECP256R1())
    server = _server(tmp_path, stranger, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    try:
        with idp_session(timeout=5) as session, pytest.raises(requests.exceptions.SSLError):
            session.get(server.url)
    finally:
        server.stop()
