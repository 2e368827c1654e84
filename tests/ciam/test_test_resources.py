"""The Redis databases a test run claims are given back when the run that held them has died."""

import redis

from ciam.test_resources import (
    CLAIM_KEY,
    _claim_of_dead_process_drop,
    _owners,
    redis_database_empty,
    redis_databases_claimed,
)


def test_a_claim_of_a_dead_process_is_dropped_and_a_living_one_kept():
    url = sorted(redis_databases_claimed())[0]
    client = redis.Redis.from_url(url)
    try:
        client.set(CLAIM_KEY, "999999999:dead")  # above any Linux pid_max: nobody runs it
        _claim_of_dead_process_drop(client)
        assert client.get(CLAIM_KEY) is None

        client.set(CLAIM_KEY, _owners[url])  # this process: alive
        _claim_of_dead_process_drop(client)
        assert client.get(CLAIM_KEY) == _owners[url].encode()
    finally:
        redis_database_empty(url)  # the claim is this process's again
