"""Peer benchmark: this project and node `oidc-provider` (OpenID certified; in-memory
store), each server on the same core in turn, with the same load generator and clients,
rounds interleaved; prints the ratios. Three grants, RS256 JWT access tokens on both:
client credentials, a rotating refresh, and the authorization code + PKCE round trip
(authorize with an existing browser session, then the token call).

    .venv/bin/python bench/peer.py              # 5 s per measurement, 3 rounds
    .venv/bin/python bench/peer.py --seconds 2  # a quicker look

The peer is installed from npm into bench/peer/node_modules (pinned in its lock file) on the
first run; bench/peer/peer.mjs configures it (devInteractions off: a scripted interaction
signs its one user in and grants what the client asks, once per load thread; refresh tokens
rotate on every use, as ours do). Both servers are pinned to core 0 (ours: one gunicorn
worker, 4 threads, as in bench/tokens.py; node is single-threaded), the load generator to
core 1, 4 clients at once. "server CPU ms" is each server process's user + system CPU per
call, from /proc. The floor (GET /healthz) and this machine's RS256 signing rate (per CPU
second, bench/tokens.py) come from the same run. Goal (issue "Performance: per-core
parity"): ratio at least 1.0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import harness
import tokens  # bench/tokens.py: seed, sign-in and the code round trip on this project

HOST = tokens.HOST
PEER_DIR = Path(__file__).resolve().parent / "peer"
GRANTS = ("client credentials", "refresh (rotating)", "code + PKCE round trip")


def _peer_installed() -> None:
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            [shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
            cwd=PEER_DIR, check=True, capture_output=True, timeout=600,
        )  # fmt: skip


@contextlib.contextmanager
def peer_server(clients: dict[str, str], core: int = harness.SERVER_CORE):
    """node oidc-provider pinned to `core`, as a harness.Server (CPU read from /proc)."""
    _peer_installed()
    port = harness.free_port()
    process = subprocess.Popen(
        ["taskset", "-c", str(core), shutil.which("node") or "node", "peer.mjs"],
        cwd=PEER_DIR,
        env={**os.environ, "PORT": str(port), "REDIRECT_URI": tokens.REDIRECT_URI,
             "NODE_ENV": "production", **clients},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the peer did not start")
        yield harness.Server(process=process, port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Peer:
    """The calls of the three grants on node oidc-provider, per load thread."""

    def __init__(self, server, daemon, web):
        self.server, self.daemon, self.web = server, daemon, web
        self.local = threading.local()

    def _client(self, name: str) -> harness.Client:
        if not hasattr(self.local, name):
            host = f"127.0.0.1:{self.server.port}"
            setattr(self.local, name, harness.Client(self.server.base_url, host=host))
        return getattr(self.local, name)

    def client_credentials(self):
        answer = self._client("api").post("/token", data={
            "grant_type": "client_credentials", "client_id": self.daemon[0],
            "client_secret": self.daemon[1],
        })  # fmt: skip
        if answer.status != 200 or b"access_token" not in answer.body:
            raise RuntimeError(answer.text[:200])
        return answer

    def code_round_trip(self):
        browser = self._client("browser")
        verifier, challenge = tokens.pkce()
        query = urlencode({
            "response_type": "code", "client_id": self.web[0], "redirect_uri": tokens.REDIRECT_URI,
            "scope": "openid email offline_access api", "state": "s", "nonce": "n",
            "code_challenge": challenge, "code_challenge_method": "S256",
        })  # fmt: skip
        answer = browser.get("/auth?" + query)
        # The first time per thread: the scripted sign-in and consent, then the redirect.
        for _step in range(6):
            location = answer.headers.get("Location", "")
            if answer.status not in (302, 303) or location.startswith(tokens.REDIRECT_URI):
                break
            answer = browser.get(urlsplit(location)._replace(scheme="", netloc="").geturl())
        location = answer.headers.get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [""])[0]
        if not location.startswith(tokens.REDIRECT_URI) or not code:
            raise RuntimeError(f"the peer's authorize answered {answer.status} {location[:200]}")
        answer = self._client("api").post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": tokens.REDIRECT_URI,
            "code_verifier": verifier, "client_id": self.web[0], "client_secret": self.web[1],
        })  # fmt: skip
        if answer.status != 200 or b"id_token" not in answer.body:
            raise RuntimeError(f"the peer's token endpoint answered {answer.status} {answer.text}")
        return answer

    def refresh(self):
        if not hasattr(self.local, "refresh_token"):
            self.local.refresh_token = json.loads(self.code_round_trip().body)["refresh_token"]
        answer = self._client("api").post("/token", data={
            "grant_type": "refresh_token", "refresh_token": self.local.refresh_token,
            "client_id": self.web[0], "client_secret": self.web[1],
        })  # fmt: skip
        if answer.status != 200:
            raise RuntimeError(answer.text[:200])
        self.local.refresh_token = json.loads(answer.body)["refresh_token"]
        return answer


class Ours:
    """The same three calls on this project (bench/tokens.py's flows)."""

    def __init__(self, server, daemon, web):
        self.server, self.daemon, self.web = server, daemon, web
        self.local = threading.local()

    def _api(self) -> harness.Client:
        if not hasattr(self.local, "api"):
            self.local.api = harness.Client(self.server.base_url, host=HOST)
        return self.local.api

    def _browser(self) -> harness.Client:
        if not hasattr(self.local, "browser"):
            self.local.browser = tokens.signed_in_client(self.server)
        return self.local.browser

    def client_credentials(self):
        answer = self._api().post("/o/token/", data={
            "grant_type": "client_credentials", "client_id": self.daemon[0],
            "client_secret": self.daemon[1],
        })  # fmt: skip
        if answer.status != 200 or b"access_token" not in answer.body:
            raise RuntimeError(answer.text[:200])
        return answer

    def code_round_trip(self):
        return tokens.code_round_trip(self._browser(), self._api(), self.web)

    def refresh(self):
        if not hasattr(self.local, "refresh_token"):
            self.local.refresh_token = json.loads(self.code_round_trip().body)["refresh_token"]
        answer = self._api().post("/o/token/", data={
            "grant_type": "refresh_token", "refresh_token": self.local.refresh_token,
            "client_id": self.web[0], "client_secret": self.web[1],
        })  # fmt: skip
        if answer.status != 200:
            raise RuntimeError(answer.text[:200])
        self.local.refresh_token = json.loads(answer.body)["refresh_token"]
        return answer


def _calls(side) -> dict:
    return {
        "client credentials": side.client_credentials,
        "refresh (rotating)": side.refresh,
        "code + PKCE round trip": side.code_round_trip,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_load_options(
        parser, who="clients", rounds_help="rounds per server, interleaved; ratio of medians"
    )
    parser.add_argument("--grants", nargs="*", choices=GRANTS, default=list(GRANTS))
    options = parser.parse_args()
    peer_daemon = ("bench-peer", secrets.token_urlsafe(24))
    peer_web = ("bench-peer-web", secrets.token_urlsafe(24))

    with harness.bench_database("peer") as url:
        harness.django_setup(url)
        tenant, web, daemon = tokens.seed()
        from django.contrib.auth import get_user_model
        from django_tenants.utils import tenant_context

        with tenant_context(tenant):
            get_user_model().objects.create_user(
                email="member@acme.example", password=tokens.PASSWORD
            )
        peer_clients = {"CLIENT_ID": peer_daemon[0], "CLIENT_SECRET": peer_daemon[1],
                        "WEB_CLIENT_ID": peer_web[0], "WEB_CLIENT_SECRET": peer_web[1]}  # fmt: skip
        with harness.server(url) as ours, peer_server(peer_clients) as peer:
            harness.pin_to_core(harness.LOAD_CORE)
            rate = tokens.signing_rate(tenant, min(options.seconds, 2.0))
            floor = harness.measure_floor(ours, host=HOST)
            sides = {
                "this project": (ours, _calls(Ours(ours, daemon, web))),
                "node oidc-provider": (peer, _calls(Peer(peer, peer_daemon, peer_web))),
            }
            for _server, calls in sides.values():
                for grant in options.grants:
                    calls[grant]()  # fails loudly if a grant is misconfigured
            rounds = {(grant, side): [] for grant in options.grants for side in sides}
            for number in range(1, options.rounds + 1):
                for grant in options.grants:
                    for side, (server, calls) in sides.items():
                        rounds[grant, side].append(
                            harness.measure(
                                f"{grant}, {side} (round {number})",
                                calls[grant],
                                seconds=options.seconds,
                                server=server,
                                concurrency=options.concurrency,
                            )  # fmt: skip
                        )
            harness.print_table(
                "RS256 JWT access tokens: this project and node oidc-provider",
                [result for results in rounds.values() for result in results],
                floor=floor,
            )
            print(f"RS256 signatures per CPU second (this process): {rate:.0f}")
            for grant in options.grants:
                medians = {
                    side: rounds[grant, side][harness.median_index(rounds[grant, side])]
                    for side in sides
                }
                ours_median, peer_median = medians["this project"], medians["node oidc-provider"]
                ratio = ours_median.per_second / peer_median.per_second
                cpu_ratio = peer_median.server_cpu_ms / ours_median.server_cpu_ms
                print(
                    f"- {grant}: ratio of requests per second (this project / peer) "
                    f"{ratio:.2f}; server CPU per call: this project "
                    f"{ours_median.server_cpu_ms:.2f} ms, peer {peer_median.server_cpu_ms:.2f} ms "
                    f"(peer / ours {cpu_ratio:.2f}; {'meets' if cpu_ratio >= 1.0 else 'misses'} "
                    f"the goal of 1.0 per core)"
                )


if __name__ == "__main__":
    main()
