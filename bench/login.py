"""Password sign-in benchmark: sign-ins per second of one server process (one gunicorn
worker pinned to one core) through the real hosted page (GET the form, POST the credentials,
follow the redirect to My account), next to the bare argon2id verify rate of this machine
measured in the same run on the same core; and the same sign-in with MFA required (a tenant
whose policy requires it, each person with an authenticator app): after the password, GET
the challenge and POST the app's code, computed as the app does.

    .venv/bin/python bench/login.py                   # 5 s per measurement
    .venv/bin/python bench/login.py --seconds 2       # a quicker look
    .venv/bin/python bench/login.py --concurrency 1   # one person at a time: latency

A federated round signs people in through a real OpenID Provider on loopback (node
oidc-provider, tests/federation/node; `npm ci` there first): press the provider's button,
sign in and consent at the provider, come back through our callback (code for tokens, the
ID token's signature checked against the provider's JWKS, userinfo, the linked account
looked up, the session made), My account. Only our server's CPU is counted (the provider
runs in its own process), next to the password sign-in's of the same round: the goal is at
most half of it (no password hash to pay).

Target: at least 30 sign-ins per second per worker process, that is everything around the
password hash costs less than the hash itself; MFA adds at most 3 ms of server CPU to a
sign-in. Each sign-in hashes the password exactly once.
By default 4 people sign in at once (the worker's 4 threads), as in bench/tokens.py, so the
worker is never idle between requests: the rate is what one process can serve. Within a
round the three kinds take turns (--slices, 5 by default: harness.measure_interleaved), so a
change of the machine's speed during the round weighs on each kind alike and "MFA adds" and
the federated share compare sign-ins measured side by side.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import harness
from django_otp.oath import totp

HOST = "acme.localhost"
MFA_HOST = "secure.localhost"
PASSWORD = "a long and unusual passphrase"
# Each sign-in makes a session and allauth looks at every session of the user at sign-in:
# many users keep that to the few sessions a real person has.
USERS = 2000
TARGET_PER_SECOND = 30
MFA_TARGET_CPU_MS = 3.0
FED_HOST = "fedbench.localhost"
FED_SLUG = "node"
FED_USERS = 500
NODE_DIR = Path(__file__).resolve().parent.parent / "tests" / "federation" / "node"
FORM = re.compile(rb'<form[^>]*action="([^"]+)"')
HIDDEN = re.compile(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"')
REFRESH = re.compile(rb'<meta http-equiv="refresh" content="0;url=([^"]+)">')
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def seed() -> tuple[list[str], dict[str, bytes]]:
    """People of acme (password only) and of secure (MFA required, each with an authenticator
    app: their keys by email, for the load generator to compute codes)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django_otp.util import random_hex
    from django_tenants.utils import tenant_context

    from mfa.models import MfaPolicy, TOTPDevice
    from tenants.services import tenant_create

    User = get_user_model()
    encoded = make_password(PASSWORD)
    people = {}
    for slug in ("acme", "secure"):
        tenant = tenant_create(
            name=f"{slug.capitalize()} Bench", slug=slug, admin_email=f"admin@{slug}.example",
            admin_password=PASSWORD,
        )  # fmt: skip
        emails = [f"user{number:04}@{slug}.example" for number in range(USERS)]
        with tenant_context(tenant):
            users = User.objects.bulk_create(
                User(email=email, password=encoded) for email in emails
            )
            people[slug] = emails
            if slug == "secure":
                MfaPolicy.objects.create(requirement=MfaPolicy.Requirement.REQUIRED_ALL)
                devices = TOTPDevice.objects.bulk_create(
                    TOTPDevice(user=user, name="Authenticator app", secret=random_hex(20),
                               confirmed=True)
                    for user in users
                )  # fmt: skip
                pairs = zip(users, devices, strict=True)
                keys = {user.email: device.bin_key for user, device in pairs}
    return people["acme"], keys


def seed_federation(issuer: str, client_id: str, secret: str) -> dict:
    """A tenant whose people sign in through the node provider, each already linked (the
    sign-in looks the linked account up: no sign-up). Returns the provider's accounts."""
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context

    from federation.models import IdentityProvider
    from mfa.crypto import secret_seal
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Fed Bench", slug="fedbench", admin_email="admin@fedbench.example",
        admin_password=PASSWORD,
    )  # fmt: skip
    accounts = {}
    with tenant_context(tenant):
        IdentityProvider.objects.create(
            kind="openid_connect", slug=FED_SLUG, name="Node", client_id=client_id,
            client_secret_sealed=secret_seal(secret), scopes="openid profile email",
            discovery_url=f"{issuer}/.well-known/openid-configuration",
            trust_verified_email=True,
        )  # fmt: skip
        User = get_user_model()
        users = User.objects.bulk_create(
            User(email=f"fed{number:04}@fedbench.example", password="!")
            for number in range(FED_USERS)
        )
        SocialAccount.objects.bulk_create(
            SocialAccount(user=user, provider=FED_SLUG, uid=f"fed{number:04}", extra_data={})
            for number, user in enumerate(users)
        )
        for number, user in enumerate(users):
            accounts[f"fed{number:04}"] = {"email": user.email, "email_verified": True}
    return accounts


class NodeProvider:
    """node oidc-provider on loopback with our callback registered."""

    def __init__(self, port: int, client_id: str, secret: str, accounts: dict):
        if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
        callback = f"http://{FED_HOST}/accounts/oidc/{FED_SLUG}/login/callback/"
        self.process = subprocess.Popen(
            ["node", str(NODE_DIR / "idp.mjs")],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port),
                 "CLIENT_ID": client_id, "CLIENT_SECRET": secret, "REDIRECT_URI": callback,
                 "ACCOUNTS": json.dumps(accounts)},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the node provider did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class FederatedSignIn:
    """One whole sign-in through the node provider per call (fresh cookie jars): the button,
    the provider's login and consent pages, our callback, My account."""

    def __init__(self, server: harness.Server, issuer: str, logins: list[str]):
        self.server, self.issuer, self.logins = server, issuer, logins
        self.numbers = itertools.count()

    def __call__(self) -> harness.Response:
        login = self.logins[next(self.numbers) % len(self.logins)]
        ours = harness.Client(self.server.base_url, host=FED_HOST)
        page = ours.get("/accounts/login/")
        token = CSRF_FIELD.search(page.body)
        if page.status != 200 or token is None:
            raise RuntimeError(f"sign-in page answered {page.status}")
        button = ours.post(
            f"/accounts/oidc/{FED_SLUG}/login/",
            data={"csrfmiddlewaretoken": token.group(1).decode(), "process": "login"},
        )
        location = button.headers.get("Location", "")
        if button.status != 302 or not location.startswith(self.issuer):
            raise RuntimeError(f"the button answered {button.status} {location}")
        callback = self._at_provider(location, login)
        back = ours.get(callback)
        refresh = REFRESH.search(back.body) if back.status == 200 else None
        if refresh is None or refresh.group(1) != b"/account/":
            raise RuntimeError(f"our callback answered {back.status} {back.body[:300]!r}")
        landed = ours.get("/account/")
        if landed.status != 200 or f"{login}@fedbench".encode() not in landed.body:
            raise RuntimeError(f"My account answered {landed.status}")
        return landed

    def _at_provider(self, url: str, login: str) -> str:
        """The provider's pages, as a browser goes through them; the path of our callback."""
        parts = urlsplit(self.issuer)
        client = harness.Client(self.issuer, host=parts.netloc)
        for _step in range(12):
            target = urlsplit(url)
            if target.netloc == FED_HOST:
                return f"{target.path}?{target.query}"
            path = f"{target.path}?{target.query}" if target.query else target.path
            answer = client.get(path)
            if answer.status in (302, 303):
                url = urljoin(url, answer.headers["Location"])
                continue
            form = FORM.search(answer.body)
            if answer.status != 200 or form is None:
                raise RuntimeError(f"the provider answered {answer.status}")
            fields = {k.decode(): v.decode() for k, v in HIDDEN.findall(answer.body)}
            if b'name="login"' in answer.body:
                fields.update({"login": login, "password": "any"})
            action = urljoin(url, form.group(1).decode())
            answer = client.post(urlsplit(action).path, data=fields)
            if answer.status not in (302, 303):
                raise RuntimeError(f"the provider's form answered {answer.status}")
            url = urljoin(action, answer.headers["Location"])
        raise RuntimeError("the provider never sent the person back")


def argon2_verify_rate(seconds: float) -> tuple[float, float]:
    """Bare verifies per second and milliseconds per verify of the production hasher, in this
    process, pinned to the server's core (the server is not started yet)."""
    from accounts.sign_in.hasher import TunedArgon2PasswordHasher

    hasher = TunedArgon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    harness.pin_to_core(harness.SERVER_CORE)
    hasher.verify(PASSWORD, encoded)
    calls = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    while time.perf_counter() - started < seconds:
        hasher.verify(PASSWORD, encoded)
        calls += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return calls / elapsed, cpu / calls * 1000


class SignIn:
    """One whole sign-in per call, each with a fresh browser-like cookie jar; with `keys`
    (the people's authenticator app keys by email), the code after the password. Each person
    signs in once in USERS sign-ins: a code works once."""

    def __init__(self, server: harness.Server, emails: list[str], *, host: str = HOST,
                 keys: dict[str, bytes] | None = None):  # fmt: skip
        self.server = server
        self.emails = emails
        self.host = host
        self.keys = keys
        self.numbers = itertools.count()  # shared by the load threads

    def __call__(self) -> harness.Response:
        email = self.emails[next(self.numbers) % len(self.emails)]
        client = harness.Client(self.server.base_url, host=self.host)
        answer = self._post_form(client, "/accounts/login/", {"login": email,
                                                              "password": PASSWORD})  # fmt: skip
        if self.keys is not None:
            challenge = answer.headers.get("Location") or ""
            if answer.status != 302 or not challenge.startswith("/accounts/mfa/"):
                raise RuntimeError(f"sign-in answered {answer.status} {answer.headers}")
            code = f"{totp(self.keys[email], step=30, digits=6):06d}"
            answer = self._post_form(client, challenge, {"code": code, "method": "totp"})
        if answer.status != 302 or answer.headers.get("Location") != "/account/":
            raise RuntimeError(f"sign-in answered {answer.status} {answer.headers}")
        landed = client.get("/account/")
        if landed.status != 200 or email.encode() not in landed.body:
            raise RuntimeError(f"My account answered {landed.status}")
        return landed

    @staticmethod
    def _post_form(client: harness.Client, path: str, data: dict) -> harness.Response:
        form = client.get(path)
        token = CSRF_FIELD.search(form.body)
        if form.status != 200 or token is None:
            raise RuntimeError(f"{path} answered {form.status}")
        return client.post(path, data={"csrfmiddlewaretoken": token.group(1).decode(), **data})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_load_options(
        parser,
        who="people signing in",
        rounds_help="bare hash, password sign-ins then sign-ins with MFA, this many times; "
        "the verdict is on the median round",
    )
    parser.add_argument(
        "--slices", type=int, default=5,
        help="turns each kind of sign-in takes within a round, in rotation (1: one after another)",
    )  # fmt: skip
    arguments = parser.parse_args()

    os.environ["FEDERATION_ALLOW_LOOPBACK_IDPS"] = "true"  # the provider is on loopback
    node_port = harness.free_port()
    issuer = f"http://127.0.0.1:{node_port}"
    client_id, client_secret = "bench-client", "bench-client-secret-" + "x" * 24
    with harness.bench_database("login") as database_url:
        harness.django_setup(database_url)
        emails, keys = seed()
        fed_accounts = seed_federation(issuer, client_id, client_secret)
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        node = NodeProvider(node_port, client_id, client_secret, fed_accounts)
        with (
            harness.server(database_url, FEDERATION_ALLOW_LOOPBACK_IDPS="true") as server,
        ):
            harness.pin_to_core(harness.LOAD_CORE)
            floor = harness.measure_floor(server, host=HOST)
            page = harness.measure(
                "GET sign-in page",
                lambda: harness.Client(server.base_url, host=HOST).get("/accounts/login/"),
                seconds=arguments.seconds,
                server=server,
                concurrency=arguments.concurrency,
            )
            sign_in = SignIn(server, emails)
            sign_in_mfa = SignIn(server, list(keys), host=MFA_HOST, keys=keys)
            federated = FederatedSignIn(server, issuer, list(fed_accounts))
            rounds = []
            for number in range(1, arguments.rounds + 1):
                # The bare hash on the server's core (idle between rounds), just before the
                # sign-ins it is compared with: shared machines change speed over minutes.
                verifies_per_second, verify_ms = argon2_verify_rate(arguments.seconds / 2)
                harness.pin_to_core(harness.LOAD_CORE)
                # The three kinds take turns within the round (--slices), so that what the
                # machine does meanwhile weighs on each alike.
                measured = harness.measure_interleaved(
                    [
                        (f"{kind} round {number}: {steps}", call)
                        for kind, steps, call in (
                            ("sign-in", "GET form, POST password, GET /account/", sign_in),
                            ("MFA sign-in", "+ GET challenge, POST app code", sign_in_mfa),
                            (
                                "federated sign-in",
                                "button, IdP login+consent, callback, GET /account/",
                                federated,
                            ),
                        )
                    ],
                    seconds=arguments.seconds,
                    slices=arguments.slices,
                    server=server,
                    concurrency=arguments.concurrency,
                )  # fmt: skip
                rounds.append((*measured, verifies_per_second, verify_ms))
        node.stop()
        harness.print_table(
            "Password sign-in, with MFA required, and federated (one worker process)",
            [page, *(result for round_ in rounds for result in round_[:3])],
            floor=floor,
        )

    rows = []
    for password, mfa, fed, verifies_per_second, verify_ms in rounds:
        cpu_ms = password.server_cpu_ms or float("nan")
        mfa_cpu_ms = mfa.server_cpu_ms or float("nan")
        fed_cpu_ms = fed.server_cpu_ms or float("nan")
        rows.append(
            {
                "round": password.label.split(":")[0].removeprefix("sign-in "),
                "sign-ins/s": f"{password.per_second:.1f}",
                "with MFA/s": f"{mfa.per_second:.1f}",
                "server CPU ms/sign-in": f"{cpu_ms:.1f}",
                "with MFA": f"{mfa_cpu_ms:.1f}",
                "MFA adds (ms)": f"{mfa_cpu_ms - cpu_ms:.1f}",
                "federated/s": f"{fed.per_second:.1f}",
                "federated CPU ms": f"{fed_cpu_ms:.1f}",
                "federated ÷ password CPU": f"{fed_cpu_ms / cpu_ms:.2f}",
                "bare verify ms (same core)": f"{verify_ms:.1f}",
                "CPU ms around the hash": f"{cpu_ms - verify_ms:.1f}",
                "sign-ins/s ÷ verifies/s": f"{password.per_second / verifies_per_second:.2f}",
            }
        )
    print(harness.markdown_table(rows))
    index = harness.median_index([round_[0] for round_ in rounds])
    median, median_mfa, median_fed, verifies_per_second, verify_ms = rounds[index]
    errors = sum(password.errors + mfa.errors for password, mfa, _, _, _ in rounds)
    fed_errors = sum(round_[2].errors for round_ in rounds)
    fed_share = (median_fed.server_cpu_ms or float("nan")) / (median.server_cpu_ms or 1)
    verdict = "met" if median.per_second >= TARGET_PER_SECOND else "NOT met"
    around_ms = (median.server_cpu_ms or float("nan")) - verify_ms
    mfa_adds_ms = (median_mfa.server_cpu_ms or float("nan")) - (median.server_cpu_ms or 0)
    mfa_verdict = "met" if mfa_adds_ms <= MFA_TARGET_CPU_MS else "NOT met"
    print(
        f"\nMedian round: {median.per_second:.1f} sign-ins/s; around the hash "
        f"{around_ms:.1f} ms of CPU against {verify_ms:.1f} ms for the hash itself "
        f"(the rest {'costs less than' if around_ms < verify_ms else 'costs more than'} "
        f"the hash). Target {TARGET_PER_SECOND}/s per worker: {verdict} ({errors} errors).\n"
        f"With MFA required: {median_mfa.per_second:.1f} sign-ins/s, {mfa_adds_ms:.1f} ms more "
        f"CPU per sign-in. Target at most {MFA_TARGET_CPU_MS:.0f} ms: {mfa_verdict}.\n"
        f"Federated: {median_fed.per_second:.1f} sign-ins/s, "
        f"{median_fed.server_cpu_ms or float('nan'):.1f} ms of our CPU per sign-in, "
        f"{fed_share:.2f} of a password sign-in's. Target at most 0.5: "
        f"{'met' if fed_share <= 0.5 else 'NOT met'} ({fed_errors} errors).\n"
    )


if __name__ == "__main__":
    main()
