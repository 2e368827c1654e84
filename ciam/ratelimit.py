"""One rate limiter for every app: fixed-window counters on the Django cache.

A window starts with its first hit and lasts `period` seconds; hits past `limit` in it are
refused until it ends. On Redis (django-redis) a hit is one atomic MULTI (SET NX EX, INCR,
TTL); on another cache (the local-memory one of `make run` without Redis) cache.add and
cache.incr, atomic there too. Keys go through the cache's KEY_FUNCTION
(django_tenants.cache.make_key): each tenant counts apart. While Redis is unreachable, the
cache answers from the process's memory (ciam/cache.py) and hits are counted there.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import cache

_PREFIX = "rl:"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(?P<limit>\d+)/(?P<count>\d*)(?P<unit>[smhd])(?:/(?P<per>\w+))?$")


@dataclass(frozen=True)
class Hit:
    """What one hit found: whether it is allowed, the hits counted in the window so far
    (this one included) and the seconds until the window ends."""

    allowed: bool
    count: int
    retry_after: int


def hit(key: str, limit: int, period: int) -> Hit:
    """Count one hit on `key` in its current window of `period` seconds: allowed while the
    window holds at most `limit` hits."""
    return hits([key], limit, period)[0]


def hits(keys: list[str], limit: int, period: int) -> list[Hit]:
    """hit() on each of `keys` (distinct), in one round trip on Redis."""
    from ciam.cache import UNREACHABLE

    cache_keys = [_PREFIX + key for key in keys]
    redis = _redis()
    counted = None
    if redis is not None and not getattr(cache, "skip_redis", lambda: False)():
        try:
            counted = _hits_on_redis(redis, [cache.make_key(key) for key in cache_keys], period)
        except UNREACHABLE as error:
            cache.outage_begin(error)
    if counted is None:
        counted = [_hit_on_cache(key, period) for key in cache_keys]
    return [
        Hit(allowed=count <= limit, count=count, retry_after=max(1, retry_after))
        for count, retry_after in counted
    ]


def _redis():
    """django-redis's client, or None for another cache."""
    client = getattr(cache, "client", None)
    return client if hasattr(client, "get_client") else None


def _hits_on_redis(redis, keys: list[str], period: int) -> list[tuple[int, int]]:
    """Each key's count and seconds left, in one MULTI."""
    connection = redis.get_client(write=True)
    with connection.pipeline(transaction=True) as pipeline:
        for key in keys:
            pipeline.set(key, 0, nx=True, ex=period)
            pipeline.incr(key)
            pipeline.ttl(key)
        replies = pipeline.execute()
    counted = []
    for key, count, ttl in zip(keys, replies[1::3], replies[2::3], strict=True):
        if ttl < 0:  # never without an expiry: a counter without one would refuse for ever
            connection.expire(key, period)
            ttl = period
        counted.append((count, ttl))
    return counted


def _hit_on_cache(key: str, period: int) -> tuple[int, int]:
    # The window's end is kept next to its count: the cache API has no TTL.
    cache.add(key + ":ends", time.time() + period, period)
    cache.add(key, 0, period)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.set(key, 1, period)
        count = 1
    ends = cache.get(key + ":ends") or time.time() + period
    return count, math.ceil(ends - time.time())


@dataclass(frozen=True)
class Rate:
    """`limit` hits per `period` seconds per `per` (what a setting such as "3/h/key" or
    "5/30m/ip" says: allauth's notation, which settings share with ACCOUNT_RATE_LIMITS)."""

    limit: int
    period: int
    per: str

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s/{self.per}"


def rates_parse(text: str | None) -> list[Rate]:
    """The comma-separated rates of a setting; an empty setting limits nothing."""
    rates = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = _RATE.match(part.strip())
        if match is None:
            raise ValueError(f"Not a rate: {part.strip()!r} (write e.g. 3/h/key or 5/30m/ip).")
        period = int(match["count"] or 1) * _UNITS[match["unit"]]
        rates.append(Rate(int(match["limit"]), period, match["per"] or "ip"))
    return list(dict.fromkeys(rates))


def rates_take(namespace: str, rates: str | None, *, request, key: str | None = None, user=None):
    """Count one hit against each of `rates` (a setting's text, e.g. "3/h/key,20/h/ip"), in
    order: "/ip" per network of the caller, "/key" per `key` (hashed), "/user" per `user` (or
    the signed-in user). False when one of them is used up (the rates after it are not
    counted)."""
    from ciam.http import client_ip

    for rate in rates_parse(rates):
        if rate.per == "ip":
            source = ip_source(client_ip(request))
        elif rate.per == "key":
            source = text_source(key or "")
        elif rate.per == "user":
            source = str((user or request.user).pk)
        else:
            raise ValueError(f"{namespace}: cannot count per {rate.per}.")
        if not hit(f"{namespace}:{rate}:{source}", rate.limit, rate.period).allowed:
            return False
    return True


def rates_take_per_key(namespace: str, rates: str | None, *, keys: list[str]) -> set[str]:
    """rates_take for many keys at once, counting their "/key" rates only: for work no request
    drives (a bulk upload's worker), where what matters is what each key (an address) gets.
    The counters are rates_take's: a key counted here and there counts once per hit in both.
    One round trip per rate on Redis. Returns the keys refused (a key refused by a rate is
    not counted by the rates after it, as in rates_take)."""
    refused: set[str] = set()
    for rate in rates_parse(rates):
        if rate.per != "key":
            continue
        counted = [key for key in dict.fromkeys(keys) if key not in refused]
        if not counted:
            break
        found = hits(
            [f"{namespace}:{rate}:{text_source(key)}" for key in counted], rate.limit, rate.period
        )
        refused.update(key for key, one in zip(counted, found, strict=True) if not one.allowed)
    return refused


def ip_source(ip: str | None) -> str:
    """What an address counts as: an IPv6 address by its /64 (one subscriber's network), an
    IPv4 address by itself."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "unknown"
    if address.version == 6:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


def text_source(text: str) -> str:
    """What a piece of personal data (an email address) counts as: a hash, so that no
    address lies in the cache."""
    return hashlib.sha256(text.lower().encode()).hexdigest()
