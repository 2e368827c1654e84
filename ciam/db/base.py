"""django-tenants' backend, minus the SET search_path and the SELECT 1 of every request.

Stock django-tenants forgets the connection's search_path whenever a tenant is
selected, so every request sends `SET search_path` again even when the
persistent connection already points at that schema. We remember what the
connection was last set to and only send it when it changes. A rollback still
forgets it (PostgreSQL reverts a SET made inside an aborted transaction).

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request to
find connections the server has closed. A server that ends a connection (restart, shutdown,
pg_terminate_backend, idle timeout) first sends a message and closes the socket, so an idle
connection with something to read is one to check; one with nothing to read is used as is.

Behind a pooler in transaction mode (PgBouncer `pool_mode = transaction`, the setting
`DATABASE_POOLED=true`), a connection's next transaction may run on another server
connection, so a `SET search_path` sent once is worth nothing: another client's path may be
in force. There the path travels with the first statement of every transaction instead (one
message, `SET search_path = ...; <statement>`, which PostgreSQL runs as one transaction when
it is not inside one already), and nothing is remembered between transactions. See
docs/scale-out.md.
"""

from __future__ import annotations

import contextlib
import select

from django.db.backends.postgresql.base import Cursor as DjangoCursor
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.utils import quote_schema_name
from psycopg.pq import TransactionStatus


class PooledCursor(DjangoCursor):
    """A cursor whose statements carry the tenant's search_path when they start a transaction.

    Inside a transaction the pooler keeps the server connection, so the first statement's SET
    holds for the rest of it; the SET is plain (not LOCAL) because an autocommit statement is
    its own implicit transaction, and every transaction that follows sets its own path.
    """

    search_path: str = ""  # the SET statement for the wrapper's schema, given at creation

    def execute(self, query, params=None, **kwargs):
        if not self._starts_transaction():
            return super().execute(query, params, **kwargs)
        if isinstance(query, str):
            super().execute(f"{self.search_path}; {query}", params, **kwargs)
            self.nextset()  # past the SET's result, onto the statement's
            return self
        with self._transaction():
            super().execute(self.search_path)
            return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        if not self._starts_transaction():
            return super().executemany(query, params_seq, **kwargs)
        with self._transaction():
            super().execute(self.search_path)
            return super().executemany(query, params_seq, **kwargs)

    @contextlib.contextmanager
    def copy(self, statement, params=None, **kwargs):
        if not self._starts_transaction():
            with super().copy(statement, params, **kwargs) as copy:
                yield copy
            return
        with self._transaction():
            super().execute(self.search_path)
            with super().copy(statement, params, **kwargs) as copy:
                yield copy

    def _starts_transaction(self) -> bool:
        return bool(self.search_path) and (
            self.connection.info.transaction_status == TransactionStatus.IDLE
        )

    def _transaction(self):
        """A transaction around a SET and a statement that cannot share one message; without
        autocommit, psycopg opens one at the first statement anyway."""
        if self.connection.autocommit:
            return self.connection.transaction()
        return contextlib.nullcontext()


class DatabaseWrapper(TenantDatabaseWrapper):
    def __init__(self, settings_dict, *args, **kwargs):
        super().__init__(settings_dict, *args, **kwargs)
        # settings.DATABASES["default"]["POOLED"] (DATABASE_POOLED): behind a transaction pooler.
        self.pooled = bool(settings_dict.get("POOLED"))
        # PostgreSQL keeps every relation a connection has touched in that server process's
        # caches (about a quarter of a megabyte per tenant schema: bench/tenants.py), so a
        # connection that hops across tenants grows without bound within CONN_MAX_AGE. Past
        # TENANTS_PER_CONNECTION (DATABASE_TENANTS_PER_CONNECTION) different tenants it is
        # closed at the end of its request or task, as CONN_MAX_AGE would close it.
        self.tenants_per_connection = settings_dict.get("TENANTS_PER_CONNECTION") or 0
        self.tenants_visited: set[str] = set()

    def connect(self):
        super().connect()
        self.tenants_visited = {self.schema_name} if self.schema_name else set()

    def close_if_unusable_or_obsolete(self):
        super().close_if_unusable_or_obsolete()
        if (
            self.connection is not None
            and self.tenants_per_connection
            and len(self.tenants_visited) > self.tenants_per_connection
            and not self.in_atomic_block
        ):
            self.close()

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.pooled:
            params["cursor_factory"] = PooledCursor
        return params

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        if self.pooled and isinstance(cursor, PooledCursor):
            cursor.search_path = self._search_path_statement()
        return cursor

    def _search_path_statement(self) -> str:
        if not self.schema_name:
            return ""
        schemas = self._get_cursor_search_paths()  # each name checked there
        return "SET search_path = " + ",".join(quote_schema_name(s) for s in schemas)

    def set_tenant(self, tenant, include_public=True):
        already_set = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)
        if self.connection is not None:
            self.tenants_visited.add(tenant.schema_name)
        # The parent clears this unconditionally; keep what the server has.
        self.search_path_set_schemas = already_set

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path:
            return
        if self.pooled:
            return  # each transaction's first statement carries the path (PooledCursor)
        if (
            self.search_path_set_schemas is not None
            and self.schema_name
            and self._get_cursor_search_paths() == self.search_path_set_schemas
        ):
            return
        super()._handle_search_path(cursor)

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            # poll(), not select(): a busy process may hold descriptors above select's 1024.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            readable = poller.poll(0)
        except (OSError, ValueError):
            return False
        # Something arrived unasked (or the socket closed): most likely the server's goodbye.
        return super().is_usable() if readable else True
