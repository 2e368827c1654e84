"""Fast tenant schemas: execute a pre-rendered DDL + seed script of the template schema.

Why not django-tenants' `clone_schema`: it walks the catalog with queries whose
cost grows with the number of schemas (measured: 0.6-1.1 s per tenant normally,
70 s at ~240 tenants with stale catalog statistics). Running every migration
costs 2-2.5 s. Executing the script that `pg_dump` rendered from the migrated
template schema is one round trip whose cost does not depend on how many
tenants exist (see bench/tenants.py).

That script still costs ~180 ms: PostgreSQL fsyncs every new btree index (about
190 of them, primary keys and toast tables included). So the script is also run
ahead of time into a few spare schemas (`spare_<fingerprint>_<random>`), and
tenant_create renames one into the tenant's schema (0.2 ms) when one exists for
the current migrations, falling back to the script when none does. migrate_schemas
drops spares of other migrations and refills the pool; each creation queues a
refill in the background. While a spare waits, TENANT_SPARE_DEFAULTS give it what
belongs to no one yet (the default user flow and guest settings, and the first signing key:
an RSA key generation is most of what a tenant creation costs after the schema); a schema
the script makes when no spare is ready gets the same, so both hold the same rows.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.migration_executor import migration_fingerprint
from tenants.models import TenantTemplate

SCHEMA_PLACEHOLDER = "__tenant_schema__"
_SKIPPED_LINE = re.compile(r"^(SET |SELECT pg_catalog\.set_config|--|\\)")

# Rendered scripts keyed by fingerprint: each process reads the script once.
_scripts: dict[str, str] = {}

# How many spare schemas to keep ready: a burst of more sign-ups than this in the time a
# refill takes (~0.2 s a schema) falls back to running the script.
SPARE_SCHEMAS = getattr(settings, "TENANT_SPARE_SCHEMAS", 3)
# First key of our advisory locks (the second is a spare's hash, or 0 for the filler).
_LOCK_CLASS = 7301

logger = logging.getLogger(__name__)


def template_render() -> str:
    """Dump the template schema (structure + seed rows) as a script for any schema name."""
    if not settings.PG_DUMP:
        raise ImproperlyConfigured(
            "pg_dump not found: install postgresql-client (the server's major version or newer)"
            " or set PG_DUMP"
        )
    template = settings.TENANT_TEMPLATE_SCHEMA
    params = connection.settings_dict
    command = [
        settings.PG_DUMP,
        "--schema",
        template,
        "--no-owner",
        "--no-privileges",
        "--no-comments",
        "--inserts",
        "--rows-per-insert=500",
        "--dbname",
        params["NAME"],
    ]
    environment = dict(os.environ)
    options = params.get("OPTIONS") or {}
    # A socket directory may come as ?host=... in DATABASE_URL (the embedded server does).
    host = params.get("HOST") or options.get("host")
    port = params.get("PORT") or options.get("port")
    if host:
        command += ["--host", str(host)]
    if port:
        command += ["--port", str(port)]
    if params.get("USER"):
        command += ["--username", params["USER"]]
    if params.get("PASSWORD"):
        environment["PGPASSWORD"] = params["PASSWORD"]
    dump = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    lines = [
        line for line in dump.stdout.splitlines() if line.strip() and not _SKIPPED_LINE.match(line)
    ]
    script = "\n".join(lines)
    # pg_dump qualifies every name with the schema; make that a placeholder.
    script = script.replace(f"CREATE SCHEMA {template};", "")
    script = re.sub(rf"\b{re.escape(template)}\.", f"{SCHEMA_PLACEHOLDER}.", script)
    if template in script:
        raise RuntimeError("template schema name left in the rendered script")
    return script


def template_render_if_stale(fingerprint: str | None = None) -> TenantTemplate:
    """Keep the stored script in step with the code's migrations (called by migrate_schemas,
    which passes the fingerprint it has already computed)."""
    fingerprint = fingerprint or migration_fingerprint()
    existing = TenantTemplate.objects.filter(fingerprint=fingerprint).first()
    if existing:
        return existing
    script = template_render()
    with transaction.atomic():
        TenantTemplate.objects.exclude(fingerprint=fingerprint).delete()
        template, _ = TenantTemplate.objects.update_or_create(
            fingerprint=fingerprint, defaults={"script": script}
        )
    return template


def template_script(fingerprint: str | None = None) -> str:
    fingerprint = fingerprint or migration_fingerprint_cached()
    script = _scripts.get(fingerprint)
    if script is None:
        template = TenantTemplate.objects.filter(fingerprint=fingerprint).first()
        if template is None:
            raise RuntimeError(
                "The tenant template is missing or out of date: run `manage.py migrate_schemas`."
            )
        script = _scripts[fingerprint] = template.script
    return script


_fingerprint: str | None = None


def migration_fingerprint_cached() -> str:
    global _fingerprint
    if _fingerprint is None:
        _fingerprint = migration_fingerprint()
    return _fingerprint


def schema_create_from_template(schema_name: str, *, spare_defaults: bool = True) -> None:
    """Create `schema_name` with every table and seed row of the template, in the caller's
    transaction: a spare schema renamed when one is ready, else the script. Either way the
    schema then holds what TENANT_SPARE_DEFAULTS make (unless `spare_defaults` is off, for
    the benchmark's filler tenants), so that TENANT_DEFAULTS hooks need not look for it."""
    quoted = f'"{schema_name}"'
    spare = _spare_claim()
    with connection.cursor() as cursor:
        if spare:
            cursor.execute(f'ALTER SCHEMA "{spare}" RENAME TO {quoted}')
        else:
            script = template_script()
            cursor.execute(f"CREATE SCHEMA {quoted}; " + script.replace(SCHEMA_PLACEHOLDER, quoted))
            if spare_defaults:
                _spare_defaults_make(schema_name)
    transaction.on_commit(_spare_schemas_refill_later, robust=True)


def _spare_defaults_make(schema_name: str) -> None:
    with schema_context(schema_name):
        for dotted_path in settings.TENANT_SPARE_DEFAULTS:
            import_string(dotted_path)()


def _spare_prefix(fingerprint: str) -> str:
    return f"spare_{fingerprint[:16]}_"


def spare_schemas(fingerprint: str | None = None) -> list[str]:
    """The spare schemas ready for the current migrations (or those of `fingerprint`)."""
    prefix = _spare_prefix(fingerprint or migration_fingerprint_cached())
    # A range on the name's index (`name` compares bytewise): starts_with() reads every
    # schema, about 6 ms at 10,000 tenants against 0.03 ms.
    after_prefix = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname >= %s::name "
            "AND nspname < %s::name "
            "ORDER BY nspname",
            [prefix, after_prefix],
        )
        return [row[0] for row in cursor.fetchall()]


def _spare_claim() -> str | None:
    """A spare schema locked for the caller's transaction, or None when none is free."""
    with connection.cursor() as cursor:
        for name in spare_schemas():
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, name]
            )
            if not cursor.fetchone()[0]:
                continue  # another creation is taking it
            # One that committed since we listed the spares has renamed it already.
            cursor.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", [name])
            if cursor.fetchone():
                return name
    return None


def spare_schemas_fill(count: int | None = None, fingerprint: str | None = None) -> int:
    """Run the template script into new spare schemas until `count` are ready; returns how
    many it made. One filler at a time: a second caller returns 0 at once."""
    count = SPARE_SCHEMAS if count is None else count
    fingerprint = fingerprint or migration_fingerprint_cached()
    made = 0
    with schema_context(get_public_schema_name()), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, 0)", [_LOCK_CLASS])
        if not cursor.fetchone()[0]:
            return 0
        try:
            script = template_script(fingerprint)
            missing = count - len(spare_schemas(fingerprint))
            for _ in range(missing):
                name = f"{_spare_prefix(fingerprint)}{secrets.token_hex(4)}"
                quoted = f'"{name}"'
                with transaction.atomic():
                    cursor.execute(
                        f"CREATE SCHEMA {quoted}; " + script.replace(SCHEMA_PLACEHOLDER, quoted)
                    )
                    _spare_defaults_make(name)
                made += 1
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [_LOCK_CLASS])
    return made


def spare_schemas_drop_stale(fingerprint: str) -> int:
    """Drop spare schemas made for other migrations than `fingerprint`'s."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_catalog.pg_namespace "
            "WHERE starts_with(nspname, 'spare_') AND NOT starts_with(nspname, %s)",
            [_spare_prefix(fingerprint)],
        )
        stale = [row[0] for row in cursor.fetchall()]
        for name in stale:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    return len(stale)


def _spare_schemas_refill_later() -> None:
    from tenants.tasks import spare_schemas_refill

    try:
        spare_schemas_refill.delay()
    except Exception:  # broker down: the next creation or migrate_schemas refills
        logger.warning("could not queue the spare schema refill", exc_info=True)
