"""Smart lockout, counted in Redis through the tenant-scoped Django cache.

Per account (the email typed, whether or not such an account exists, so that locking says
nothing about existence): after LOCKOUT_ACCOUNT_THRESHOLD failures the account is locked for
LOCKOUT_FIRST_LOCK_SECONDS, and each further failure after a lock doubles the next lock. The
last three distinct bad passwords are remembered as keyed hashes: typing the same wrong password
again does not count. Per IP address the same rule applies with a higher threshold. A successful
sign-in clears the account's count (not the IP's); a password reset or an admin unlock clears the
account entirely.

While Redis is unreachable (ciam/cache.py) the counts live in each server process's memory, so
an attacker spreading guesses over P processes gets P times the threshold: the thresholds are
then LOCKOUT_OUTAGE_ACCOUNT_THRESHOLD and LOCKOUT_OUTAGE_IP_THRESHOLD instead, smaller, and
sign-in keeps working with the lockout enforced.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext

from ciam.cache import UNREACHABLE
from ciam.crypto import checksum, keyed_hash

REMEMBERED_BAD_PASSWORDS = 3
MAX_LOCK_SECONDS = 24 * 3600
# An account's failures are forgotten after a day without any, an IP address's after a quiet
# quarter of an hour (many people may share one address behind a NAT).
ACCOUNT_STATE_SECONDS = 24 * 3600
IP_STATE_SECONDS = 15 * 60
# A reservation outlives a password check by far; it expires should a process die mid-check.
IN_FLIGHT_SECONDS = 30
# What a guess refused for too many parallel checks is told to wait.
BUSY_RETRY_SECONDS = 5


def _redis_outage() -> bool:
    """Redis unreachable: counts are this process's alone (ciam/cache.py)."""
    return getattr(cache, "in_outage", lambda: False)()


def _account_threshold() -> int:
    if _redis_outage():
        return getattr(settings, "LOCKOUT_OUTAGE_ACCOUNT_THRESHOLD", 3)
    return getattr(settings, "LOCKOUT_ACCOUNT_THRESHOLD", 10)


def _ip_threshold() -> int:
    if _redis_outage():
        return getattr(settings, "LOCKOUT_OUTAGE_IP_THRESHOLD", 25)
    return getattr(settings, "LOCKOUT_IP_THRESHOLD", 100)


def _first_lock_seconds() -> int:
    return getattr(settings, "LOCKOUT_FIRST_LOCK_SECONDS", 60)


@dataclass(frozen=True)
class Lock:
    until: float

    @property
    def seconds_left(self) -> int:
        return max(1, int(self.until - time.time() + 0.999))

    @property
    def wait_text(self) -> str:
        """How long is left, as a person reads it ("45 seconds", "3 minutes")."""
        seconds = self.seconds_left
        if seconds < 120:
            return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
        minutes = (seconds + 59) // 60
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _account_key(email: str) -> str:
    digest = checksum(email.strip().lower())[:40]
    return f"lockout:account:{digest}"


def _ip_key(ip: str | None) -> str | None:
    return f"lockout:ip:{ip}" if ip else None


def _bad_password_fingerprint(email: str, password: str) -> str:
    # A keyed hash: the password itself is never stored, and without SECRET_KEY the
    # fingerprints cannot be tested against guesses.
    return keyed_hash(
        f"{email.strip().lower()}\0{password}", purpose="accounts.lockout.bad-password", length=32
    )


def _lock_from(state: dict | None) -> Lock | None:
    if state and state.get("until", 0) > time.time():
        return Lock(until=state["until"])
    return None


def lockout_check(*, email: str, ip: str | None) -> Lock | None:
    """The lock in force for this email or this IP address, if any (the later of the two)."""
    keys = [_account_key(email)]
    ip_key = _ip_key(ip)
    if ip_key:
        keys.append(ip_key)
    states = cache.get_many(keys)
    locks = [lock for lock in (_lock_from(states.get(key)) for key in keys) if lock]
    return max(locks, key=lambda lock: lock.until) if locks else None


def _count_failure(state: dict, threshold: int) -> None:
    state["failures"] = state.get("failures", 0) + 1
    beyond = state["failures"] - threshold
    if beyond >= 0:
        seconds = min(_first_lock_seconds() * 2**beyond, MAX_LOCK_SECONDS)
        state["until"] = time.time() + seconds


@contextlib.contextmanager
def _exclusive(key: str):
    """Serialise read-modify-write of one lockout state across processes. Without it, many
    failures sent at once would all read the same count and each write count + 1, letting a
    parallel guesser past the threshold."""
    with cache.lock(f"{key}:lock", timeout=5, blocking_timeout=5):
        yield


def lockout_register_failure(*, email: str, ip: str | None, password: str) -> bool:
    """Count one failed password for this email and IP. Returns False when the same wrong
    password was among the last three and therefore did not count."""
    account_key = _account_key(email)
    fingerprint = _bad_password_fingerprint(email, password)
    with _exclusive(account_key):
        state = cache.get(account_key) or {}
        recent = state.get("recent", [])
        if fingerprint in recent:
            return False
        state["recent"] = [*recent, fingerprint][-REMEMBERED_BAD_PASSWORDS:]
        _count_failure(state, _account_threshold())
        cache.set(account_key, state, ACCOUNT_STATE_SECONDS)
    ip_key = _ip_key(ip)
    if ip_key:
        with _exclusive(ip_key):
            ip_state = cache.get(ip_key) or {}
            _count_failure(ip_state, _ip_threshold())
            cache.set(ip_key, ip_state, IP_STATE_SECONDS)
    return True


def _in_flight_key(email: str) -> str:
    return _account_key(email) + ":in-flight"


def _in_flight_release(email: str) -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing left to release
        cache.decr(_in_flight_key(email))


def _redis():
    """django-redis's client of the cache: Redis, or with `make run` without Redis the same
    client on an in-process fake Redis (settings.CACHES), so that this is the only code path."""
    return cache.client


@dataclass(frozen=True)
class Attempt:
    """What lockout_attempt_begin found: a lock in force (then nothing is reserved), or
    whether a password check was reserved (False: too many checks of this email running)."""

    lock: Lock | None
    reserved: bool


def lockout_attempt_refusal(attempt: Attempt, *, email: str) -> Lock | None:
    """What an attempt lockout_attempt_begin did not reserve is refused with: the lock in
    force or, while too many checks of `email` run, the account's lock if it has one, else a
    short wait (BUSY_RETRY_SECONDS). None for a reserved attempt."""
    if attempt.reserved or attempt.lock is not None:
        return attempt.lock
    return lockout_check(email=email, ip=None) or Lock(until=time.time() + BUSY_RETRY_SECONDS)


def lockout_attempt_begin(*, email: str, ip: str | None) -> Attempt:
    """Before a password check, in one Redis round trip: the lock in force for this email or
    IP address (lockout_check) and, when there is none, a reservation of the check. Pair a
    reserved attempt with lockout_attempt_finish().

    The reservation is refused when the failures already counted plus the checks still
    running would pass the threshold (one at a time once past it). Without it, a burst of
    parallel guesses sent while the count is below the threshold would all reach the hasher
    before the lock lands."""
    if getattr(cache, "skip_redis", lambda: False)():
        return _attempt_begin_in_memory(email=email, ip=ip)
    try:
        return _attempt_begin_on_redis(email=email, ip=ip)
    except UNREACHABLE as error:
        cache.outage_begin(error)
        return _attempt_begin_in_memory(email=email, ip=ip)


def _attempt_begin_on_redis(*, email: str, ip: str | None) -> Attempt:
    redis = _redis()
    account_key, in_flight_key = (
        cache.make_key(_account_key(email)),
        cache.make_key(_in_flight_key(email)),
    )
    ip_key = _ip_key(ip)
    pipeline = redis.get_client(write=True).pipeline(transaction=False)
    pipeline.mget([account_key, cache.make_key(ip_key)] if ip_key else [account_key])
    pipeline.set(in_flight_key, 0, nx=True, ex=IN_FLIGHT_SECONDS)
    pipeline.incr(in_flight_key)
    raw_states, _, in_flight = pipeline.execute()
    states = [redis.decode(raw) if raw is not None else None for raw in raw_states]
    locks = [lock for lock in map(_lock_from, states) if lock]
    if locks:
        _in_flight_release(email)
        return Attempt(lock=max(locks, key=lambda lock: lock.until), reserved=False)
    return _reservation(email, states[0], in_flight)


def _reservation(email: str, account_state: dict | None, in_flight: int) -> Attempt:
    failures = (account_state or {}).get("failures", 0)
    # Below the threshold, failures plus running checks may reach it; past it (a lock that
    # has lifted), one check at a time, each failure locking again for longer.
    if in_flight > max(1, _account_threshold() - failures):
        _in_flight_release(email)
        return Attempt(lock=None, reserved=False)
    return Attempt(lock=None, reserved=True)


def _attempt_begin_in_memory(*, email: str, ip: str | None) -> Attempt:
    """lockout_attempt_begin through the cache's API, which answers from this process's
    memory while Redis is out."""
    lock = lockout_check(email=email, ip=ip)
    if lock:
        return Attempt(lock=lock, reserved=False)
    cache.add(_in_flight_key(email), 0, IN_FLIGHT_SECONDS)
    try:
        in_flight = cache.incr(_in_flight_key(email))
    except ValueError:  # expired between the two calls
        cache.set(_in_flight_key(email), 1, IN_FLIGHT_SECONDS)
        in_flight = 1
    return _reservation(email, cache.get(_account_key(email)), in_flight)


def lockout_attempt_finish(*, email: str, succeeded: bool) -> None:
    """Release a reservation of lockout_attempt_begin; after a correct password, also start
    the account's failure count again (the IP's is not, so that an attacker cannot reset it by
    signing in to an account of their own now and then). One round trip."""
    if not getattr(cache, "skip_redis", lambda: False)():
        try:
            return _attempt_finish_on_redis(email=email, succeeded=succeeded)
        except UNREACHABLE as error:
            cache.outage_begin(error)
    if succeeded:
        cache.delete(_account_key(email))
    _in_flight_release(email)


def _attempt_finish_on_redis(*, email: str, succeeded: bool) -> None:
    pipeline = _redis().get_client(write=True).pipeline(transaction=False)
    if succeeded:
        pipeline.delete(cache.make_key(_account_key(email)))
    in_flight_key = cache.make_key(_in_flight_key(email))
    # Only while the reservation exists: an expired one is not pushed below zero.
    pipeline.eval(
        "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end",
        1,
        in_flight_key,
    )
    pipeline.execute()


def familiar_subject(email: str) -> str:
    """The name under which the attempts at `email` from its familiar browsers are counted
    (accounts.sign_in.familiar): apart from everyone else's."""
    return f"{email.strip().lower()}\0familiar"


def lockout_clear(*, email: str) -> None:
    """Lift the account's lock and forget its failures (password reset, admin unlock), those
    of its familiar browsers included."""
    cache.delete_many([_account_key(email), _account_key(familiar_subject(email))])


def lockout_failure_count(*, email: str) -> int:
    return (cache.get(_account_key(email)) or {}).get("failures", 0)
