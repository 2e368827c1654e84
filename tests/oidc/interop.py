"""The real server over HTTPS for interop tests, a resolver for tenant hosts, and a scripted
sign-in through the hosted pages (GET the form, POST credentials with the CSRF token)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import requests
import trustme

from tests.server import ROOT, stop

_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


@contextmanager
def tenant_hosts_resolve_to_loopback():
    """Python's resolver does not send *.localhost to loopback (browsers do)."""
    socket.getaddrinfo = _loopback_getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


@contextmanager
def https_gunicorn(environment: dict, port: int, hosts: list[str], directory: Path):
    """gunicorn with a certificate from a throwaway CA; yields the CA file to trust."""
    authority = trustme.CA()
    certificate = authority.issue_cert(*hosts, "127.0.0.1")
    ca_file, cert_file, key_file = (directory / name for name in ("ca.pem", "cert.pem", "key.pem"))
    authority.cert_pem.write_to_path(str(ca_file))
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "ciam.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "4", "--log-level", "warning",
            "--certfile", str(cert_file), "--keyfile", str(key_file),
        ],
        cwd=ROOT,
        env={**environment, "PUBLIC_SCHEME": "https", "PUBLIC_PORT": str(port)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                health = requests.get(f"https://127.0.0.1:{port}/healthz", verify=str(ca_file))
                if health.status_code == 200:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield str(ca_file)
    finally:
        stop(process)


def sign_in_at(
    session: requests.Session,
    auth_url: str,
    *,
    email: str,
    password: str,
    redirect_uri: str,
    second_factor: Callable[[], str] | None = None,
) -> str:
    """Follow the authorization request through the hosted sign-in page, as a browser would,
    and return the callback URL the app receives (not fetched). A page asking for a second
    factor gets the code `second_factor` gives (an authenticator app's, computed then);
    without one, being asked is an error."""
    response = session.get(auth_url, allow_redirects=False)
    for _step in range(10):
        location = response.headers.get("Location")
        if location:
            target = urljoin(response.url, location)
            if target.startswith(redirect_uri):
                return target
            response = session.get(target, allow_redirects=False)
            continue
        form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert response.status_code == 200 and form, response.text[:2000]
        data = {"csrfmiddlewaretoken": unescape(form.group(1))}
        if 'name="code"' in response.text:
            assert second_factor is not None, f"asked for a second factor at {response.url}"
            method = re.search(r'name="method" value="([^"]+)"', response.text)
            data.update(code=second_factor(), method=method.group(1) if method else "")
        else:
            data.update(login=email, password=password)
        origin = "/".join(response.url.split("/")[:3])
        response = session.post(
            response.url, data=data, headers={"Referer": response.url, "Origin": origin},
            allow_redirects=False,
        )  # fmt: skip
        assert response.status_code in (302, 303), (response.status_code, response.text[:2000])
    raise AssertionError("the sign-in did not come back to the app")
