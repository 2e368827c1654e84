"""django-tenants' backend, minus the SET search_path on every request.

Stock django-tenants forgets the connection's search_path whenever a tenant is
selected, so every request sends `SET search_path` again even when the
persistent connection already points at that schema. We remember what the
connection was last set to and only send it when it changes. A rollback still
forgets it (PostgreSQL reverts a SET made inside an aborted transaction).
"""

from __future__ import annotations

from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


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
