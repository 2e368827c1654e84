"""Values a process keeps between requests, forgotten when any process publishes a change.

The process that makes a change forgets its copies at once; the others notice a new
generation number in the shared cache, which each looks at no more than once every
`check_seconds`. Hot reads (the tenant of a host, a tenant's user flow) so cost no query and,
most of the time, no cache round trip either.

Without a generation key a cache is this process's alone: its values last `max_age` seconds
and a change elsewhere is noticed when they expire (signing key lists, issuers), or they never
change (parsed keys).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
import weakref

from django.core.cache import cache
from django.db import connection, transaction
from django_tenants.utils import schema_context

_instances: weakref.WeakSet[ProcessCache] = weakref.WeakSet()


class ProcessCache:
    def __init__(
        self,
        generation_key: str | None,
        *,
        check_seconds: float = 1.0,
        keep_in_transactions=True,
        max_entries: int | None = None,
        max_age: float | None = None,
    ):
        """`keep_in_transactions=False`: a value read inside a transaction is not kept, as
        the transaction may yet roll back what it read. `max_entries`: beyond it, the oldest
        value is forgotten, so keys chosen by callers cannot grow the process without end.
        `max_age`: a value older than that many seconds is not returned."""
        self.generation_key = generation_key
        self.check_seconds = check_seconds
        self.keep_in_transactions = keep_in_transactions
        self.max_entries = max_entries
        self.max_age = max_age
        self._values: dict = {}
        self._generation: str | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        _instances.add(self)

    def get(self, key):
        self._forget_if_changed_elsewhere()
        entry = self._values.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self.max_age is not None and time.monotonic() - stored_at >= self.max_age:
            return None
        return value

    def set(self, key, value) -> None:
        if not self.keep_in_transactions and connection.in_atomic_block:
            return
        with self._lock:
            self._values.pop(key, None)
            while self.max_entries and len(self._values) >= self.max_entries:
                del self._values[next(iter(self._values))]
            self._values[key] = (time.monotonic(), value)

    def __len__(self) -> int:
        return len(self._values)

    def invalidate(self) -> None:
        """After a change: forgotten here now, and in every process once it commits."""
        self._values.clear()
        transaction.on_commit(self._publish_new_generation)

    def forget(self, key) -> None:
        """Forget one value in this process only."""
        self._values.pop(key, None)

    def forget_local(self) -> None:
        self._values.clear()

    def _publish_new_generation(self) -> None:
        self._values.clear()
        if self.generation_key is None:
            return
        self._generation = uuid.uuid4().hex
        # Cache down: other processes catch up when it returns.
        with schema_context("public"), contextlib.suppress(Exception):
            cache.set(self.generation_key, self._generation, None)

    def _forget_if_changed_elsewhere(self) -> None:
        if self.generation_key is None:
            return
        now = time.monotonic()
        if now - self._checked_at < self.check_seconds:
            return
        with self._lock:
            if now - self._checked_at < self.check_seconds:
                return
            self._checked_at = now
            try:
                with schema_context("public"):
                    current = cache.get(self.generation_key)
            except Exception:
                current = None
            if current != self._generation:
                self._values.clear()
                self._generation = current


def process_caches_forget_local() -> None:
    """Every process cache forgets its values (tests, whose changes roll back, between tests)."""
    for instance in list(_instances):
        instance.forget_local()
