"""DNS rebinding: a name that resolves to a public address when federation checks it and to
a private one when the connection is made must not reach the private one. Requests to IdPs
resolve the name once and connect to the address that was checked (the TLS name kept)."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from federation.http import UnsafeDestination, idp_session

NAME = "idp.rebinding.example"
PUBLIC = "93.184.215.14"  # a global address (TEST-NET ranges are not "global")


class Listener:
    """A TCP listener on loopback counting the connections it gets (the private target)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            connection.close()

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def rebinding(monkeypatch, settings):
    """The resolver answers NAME with a public address first, then with loopback."""
    settings.FEDERATION_ALLOW_LOOPBACK_IDPS = False  # the guard on, as in production
    real = socket.getaddrinfo
    answers = {"count": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host == NAME:
            answers["count"] += 1
            address = PUBLIC if answers["count"] == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    listener = Listener()
    yield listener, answers
    listener.stop()


def test_the_connection_goes_to_the_address_that_was_checked(rebinding, monkeypatch):
    listener, answers = rebinding
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)

    with idp_session(timeout=1.5) as session, pytest.raises(requests.RequestException):
        session.get(f"https://{NAME}:{listener.port}/.well-known/openid-configuration")

    assert answers["count"] == 1  # resolved once, for the check
    assert listener.accepted == 0  # never reached the private address


def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting(
    rebinding, monkeypatch
):
    listener, answers = rebinding
    answers["count"] = 1  # the next answer is the private one

    with idp_session(timeout=1.5) as session, pytest.raises(UnsafeDestination) as refused:
        session.get(f"https://{NAME}:{listener.port}/")

    assert "127.0.0.1" in str(refused.value)
    assert listener.accepted == 0
