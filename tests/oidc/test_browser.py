"""Headless Chromium against the real server: sign-in and consent for a third-party app
through the hosted pages, and the App registrations console, with axe-core checks."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import axe_violations, in_own_thread
from tests.helpers import PASSWORD
from tests.oidc.helpers import jwt_parts, pkce_pair, register_app
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server, pytest.mark.browser]


class _Callback(BaseHTTPRequestHandler):
    """The relying party's redirect URI: remembers what it received."""

    received: list[str] = []

    def do_GET(self):  # noqa: N802 (the handler API)
        if self.path.startswith("/callback"):  # not the browser's favicon request
            self.received.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"signed in")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def callback_server():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/callback"
    server.shutdown()


@pytest.fixture(scope="module")
def live(worlds, subprocess_env, django_db_blocker, callback_server):
    """The real server, the app's callback, and (committed in acme) a third-party web app."""
    acme = worlds["acme"]
    with django_db_blocker.unblock():
        app = register_app(
            acme, first_party=False, name=f"Partner {uuid.uuid4().hex[:6]}",
            redirect_uri=callback_server,
        )  # fmt: skip
    port = free_port()
    process = start_gunicorn(subprocess_env, port)
    yield {"acme": acme, "app": app, "port": port, "base": f"http://{acme.host}:{port}"}
    stop(process)


def sign_in(page, live, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_third_party_app_sign_in_asks_consent_once(live):
    in_own_thread(lambda page: third_party_sign_in(page, live))


def third_party_sign_in(page, live):
    app, acme = live["app"], live["acme"]
    verifier, challenge = pkce_pair()
    query = urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
        "scope": "openid email", "state": "browser-state", "nonce": "browser-nonce",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    page.goto(f"{live['base']}/o/authorize/?{query}")
    page.wait_for_url("**/accounts/login/**")
    sign_in(page, live, acme.member.email)
    heading = page.get_by_role("heading", name=f"Allow {app.application.name}")
    expect(heading).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{app.redirect_uri}**")
    params = {k: v[0] for k, v in parse_qs(urlsplit(_Callback.received[-1]).query).items()}
    assert params["state"] == "browser-state"
    token = requests.post(
        f"http://127.0.0.1:{live['port']}/o/token/",
        data={"grant_type": "authorization_code", "code": params["code"],
              "redirect_uri": app.redirect_uri, "code_verifier": verifier,
              "client_id": app.client_id, "client_secret": app.secret},
        headers={"Host": f"{acme.host}:{live['port']}"},
        timeout=10,
    ).json()  # fmt: skip
    claims = jwt_parts(token["id_token"])[1]
    assert claims["nonce"] == "browser-nonce" and claims["email"] == acme.member.email
    # Consent is remembered: the next sign-in goes straight back to the app.
    page.goto(f"{live['base']}/o/authorize/?{query}")
    page.wait_for_url(f"{app.redirect_uri}**")
    assert "code=" in _Callback.received[-1]
    page.goto(f"{live['base']}/account/apps/")
    expect(page.get_by_text(app.application.name, exact=True)).to_be_visible()
    assert axe_violations(page) == []


def test_app_registration_console_pages(live):
    in_own_thread(lambda page: console_app_registration(page, live))


def console_app_registration(page, live):
    acme = live["acme"]
    page.goto(f"{live['base']}/console/apps/")
    sign_in(page, live, acme.admin.email)
    page.wait_for_url("**/console/apps/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="New registration").click()
    name = f"Console app {uuid.uuid4().hex[:6]}"
    page.locator("#id_name").fill(name)
    page.locator("#id_redirect_uris").fill("http://portal.example/callback")
    page.get_by_role("button", name="Register").click()
    # The error sits next to the field and what was typed stays.
    assert "use https" in page.locator("#id_redirect_uris_error").inner_text().lower()
    assert page.locator("#id_redirect_uris").input_value() == "http://portal.example/callback"
    assert axe_violations(page) == []
    page.locator("#id_redirect_uris").fill("https://portal.example/callback")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name=name).wait_for()
    assert page.get_by_role("textbox", name="Client secret").input_value()
    assert axe_violations(page) == []
    page.goto(f"{live['base']}/console/apps/signing-keys/")
    assert axe_violations(page) == []
