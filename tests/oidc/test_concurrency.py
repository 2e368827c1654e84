"""Two calls at once with one authorization code, or one refresh token: exactly one gets
tokens. Each call runs in its own thread, with its own database connection."""

from __future__ import annotations

import threading
import uuid

from django.db import connection
from django.test import Client

from tests.oidc.helpers import Flow, register_app


def _at_once(call, count: int = 2) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _token_call(world, body: dict):
    def call():
        response = Client(HTTP_HOST=world.host).post("/o/token/", body)
        return response.status_code, response.json()

    return call


def test_one_code_redeemed_twice_at_once_gives_tokens_once(worlds, committed):
    acme = worlds["acme"]
    app = register_app(acme, name=f"Race {uuid.uuid4().hex[:8]}")
    flow = Flow(acme, user=acme.member)
    code, verifier = flow.code(app)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect_uri,
        "code_verifier": verifier,
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    results = _at_once(_token_call(acme, body))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 400], results
    assert [body for status, body in results if status == 400][0]["error"] == "invalid_grant"


def test_one_refresh_token_used_twice_at_once_gives_tokens_once(worlds, committed):
    acme = worlds["acme"]
    app = register_app(acme, name=f"Race {uuid.uuid4().hex[:8]}")
    tokens = Flow(acme, user=acme.member).sign_in(app)
    body = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    results = _at_once(_token_call(acme, body))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 400], results
    assert [body for status, body in results if status == 400][0]["error"] == "invalid_grant"
