"""Stand-ins for the built-in social providers' token and user endpoints (Sign in with Apple,
Facebook's Graph API, LinkedIn's OpenID Connect), one small real HTTP server on loopback
answering each provider's fixed hosts (the test points them here with
FEDERATION_IDP_HOST_OVERRIDES). They check what the real ones check (client secret or
Apple's signed client secret, the code, PKCE where the provider takes it, Facebook's
appsecret_proof) and sign ID tokens with RS256 keys of their own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

APPLE_HOST = "appleid.apple.com"
FACEBOOK_GRAPH_HOST = "graph.facebook.com"
LINKEDIN_HOST = "www.linkedin.com"
LINKEDIN_API_HOST = "api.linkedin.com"
LINKEDIN_ISSUER = "https://www.linkedin.com/oauth"


def apple_private_key() -> tuple[str, object]:
    """A Sign in with Apple key as Apple gives it (.p8: EC P-256, PKCS#8 PEM) and its public
    key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )  # fmt: skip


class SocialStandIn:
    def __init__(self, *, client_id: str, client_secret: str = "", person: dict):
        self.client_id, self.client_secret = client_id, client_secret
        self.person = dict(person)  # sub/id, email, names
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.apple = {}  # team_id, key_id, public_key: to check Apple's client secret
        self.codes: dict[str, dict] = {}  # code -> {nonce, code_challenge, redirect_uri}
        self.requests: list[tuple[str, str, dict]] = []  # (host, path, parameters)
        self.problems: list[str] = []
        self.id_token_changes: dict = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SocialStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def overrides(self) -> dict:
        target = f"127.0.0.1:{self.port}"
        hosts = (APPLE_HOST, FACEBOOK_GRAPH_HOST, LINKEDIN_HOST, LINKEDIN_API_HOST)
        return dict.fromkeys(hosts, target)

    def authorize(self, query: dict) -> str:
        """What the provider's authorization page does once the person agreed: a code bound
        to the request's nonce, PKCE challenge and redirect URI."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "nonce": query.get("nonce"),
            "code_challenge": query.get("code_challenge"),
            "redirect_uri": query.get("redirect_uri"),
        }
        return code

    # Tokens ----------------------------------------------------------------------------

    def id_token(self, issuer: str, nonce: str | None, **extra) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "aud": self.client_id, "iat": now, "exp": now + 300, **extra}
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_changes)
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
        return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def _grant(self, form: dict, *, pkce: bool) -> dict | None:
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            self.problems.append("unknown code")
            return None
        if form.get("redirect_uri") != grant["redirect_uri"]:
            self.problems.append("redirect_uri differs")
            return None
        if pkce:
            verifier = form.get("code_verifier", "")
            if not verifier or _challenge(verifier) != grant["code_challenge"]:
                self.problems.append("PKCE verification failed")
                return None
        return grant

    def apple_token(self, form: dict) -> tuple[int, dict]:
        try:
            header = jwt.get_unverified_header(form.get("client_secret", ""))
            secret = jwt.decode(
                form["client_secret"], self.apple["public_key"], algorithms=["ES256"],
                audience="https://appleid.apple.com", issuer=self.apple["team_id"],
            )  # fmt: skip
        except (jwt.PyJWTError, KeyError):
            self.problems.append("bad client secret")
            return 400, {"error": "invalid_client"}
        if header.get("kid") != self.apple["key_id"] or secret.get("sub") != self.client_id:
            self.problems.append("client secret names another key or client")
            return 400, {"error": "invalid_client"}
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        grant = self._grant(form, pkce=False)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        id_token = self.id_token(
            "https://appleid.apple.com", grant["nonce"], sub=self.person["sub"],
            email=self.person["email"], email_verified="true",
        )  # fmt: skip
        return 200, {
            "access_token": "apple-access-" + secrets.token_hex(8),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "apple-refresh-" + secrets.token_hex(8),
            "id_token": id_token,
        }

    def facebook_token(self, query: dict) -> tuple[int, dict]:
        if (
            query.get("client_id") != self.client_id
            or query.get("client_secret") != self.client_secret
        ):
            return 400, {"error": {"message": "Error validating client secret."}}
        if self._grant(query, pkce=True) is None:
            return 400, {"error": {"message": "Invalid verification code format."}}
        token = "fb-access-" + secrets.token_hex(8)
        self.facebook_tokens = getattr(self, "facebook_tokens", set()) | {token}
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": 5183944}

    def facebook_me(self, query: dict) -> tuple[int, dict]:
        token = query.get("access_token", "")
        proof = hmac.new(self.client_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if (
            token not in getattr(self, "facebook_tokens", set())
            or query.get("appsecret_proof") != proof
        ):
            self.problems.append("bad Graph API call")
            return 400, {"error": {"message": "Invalid OAuth access token."}}
        return 200, {
            "id": self.person["sub"],
            "email": self.person["email"],
            "first_name": self.person.get("given_name", ""),
            "last_name": self.person.get("family_name", ""),
            "name": "Facebook Person",
        }

    def linkedin_discovery(self) -> dict:
        return {
            "issuer": LINKEDIN_ISSUER,
            "authorization_endpoint": "https://www.linkedin.com/oauth/v2/authorization",
            "token_endpoint": "https://www.linkedin.com/oauth/v2/accessToken",
            "userinfo_endpoint": "https://api.linkedin.com/v2/userinfo",
            "jwks_uri": "https://www.linkedin.com/oauth/openid/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def linkedin_token(self, form: dict) -> tuple[int, dict]:
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, {"error": "invalid_client"}
        grant = self._grant(form, pkce=False)
        if grant is None:
            return 400, {"error": "invalid_grant"}
        self.linkedin_access = "li-access-" + secrets.token_hex(8)
        id_token = self.id_token(
            LINKEDIN_ISSUER, grant["nonce"], sub=self.person["sub"], email=self.person["email"],
            email_verified=True, given_name=self.person.get("given_name", ""),
            family_name=self.person.get("family_name", ""),
        )  # fmt: skip
        return 200, {
            "access_token": self.linkedin_access,
            "expires_in": 5183999,
            "scope": "openid,profile,email",
            "token_type": "Bearer",
            "id_token": id_token,
        }

    def linkedin_userinfo(self, authorization: str) -> tuple[int, dict]:
        if authorization != f"Bearer {getattr(self, 'linkedin_access', '-')}":
            return 401, {"message": "Invalid access token"}
        return 200, {
            "sub": self.person["sub"],
            "email": self.person["email"],
            "email_verified": True,
            "given_name": self.person.get("given_name", ""),
            "family_name": self.person.get("family_name", ""),
            "locale": {"country": "US", "language": "en"},
        }

    # HTTP --------------------------------------------------------------------------------

    def _handler(self):
        stand_in = self

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

            def _route(self, method: str, form: dict):
                host = (self.headers.get("Host") or "").split(":")[0]
                path = urlsplit(self.path).path
                stand_in.requests.append((host, path, form))
                if host == APPLE_HOST and method == "POST" and path == "/auth/token":
                    return self._json(*stand_in.apple_token(form))
                if host in (APPLE_HOST, LINKEDIN_HOST) and path in (
                    "/auth/keys",
                    "/oauth/openid/jwks",
                ):
                    return self._json(200, stand_in.jwks())
                if host == FACEBOOK_GRAPH_HOST and path.endswith("/oauth/access_token"):
                    return self._json(*stand_in.facebook_token(form))
                if host == FACEBOOK_GRAPH_HOST and path.endswith("/me"):
                    return self._json(*stand_in.facebook_me(form))
                if host == LINKEDIN_HOST and path == "/oauth/.well-known/openid-configuration":
                    return self._json(200, stand_in.linkedin_discovery())
                if host == LINKEDIN_HOST and method == "POST" and path == "/oauth/v2/accessToken":
                    return self._json(*stand_in.linkedin_token(form))
                if host == LINKEDIN_API_HOST and path == "/v2/userinfo":
                    return self._json(
                        *stand_in.linkedin_userinfo(self.headers.get("Authorization", ""))
                    )  # fmt: skip
                return self._json(404, {"error": "not_found"})

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                self._route("GET", query)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self._route("POST", form)

        return Handler
