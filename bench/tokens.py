"""Token endpoint benchmark: requests per second of one server process (one gunicorn
worker pinned to one core) for client credentials, a rotating refresh, and a full
authorization code + PKCE round trip (authorize with an existing session, then token), next
to the RS256 signing rate of this machine measured in the same run.

    .venv/bin/python bench/tokens.py              # 5 s per measurement
    .venv/bin/python bench/tokens.py --seconds 2  # a quicker look
    .venv/bin/python bench/tokens.py --signing ES256  # apps that sign with ES256

Targets per process: client credentials 500/s, refresh 300/s, code + PKCE 200/s. By default
4 clients call at once, so the single worker is never idle waiting for the next request: the
rates are what one process can serve. `--concurrency 1` shows the latency of a lone client.
Each grant is measured in 3 interleaved rounds (`--rounds`); the verdict is on the median.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import harness

HOST = "acme.localhost"
PASSWORD = "a long and unusual passphrase"
REDIRECT_URI = "https://app.bench.example/callback"
TARGETS = {"client credentials": 500, "refresh (rotating)": 300, "code + PKCE round trip": 200}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seed(signing: str = "RS256"):
    from django_tenants.utils import tenant_context

    from oidc.services import application_create
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(email="admin@acme.example")
        lifetimes = {"access_token_lifetime": 3600, "id_token_lifetime": 3600,
                     "refresh_token_lifetime": 86400,
                     "token_signing_algorithm": signing}  # fmt: skip
        web, web_secret = application_create(
            actor=admin, name="Bench web", app_type="web", redirect_uris=REDIRECT_URI,
            post_logout_redirect_uris="", is_first_party=True, api_permissions=[], **lifetimes,
        )  # fmt: skip
        daemon, daemon_secret = application_create(
            actor=admin, name="Bench daemon", app_type="daemon", redirect_uris="",
            post_logout_redirect_uris="", is_first_party=True,
            api_permissions=["User.Invite.All"], **lifetimes,
        )  # fmt: skip
    return tenant, (web.client_id, web_secret), (daemon.client_id, daemon_secret)


def signing_rate(tenant, seconds: float) -> float:
    """RS256 signatures per second of CPU time in this process with the tenant's key (what
    each token issue must spend at least once). Counted per CPU second of this thread, as the
    server's figures are CPU time per call: on a machine other work shares, signatures per
    second of the clock fall with the load and "signatures' worth" would mean nothing."""
    from django_tenants.utils import tenant_context

    from oidc import tokens

    claims = {"iss": "https://acme.localhost/o", "sub": "x", "aud": "y", "exp": 2_000_000_000}
    with tenant_context(tenant):
        tokens.sign(claims)  # loads and parses the key once
        count = 0
        started, cpu_started = time.perf_counter(), time.thread_time()
        while time.perf_counter() - started < seconds:
            tokens.sign(claims)
            count += 1
    return count / (time.thread_time() - cpu_started)


def signed_in_client(server) -> harness.Client:
    client = harness.Client(server.base_url, host=HOST)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": "member@acme.example", "password": PASSWORD},
        headers={"Referer": f"http://{HOST}/accounts/login/"},
    )
    assert answer.status in (302, 303), (answer.status, answer.text[:500])
    return client


def code_round_trip(browser: harness.Client, api: harness.Client, web) -> harness.Response:
    client_id, secret = web
    verifier, challenge = pkce()
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": "openid email offline_access", "state": "s", "nonce": "n",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    authorized = browser.get("/o/authorize/?" + query)
    location = authorized.headers.get("Location", "")
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    if authorized.status != 302 or not code:
        raise RuntimeError(f"authorize answered {authorized.status} {location[:200]}")
    answer = api.post("/o/token/", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier, "client_id": client_id, "client_secret": secret,
    })  # fmt: skip
    if answer.status != 200:
        raise RuntimeError(f"token answered {answer.status} {answer.text[:200]}")
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    harness.add_load_options(
        parser,
        who="clients",
        rounds_help="each grant measured this many times, interleaved; verdict on the median",
    )
    parser.add_argument(
        "--signing", choices=["RS256", "ES256"], default="RS256",
        help="the apps' token signing algorithm (the signing rate printed stays RS256's)",
    )  # fmt: skip
    options = parser.parse_args()

    with harness.bench_database("tokens") as url:
        harness.django_setup(url)
        tenant, web, daemon = seed(options.signing)
        from django_tenants.utils import tenant_context

        with tenant_context(tenant):
            from django.contrib.auth import get_user_model

            get_user_model().objects.create_user(email="member@acme.example", password=PASSWORD)
        with harness.server(url) as server:
            harness.pin_to_core(harness.LOAD_CORE)
            rate = signing_rate(tenant, min(options.seconds, 2.0))
            floor = harness.measure_floor(server, host=HOST)
            # Each load thread has its own connection state, session and refresh chain (a
            # shared chain would replay rotated tokens and revoke the family).
            local = threading.local()

            def api_client() -> harness.Client:
                if not hasattr(local, "api"):
                    local.api = harness.Client(server.base_url, host=HOST)
                return local.api

            def browser_client() -> harness.Client:
                if not hasattr(local, "browser"):
                    local.browser = signed_in_client(server)
                return local.browser

            daemon_body = {"grant_type": "client_credentials", "client_id": daemon[0],
                           "client_secret": daemon[1]}  # fmt: skip

            def client_credentials():
                answer = api_client().post("/o/token/", data=daemon_body)
                if answer.status != 200:
                    raise RuntimeError(answer.text[:200])
                return answer

            def refresh():
                if not hasattr(local, "refresh_token"):
                    first = code_round_trip(browser_client(), api_client(), web)
                    local.refresh_token = json.loads(first.body)["refresh_token"]
                answer = api_client().post("/o/token/", data={
                    "grant_type": "refresh_token", "refresh_token": local.refresh_token,
                    "client_id": web[0], "client_secret": web[1],
                })  # fmt: skip
                if answer.status != 200:
                    raise RuntimeError(answer.text[:200])
                local.refresh_token = json.loads(answer.body)["refresh_token"]
                return answer

            concurrency = options.concurrency
            seconds = options.seconds
            grants = {
                "client credentials": client_credentials,
                "refresh (rotating)": refresh,
                "code + PKCE round trip": lambda: code_round_trip(
                    browser_client(), api_client(), web
                ),
            }
            # A tenant request with no query and no signature: the framework's share.
            jwks = harness.measure(
                "GET JWKS (tenant host, no I/O)",
                lambda: api_client().get("/o/.well-known/jwks.json"),
                seconds=seconds,
                server=server,
                concurrency=concurrency,
            )
            # Rounds interleave the grants: a shared machine changes speed over minutes.
            rounds: dict[str, list[harness.Result]] = {label: [] for label in grants}
            for number in range(1, options.rounds + 1):
                for label, call in grants.items():
                    rounds[label].append(
                        harness.measure(
                            f"{label} (round {number})",
                            call,
                            seconds=seconds,
                            server=server,
                            concurrency=concurrency,
                        )  # fmt: skip
                    )
            harness.print_table(
                f"Tokens (one server process), {options.signing} apps",
                [jwks, *(result for results in rounds.values() for result in results)],
                floor=floor,
            )
            print(f"RS256 signatures per CPU second in this process: {rate:.0f}")
            # The measured rate also carries the load generator and the machine's other work;
            # 1000 / server CPU ms is what the worker's own work allows on one core.
            for label, results in rounds.items():
                median = results[harness.median_index(results)]
                target = TARGETS[label]
                capacity = 1000 / median.server_cpu_ms if median.server_cpu_ms else 0.0
                verdict = "meets" if median.per_second >= target else "misses"
                each = ", ".join(f"{result.per_second:.0f}" for result in results)
                signatures = median.server_cpu_ms * rate / 1000 if median.server_cpu_ms else 0.0
                print(
                    f"- {label}: median round {median.per_second:.0f}/s ({verdict} the target "
                    f"of {target}/s; rounds {each}); its server CPU time "
                    f"({median.server_cpu_ms:.2f} ms, {signatures:.1f} RS256 signatures' worth) "
                    f"allows {capacity:.0f}/s per core"
                )


if __name__ == "__main__":
    main()
