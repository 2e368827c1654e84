from __future__ import annotations

from django.conf import settings
from django.db import connection


def readiness_checks() -> dict[str, dict]:
    return {
        "database": _check(_database),
        "redis": _check(_redis),
        "migrations": _check(_migrations),
    }


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
    from tenants.migration_executor import public_migrations_pending, tenant_schemas_behind

    pending = public_migrations_pending()
    if pending:
        raise RuntimeError(f"{pending} public migrations not applied")
    behind = tenant_schemas_behind()
    if behind:
        raise RuntimeError(f"{len(behind)} tenant schemas not migrated")
    return "up to date"
