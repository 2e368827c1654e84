"""Password sign-in benchmark: sign-ins per second of one server process (one gunicorn
worker pinned to one core) through the real hosted page (GET the form, POST the credentials,
follow the redirect to My account), next to the bare argon2id verify rate of this machine
measured in the same run on the same core.

    .venv/bin/python bench/login.py                   # 5 s per measurement
    .venv/bin/python bench/login.py --seconds 2       # a quicker look
    .venv/bin/python bench/login.py --concurrency 1   # one person at a time: latency

Target: at least 30 sign-ins per second per worker process, that is everything around the
password hash costs less than the hash itself. Each sign-in hashes the password exactly once.
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

HOST = "acme.localhost"
PASSWORD = "a long and unusual passphrase"
# Each sign-in makes a session and allauth looks at every session of the user at sign-in:
# many users keep that to the few sessions a real person has.
USERS = 2000
TARGET_PER_SECOND = 30
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def seed() -> list[str]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import tenant_context

    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    emails = [f"user{number:04}@acme.example" for number in range(USERS)]
    with tenant_context(tenant):
        User = get_user_model()
        encoded = make_password(PASSWORD)
        User.objects.bulk_create(User(email=email, password=encoded) for email in emails)
    return emails


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
    """One whole sign-in per call, each with a fresh browser-like cookie jar."""

    def __init__(self, server: harness.Server, emails: list[str]):
        self.server = server
        self.emails = emails
        self.numbers = itertools.count()  # shared by the load threads

    def __call__(self) -> harness.Response:
        email = self.emails[next(self.numbers) % len(self.emails)]
        client = harness.Client(self.server.base_url, host=HOST)
        form = client.get("/accounts/login/")
        token = CSRF_FIELD.search(form.body)
        if form.status != 200 or token is None:
            raise RuntimeError(f"sign-in page answered {form.status}")
        answer = client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token.group(1).decode(),
                "login": email,
                "password": PASSWORD,
            },
        )
        if answer.status != 302 or answer.headers.get("Location") != "/account/":
            raise RuntimeError(f"sign-in answered {answer.status} {answer.headers}")
        landed = client.get("/account/")
        if landed.status != 200 or email.encode() not in landed.body:
            raise RuntimeError(f"My account answered {landed.status}")
        return landed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_load_options(
        parser,
        who="people signing in",
        rounds_help="bare hash then sign-ins, this many times; the verdict is on the median round",
    )
    arguments = parser.parse_args()

    with harness.bench_database("login") as database_url:
        harness.django_setup(database_url)
        emails = seed()
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
            rounds = []
            for number in range(1, arguments.rounds + 1):
                # The bare hash on the server's core (idle between rounds), just before the
                # sign-ins it is compared with: shared machines change speed over minutes.
                verifies_per_second, verify_ms = argon2_verify_rate(arguments.seconds / 2)
                harness.pin_to_core(harness.LOAD_CORE)
                result = harness.measure(
                    f"sign-in round {number}: GET form, POST password, GET /account/",
                    sign_in,
                    seconds=arguments.seconds,
                    server=server,
                    concurrency=arguments.concurrency,
                )
                rounds.append((result, verifies_per_second, verify_ms))
        harness.print_table(
            "Password sign-in (one worker process)",
            [page, *(result for result, _, _ in rounds)],
            floor=floor,
        )

    rows = []
    for result, verifies_per_second, verify_ms in rounds:
        cpu_ms = result.server_cpu_ms or float("nan")
        rows.append(
            {
                "round": result.label.split(":")[0].removeprefix("sign-in "),
                "sign-ins/s": f"{result.per_second:.1f}",
                "server CPU ms/sign-in": f"{cpu_ms:.1f}",
                "bare verify ms (same core)": f"{verify_ms:.1f}",
                "CPU ms around the hash": f"{cpu_ms - verify_ms:.1f}",
                "sign-ins/s ÷ verifies/s": f"{result.per_second / verifies_per_second:.2f}",
            }
        )
    print(harness.markdown_table(rows))
    median, verifies_per_second, verify_ms = rounds[
        harness.median_index([result for result, _, _ in rounds])
    ]
    errors = sum(result.errors for result, _, _ in rounds)
    verdict = "met" if median.per_second >= TARGET_PER_SECOND else "NOT met"
    around_ms = (median.server_cpu_ms or float("nan")) - verify_ms
    print(
        f"\nMedian round: {median.per_second:.1f} sign-ins/s; around the hash "
        f"{around_ms:.1f} ms of CPU against {verify_ms:.1f} ms for the hash itself "
        f"(the rest {'costs less than' if around_ms < verify_ms else 'costs more than'} "
        f"the hash). Target {TARGET_PER_SECOND}/s per worker: {verdict} ({errors} errors).\n"
    )


if __name__ == "__main__":
    main()
