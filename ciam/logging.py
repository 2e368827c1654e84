"""Structured log lines bound to the tenant and the request.

Every record gets `tenant` (the schema the connection is on) and `request_id` (from
RequestIdMiddleware), so a line can be traced to one tenant and one request.
"""

from __future__ import annotations

import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class TenantContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from django.db import connection

        record.tenant = getattr(connection, "schema_name", None) or "-"
        record.request_id = request_id_var.get()
        return True
