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
"""

from __future__ import annotations

import select

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from psycopg.pq import TransactionStatus


class DatabaseWrapper(TenantDatabaseWrapper):
    def set_tenant(self, tenant, include_public=True):
        already_set = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)
        # The parent clears this unconditionally; keep what the server has.
        self.search_path_set_schemas = already_set

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path:
            return
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
