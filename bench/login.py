"""Password sign-in benchmark: sign-ins per second of one server process (one gunicorn
worker pinned to one core) through the real hosted page (GET the form, POST the credentials,
follow the redirect to My account), next to the bare argon2id verify rate of this machine
measured in the same run on the same core.

    .venv/bin/python bench/login.py                   # 5 s per measurement
    .venv/bin/python bench/login.py --seconds 2       # a quicker look
    .venv/bin/python bench/login.py --concurrency 1   # one person at a time: latency

Each round also measures a password + authenticator app sign-in (GET the form, POST the
password, GET the code page, POST a TOTP code, GET My account) of people who have an
authenticator app, next to the password-only figure: the goal is that the second factor
adds at most 3 ms of server CPU, apart from the two extra pages it shows.

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
MFA_TARGET_MS = 3.0
# The authenticator app secret of every benchmark user with one (hex, 20 bytes).
TOTP_SECRET = "3132333435363738393031323334353637383930"
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def seed() -> tuple[list[str], list[str]]:
    """Users with a password only, and as many with an authenticator app too (a code is used
    once, so each is signed in at most once per 30-second step: there are enough of them)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django_tenants.utils import tenant_context

    from mfa.models import TOTPDevice
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Acme Bench", slug="acme", admin_email="admin@acme.example", admin_password=PASSWORD
    )
    emails = [f"user{number:04}@acme.example" for number in range(USERS)]
    mfa_emails = [f"mfa{number:04}@acme.example" for number in range(USERS)]
    with tenant_context(tenant):
        User = get_user_model()
        encoded = make_password(PASSWORD)
        User.objects.bulk_create(User(email=email, password=encoded) for email in emails)
        users = User.objects.bulk_create(
            User(email=email, password=encoded) for email in mfa_emails
        )
        TOTPDevice.objects.bulk_create(
            TOTPDevice(user=user, name="app", secret=TOTP_SECRET, confirmed=True) for user in users
        )
    return emails, mfa_emails


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


class SignInWithApp(SignIn):
    """One whole sign-in with the password and a code from the authenticator app."""

    def __call__(self) -> harness.Response:
        from binascii import unhexlify

        from django_otp.oath import totp

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
        challenge_url = answer.headers.get("Location", "")
        if answer.status != 302 or not challenge_url.startswith("/accounts/mfa/"):
            raise RuntimeError(f"sign-in answered {answer.status} {answer.headers}")
        challenge = client.get(challenge_url)
        token = CSRF_FIELD.search(challenge.body)
        if challenge.status != 200 or token is None:
            raise RuntimeError(f"code page answered {challenge.status}")
        code = f"{totp(unhexlify(TOTP_SECRET), step=30, digits=6):06d}"
        verified = client.post(
            challenge_url,
            data={"csrfmiddlewaretoken": token.group(1).decode(), "code": code, "method": "totp"},
        )
        if verified.status != 302 or verified.headers.get("Location") != "/account/":
            raise RuntimeError(f"code answered {verified.status} {verified.headers}")
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
        emails, mfa_emails = seed()
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
            sign_in_with_app = SignInWithApp(server, mfa_emails)
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
                with_app = harness.measure(
                    f"sign-in round {number} + app: GET form, POST password, GET and POST "
                    "code, GET /account/",
                    sign_in_with_app,
                    seconds=arguments.seconds,
                    server=server,
                    concurrency=arguments.concurrency,
                )
                rounds.append((result, verifies_per_second, verify_ms, with_app))
        harness.print_table(
            "Password sign-in (one worker process)",
            [page, *(r for result, _, _, with_app in rounds for r in (result, with_app))],
            floor=floor,
        )

    rows = []
    for result, verifies_per_second, verify_ms, with_app in rounds:
        cpu_ms = result.server_cpu_ms or float("nan")
        app_cpu_ms = with_app.server_cpu_ms or float("nan")
        rows.append(
            {
                "round": result.label.split(":")[0].removeprefix("sign-in "),
                "sign-ins/s": f"{result.per_second:.1f}",
                "server CPU ms/sign-in": f"{cpu_ms:.1f}",
                "bare verify ms (same core)": f"{verify_ms:.1f}",
                "CPU ms around the hash": f"{cpu_ms - verify_ms:.1f}",
                "sign-ins/s ÷ verifies/s": f"{result.per_second / verifies_per_second:.2f}",
                "with app: sign-ins/s": f"{with_app.per_second:.1f}",
                "with app: CPU ms/sign-in": f"{app_cpu_ms:.1f}",
                "app adds CPU ms": f"{app_cpu_ms - cpu_ms:.1f}",
            }
        )
    print(harness.markdown_table(rows))
    index = harness.median_index([result for result, _, _, _ in rounds])
    median, verifies_per_second, verify_ms, median_app = rounds[index]
    errors = sum(result.errors + app.errors for result, _, _, app in rounds)
    verdict = "met" if median.per_second >= TARGET_PER_SECOND else "NOT met"
    around_ms = (median.server_cpu_ms or float("nan")) - verify_ms
    added_ms = (median_app.server_cpu_ms or float("nan")) - (median.server_cpu_ms or float("nan"))
    print(
        f"\nMedian round: {median.per_second:.1f} sign-ins/s; around the hash "
        f"{around_ms:.1f} ms of CPU against {verify_ms:.1f} ms for the hash itself "
        f"(the rest {'costs less than' if around_ms < verify_ms else 'costs more than'} "
        f"the hash). Target {TARGET_PER_SECOND}/s per worker: {verdict} ({errors} errors).\n"
        f"With an authenticator app: {median_app.per_second:.1f} sign-ins/s, "
        f"{added_ms:.1f} ms more server CPU per sign-in (two more pages; goal "
        f"<= {MFA_TARGET_MS:.0f} ms for the second factor).\n"
    )


if __name__ == "__main__":
    main()
