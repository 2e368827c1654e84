"""A tiny relying party on its own origin (its own port on 127.0.0.1): a web app that signs
its users in with authorization code + PKCE at a tenant, as the console's quickstart shows.

It speaks to the tenant as any app would: it sends the browser to the authorization endpoint,
receives the code on its callback, exchanges it at the token endpoint (server to server, with
the tenant's Host header, since Python does not resolve `*.localhost`), and shows who signed
in. Sign-out sends the browser to the tenant's end-session endpoint with a registered
post-logout URI.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.server import free_port


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class RelyingParty:
    def __init__(self):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = f"{self.origin}/callback"
        self.post_logout_uri = f"{self.origin}/signed-out"
        self.issuer_base = ""  # http://<tenant host>:<port>, set by `connect`
        self.server_port = 0
        self.client_id = ""
        self.client_secret = ""
        self.pending: dict[str, dict] = {}  # state -> verifier and nonce
        self.callbacks: list[dict] = []  # the query of every callback received
        self.id_token = ""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())

    def connect(self, *, tenant_host: str, server_port: int, client_id: str, secret: str | None):
        self.issuer_base = f"http://{tenant_host}:{server_port}"
        self.server_port = server_port
        self.client_id = client_id
        self.client_secret = secret or ""

    def start(self) -> RelyingParty:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def _authorization_url(self, extra: dict) -> str:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.pending[state] = {"verifier": verifier, "nonce": nonce}
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{self.issuer_base}/o/authorize/?{urlencode(query)}"

    def _exchange(self, code: str, verifier: str) -> dict:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        response = requests.post(
            f"http://127.0.0.1:{self.server_port}/o/token/",
            data=data,
            headers={"Host": urlsplit(self.issuer_base).netloc},
            timeout=10,
        )
        return response.json()

    def _handler(self):
        party = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the handler API)
                path, _, query = self.path.partition("?")
                params = {key: values[0] for key, values in parse_qs(query).items()}
                if path == "/login":
                    return self._redirect(party._authorization_url(params))
                if path == "/callback":
                    return self._callback(params)
                if path == "/logout":
                    logout = {
                        "post_logout_redirect_uri": party.post_logout_uri,
                        "client_id": party.client_id,
                    }
                    if params.get("hint") != "no":  # without the hint, the provider asks
                        logout["id_token_hint"] = party.id_token
                    return self._redirect(f"{party.issuer_base}/o/logout/?{urlencode(logout)}")
                if path == "/welcome":
                    return self._page("Welcome", "The app's landing page.")
                if path == "/signed-out":
                    return self._page("Signed out", "You are signed out of the app.")
                return self._page("Not found", "", status=404)

            def _callback(self, params: dict):
                party.callbacks.append(params)
                pending = party.pending.pop(params.get("state", ""), None)
                if pending is None:
                    return self._page("Sign-in failed", "unknown state", status=400)
                if "error" in params:
                    return self._page("Sign-in failed", params["error"], status=400)
                tokens = party._exchange(params["code"], pending["verifier"])
                if "id_token" not in tokens:
                    return self._page("Sign-in failed", json.dumps(tokens), status=400)
                claims = _claims(tokens["id_token"])
                if claims.get("nonce") != pending["nonce"]:
                    return self._page("Sign-in failed", "nonce mismatch", status=400)
                party.id_token = tokens["id_token"]
                return self._page("Welcome", f"Signed in as {claims.get('email', '?')}")

            def _redirect(self, location: str):
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()

            def _page(self, title: str, text: str, status: int = 200):
                body = (
                    f"<!doctype html><html lang='en'><head><title>{html.escape(title)}</title>"
                    f"</head><body><main><h1>{html.escape(title)}</h1>"
                    f"<p id='result'>{html.escape(text)}</p></main></body></html>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
