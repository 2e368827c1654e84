"""Backup and tenant moves (tenants/moves.py): a populated tenant exported with
`manage.py tenant_export` and imported with `manage.py tenant_import` into another deployment
(another database) keeps its users, app and guest, and people sign in there."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
import time
import uuid

import psycopg
import pytest
import requests
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from guests.models import GuestProfile
from guests.services.invitations import invitation_accept
from tenants.models import Tenant, TenantWork
from tenants.moves import TenantMoveError, tenant_import
from tenants.services import tenant_create, tenant_delete
from tests.guests.helpers import invite
from tests.helpers import PASSWORD, TenantWorld, make_user, unique_email
from tests.oidc.helpers import register_app
from tests.server import ROOT, free_port, start_gunicorn, stop

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _manage(environment: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _sign_in(base: str, host: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", headers={"Host": host}, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{base}/accounts/login/",
        {"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Host": host, "Referer": f"http://{host}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )


def _public_schema_copy(source: str, target: str) -> None:
    """What `migrate_schemas --shared` makes in an empty database (about 80 s on the shared
    test machine; this takes about 2 s): the public schema's structure and the rows the
    migrations wrote (their record, content types, permissions) and the extension tenants
    migration 0007 creates (tenant schemas' search indexes use it), none of the tenants."""
    from django.conf import settings

    params = connection.settings_dict
    where = ["--host", params.get("HOST") or "127.0.0.1", "--port", str(params.get("PORT") or 5432),
             "--username", params.get("USER") or "postgres"]  # fmt: skip
    structure = subprocess.run(
        [settings.PG_DUMP, *where, "--schema=public", "--extension=pg_trgm", "--schema-only",
         "--no-owner", "--no-privileges", source], capture_output=True, check=True,
    ).stdout  # fmt: skip
    rows = subprocess.run(
        [settings.PG_DUMP, *where, "--data-only", "--table=public.django_migrations",
         "--table=public.django_content_type", "--table=public.auth_permission", source],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    subprocess.run(
        ["psql", *where, "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", target],
        input=b"DROP SCHEMA public;\n" + structure + rows, capture_output=True, check=True,
    )  # fmt: skip


@pytest.fixture
def populated(committed):
    """A tenant of its own with a member, a daemon app and a guest who accepted."""
    slug = f"moves-{uuid.uuid4().hex[:8]}"
    admin_email = f"a@{slug}.example"
    tenant = tenant_create(
        name="Moves", slug=slug, admin_email=admin_email, admin_password=PASSWORD
    )
    with tenant_context(tenant):
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(email=admin_email)
    world = TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=None)
    world.member = make_user(world)
    app = register_app(world, app_type="daemon", name="Moving daemon")
    invitation = invite(world, email=unique_email("guest"))
    with tenant_context(tenant), transaction.atomic():
        guest = invitation_accept(invitation=invitation, address_proven=True)
    yield world, app, guest
    connection.set_schema_to_public()
    if Tenant.objects.filter(slug=slug).exists():
        tenant_delete(tenant=Tenant.objects.get(slug=slug), confirm_slug=slug, actor=None)


def test_a_tenant_moves_to_another_database_and_people_sign_in_there(
    populated, subprocess_env, database_url, tmp_path
):
    world, app, guest = populated
    exported = tmp_path / "tenant.tar.gz"
    call_command("tenant_export", world.tenant.slug, str(exported))
    with tarfile.open(exported) as archive:
        assert {"manifest.json", "schema.sql", "public.json"} <= set(archive.getnames())

    # The same tenant cannot come back where it is.
    with pytest.raises(TenantMoveError, match="exists here"):
        tenant_import(path=exported)
    # A damaged file is refused before anything is written.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(exported) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "schema.sql":
                data = data.replace(b"Moving daemon", b"Moving demon!")
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match="Checksum mismatch in schema.sql"):
        call_command("tenant_import", str(damaged))

    # Another deployment: an empty database with the public schema migrated.
    other_name = f"{connection.settings_dict['NAME']}_moved_{uuid.uuid4().hex[:6]}"
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    other_url = database_url.rsplit("/", 1)[0] + f"/{other_name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{other_name}"')
    other = {**subprocess_env, "DATABASE_URL": other_url, "CACHE_KEY_PREFIX": other_name}
    server = None
    try:
        started = time.monotonic()
        _public_schema_copy(connection.settings_dict["NAME"], other_name)
        migrate_seconds = time.monotonic() - started
        started = time.monotonic()
        imported = _manage(other, "tenant_import", str(exported))
        assert imported.returncode == 0, imported.stderr[-3000:]
        assert f"Imported {world.tenant.slug}" in imported.stdout
        import_seconds = time.monotonic() - started
        print(f"public schema {migrate_seconds:.1f} s, import {import_seconds:.1f} s")
        again = _manage(other, "tenant_import", str(exported))
        assert again.returncode != 0 and "exists here" in again.stderr

        with psycopg.connect(other_url) as moved:
            schema = world.tenant.schema_name
            emails = {
                row[0] for row in moved.execute(f'SELECT email FROM "{schema}".accounts_user')
            }
            assert {world.admin.email, world.member.email, guest.email} <= emails
            assert moved.execute(
                f'SELECT count(*) FROM "{schema}".guests_guestprofile WHERE user_id = %s',
                [guest.pk],
            ).fetchone() == (1,)  # fmt: skip
            # Its work (the guest's end of access, the invitation emails) is in the public
            # work index there: every beat task visits it once.
            kinds = moved.execute(
                "SELECT work.kind FROM tenants_tenantwork work JOIN tenants_tenant tenant "
                "ON tenant.id = work.tenant_id WHERE tenant.slug = %s",
                [world.tenant.slug],
            ).fetchall()
            assert {kind for (kind,) in kinds} == set(TenantWork.Kind.values)

        # People sign in on the other deployment, and the app gets tokens signed there.
        port = free_port()
        server = start_gunicorn(other, port)
        base, host = f"http://127.0.0.1:{port}", f"{world.tenant.primary_host}:{port}"
        answer = _sign_in(base, host, world.member.email, PASSWORD)
        assert answer.status_code == 302 and answer.headers["Location"] == "/account/"
        assert _sign_in(base, host, world.member.email, "not the password").status_code == 200
        token = requests.post(
            f"{base}/o/token/", {"grant_type": "client_credentials"},
            auth=(app.client_id, app.secret), headers={"Host": host}, timeout=30,
        )  # fmt: skip
        assert token.status_code == 200, token.text
        assert "access_token" in token.json()
    finally:
        if server is not None:
            stop(server)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{other_name}" WITH (FORCE)')
    with tenant_context(world.tenant):
        assert GuestProfile.objects.filter(user_id=guest.pk).exists()  # the source is intact
