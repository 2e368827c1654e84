"""Redis stops under a running server: password sign-in keeps working, the lockout still
holds (stricter, per process), /readyz says 503, and when Redis returns everything is back on
it without a restart (ciam/cache.py)."""

from __future__ import annotations

import re
import subprocess

import pytest
import redis
import requests

from tests.helpers import LOCKED, PASSWORD, eventually, make_user
from tests.server import free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server]


def _redis_server(socket_path: str) -> subprocess.Popen:
    """A Redis of the test's own on a Unix socket (no TCP port another test could take once
    it stops)."""
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", socket_path, "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    eventually(
        lambda: _answers(socket_path), timeout=10, interval=0.05, message="Redis did not start"
    )
    return process


def _answers(socket_path: str) -> bool:
    try:
        return redis.Redis(unix_socket_path=socket_path, socket_connect_timeout=0.2).ping()
    except redis.exceptions.ConnectionError:
        return False


class Browser:
    """A person's browser on the tenant's sign-in page, over real HTTP."""

    def __init__(self, base: str, host: str):
        self.base, self.host = base, host
        self.session = requests.Session()

    def sign_in(self, email: str, password: str) -> requests.Response:
        page = self.session.get(
            f"{self.base}/accounts/login/", headers={"Host": self.host}, timeout=30
        )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.session.post(
            f"{self.base}/accounts/login/",
            {"csrfmiddlewaretoken": token, "login": email, "password": password},
            headers={"Host": self.host, "Referer": f"http://{self.host}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )


def test_sign_in_survives_a_redis_outage_with_the_lockout_enforced(
    subprocess_env, acme_committed, tmp_path
):
    socket_path = str(tmp_path / "redis.sock")
    cache_redis = _redis_server(socket_path)
    port = free_port()
    server = start_gunicorn(
        {**subprocess_env, "CIAM_TEST_REDIS_URL": f"unix://{socket_path}?db=0",
         "CACHE_OUTAGE_RETRY_SECONDS": "0.5"},
        port,
    )  # fmt: skip
    base, host = f"http://127.0.0.1:{port}", f"{acme_committed.host.split(':')[0]}:{port}"
    person, target = make_user(acme_committed), make_user(acme_committed)
    try:
        assert Browser(base, host).sign_in(person.email, PASSWORD).status_code == 302

        cache_redis.terminate()
        cache_redis.wait(timeout=10)
        ready = requests.get(f"{base}/readyz", headers={"Host": host}, timeout=30)
        assert ready.status_code == 503

        # Signing in keeps working: the session is PostgreSQL's, the counts the process's.
        signed_in = Browser(base, host).sign_in(person.email, PASSWORD)
        assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/account/"
        # The lockout still holds, on the stricter outage threshold (3 by default).
        guesser = Browser(base, host)
        answers = [guesser.sign_in(target.email, f"wrong guess {n}").text for n in range(4)]
        assert LOCKED not in answers[0] and LOCKED in answers[-1]
        assert LOCKED in Browser(base, host).sign_in(target.email, PASSWORD).text

        # Redis returns on the same port: back on it, without a restart.
        cache_redis = _redis_server(socket_path)
        eventually(
            lambda: requests.get(f"{base}/readyz", headers={"Host": host}, timeout=30)
            .status_code == 200,
            timeout=30, interval=0.3, message="/readyz did not recover",
        )  # fmt: skip
        after = Browser(base, host).sign_in(person.email, PASSWORD)
        assert after.status_code == 302 and after.headers["Location"] == "/account/"

        # Counting is in Redis again (what the server counted there is visible to all). The
        # server's first call after the restart may still find a connection Redis dropped:
        # that call counts in memory, and the next one is back on Redis.
        def counted_in_redis() -> bool:
            Browser(base, host).sign_in(make_user(acme_committed).email, "wrong guess")
            kept = redis.Redis(unix_socket_path=socket_path).scan_iter("*lockout:account*")
            return bool(list(kept))

        eventually(counted_in_redis, timeout=30, interval=0.6, message="not back on Redis")
    finally:
        stop(server)
        cache_redis.terminate()
        cache_redis.wait(timeout=10)
