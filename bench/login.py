"""Password sign-in benchmark: sign-ins per second of one server process (one gunicorn
worker pinned to one core) through the real hosted page (GET the form, POST the credentials,
follow the redirect to My account), next to the bare argon2id verify rate of this machine
measured in the same run on the same core; and the same sign-in with MFA required (a tenant
whose policy requires it, each person with an authenticator app): after the password, GET
the challenge and POST the app's code, computed as the app does.

    .venv/bin/python bench/login.py                   # 5 s per measurement
    .venv/bin/python bench/login.py --seconds 2       # a quicker look
    .venv/bin/python bench/login.py --concurrency 1   # one person at a time: latency

Target: at least 30 sign-ins per second per worker process, that is everything around the
password hash costs less than the hash itself; MFA adds at most 3 ms of server CPU to a
sign-in. Each sign-in hashes the password exactly once.
By default 4 people sign in at once (the worker's 4 threads), as in bench/tokens.py, so the
worker is never idle between requests: the rate is what one process can serve.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import time

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
    arguments = parser.parse_args()

    with harness.bench_database("login") as database_url:
        harness.django_setup(database_url)
        emails, keys = seed()
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        with harness.server(database_url) as server:
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
            rounds = []
            for number in range(1, arguments.rounds + 1):
                # The bare hash on the server's core (idle between rounds), just before the
                # sign-ins it is compared with: shared machines change speed over minutes.
                verifies_per_second, verify_ms = argon2_verify_rate(arguments.seconds / 2)
                harness.pin_to_core(harness.LOAD_CORE)
                measured = [
                    harness.measure(
                        f"{kind} round {number}: {steps}",
                        call,
                        seconds=arguments.seconds,
                        server=server,
                        concurrency=arguments.concurrency,
                    )
                    for kind, steps, call in (
                        ("sign-in", "GET form, POST password, GET /account/", sign_in),
                        ("MFA sign-in", "+ GET challenge, POST app code", sign_in_mfa),
                    )
                ]
                rounds.append((*measured, verifies_per_second, verify_ms))
        harness.print_table(
            "Password sign-in, and with MFA required (one worker process)",
            [page, *(result for password, mfa, _, _ in rounds for result in (password, mfa))],
            floor=floor,
        )

    rows = []
    for password, mfa, verifies_per_second, verify_ms in rounds:
        cpu_ms = password.server_cpu_ms or float("nan")
        mfa_cpu_ms = mfa.server_cpu_ms or float("nan")
        rows.append(
            {
                "round": password.label.split(":")[0].removeprefix("sign-in "),
                "sign-ins/s": f"{password.per_second:.1f}",
                "with MFA/s": f"{mfa.per_second:.1f}",
                "server CPU ms/sign-in": f"{cpu_ms:.1f}",
                "with MFA": f"{mfa_cpu_ms:.1f}",
                "MFA adds (ms)": f"{mfa_cpu_ms - cpu_ms:.1f}",
                "bare verify ms (same core)": f"{verify_ms:.1f}",
                "CPU ms around the hash": f"{cpu_ms - verify_ms:.1f}",
                "sign-ins/s ÷ verifies/s": f"{password.per_second / verifies_per_second:.2f}",
            }
        )
    print(harness.markdown_table(rows))
    index = harness.median_index([password for password, _, _, _ in rounds])
    median, median_mfa, verifies_per_second, verify_ms = rounds[index]
    errors = sum(password.errors + mfa.errors for password, mfa, _, _ in rounds)
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
    )


if __name__ == "__main__":
    main()
