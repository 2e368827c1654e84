"""Resources a test process claims for itself on shared servers (imported only when testing)."""

from __future__ import annotations

import atexit
import os

import redis

CLAIM_KEY = "ciam:test-claim"  # expires: a run that dies gives its database back
OWNED_KEY = "ciam:test-owned"  # stays: the database has only ever served test runs
CLAIM_SECONDS = 3 * 3600

_owners: dict[str, str] = {}  # URL of each database this process holds -> its claim's value


def redis_database_claim(server_url: str) -> str:
    """The URL of a Redis database (not 0) that this process alone holds until it exits.

    A database is taken when it is empty, or when only test runs ever used it and none holds
    it now (what a killed run left behind is flushed). Databases anything else uses (`make
    run` uses 0) are never touched. The claim is dropped at exit and expires if the process
    dies. Each call claims another database.
    """
    owner = f"{os.getpid()}:{os.urandom(4).hex()}"
    for number in range(1, _database_count(server_url)):
        client = redis.Redis.from_url(f"{server_url}/{number}")
        if client.dbsize() and not client.exists(OWNED_KEY):
            continue
        _claim_of_dead_process_drop(client)
        if client.set(CLAIM_KEY, owner, nx=True, ex=CLAIM_SECONDS):
            for key in client.scan_iter(count=1000):
                if key not in (CLAIM_KEY.encode(), OWNED_KEY.encode()):
                    client.delete(key)
            client.set(OWNED_KEY, "1")
            atexit.register(_release, client, owner)
            _owners[f"{server_url}/{number}"] = owner
            return f"{server_url}/{number}"
    raise RuntimeError("No free Redis database for this test process.")


def _database_count(server_url: str) -> int:
    """How many databases the server has (16 unless started with `--databases N`)."""
    try:
        reply = redis.Redis.from_url(f"{server_url}/0").config_get("databases")
        return int(reply["databases"])
    except (redis.ResponseError, KeyError, ValueError):
        return 16  # CONFIG refused (a managed server): Redis's default


def _claim_of_dead_process_drop(client: redis.Redis) -> None:
    """A claim whose process has died (killed, out of memory) is dropped at once rather than
    when it expires: the Redis server is local, so the claim's process id is one of ours."""
    claim = client.get(CLAIM_KEY)
    if not claim:
        return
    pid = int(claim.split(b":", 1)[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        # Only if the claim is still that dead process's: another run may just have taken it.
        with client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(CLAIM_KEY)
                if pipe.get(CLAIM_KEY) == claim:
                    pipe.multi()
                    pipe.delete(CLAIM_KEY)
                    pipe.execute()
            except redis.WatchError:
                pass
    except PermissionError:
        pass  # alive, another user's


def redis_databases_claimed() -> set[str]:
    return set(_owners)


def redis_database_empty(url: str) -> None:
    """Everything in a database this process claimed is deleted, the claim itself kept.

    One transaction: no other process sees the database empty and unclaimed in between.
    """
    owner = _owners[url]
    client = redis.Redis.from_url(url)
    with client.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        pipe.set(CLAIM_KEY, owner, ex=CLAIM_SECONDS)
        pipe.set(OWNED_KEY, "1")
        pipe.execute()


def _release(client: redis.Redis, owner: str) -> None:
    try:
        if client.get(CLAIM_KEY) == owner.encode():
            client.flushdb()
            client.set(OWNED_KEY, "1")
    except redis.RedisError:
        pass
