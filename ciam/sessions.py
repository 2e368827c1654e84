"""Database sessions that cost one statement per write.

Django's database store makes a session row as soon as a key is made (a SELECT to check the
key is free, then an INSERT in a transaction) and writes it again when the response leaves
(an UPDATE in another transaction): seven round trips for a sign-in. This store gives a new
session its key at once but writes the row once, when the response leaves, with a single
INSERT that a duplicate key refuses (the key is then drawn again). Updates are a single
UPDATE. A read is one plain SELECT (through the ORM it cost a fifth of an authorize request).
Expiry and deletion are Django's.
"""

from __future__ import annotations

import secrets

from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    _row_written = True

    def _get_new_session_key(self) -> str:
        # 160 random bits in 40 hex digits (Django draws 32 of 36 characters one by one): no
        # query to check it is free, the INSERT does.
        return secrets.token_hex(20)

    def load(self) -> dict:
        using = router.db_for_read(self.model)
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # gone or expired: a new session gets a new key
            return {}
        return self.decode(row[0])

    def create(self) -> None:
        """A new key now, its row when the session is saved (at the end of the request)."""
        self._session_key = self._get_new_session_key()
        self._row_written = False
        if not hasattr(self, "_session_cache"):
            self._session_cache = {}
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
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

    def _write(self, *, must_create: bool) -> None:
        data = self._get_session(no_load=must_create)
        row = self.create_model_instance(data)
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
