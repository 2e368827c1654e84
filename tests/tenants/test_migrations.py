"""migrate_schemas over tenant schemas: up-to-date schemas are skipped, a schema that is
behind is brought up to date, and the tenant template (and the spare schemas made from
it) follows migration changes so a tenant provisioned afterwards has them too."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context, tenant_context

from accounts.models import UserFlow
from guests.models import GuestSettings
from oidc import tokens
from oidc.models import SigningKey
from tenants.migration_executor import tenant_schemas_behind, tenants_recorded_behind
from tenants.models import Tenant
from tests.server import ROOT

pytestmark = [pytest.mark.server, pytest.mark.slow]

LATEST_OTP_STATIC = ("otp_static", "0003_add_timestamps")
PASSWORD = "a long and unusual passphrase"


def _has_column(schema: str, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
            [schema, table, column],
        )
        return cursor.fetchone() is not None


def _recorded(schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, app, name, applied FROM "{schema}".django_migrations ORDER BY id'
        )
        return cursor.fetchall()


def test_migrate_schemas_migrates_the_schema_that_is_behind_and_leaves_the_others(
    acme, globex, capsys
):
    behind = globex.tenant.schema_name
    with tenant_context(globex.tenant):
        executor = MigrationExecutor(connection)
        assert LATEST_OTP_STATIC in executor.loader.graph.leaf_nodes()
        executor.migrate([("otp_static", "0002_throttling")])  # globex loses two columns
    connection.set_schema_to_public()
    assert not _has_column(behind, "otp_static_staticdevice", "last_used_at")
    assert tenant_schemas_behind() == [behind]
    acme_before = _recorded(acme.tenant.schema_name)
    Tenant.objects.filter(schema_name=behind).update(migrations_fingerprint="")
    assert tenants_recorded_behind() >= 1

    call_command("migrate_schemas", interactive=False, verbosity=1)

    output = capsys.readouterr().out
    assert "public schema up to date" in output
    assert f"{behind}: applied otp_static.0003_add_timestamps" in output
    assert acme.tenant.schema_name not in output
    assert _has_column(behind, "otp_static_staticdevice", "last_used_at")
    assert _has_column(behind, "otp_static_staticdevice", "created_at")
    assert ("otp_static", "0003_add_timestamps") in {
        (app, name) for _, app, name, _ in _recorded(behind)
    }
    assert _recorded(acme.tenant.schema_name) == acme_before
    assert tenant_schemas_behind() == []
    # The public record /readyz reads says so for every tenant, without reading a schema.
    assert tenants_recorded_behind() == 0


@pytest.fixture
def scratch_database(database_url, pristine_database):
    """A database of its own, for commands that commit (pg_dump only sees committed rows):
    a copy of this process's test database as migrated, before any tenant, or a new one where
    there is no such copy."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") + "_migrations"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    template = f' TEMPLATE "{pristine_database}"' if pristine_database else ""
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"{template}')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(environment: dict, *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout


def _settings_with_a_new_otp_static_migration(directory: Path) -> dict[str, str]:
    """Settings whose otp_static migrations are the library's plus one adding a column: what
    a deployment of new code with a new migration looks like to migrate_schemas."""
    import django_otp.plugins.otp_static.migrations as library_migrations

    package = directory / "changed_otp_static_migrations"
    shutil.copytree(
        Path(library_migrations.__file__).parent,
        package,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (package / "0004_note.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [{LATEST_OTP_STATIC!r}]\n"
        "    operations = [\n"
        "        migrations.AddField('staticdevice', 'note', models.TextField(null=True)),\n"
        "        migrations.CreateModel('Memo', [\n"
        "            ('id', models.BigAutoField(primary_key=True)),\n"
        "            ('text', models.TextField()),\n"
        "        ]),\n"
        "    ]\n"
    )
    (directory / "changed_settings.py").write_text(
        "from ciam.settings import *  # noqa: F403\n\n"
        'MIGRATION_MODULES = {"otp_static": "changed_otp_static_migrations"}\n'
    )
    return {"DJANGO_SETTINGS_MODULE": "changed_settings", "PYTHONPATH": str(directory)}


def _columns(url: str, table: str, column: str) -> set[str]:
    """The schemas whose `table` has `column`."""
    with psycopg.connect(url) as database:
        rows = database.execute(
            "SELECT n.nspname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
            [table, column],
        ).fetchall()
    return {row[0] for row in rows}


def _schemas_named_like(url: str, prefix: str) -> set[str]:
    with psycopg.connect(url) as database:
        rows = database.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [prefix]
        ).fetchall()
    return {row[0] for row in rows}


def test_template_follows_a_new_migration_so_new_tenants_get_it(
    scratch_database, subprocess_env, tmp_path
):
    before = {**subprocess_env, "DATABASE_URL": scratch_database}
    _manage(before, "migrate_schemas", "--noinput", "-v", "0")
    _manage(before, "tenant_create", "early", "--name", "Early", "--admin-email",
            "admin@early.test", "--admin-password", PASSWORD)  # fmt: skip
    after = {**before, **_settings_with_a_new_otp_static_migration(tmp_path)}

    output = _manage(after, "migrate_schemas", "--noinput", "-v", "1")

    assert "1 tenant schemas to migrate, 0 up to date" in output
    assert "t_early: applied otp_static.0004_note" in output
    with_note = _columns(scratch_database, "otp_static_staticdevice", "note")
    spares = {schema for schema in with_note if schema.startswith("spare_")}
    assert with_note - spares == {"public", "tenant_template", "t_early"}
    assert _schemas_named_like(scratch_database, "spare_") == spares  # old spares dropped
    assert spares
    with psycopg.connect(scratch_database) as database:
        scripts = database.execute("SELECT script FROM tenants_tenanttemplate").fetchall()
        # post_migrate ran in the migrated schema: the new model has its permissions.
        permissions = database.execute(
            "SELECT p.codename FROM t_early.auth_permission p "
            "JOIN t_early.django_content_type c ON c.id = p.content_type_id "
            "WHERE c.app_label = 'otp_static' AND c.model = 'memo' ORDER BY p.codename"
        ).fetchall()
    assert [row[0] for row in permissions] == [
        "add_memo",
        "change_memo",
        "delete_memo",
        "view_memo",
    ]
    assert len(scripts) == 1
    assert "note text" in scripts[0][0]

    _manage(after, "tenant_create", "later", "--name", "Later", "--admin-email",
            "admin@later.test", "--admin-password", PASSWORD)  # fmt: skip
    assert "t_later" in _columns(scratch_database, "otp_static_staticdevice", "note")

    again = _manage(after, "migrate_schemas", "--noinput", "-v", "1")
    assert "public schema up to date" in again
    assert "0 tenant schemas to migrate, 2 up to date" in again


def _table_count(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            [schema],
        )
        return cursor.fetchone()[0]


def test_a_new_tenant_takes_a_spare_schema_and_runs_the_script_when_none_is_left(db):
    from django.contrib.auth import get_user_model

    from tenants.provisioning import spare_schemas, spare_schemas_fill
    from tenants.services import tenant_create

    spare_schemas_fill(2)
    spares = spare_schemas()
    assert len(spares) >= 2
    template_tables = _table_count("tenant_template")
    # The spare waits with its first signing key made (the slow part of a creation), and the
    # default user flow and guest settings, which belong to no tenant yet.
    with schema_context(spares[0]):
        (spare_kid,) = SigningKey.objects.values_list("kid", flat=True)
        (spare_flow,) = UserFlow.objects.values_list("pk", flat=True)
        assert GuestSettings.objects.count() == 1

    first = tenant_create(
        name="Spare One", slug="spare-one", admin_email="admin@spare-one.test",
        admin_password=PASSWORD,
    )  # fmt: skip
    assert spare_schemas() == spares[1:]
    with connection.cursor() as cursor:
        # The spares' rows were written in this test's transaction: their deferred
        # foreign-key checks would block the drop (tenant_delete does the same).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name in spare_schemas():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
    second = tenant_create(
        name="Spare Two", slug="spare-two", admin_email="admin@spare-two.test",
        admin_password=PASSWORD,
    )  # fmt: skip

    kids = []
    for tenant, email in [(first, "admin@spare-one.test"), (second, "admin@spare-two.test")]:
        assert _table_count(tenant.schema_name) == template_tables
        with tenant_context(tenant):
            assert list(get_user_model().objects.values_list("email", flat=True)) == [email]
            # Exactly one key, and the tenant signs with it.
            (kid,) = SigningKey.objects.values_list("kid", flat=True)
            signed = tokens.sign({"sub": "x"})
            header = json.loads(base64.urlsafe_b64decode(signed.split(".")[0] + "=="))
            assert header["kid"] == kid
            kids.append(kid)
            # One default user flow with its built-in attributes, one set of guest settings,
            # and the administrator's address, whichever way the schema came.
            (flow,) = UserFlow.objects.all()
            assert [a.key for a in flow.attributes.order_by("position")] == ["givenName", "surname"]
            assert GuestSettings.objects.count() == 1
            assert EmailAddress.objects.get().email == email
            if tenant == first:
                assert flow.pk == spare_flow  # the spare's, not made again
    assert kids[0] == spare_kid  # taken over with the spare, not generated again
    assert kids[1] != spare_kid


def test_a_spare_key_sealed_under_a_retired_secret_is_replaced_at_creation(db, settings):
    from tenants.provisioning import spare_schemas, spare_schemas_fill
    from tenants.services import tenant_create

    spare_schemas_fill(1)
    with schema_context(spare_schemas()[0]):
        spare_kids = set(SigningKey.objects.values_list("kid", flat=True))
    # SECRET_KEY rotated and the old one dropped from the fallbacks since the spare was made.
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    tenant = tenant_create(
        name="Rotated", slug="rotated-secret", admin_email="admin@rotated.test",
        admin_password=PASSWORD,
    )  # fmt: skip
    with tenant_context(tenant):
        (kid,) = SigningKey.objects.values_list("kid", flat=True)
        signed = tokens.sign({"sub": "x"})
    assert kid not in spare_kids
    assert json.loads(base64.urlsafe_b64decode(signed.split(".")[0] + "=="))["kid"] == kid
