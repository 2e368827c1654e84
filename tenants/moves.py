"""Backup and tenant moves (docs/deployment.md, "Backing up and moving a tenant").

`tenant_export` writes one tenant to a file: its schema (`pg_dump --schema`, structure and
rows), its public rows (the `Tenant` row, its `Domain` rows, the operators' audit rows about
it) and its files in the storage (branding logos under `branding/<schema>/`), with a SHA-256
of each part in the manifest. `tenant_import` loads such a file into another deployment (or
the same one after the tenant was deleted): it checks every checksum, refuses a slug, host or
schema that exists there (or a slug still in quarantine) and a file made at other migrations,
then creates the schema and the public rows in one transaction.

What the tenant's rows keep sealed (authenticator secrets, signing keys, IdP secrets) is
sealed with keys derived from SECRET_KEY (and MFA_ENCRYPTION_KEYS): the target deployment
must hold the same keys, or those secrets cannot be opened there.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from tenants.migration_executor import migration_fingerprint, schema_fingerprints
from tenants.models import Domain, Tenant
from tenants.routing import routing_invalidate
from tenants.selectors import deleted_tenants_in_quarantine
from tenants.work import tenant_work_all_due

FORMAT = "ciam-tenant-export/1"
# pg_dump 17.6 and later frame a plain script with psql meta-commands; we run it ourselves.
_PSQL_META = re.compile(r"^\\(?:un)?restrict \S+$", re.MULTILINE)


class TenantMoveError(Exception):
    """A file that cannot be imported here, or a tenant that cannot be exported: the message
    says why, for the operator."""


@dataclass
class ImportedTenant:
    tenant: Tenant
    domains: list[str]
    files: int


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pg_dump_schema(schema: str) -> bytes:
    if not settings.PG_DUMP:
        raise ImproperlyConfigured("pg_dump not found: install postgresql-client or set PG_DUMP")
    params = connection.settings_dict
    command = [
        settings.PG_DUMP, "--schema", schema, "--no-owner", "--no-privileges",
        "--no-comments", "--inserts", "--rows-per-insert=500", "--dbname", params["NAME"],
    ]  # fmt: skip
    environment = dict(os.environ)
    options = params.get("OPTIONS") or {}
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
    return subprocess.run(command, capture_output=True, env=environment, check=True).stdout


def _storage_files(prefix: str) -> list[str]:
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    names = [f"{prefix}/{name}" for name in files]
    for folder in folders:
        names += _storage_files(f"{prefix}/{folder}")
    return names


def tenant_export(*, tenant: Tenant, path: Path) -> dict:
    """Write `tenant` to the file `path`; returns its manifest."""
    connection.set_schema_to_public()
    schema = tenant.schema_name
    recorded = schema_fingerprints([schema]).get(schema)
    if recorded != migration_fingerprint():
        raise TenantMoveError(f"Schema {schema} is not migrated: run migrate_schemas first.")
    parts: dict[str, bytes] = {
        "schema.sql": _pg_dump_schema(schema),
        "public.json": serializers.serialize(
            "json",
            [
                tenant,
                *Domain.objects.filter(tenant=tenant).order_by("pk"),
                *AuditEvent.objects.filter(
                    target_type="tenants.tenant", target_id=str(tenant.public_id)
                ).order_by("pk"),
            ],
        ).encode(),
    }
    for name in _storage_files(f"branding/{schema}"):
        with default_storage.open(name) as stored:
            parts[f"media/{name}"] = stored.read()
    manifest = {
        "format": FORMAT,
        "slug": tenant.slug,
        "schema": schema,
        "migrations": recorded,
        "exported_at": timezone.now().isoformat(),
        "sha256": {name: _sha256(data) for name, data in parts.items()},
    }
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    members = {"manifest.json": json.dumps(manifest, indent=2).encode(), **parts}
    with tarfile.open(partial, "w:gz") as archive:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size, member.mtime, member.mode = len(data), 0, 0o600
            archive.addfile(member, io.BytesIO(data))
    partial.replace(path)  # never a half-written file under the final name
    return manifest


def _read(path: Path) -> tuple[dict, dict[str, bytes]]:
    try:
        with tarfile.open(path, "r:gz") as archive:
            parts = {}
            for member in archive.getmembers():
                if not member.isfile():
                    raise TenantMoveError(f"Unexpected entry {member.name!r} in the file.")
                parts[member.name] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise TenantMoveError(f"Not a readable tenant export: {error}") from error
    try:
        manifest = json.loads(parts.pop("manifest.json"))
    except (KeyError, ValueError) as error:
        raise TenantMoveError("The file has no readable manifest.") from error
    if manifest.get("format") != FORMAT:
        raise TenantMoveError(f"Unknown format {manifest.get('format')!r}.")
    expected = manifest.get("sha256") or {}
    if set(expected) != set(parts):
        raise TenantMoveError("The file's parts are not those its manifest lists.")
    for name, data in parts.items():
        if _sha256(data) != expected[name]:
            raise TenantMoveError(f"Checksum mismatch in {name}: the file is damaged.")
    return manifest, parts


def tenant_import(*, path: Path) -> ImportedTenant:
    """Load a `tenant_export` file into this deployment's database and storage."""
    manifest, parts = _read(Path(path))
    schema, slug = manifest["schema"], manifest["slug"]
    if manifest["migrations"] != migration_fingerprint():
        raise TenantMoveError(
            "The file was made at other migrations than this deployment's code: run the same "
            "version (and migrate_schemas) on both sides."
        )
    objects = list(serializers.deserialize("json", parts["public.json"]))
    tenants = [item.object for item in objects if isinstance(item.object, Tenant)]
    domains = [item.object for item in objects if isinstance(item.object, Domain)]
    audits = [item.object for item in objects if isinstance(item.object, AuditEvent)]
    if len(tenants) != 1 or tenants[0].slug != slug or tenants[0].schema_name != schema:
        raise TenantMoveError("The public rows do not match the manifest.")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema) or schema.startswith("pg_"):
        raise TenantMoveError(f"Invalid schema name {schema!r}.")
    script = _PSQL_META.sub("", parts["schema.sql"].decode())
    connection.set_schema_to_public()
    with transaction.atomic():
        _refuse_existing(slug=slug, schema=schema, hosts=[domain.domain for domain in domains])
        with connection.cursor() as cursor:
            cursor.execute(script)
            # The script set the session's search_path: back to what the backend believes.
            cursor.execute("SET search_path = public")
        tenant = tenants[0]
        tenant.pk = None
        tenant.save(force_insert=True)
        for domain in domains:
            domain.pk, domain.tenant = None, tenant
            domain.save(force_insert=True)
        for event in audits:
            event.pk = None
            event.save(force_insert=True)
        # Its schema may hold periodic work: every beat task visits it once, then keeps the
        # public work index as it does for any tenant (tenants/work.py).
        tenant_work_all_due(tenant=tenant)
    files = 0
    for name, data in parts.items():
        if name.startswith(f"media/branding/{schema}/") and ".." not in name:
            stored = name.removeprefix("media/")
            if not default_storage.exists(stored):
                default_storage.save(stored, ContentFile(data))
            files += 1
    routing_invalidate()
    return ImportedTenant(tenant, [domain.domain for domain in domains], files)


def _refuse_existing(*, slug: str, schema: str, hosts: list[str]) -> None:
    if Tenant.objects.filter(slug=slug).exists():
        raise TenantMoveError(f"A tenant with the slug {slug!r} exists here.")
    if deleted_tenants_in_quarantine().filter(slug=slug).exists():
        raise TenantMoveError(
            f"The slug {slug!r} is reserved here (a deleted tenant's): release it first."
        )
    taken = list(Domain.objects.filter(domain__in=hosts).values_list("domain", flat=True))
    if taken:
        raise TenantMoveError(f"These hosts serve another tenant here: {', '.join(taken)}.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", [schema])
        if cursor.fetchone():
            raise TenantMoveError(f"The schema {schema!r} exists here.")
