"""Smart lockout: counted in Redis per tenant, per account and per IP address."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from audit.models import SignInEvent
from tests.accounts.hashers import CountingArgon2PasswordHasher
from tests.helpers import (
    LOCKED,
    PASSWORD,
    events,
    eventually,
    fail,
    make_user,
    sign_in,
    tenant_client,
    unique_email,
)

pytestmark = [pytest.mark.server]


def test_ten_failures_lock_the_account_even_with_the_right_password(acme):
    user = make_user(acme)
    nine = fail(tenant_client(acme), user.email, 9)
    assert LOCKED not in nine.content.decode()
    tenth = fail(tenant_client(acme), user.email, 1, prefix="tenth")
    assert LOCKED in tenth.content.decode()
    assert "try again in 60 seconds" in tenth.content.decode()
    # From another address and with the right password: still locked, no session.
    client = tenant_client(acme)
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "sessionid" not in client.cookies or client.get("/account/").status_code == 302
    assert ("locked_out", "locked_out") in events(acme, user=user)


def test_every_attempt_costs_one_hash_and_a_locked_one_none(acme, settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashers.CountingArgon2PasswordHasher"]
    user = make_user(acme)

    def hashes_for(email, password):
        before = CountingArgon2PasswordHasher.hashes
        sign_in(tenant_client(acme), email, password)
        return CountingArgon2PasswordHasher.hashes - before

    assert hashes_for(user.email, PASSWORD) == 1
    assert hashes_for(user.email, "a wrong passphrase") == 1
    assert hashes_for(unique_email("unknown"), "a wrong passphrase") == 1
    fail(tenant_client(acme), user.email, 10)
    assert hashes_for(user.email, PASSWORD) == 0


def test_repeating_the_same_wrong_password_does_not_count_again(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    for _ in range(15):
        response = sign_in(client, user.email, "the same old guess")
    assert LOCKED not in response.content.decode()
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    reasons = [reason for _, reason in events(acme, email_typed=user.email)]
    assert reasons.count("wrong_password") == 1
    assert reasons.count("repeated_wrong_password") == 14


def test_only_the_last_three_bad_passwords_are_remembered(acme):
    user = make_user(acme)
    client = tenant_client(acme)
    # a, b, c, d pushes "a" out of memory: typing "a" again counts.
    for guess in ("guess a", "guess b", "guess c", "guess d", "guess a", "guess d"):
        sign_in(client, user.email, guess)
    reasons = [reason for _, reason in reversed(events(acme, email_typed=user.email))]
    assert reasons == ["wrong_password"] * 5 + ["repeated_wrong_password"]


def test_the_lock_lifts_after_its_time_and_grows_after_the_next_failure(acme, settings):
    settings.LOCKOUT_FIRST_LOCK_SECONDS = 1
    user = make_user(acme)
    response = fail(tenant_client(acme), user.email, 10)
    assert "try again in 1 second" in response.content.decode()
    response = eventually(
        lambda: (
            (answer := sign_in(tenant_client(acme), user.email, "after the lock"))
            and "try again in 1 second" not in answer.content.decode()
            and answer
        ),
        timeout=5,
        interval=0.1,
    )
    # Once the first lock lifted, that eleventh failure locked again, for twice as long.
    assert "try again in 2 seconds" in response.content.decode()
    time.sleep(2.05)
    assert sign_in(tenant_client(acme), user.email, PASSWORD).status_code == 302


def test_unknown_emails_lock_exactly_like_known_ones(acme):
    known = make_user(acme)
    unknown_email = unique_email("ghost")
    known_answer = fail(tenant_client(acme), known.email, 10).content.decode()
    unknown_answer = fail(tenant_client(acme), unknown_email, 10).content.decode()
    assert LOCKED in known_answer and LOCKED in unknown_answer
    known_text = known_answer.replace(known.email, "EMAIL")
    unknown_text = unknown_answer.replace(unknown_email, "EMAIL")
    strip = lambda text: text.split('name="csrfmiddlewaretoken"')[0]  # noqa: E731
    assert strip(known_text) == strip(unknown_text)


def test_a_lockout_at_one_tenant_does_not_touch_the_same_email_at_another(acme, globex):
    email = unique_email("shared")
    make_user(acme, email=email)
    make_user(globex, email=email)
    assert LOCKED in fail(tenant_client(acme), email, 10).content.decode()
    assert sign_in(tenant_client(globex), email, PASSWORD).status_code == 302


def test_many_failures_from_one_address_lock_that_address(acme, settings):
    settings.LOCKOUT_IP_THRESHOLD = 5
    address = "192.0.2.20"
    attacker = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
    for number in range(5):
        response = sign_in(attacker, unique_email("spray"), f"spray {number}")
    assert LOCKED in response.content.decode()
    victim = make_user(acme)
    assert LOCKED in sign_in(attacker, victim.email, PASSWORD).content.decode()
    # The account itself is not locked for everyone else.
    assert sign_in(tenant_client(acme), victim.email, PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_the_count_again(acme):
    user = make_user(acme)
    fail(tenant_client(acme), user.email, 9)
    assert sign_in(tenant_client(acme), user.email, PASSWORD).status_code == 302
    response = fail(tenant_client(acme), user.email, 9, prefix="second round")
    assert LOCKED not in response.content.decode()


def test_locked_attempts_are_in_the_sign_in_log(acme):
    user = make_user(acme)
    fail(tenant_client(acme), user.email, 10)
    sign_in(tenant_client(acme), user.email, PASSWORD)
    with tenant_context(acme.tenant):
        results = list(
            SignInEvent.objects.filter(email_typed=user.email).values_list("result", flat=True)
        )
    assert results.count("failure") == 10 and results.count("locked_out") == 1


def test_failures_sent_at_once_are_all_counted(acme):
    """Parallel guessing must not slip past the threshold through lost updates."""
    from concurrent.futures import ThreadPoolExecutor

    from accounts.sign_in.lockout import lockout_failure_count, lockout_register_failure

    email = unique_email()

    def register(number: int) -> None:
        with tenant_context(acme.tenant):
            lockout_register_failure(email=email, ip=None, password=f"parallel guess {number}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register, range(40)))
    with tenant_context(acme.tenant):
        assert lockout_failure_count(email=email) == 40


def test_a_parallel_burst_of_guesses_never_gets_more_hashes_than_the_threshold(acme, settings):
    """Forty guesses sent at once at one account: at most ten reach the hasher, the rest are
    refused unhashed, and afterwards the account is locked."""
    from concurrent.futures import ThreadPoolExecutor

    settings.PASSWORD_HASHERS = ["tests.accounts.hashers.CountingArgon2PasswordHasher"]
    email = unique_email("burst")
    before = CountingArgon2PasswordHasher.hashes

    def guess(number: int) -> str:
        response = sign_in(tenant_client(acme), email, f"parallel guess number {number}")
        return response.content.decode()

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(guess, range(40)))
    assert CountingArgon2PasswordHasher.hashes - before <= 10
    assert sum(LOCKED in page for page in pages) >= 30
    assert LOCKED in sign_in(tenant_client(acme), email, PASSWORD).content.decode()


def test_lockout_works_on_the_in_process_redis_of_make_run_without_redis(acme, settings):
    """`make run` without Redis keeps the cache (lockouts) on fakeredis in process memory
    (ciam/settings.py): the same code path, the same rules."""
    from fakeredis import FakeRedisConnection

    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://lockout-test/0",
            "OPTIONS": {"CONNECTION_POOL_KWARGS": {"connection_class": FakeRedisConnection}},
        }
    }
    from django.core.cache import cache

    assert cache.client.get_client().connection_pool.connection_class is FakeRedisConnection
    user = make_user(acme)
    client = tenant_client(acme)
    assert LOCKED in fail(client, user.email, 10).content.decode()
    other = make_user(acme)
    assert sign_in(tenant_client(acme), other.email, PASSWORD)["Location"] == "/account/"


def request_code(client, email):
    return client.post("/accounts/login/code/", {"email": email})


def test_wrong_email_codes_count_toward_the_lockout_of_password_sign_in(acme):
    """Asking for a new code after allauth's five tries per code does not start the count
    again: ten wrong codes lock the account, for passwords too."""
    from tests.helpers import emails_to

    user = make_user(acme)
    guesser = tenant_client(acme)
    for _ in range(2):
        assert request_code(guesser, user.email)["Location"] == "/accounts/login/code/confirm/"
        real = re.search(r"\b(\d{6})\b", emails_to(acme, user.email)[-1]).group(1)
        guesses = [f"{(int(real) + step) % 1000000:06d}" for step in range(1, 6)]
        for guess in guesses:
            guesser.post("/accounts/login/code/confirm/", {"code": guess})
    response = sign_in(tenant_client(acme), user.email, PASSWORD)
    assert response.status_code == 200 and LOCKED in response.content.decode()
    # No new code is sent while the lock lasts.
    sent = len(emails_to(acme, user.email))
    refused = request_code(tenant_client(acme), user.email)
    assert refused.status_code == 200 and LOCKED in refused.content.decode()
    assert len(emails_to(acme, user.email)) == sent
    assert events(acme, email_typed=user.email).count(("failure", "wrong_code")) == 10


def test_a_right_code_is_refused_while_the_account_is_locked(acme):
    from tests.helpers import emails_to

    user = make_user(acme)
    client = tenant_client(acme)
    request_code(client, user.email)
    code = re.search(r"\b(\d{6})\b", emails_to(acme, user.email)[-1]).group(1)
    fail(tenant_client(acme), user.email, 10)
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 200 and LOCKED in response.content.decode()
    assert client.get("/account/").status_code == 302


def test_wrong_codes_from_one_address_lock_that_address(acme, settings):
    from tests.helpers import emails_to

    settings.LOCKOUT_IP_THRESHOLD = 5
    address = "192.0.2.20"
    for _ in range(5):
        attacker = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
        email = make_user(acme).email
        request_code(attacker, email)
        real = re.search(r"\b(\d{6})\b", emails_to(acme, email)[-1]).group(1)
        attacker.post("/accounts/login/code/confirm/", {"code": f"{(int(real) + 1) % 1000000:06d}"})
    victim = make_user(acme)
    attacker = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
    assert LOCKED in sign_in(attacker, victim.email, PASSWORD).content.decode()
    assert sign_in(tenant_client(acme), victim.email, PASSWORD)["Location"] == "/account/"


def test_wrong_current_passwords_on_password_change_count_toward_the_lockout(acme, settings):
    # allauth's own limit of password changes a minute would answer 429 first.
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "change_password": ""}
    user = make_user(acme)
    client = tenant_client(acme)
    assert sign_in(client, user.email, PASSWORD)["Location"] == "/account/"
    new = "a brand new passphrase for today"
    for number in range(10):
        response = client.post(
            "/accounts/password/change/",
            {"oldpassword": f"guess number {number}", "password1": new, "password2": new},
        )
        assert response.status_code == 200
    assert LOCKED in response.content.decode()
    # The right current password is refused too while the lock lasts, and so is signing in
    # again. (This browser signed in to the account: its failures are counted apart from
    # strangers', test_a_familiar_browser_is_locked_by_its_own_failures_and_by_its_address.)
    right = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert right.status_code == 200 and LOCKED in right.content.decode()
    client.post("/accounts/logout/")
    assert LOCKED in sign_in(client, user.email, PASSWORD).content.decode()


def test_a_familiar_browser_signs_in_through_a_lock_caused_elsewhere(acme):
    """Lockout as a weapon: ten wrong passwords from elsewhere lock the account for strangers,
    not for the browser its owner signed in with before."""
    user = make_user(acme)
    owner = tenant_client(acme)
    assert sign_in(owner, user.email, PASSWORD)["Location"] == "/account/"
    owner.post("/accounts/logout/")
    assert LOCKED in fail(tenant_client(acme), user.email, 10).content.decode()

    assert LOCKED in sign_in(tenant_client(acme), user.email, PASSWORD).content.decode()
    assert sign_in(owner, user.email, PASSWORD)["Location"] == "/account/"
    # The cookie of another account does not open this one.
    other = make_user(acme)
    stranger = tenant_client(acme)
    sign_in(stranger, other.email, PASSWORD)
    stranger.post("/accounts/logout/")
    assert LOCKED in sign_in(stranger, user.email, PASSWORD).content.decode()


def test_a_familiar_browser_is_locked_by_its_own_failures_and_by_its_address(acme, settings):
    user = make_user(acme)
    owner = tenant_client(acme)
    sign_in(owner, user.email, PASSWORD)
    owner.post("/accounts/logout/")
    # Its own wrong guesses lock it.
    assert LOCKED in fail(owner, user.email, 10, prefix="familiar guess").content.decode()
    assert LOCKED in sign_in(owner, user.email, PASSWORD).content.decode()

    # And a lock of its IP address applies to it as to anyone.
    settings.LOCKOUT_IP_THRESHOLD = 5
    second = make_user(acme)
    address = "192.0.2.20"
    browser = Client(HTTP_HOST=acme.host, REMOTE_ADDR=address)
    sign_in(browser, second.email, PASSWORD)
    browser.post("/accounts/logout/")
    for number in range(5):
        sign_in(browser, unique_email("spray"), f"spray {number}")
    assert LOCKED in sign_in(browser, second.email, PASSWORD).content.decode()
