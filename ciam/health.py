"""What `/readyz` reports: the database and Redis answer, every schema is migrated.

`/readyz` answers anyone, on any host. The database and Redis are asked on every call (one
round trip each); the migrations check loads every migration file and reads a row of each
tenant schema, so its finding is kept for `READINESS_MIGRATIONS_SECONDS` per process: a
flood of probes costs two round trips each, not a walk over every tenant.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

_migrations_lock = threading.Lock()
_migrations_finding: dict = {"at": None, "check": None}


def readiness_checks() -> dict[str, dict]:
    return {
        "database": _check(_database),
        "redis": _check(_redis),
        "migrations": _migrations_check_kept(),
    }


def readiness_forget() -> None:
    """The next `/readyz` checks migrations again (tests; after migrating in-process)."""
    _migrations_finding["at"] = None


def _migrations_check_kept() -> dict:
    with _migrations_lock:
        checked_at = _migrations_finding["at"]
        now = time.monotonic()
        if checked_at is None or now - checked_at >= settings.READINESS_MIGRATIONS_SECONDS:
            _migrations_finding["check"] = _check(_migrations)
            _migrations_finding["at"] = now
        return _migrations_finding["check"]


def _check(probe) -> dict:
    try:
        detail = probe()
    except RuntimeError as error:  # our own findings: safe to show
        return {"ok": False, "detail": str(error)}
    except Exception as error:  # a readiness probe reports, it never raises; no internals shown
        return {"ok": False, "detail": error.__class__.__name__}
    return {"ok": True, "detail": detail}


def _database() -> str:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "reachable"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured (tasks run in-process)"
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "reachable"


def _migrations() -> str:
    # The tenants app knows where every schema's migrations stand.
    return import_string(settings.READINESS_MIGRATIONS_CHECK)()
