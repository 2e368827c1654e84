from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from tenants.models import Domain, Tenant
from tenants.services import tenant_create, tenant_delete
from tests.helpers import PASSWORD, eventually


def make_tenant(slug: str, email: str = "owner@example.org") -> Tenant:
    return tenant_create(name=slug.title(), slug=slug, admin_email=email, admin_password=PASSWORD)


def test_provisioning_creates_schema_domain_and_first_admin(db):
    tenant = make_tenant("initech")

    assert schema_exists("t_initech")
    domain = Domain.objects.get(tenant=tenant)
    assert (domain.domain, domain.is_primary, domain.is_verified) == (
        "initech.localhost",
        True,
        True,
    )
    with tenant_context(tenant):
        admin = get_user_model().objects.get()
        assert admin.email == "owner@example.org"
        assert admin.admin_roles == ["global_administrator"]
        assert admin.check_password(PASSWORD)


def test_every_lookup_a_creation_makes_on_public_tables_reads_an_index(db):
    """A creation must cost the same at 10,000 tenants as at ten (bench/README.md): each
    SELECT or UPDATE it sends while on the public schema, django-tenants' own checks
    included, finds its rows through an index rather than reading every tenant."""
    statements = []

    def record(execute, sql, params, many, context):
        if connection.schema_name == "public" and sql.lstrip()[:6].upper() in ("SELECT", "UPDATE"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        make_tenant("indexed")
    connection.set_schema_to_public()
    assert any("schema_name" in sql for sql, _params in statements)  # django-tenants' check
    for sql, params in statements:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables are scanned anyway
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan" not in plan, f"{sql}\n{plan}"


class _DefaultsFailed(Exception):
    pass


def _defaults_fail(*, tenant, admin):
    raise _DefaultsFailed(tenant.slug)


def test_a_creation_that_fails_half_way_leaves_no_tenant_behind(db, settings):
    # A tenant without its administrator or defaults would be reachable and unusable: the
    # row, its domain, its schema and its administrator come and go together.
    settings.TENANT_DEFAULTS = [*settings.TENANT_DEFAULTS, f"{__name__}._defaults_fail"]

    with pytest.raises(_DefaultsFailed):
        make_tenant("halfway")

    assert not Tenant.objects.filter(slug="halfway").exists()
    assert not Domain.objects.filter(domain="halfway.localhost").exists()
    assert not schema_exists("t_halfway")
    settings.TENANT_DEFAULTS = settings.TENANT_DEFAULTS[:-1]
    assert make_tenant("halfway").slug == "halfway"


def test_provisioned_schema_has_every_tenant_table_and_migration(db, acme):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, count(*) FROM information_schema.tables "
            "WHERE table_schema IN ('tenant_template', %s) GROUP BY table_schema",
            [acme.tenant.schema_name],
        )
        counts = dict(cursor.fetchall())
        cursor.execute(f'SELECT count(*) FROM "{acme.tenant.schema_name}".django_migrations')
        tenant_migrations = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenant_template.django_migrations")
        template_migrations = cursor.fetchone()[0]
    assert counts["tenant_template"] > 20
    assert counts[acme.tenant.schema_name] == counts["tenant_template"]
    assert tenant_migrations == template_migrations


def test_user_made_in_one_tenant_does_not_exist_in_another(acme, globex):
    with tenant_context(acme.tenant):
        get_user_model().objects.create_user(email="only-in-acme@example.com", password=PASSWORD)
    with tenant_context(globex.tenant):
        assert not get_user_model().objects.filter(email="only-in-acme@example.com").exists()
    with tenant_context(acme.tenant):
        assert get_user_model().objects.filter(email="only-in-acme@example.com").exists()


def test_same_admin_email_in_two_tenants_is_two_independent_people(db):
    first = make_tenant("umbrella", email="same@example.org")
    second = make_tenant("hooli", email="same@example.org")

    with tenant_context(first):
        first_admin = get_user_model().objects.get(email="same@example.org")
        first_admin.set_password("another long passphrase here")
        first_admin.save()
    with tenant_context(second):
        second_admin = get_user_model().objects.get(email="same@example.org")
        assert second_admin.check_password(PASSWORD)
        assert second_admin.public_id != first_admin.public_id


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("ab", "Use 3 to 40 characters."),
        ("a" * 41, "Use 3 to 40 characters."),
        ("Bad_Slug", "Use lowercase letters, digits and hyphens only"),
        ("-acme", "Use lowercase letters, digits and hyphens only"),
        ("two--hyphens", "Two hyphens in a row are not allowed."),
        ("www", "is reserved"),
        ("admin", "is reserved"),
        ("api", "is reserved"),
        ("login", "is reserved"),
        ("acme", "is already taken"),
    ],
)
def test_bad_slugs_are_refused_with_a_clear_message(acme, slug, message):
    with pytest.raises(ValidationError) as error:
        make_tenant(slug)
    assert message in " ".join(error.value.message_dict["slug"])


def test_weak_admin_password_is_refused(db):
    with pytest.raises(ValidationError) as error:
        tenant_create(
            name="Weak", slug="weakpass", admin_email="a@example.org", admin_password="password1"
        )
    assert "admin_password" in error.value.message_dict
    assert not Tenant.objects.filter(slug="weakpass").exists()


def test_password_containing_the_tenant_name_is_refused(db):
    with pytest.raises(ValidationError) as error:
        tenant_create(
            name="Wayne Enterprises",
            slug="wayne",
            admin_email="bruce@example.org",
            admin_password="enterprises are forever 42",
        )
    assert "organisation" in " ".join(error.value.message_dict["admin_password"])


def test_concurrent_creation_of_one_slug_lets_exactly_one_through(worlds, django_db_blocker):
    """Two processes racing for one slug: the unique indexes admit exactly one."""
    from django.db import connections

    results: list[str] = []

    def create():
        with django_db_blocker.unblock():
            try:
                make_tenant("racer")
                results.append("created")
            except ValidationError as error:
                results.append(" ".join(error.message_dict.get("slug", ["other"])))
            finally:
                connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["created", "“racer” is already taken."]
    finally:
        with django_db_blocker.unblock():
            for tenant in Tenant.objects.filter(slug="racer"):
                tenant_delete(tenant=tenant, confirm_slug="racer", actor=None)


def test_a_request_still_reading_the_tenant_does_not_make_its_deletion_fail(
    committed, database_url
):
    """A request in the tenant holds one table and then asks for one the drop has locked:
    PostgreSQL breaks that deadlock by failing the drop, which is tried again once the
    request has finished (tenants.services._schema_drop)."""
    slug = f"leaving-{uuid.uuid4().hex[:8]}"
    tenant = make_tenant(slug)
    schema = tenant.schema_name
    request = psycopg.connect(database_url, autocommit=False)
    monitor = psycopg.connect(database_url, autocommit=True)
    # The request reads one table, so the drop waits for it after locking others.
    held = "accounts_user"
    request.execute(f'SELECT 1 FROM "{schema}".{held} LIMIT 1')
    deleted: list = []
    failures: list[BaseException] = []

    def delete() -> None:
        try:
            deleted.append(tenant_delete(tenant=tenant, confirm_slug=slug, actor=None))
        except BaseException as failure:  # re-raised below
            failures.append(failure)
        finally:
            connection.close()

    deleting = threading.Thread(target=delete)
    deleting.start()
    try:
        locked_by_the_drop = eventually(
            lambda: monitor.execute(
                "SELECT c.relname FROM pg_locks l "
                "JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND l.mode = 'AccessExclusiveLock' AND l.granted "
                "AND c.relkind = 'r' AND l.pid <> pg_backend_pid() "
                "AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = l.pid AND NOT w.granted)",
                [schema],
            ).fetchall(),
            timeout=10,
            message="the drop never waited for the request's table",
        )
        # The request now asks for a table the drop holds: a deadlock. The drop, waiting
        # longer, is the one PostgreSQL fails; its locks given back, the request goes on.
        waited_for = locked_by_the_drop[0][0]
        request.execute(f'SELECT 1 FROM "{schema}".{waited_for} LIMIT 1')
        request.rollback()  # the request ends: the drop's next try goes through
    finally:
        request.close()
        deleting.join(timeout=60)
        monitor.close()
    assert not failures, failures
    assert deleted and not schema_exists(schema)


def test_a_deleted_tenants_emails_leave_the_outbox_backlog_of_the_metrics(
    acme, django_capture_on_commit_callbacks
):
    """`ciam_email_outbox_backlog` counts emails queued and not yet sent or given up: a
    deleted tenant's will never be either, and would count for ever."""
    from django.conf import settings

    from ciam import metrics

    tenant = make_tenant(f"leaving-{uuid.uuid4().hex[:8]}")
    with tenant_context(tenant):
        metrics.outbox_queued([1, 2, 3])
    with tenant_context(acme.tenant):
        metrics.outbox_queued([987654])
    backlog = metrics._redis(settings.REDIS_URL)

    def members() -> set[str]:
        return {member.decode() for member in backlog.zrange(metrics._outbox_key(), 0, -1)}

    assert {f"{tenant.schema_name}:1", f"{acme.tenant.schema_name}:987654"} <= members()
    with django_capture_on_commit_callbacks(execute=True):
        tenant_delete(tenant=tenant, confirm_slug=tenant.slug, actor=None)
    assert not {member for member in members() if member.startswith(f"{tenant.schema_name}:")}
    assert f"{acme.tenant.schema_name}:987654" in members()
