"""A small OpenID Provider for the federation tests, on loopback, whose ID tokens a test can
make wrong on purpose (another issuer or audience, expired, signed with another key): its
discovery document, JWKS, authorization endpoint (it signs the person in at once and
redirects back with a code), token endpoint (client secret and PKCE S256 checked: a code
bound to another challenge is refused) and userinfo. Its tokens are RS256-signed JWTs
(PyJWT), as a real provider's."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class StandInOP:
    def __init__(self, client_id: str, client_secret: str, claims: dict):
        self.client_id, self.client_secret = client_id, client_secret
        self.claims = dict(claims)  # the signed-in person's (must have `sub`)
        self.key, self.other_key = _key(), _key()
        self.kid = secrets.token_hex(4)
        self.id_token_changes: dict = {}  # claims to override in the next ID tokens
        self.sign_with_other_key = False
        self.codes: dict[str, dict] = {}
        self.authorizations: list[dict] = []  # the query of each authorization request
        self.token_requests: list[dict] = []
        self.token_errors: list[str] = []
        self.gets: Counter = Counter()  # GETs by path (discovery, JWKS, userinfo...)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StandInOP:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def rotate_keys(self) -> None:
        """A new signing key under a new key id (the JWKS then lists only it)."""
        self.key, self.kid = _key(), secrets.token_hex(4)

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def code_for(self, query: dict) -> str:
        """A code for an authorization request (its PKCE challenge kept with it)."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return code

    def id_token(self, nonce: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
            **self.claims,
        }  # fmt: skip
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_changes)
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode(claims, _pem(key), algorithm="RS256", headers={"kid": self.kid})

    def _token(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not verifier or challenge.rstrip(b"=").decode() != grant.get("code_challenge"):
            self.token_errors.append("PKCE verification failed")
            return 400, {"error": "invalid_grant", "error_description": "PKCE failed"}
        return 200, {
            "access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
            "expires_in": 300, "id_token": self.id_token(grant.get("nonce")),
        }  # fmt: skip

    def _handler(self):
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                op.gets[parts.path] += 1
                if parts.path == "/.well-known/openid-configuration":
                    return self._json(200, op.discovery())
                if parts.path == "/jwks":
                    return self._json(200, op.jwks())
                if parts.path == "/userinfo":
                    return self._json(200, dict(op.claims))
                if parts.path == "/authorize":
                    op.authorizations.append(query)
                    target = query["redirect_uri"] + "?" + urlencode(
                        {"code": op.code_for(query), "state": query.get("state", "")}
                    )  # fmt: skip
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {
                    key: values[0]
                    for key, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                if urlsplit(self.path).path == "/token":
                    status, body = op._token(form, self.headers.get("Authorization", ""))
                    return self._json(status, body)
                return self._json(404, {"error": "not_found"})

        return Handler
