"""The one rate limiter (ciam.ratelimit): fixed windows that start with their first hit, on
Redis and on the local-memory cache of `make run` without Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from ciam.ratelimit import Rate, hit, ip_source, rates_parse, rates_take, rates_take_per_key

LOCAL_MEMORY = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}


@pytest.fixture(params=["redis", "local-memory"])
def backend(request, settings):
    if request.param == "local-memory":
        settings.CACHES = LOCAL_MEMORY
    return request.param


def test_hits_past_the_limit_are_refused_until_the_window_ends(backend):
    key = f"test:{uuid.uuid4().hex}"
    assert [hit(key, 2, 1).allowed for _hit in range(3)] == [True, True, False]
    time.sleep(1.1)
    again = hit(key, 2, 1)
    assert again.allowed and again.count == 1


def test_a_refused_hit_says_when_the_window_ends(backend):
    key = f"test:{uuid.uuid4().hex}"
    first = hit(key, 1, 3600)
    assert first.allowed and first.count == 1
    refused = hit(key, 1, 3600)
    assert not refused.allowed and refused.count == 2
    assert 3590 <= refused.retry_after <= 3600


def test_keys_count_apart(backend):
    key = f"test:{uuid.uuid4().hex}"
    assert hit(key + ":a", 1, 60).allowed
    assert hit(key + ":b", 1, 60).allowed
    assert not hit(key + ":a", 1, 60).allowed


def test_many_keys_at_once_count_on_the_counters_of_one_at_a_time(backend, rf):
    """A bulk upload's worker counts its addresses per key in one go, on the same counters as
    the requests that count one address at a time; the IP rates do not apply to it."""
    namespace = f"test:{uuid.uuid4().hex}"
    rates = "2/h/key,3/d/key,1/h/ip"
    request = rf.get("/", REMOTE_ADDR="198.51.100.9")
    assert rates_take(namespace, rates, request=request, key="Ada@example.com")
    assert rates_take_per_key(namespace, rates, keys=["ada@example.com", "bo@example.com"]) == set()
    # Ada had her two of the hour (the refused hit is not counted by the day's rate).
    assert rates_take_per_key(namespace, rates, keys=["ada@example.com", "bo@example.com"]) == {
        "ada@example.com"
    }
    assert not rates_take(namespace, "2/h/key", request=request, key="bo@example.com")
    assert rates_take_per_key(namespace, "5/h/key,3/d/key", keys=["ada@example.com"]) == set()
    assert rates_take_per_key(namespace, "5/h/key,3/d/key", keys=["ada@example.com"]) == {
        "ada@example.com"
    }


def test_rates_read_allauths_notation():
    assert rates_parse("3/h/key, 5/30m/ip,10/d/key,20/15m") == [
        Rate(3, 3600, "key"),
        Rate(5, 1800, "ip"),
        Rate(10, 86400, "key"),
        Rate(20, 900, "ip"),
    ]
    assert rates_parse("") == [] and rates_parse(None) == []
    with pytest.raises(ValueError):
        rates_parse("3 per hour")


def test_an_ipv6_client_counts_by_its_network():
    assert ip_source("2001:db8:1:2:aaaa::1") == ip_source("2001:db8:1:2:bbbb::2")
    assert ip_source("2001:db8:1:2::1") != ip_source("2001:db8:1:3::1")
    assert ip_source("198.51.100.7") == "198.51.100.7"
