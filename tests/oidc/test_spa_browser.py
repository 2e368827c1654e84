"""A real single-page app in headless Chromium, served from its own origin, signs in with
code + PKCE and calls the token, userinfo, refresh and revocation endpoints with fetch
across origins (CORS and its preflight through the real server's API middleware)."""

from __future__ import annotations

import json
import threading
import uuid
from functools import partial
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser import in_own_thread
from tests.helpers import PASSWORD
from tests.oidc.helpers import register_app
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

SPA_SCRIPT = (Path(__file__).parent / "spa" / "spa.js").read_bytes()
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Single-page app</title></head>
<body data-issuer="{issuer}" data-client-id="{client_id}" data-redirect-uri="{redirect_uri}"
 data-mode="{mode}"><main><p id="status">working</p><pre id="result"></pre></main>
<script src="/spa.js"></script></body></html>"""


class _SpaHandler(BaseHTTPRequestHandler):
    """The app's static files: the page (any path, the callback included) and its script."""

    def __init__(self, *args, page: str, **kwargs):
        self.page = page
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 (the handler API)
        if self.path == "/spa.js":
            body, content_type = SPA_SCRIPT, "text/javascript"
        else:
            body, content_type = self.page.encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def spa_server(port: int, **config: str) -> ThreadingHTTPServer:
    page = PAGE.format(**{name: escape(value) for name, value in config.items()})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_SpaHandler, page=page))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def live_spa(worlds, subprocess_env, django_db_blocker):
    """The real server; a single-page app (committed in acme) registered at its own origin,
    and the same page at an origin no app registered."""
    acme = worlds["acme"]
    spa_port, stranger_port, port = free_port(), free_port(), free_port()
    origin = f"http://127.0.0.1:{spa_port}"
    with django_db_blocker.unblock():
        app = register_app(
            acme, app_type="spa", name=f"SPA {uuid.uuid4().hex[:6]}",
            redirect_uri=f"{origin}/callback",
        )  # fmt: skip
    issuer = f"http://{acme.host}:{port}/o"
    config = {"issuer": issuer, "client_id": app.client_id, "redirect_uri": app.redirect_uri}
    servers = [
        spa_server(spa_port, mode="app", **config),
        spa_server(stranger_port, mode="probe", **config),
    ]
    process = start_gunicorn(subprocess_env, port)
    yield {
        "acme": acme,
        "app": app,
        "origin": origin,
        "stranger": f"http://127.0.0.1:{stranger_port}",
    }
    stop(process)
    for server in servers:
        server.shutdown()


def result_of(page) -> dict:
    page.locator("#status").filter(has_text="done").wait_for(timeout=30_000)
    return json.loads(page.locator("#result").inner_text())


def test_spa_signs_in_and_calls_the_endpoints_from_its_own_origin(live_spa):
    in_own_thread(lambda page: spa_sign_in(page, live_spa))


def spa_sign_in(page, live_spa):
    acme = live_spa["acme"]
    page.goto(live_spa["origin"] + "/")
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill(acme.member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_spa['origin']}/callback?**")
    result = result_of(page)
    assert result.get("error") is None, result
    assert result["userinfo"]["sub"] == str(acme.member.public_id)
    assert result["userinfo"]["email"] == acme.member.email
    assert result["rotated"] is True and result["refreshed_access_token"] is True
    assert result["revoke_status"] == 200
    assert result["after_revoke"] == "invalid_grant"


def test_a_page_from_an_unregistered_origin_cannot_read_the_answers(live_spa):
    def probe(page):
        page.goto(live_spa["stranger"] + "/")
        assert result_of(page) == {"probe": "blocked"}

    in_own_thread(probe)
