"""Shared test fixtures.

Two tenants (acme and globex) are provisioned once per test process through the
fast path and committed, each with a Global administrator, a member and (from
the other tenant's point of view) an outsider. Tests that need the database run
inside a transaction that is rolled back, so a test may create tenants freely:
the schema it creates disappears with the rollback.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from tests.helpers import PASSWORD, TenantWorld  # noqa: F401  (the world's users sign in with it)

# Playwright's sync API keeps an event loop running in the test thread, which makes Django
# refuse database calls from that thread. The tests are synchronous; the guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering
def pytest_collection_modifyitems(config, items):
    """The order in which `make test` hands files to its two workers (`--dist loadfile
    --no-loadscope-reorder`): first the files that run no server, then the files holding
    slow tests, then those driving a server or a browser, so that the longest do not start
    last while the other worker has finished (xdist's own order, by number of tests, put
    one-test files of a minute and more at the end). The order is for time, not correctness:
    a test must not rely on acme as provisioned, since tests that commit leave rows there.
    `CIAM_TEST_ORDER=reversed make test` runs the files the other way round (server and
    browser files first), which finds the tests that do."""

    def weight(marks: set[str]) -> int:
        return 1 if "slow" in marks else 2 if marks & {"browser", "server"} else 0

    def file_of(item) -> str:
        return item.nodeid.split("::", 1)[0]

    # pytest-django's ordering may split a file (database tests apart from the others):
    # each file is put back together where it first appeared.
    first_seen: dict[str, int] = {}
    marks: dict[str, set[str]] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(file_of(item), index)
        marks.setdefault(file_of(item), set()).update(mark.name for mark in item.iter_markers())
    items.sort(key=lambda item: (weight(marks[file_of(item)]), first_seen[file_of(item)]))
    if os.environ.get("CIAM_TEST_ORDER") == "reversed":
        files = list(dict.fromkeys(file_of(item) for item in items))[::-1]
        rank = {name: index for index, name in enumerate(files)}
        items.sort(key=lambda item: rank[file_of(item)])  # stable: a file keeps its own order


def _provision(slug: str, name: str) -> TenantWorld:
    from django.contrib.auth import get_user_model
    from django_tenants.utils import tenant_context

    from tenants.models import Tenant
    from tenants.services import tenant_create

    tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(
        name=name, slug=slug, admin_email=f"admin@{slug}.test", admin_password=PASSWORD
    )
    with tenant_context(tenant):
        User = get_user_model()
        admin = User.objects.get(email=f"admin@{slug}.test")
        member = User.objects.filter(email=f"member@{slug}.test").first()
        if member is None:
            member = User.objects.create_user(email=f"member@{slug}.test", password=PASSWORD)
    return TenantWorld(tenant=tenant, host=tenant.primary_host, admin=admin, member=member)


# The name of a copy of this process's test database as migrated, before acme and globex:
# tests that need a database of their own, migrated, start from it (CREATE DATABASE ...
# TEMPLATE) instead of running every migration again. Empty when it could not be made.
PRISTINE_DATABASE: list[str] = []


def _database_url(name: str) -> str:
    """The URL of database `name` on the test database's server, as this process reaches it."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _maintenance_connection():
    import psycopg

    return psycopg.connect(_database_url("postgres"), autocommit=True)


def _pristine_copy_make() -> None:
    """A copy of the test database as migrated (PRISTINE_DATABASE): a second or two, where
    migrating a new database takes most of a minute."""
    import psycopg

    name = connection.settings_dict["NAME"]
    copy = f"{name}_pristine"
    connection.close()  # a template database must have no other session
    try:
        with _maintenance_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    except psycopg.Error:
        return  # those tests migrate a new database instead
    PRISTINE_DATABASE.append(copy)


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """The test database (migrated, with the tenant template rendered) plus acme and globex.

    Replaces pytest-django's fixture, which creates the test database only when a collected
    test uses `db`: tests that only talk to a server subprocess (with `committed` data) would
    otherwise run against the development database.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, aliases={"default"}
        )
        assert connection.settings_dict["NAME"].startswith("test_"), "not a test database"
        _pristine_copy_make()
        worlds = {
            "acme": _provision("acme", "Acme Corporation"),
            "globex": _provision("globex", "Globex"),
        }
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            schemas = ["public", *(world.tenant.schema_name for world in worlds.values())]
            _logs_as_provisioned_read(cursor, schemas)
    yield worlds
    with django_db_blocker.unblock():
        # A server or worker subprocess (or a prefork child outliving it) may still hold a
        # connection; the test database can only be dropped once they are gone.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        connection.close()
        if PRISTINE_DATABASE:
            with _maintenance_connection() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{PRISTINE_DATABASE[0]}" WITH (FORCE)')
        teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@pytest.fixture(scope="session")
def worlds(django_db_setup):
    return django_db_setup


# The id of the last row of the audit trail and of the sign-in log, by schema (the platform's,
# acme's and globex's), once acme and globex are provisioned.
_LOGS_AS_PROVISIONED: dict[tuple[str, str], int] = {}


def _logs_as_provisioned_read(cursor, schemas) -> None:
    from audit.models import AuditEvent, SignInEvent

    for schema in schemas:
        for table in (AuditEvent._meta.db_table, SignInEvent._meta.db_table):
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{schema}"."{table}"')
            _LOGS_AS_PROVISIONED[schema, table] = cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def _logs_as_provisioned(request):
    """A rolled-back test sees the audit trail and the sign-in log of the platform, acme and
    globex as provisioned: the rows that tests which commit (server, worker and browser tests)
    left there are deleted inside its transaction, and come back with its rollback. An
    assertion on "the event of this action" then finds this test's own event in any file
    order, and never passes on another test's. Tests that commit are left alone."""
    if "db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")
    if not connection.in_atomic_block:  # a transactional test: its deletes would stay
        yield
        return
    with connection.cursor() as cursor:
        for (schema, table), last_id in _LOGS_AS_PROVISIONED.items():
            cursor.execute(f'DELETE FROM "{schema}"."{table}" WHERE id > %s', [last_id])
    yield


@pytest.fixture(autouse=True)
def _language_as_configured():
    """Each test starts in the default language, as a new process would. A request through
    Django's test client runs in this thread, and the language middleware leaves the page's
    language active after it: a test calling a service right after another test's French
    request would otherwise read French messages (the reversed file order met two)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield


@pytest.fixture
def acme(worlds, db) -> TenantWorld:
    return worlds["acme"]


@pytest.fixture
def globex(worlds, db) -> TenantWorld:
    return worlds["globex"]


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Each test starts (and ends) on the public schema, whatever the last request chose."""
    from ciam.health import readiness_forget
    from ciam.process_cache import process_caches_forget_local

    connection.set_schema_to_public()
    process_caches_forget_local()
    readiness_forget()
    yield
    connection.set_schema_to_public()
    process_caches_forget_local()
    readiness_forget()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: nothing counted toward lockouts or rate limits
    by an earlier test. Only the cache's Redis database: queued Celery tasks stay. Servers and
    workers that outlive a test find their process caches' generation keys gone, and forget
    their copies (ciam/process_cache.py)."""
    from ciam.test_resources import redis_database_empty, redis_databases_claimed

    if settings.REDIS_URL in redis_databases_claimed():
        redis_database_empty(settings.REDIS_URL)


@pytest.fixture
def platform_client() -> Client:
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture(scope="session")
def database_url(django_db_setup) -> str:
    """DATABASE_URL of this process's test database, for server and worker subprocesses."""
    return _database_url(connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def pristine_database(django_db_setup) -> str | None:
    """The name of the copy of this process's test database as migrated, before any tenant
    (CREATE DATABASE ... TEMPLATE it for a migrated database of one's own); None when the copy
    could not be made."""
    return PRISTINE_DATABASE[0] if PRISTINE_DATABASE else None


@pytest.fixture(scope="session")
def subprocess_env(database_url) -> dict[str, str]:
    """Environment for a server or Celery worker that shares this test process's database
    and Redis databases (cache and broker)."""
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=database_url,
        CIAM_TESTING="true",
        CIAM_TEST_REDIS_URL=settings.REDIS_URL,
        CIAM_TEST_BROKER_URL=settings.CELERY_BROKER_URL,
        CACHE_KEY_PREFIX=settings.CACHES["default"].get("KEY_PREFIX", "ciam"),
        EMAIL_URL=os.environ.get("EMAIL_URL", "consolemail://"),
    )
    return environment


@pytest.fixture(scope="session")
def smtp_sink():
    """A real SMTP server on loopback; this process's Django sends its mail there too."""
    from tests.mail import SmtpSink

    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(smtp_sink):
    """The SMTP sink, emptied for this test."""
    smtp_sink.clear()
    return smtp_sink


@pytest.fixture(scope="session")
def celery_worker_process(subprocess_env, smtp_sink):
    """A real Celery worker process on this test process's Redis database and test database,
    sending mail to the SMTP sink. Tasks it runs see only committed rows: tests that use it
    commit their data (see `committed`)."""
    from tests.server import start_celery_worker, stop

    worker = start_celery_worker({**subprocess_env, "EMAIL_URL": smtp_sink.url})
    yield worker
    stop(worker)


@pytest.fixture
def committed(worlds, django_db_blocker):
    """Database access in autocommit mode, for data a server or worker subprocess must see.
    Such data is not rolled back: use unique names."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def acme_committed(worlds, committed):
    """acme with autocommit database access: what the test writes, a server or worker sees."""
    return worlds["acme"]


@pytest.fixture
def globex_committed(worlds, committed):
    return worlds["globex"]


# Browser tests (tests/browser.py): one Playwright and one Chromium per test process, and the
# real server they visit.


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # The page runs under the policy the server sends, as in a person's browser.
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def running_server(subprocess_env, smtp_sink):
    """The real server on a spare port, sharing this process's test database; its mail goes
    to the SMTP sink. `running_server.url(host, path)` builds a URL on a tenant or platform host."""
    from tests.browser import RunningServer
    from tests.server import free_port, start_gunicorn, stop

    port = free_port()
    process = start_gunicorn({**subprocess_env, "EMAIL_URL": smtp_sink.url}, port)
    yield RunningServer(port)
    stop(process)
