"""Peer benchmark: client credentials (RS256 JWT access tokens) on this project and on node
`oidc-provider` (OpenID certified; in-memory store), each server on the same core in turn,
with the same load generator and client, rounds interleaved; prints the ratio.

    .venv/bin/python bench/peer.py              # 5 s per measurement, 3 rounds
    .venv/bin/python bench/peer.py --seconds 2  # a quicker look

The peer is installed from npm into bench/peer/node_modules (pinned in its lock file) on the
first run. Both servers are pinned to core 0 (ours: one gunicorn worker, 4 threads, as in
bench/tokens.py; node is single-threaded), the load generator to core 1, 4 clients at once.
"server CPU ms" is each server process's user + system CPU per call, from /proc. The floor
(GET /healthz) and this machine's RS256 signing rate come from the same run. Goal (issue
"Performance: per-core parity"): ratio of requests per second at least 1.0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import harness
from tokens import signing_rate  # bench/tokens.py: the RS256 rate with the tenant's key

HOST = "acme.localhost"
PASSWORD = "a long and unusual passphrase"
PEER_DIR = Path(__file__).resolve().parent / "peer"


def seed():
    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context

    from oidc.services import application_create
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get(email="admin@acme.example")
        daemon, secret = application_create(
            actor=admin, name="Bench daemon", app_type="daemon", redirect_uris="",
            post_logout_redirect_uris="", is_first_party=True,
            api_permissions=["User.Invite.All"], access_token_lifetime=3600,
            id_token_lifetime=3600, refresh_token_lifetime=86400,
        )  # fmt: skip
    return tenant, daemon.client_id, secret


def _peer_installed() -> None:
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            [shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
            cwd=PEER_DIR, check=True, capture_output=True, timeout=600,
        )  # fmt: skip


@contextlib.contextmanager
def peer_server(client_id: str, secret: str, core: int = harness.SERVER_CORE):
    """node oidc-provider pinned to `core`, as a harness.Server (CPU read from /proc)."""
    _peer_installed()
    port = harness.free_port()
    process = subprocess.Popen(
        ["taskset", "-c", str(core), shutil.which("node") or "node", "peer.mjs"],
        cwd=PEER_DIR,
        env={**os.environ, "PORT": str(port), "CLIENT_ID": client_id, "CLIENT_SECRET": secret,
             "NODE_ENV": "production"},
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_load_options(
        parser, who="clients", rounds_help="rounds per server, interleaved; ratio of medians"
    )
    options = parser.parse_args()
    peer_client, peer_secret = "bench-peer", secrets.token_urlsafe(24)

    with harness.bench_database("peer") as url:
        harness.django_setup(url)
        tenant, client_id, secret = seed()
        with harness.server(url) as ours, peer_server(peer_client, peer_secret) as peer:
            harness.pin_to_core(harness.LOAD_CORE)
            rate = signing_rate(tenant, min(options.seconds, 2.0))
            floor = harness.measure_floor(ours, host=HOST)
            calls = {
                "this project": (ours, HOST, "/o/token/", client_id, secret),
                "node oidc-provider": (peer, f"127.0.0.1:{peer.port}", "/token", peer_client,
                                       peer_secret),
            }  # fmt: skip
            rounds: dict[str, list[harness.Result]] = {label: [] for label in calls}
            for number in range(1, options.rounds + 1):
                for label, (server, host, path, cid, csecret) in calls.items():
                    body = {"grant_type": "client_credentials", "client_id": cid,
                            "client_secret": csecret}  # fmt: skip
                    clients: dict[int, harness.Client] = {}

                    def call(server=server, host=host, path=path, body=body, clients=clients):
                        client = clients.setdefault(
                            threading.get_ident(), harness.Client(server.base_url, host=host)
                        )
                        answer = client.post(path, data=body)
                        if answer.status != 200 or b"access_token" not in answer.body:
                            raise RuntimeError(answer.text[:200])
                        return answer

                    call()  # fails loudly if the grant is misconfigured
                    rounds[label].append(
                        harness.measure(
                            f"client credentials, {label} (round {number})",
                            call,
                            seconds=options.seconds,
                            server=server,
                            concurrency=options.concurrency,
                        )  # fmt: skip
                    )
            harness.print_table(
                "Client credentials, RS256 JWT access token: this project and node oidc-provider",
                [result for results in rounds.values() for result in results],
                floor=floor,
            )
            print(f"RS256 signatures per second (this process, one core): {rate:.0f}")
            medians = {
                label: results[harness.median_index(results)] for label, results in rounds.items()
            }
            ours_median, peer_median = medians["this project"], medians["node oidc-provider"]
            ratio = ours_median.per_second / peer_median.per_second
            cpu_ratio = peer_median.server_cpu_ms / ours_median.server_cpu_ms
            print(
                f"- ratio of requests per second (this project / peer): {ratio:.2f} "
                f"({'meets' if ratio >= 1.0 else 'misses'} the goal of 1.0)\n"
                f"- server CPU per call: this project {ours_median.server_cpu_ms:.2f} ms, peer "
                f"{peer_median.server_cpu_ms:.2f} ms (ratio of CPU per call, peer / ours: "
                f"{cpu_ratio:.2f})"
            )


if __name__ == "__main__":
    main()
