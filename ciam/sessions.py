"""Database sessions that cost one statement per write.

Django's database store makes a session row as soon as a key is made (a SELECT to check the
key is free, then an INSERT in a transaction) and writes it again when the response leaves
(an UPDATE in another transaction): seven round trips for a sign-in. This store gives a new
session its key at once but writes the row once, when the response leaves, with a single
INSERT that a duplicate key refuses (the key is then drawn again). Updates are a single
UPDATE. A read is one plain SELECT (through the ORM it cost a fifth of an authorize request).
A new key for the same session (cycle_key, at sign-in) moves the row to the new key with one
UPDATE when the session is saved, where Django's store read the row, deleted it and inserted
it again; the old key stops working then. A deletion is one DELETE.

A signed-in session ends at the earliest of two times fixed when it signs in (the tenant's user
flow: sign_in_timeouts_start): its absolute end, which nothing moves (re-authentication
included), and a stretch of inactivity. Activity is written at most once a minute (one UPDATE),
so the idle end is exact to within that minute. Anonymous sessions keep Django's expiry.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

# Keys of a signed-in session's data: its absolute end and its idle limit (set at sign-in),
# and when it was last seen active (epoch seconds).
ENDS_AT = "_ciam_ends_at"
IDLE_SECONDS = "_ciam_idle_seconds"
SEEN_AT = "_ciam_seen_at"
# When this session last signed in (epoch seconds): the OpenID `auth_time` of its sign-ins.
SIGNED_IN_AT = "_ciam_signed_in_at"
# Activity is written at most this often (and at least ten times within an idle limit).
ACTIVITY_WRITE_SECONDS = 60


def sign_in_timeouts_start(session, *, lifetime_seconds: int, idle_seconds: int) -> None:
    """A session has just signed in: its absolute end and idle limit start now."""
    now = time.time()
    session[ENDS_AT] = now + lifetime_seconds
    session[IDLE_SECONDS] = idle_seconds
    session[SEEN_AT] = now
    session[SIGNED_IN_AT] = now


def _is_over(data: dict, now: float) -> bool:
    if ENDS_AT not in data:
        return False
    return now >= data[ENDS_AT] or now - data.get(SEEN_AT, 0) >= data.get(IDLE_SECONDS, 0)


def _ends_at(data: dict) -> datetime | None:
    """When a signed-in session's row expires: at its idle end or its absolute end."""
    if ENDS_AT not in data:
        return None
    end = min(data[ENDS_AT], data.get(SEEN_AT, 0) + data.get(IDLE_SECONDS, 0))
    return datetime.fromtimestamp(end, tz=UTC)


class SessionStore(DatabaseSessionStore):
    _row_written = True
    _replaces: str | None = None  # the key whose row this session takes over (cycle_key)

    def _get_new_session_key(self) -> str:
        # 160 random bits in 40 hex digits (Django draws 32 of 36 characters one by one): no
        # query to check it is free, the INSERT does.
        return secrets.token_hex(20)

    def _validate_session_key(self, key) -> bool:
        # A quoted cookie may spell NUL ("\\000"), which PostgreSQL text cannot hold: such a
        # key is no session rather than a failed query.
        return bool(super()._validate_session_key(key)) and "\x00" not in key

    def load(self) -> dict:
        using = router.db_for_read(self.model)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        data = self.decode(row[0]) if row is not None else {}
        now = time.time()
        if row is None or _is_over(data, now):
            self._session_key = None  # gone or expired: a new session gets a new key
            return {}
        if ENDS_AT in data:
            idle = data.get(IDLE_SECONDS, 0)
            if now - data.get(SEEN_AT, 0) >= min(ACTIVITY_WRITE_SECONDS, idle / 10):
                data[SEEN_AT] = now
                self.modified = True  # written once the response leaves
        return data

    def create(self) -> None:
        """A new key now, its row when the session is saved (at the end of the request)."""
        self._session_key = self._get_new_session_key()
        self._row_written = False
        if not hasattr(self, "_session_cache"):
            self._session_cache = {}
        self.modified = True

    def cycle_key(self) -> None:
        """A new key for the same data (signing in): the row moves to it when the session is
        saved, and the old key stops working."""
        data = self._session
        key, row_written = self.session_key, self._row_written
        self.create()
        self._session_cache = data
        if key and row_written:
            self._replaces = key
        # A key whose row was never written has nothing to delete.

    def delete(self, session_key: str | None = None) -> None:
        keys = [session_key] if session_key is not None else [self.session_key, self._replaces]
        if session_key is None:
            self._replaces = None
        keys = [key for key in keys if key]
        if not keys:
            return
        using = router.db_for_write(self.model)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE session_key = ANY(%s)", [keys])

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        if self._replaces is not None and not self._row_written and self._rekey():
            return
        if self._replaces is not None:
            # The old row is gone (the session ended meanwhile) or the new key is taken:
            # a row of its own, and the old one goes.
            self.delete(self._replaces)
            self._replaces = None
        if not self._row_written:
            must_create = True
        while True:
            try:
                self._write(must_create=must_create)
            except CreateError:
                if self._row_written:
                    raise
                self._session_key = self._get_new_session_key()
                continue
            self._row_written = True
            return

    def _rekey(self) -> bool:
        """Move the row of the key this session replaces to its new key: one UPDATE."""
        data = self._get_session(no_load=True)
        row = self.create_model_instance(data)
        row.expire_date = _ends_at(data) or row.expire_date
        using = router.db_for_write(self.model, instance=row)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET session_key = %s, session_data = %s, expire_date = %s "
                f"WHERE session_key = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {table} WHERE session_key = %s)",
                [row.session_key, row.session_data, row.expire_date, self._replaces,
                 row.session_key],
            )  # fmt: skip
            if cursor.rowcount != 1:
                return False
        self._replaces = None
        self._row_written = True
        return True

    def _write(self, *, must_create: bool) -> None:
        data = self._get_session(no_load=must_create)
        row = self.create_model_instance(data)
        row.expire_date = _ends_at(data) or row.expire_date
        using = router.db_for_write(self.model, instance=row)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            if must_create:
                cursor.execute(
                    f"INSERT INTO {table} (session_key, session_data, expire_date) "
                    "VALUES (%s, %s, %s) ON CONFLICT (session_key) DO NOTHING",
                    [row.session_key, row.session_data, row.expire_date],
                )
                if cursor.rowcount != 1:
                    raise CreateError
            else:
                cursor.execute(
                    f"UPDATE {table} SET session_data = %s, expire_date = %s "
                    "WHERE session_key = %s",
                    [row.session_data, row.expire_date, row.session_key],
                )
                if cursor.rowcount != 1:
                    # The session ended meanwhile (signed out elsewhere, disabled).
                    raise UpdateError
