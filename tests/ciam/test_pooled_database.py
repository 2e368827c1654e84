"""Behind PgBouncer in transaction mode (`DATABASE_POOLED=true`), a tenant's queries read its
own schema whichever server connection the pooler lends them: the search_path travels with
the first statement of every transaction (ciam/db, docs/scale-out.md).

Every test here runs through a real PgBouncer on loopback."""

from __future__ import annotations

import threading

import pytest
import requests
from django.db import connections

from ciam.db.base import DatabaseWrapper
from tests.oidc.helpers import register_app
from tests.server import free_port, pgbouncer, start_gunicorn, stop


def _connection(port: int, *, pooled: bool) -> DatabaseWrapper:
    """A connection of our backend to this run's test database, through the pooler."""
    settings = connections["default"].settings_dict
    return DatabaseWrapper(
        {**settings, "HOST": "127.0.0.1", "PORT": port, "POOLED": pooled, "CONN_MAX_AGE": 0},
        alias="default",  # not registered: Django's handlers look "default" up elsewhere
    )


def _admins(connection: DatabaseWrapper, tenant) -> set[str]:
    """The tenant's Global administrator addresses, as its schema's user table holds them."""
    connection.set_tenant(tenant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM accounts_user WHERE email LIKE %s", ["admin@%"])
        return {row[0] for row in cursor.fetchall()}


ACME, GLOBEX = {"admin@acme.test"}, {"admin@globex.test"}


def test_without_the_setting_one_server_connection_mixes_tenants(acme_committed, globex):
    """Why the setting exists: the path a connection sent once may no longer be in force."""
    with pgbouncer(pool_size=1) as port:
        first, second = _connection(port, pooled=False), _connection(port, pooled=False)
        try:
            assert _admins(first, acme_committed.tenant) == ACME
            assert _admins(second, globex.tenant) == GLOBEX
            # The first connection's path is remembered, not sent again: the one server
            # connection still has globex's.
            assert _admins(first, acme_committed.tenant) == GLOBEX
        finally:
            first.close()
            second.close()


def test_pooled_connections_read_their_own_tenant_on_a_shared_server_connection(
    acme_committed, globex
):
    with pgbouncer(pool_size=1) as port:
        first, second = _connection(port, pooled=True), _connection(port, pooled=True)
        try:
            for _ in range(3):
                assert _admins(first, acme_committed.tenant) == ACME
                assert _admins(second, globex.tenant) == GLOBEX
            # In a transaction, the path of its first statement holds for the rest of it.
            first.set_autocommit(False)
            assert _admins(first, acme_committed.tenant) == ACME
            assert _admins(first, acme_committed.tenant) == ACME
            first.commit()
            first.set_autocommit(True)
            assert _admins(second, globex.tenant) == GLOBEX
            # executemany and a tenant switch between transactions
            first.set_tenant(globex.tenant)
            with first.cursor() as cursor:
                cursor.executemany("SELECT %s", [[1], [2]])
            assert _admins(first, globex.tenant) == GLOBEX
            assert _admins(first, acme_committed.tenant) == ACME
        finally:
            first.close()
            second.close()


def test_threads_outnumbering_the_pool_never_read_another_tenants_rows(acme_committed, globex):
    tenants = [(acme_committed.tenant, ACME), (globex.tenant, GLOBEX)]
    wrong: list[str] = []

    def work(offset: int) -> None:
        connection = _connection(port, pooled=True)
        try:
            for turn in range(30):
                tenant, expected = tenants[(offset + turn) % 2]
                if turn % 3 == 0:  # a transaction of two statements
                    connection.set_autocommit(False)
                    seen = _admins(connection, tenant) | _admins(connection, tenant)
                    connection.commit()
                    connection.set_autocommit(True)
                else:
                    seen = _admins(connection, tenant)
                if seen != expected:
                    wrong.append(f"{tenant.slug} read {seen}")
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            wrong.append(repr(error))
        finally:
            connection.close()

    with pgbouncer(pool_size=2) as port:
        threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert wrong == []


@pytest.fixture
def directory_readers(acme_committed, globex_committed):
    """A daemon app holding User.Read.All in each tenant."""
    return {
        world.tenant.slug: register_app(
            world, app_type="daemon", permissions=["User.Read.All"], name="Pool"
        )
        for world in (acme_committed, globex_committed)
    }


def test_a_server_behind_the_pooler_answers_each_tenant_from_its_own_directory(
    subprocess_env, acme_committed, globex_committed, directory_readers
):
    """Eight server threads share two server connections; the directory API of two tenants
    is called in turn from eight client threads."""
    worlds = {"acme": acme_committed, "globex": globex_committed}
    failures: list[str] = []
    tokens: dict[str, str] = {}

    def host(slug: str) -> str:
        return f"{worlds[slug].host.split(':')[0]}:{port}"

    def call(offset: int) -> None:
        session = requests.Session()
        for turn in range(12):
            slug = ("acme", "globex")[(offset + turn) % 2]
            other_slug = "globex" if slug == "acme" else "acme"
            mine, theirs = f"admin@{slug}.test", f"admin@{other_slug}.test"
            headers = {"Host": host(slug), "Authorization": f"Bearer {tokens[slug]}"}
            own = session.get(f"{base}/api/v1/users/{mine}", headers=headers, timeout=30)
            other = session.get(f"{base}/api/v1/users/{theirs}", headers=headers, timeout=30)
            if own.status_code != 200 or own.json().get("mail") != mine:
                failures.append(f"{slug} own: {own.status_code}")
            if other.status_code != 404:
                failures.append(f"{slug} saw {theirs}: {other.status_code}")

    with pgbouncer(pool_size=2) as bouncer_port:
        database_url = subprocess_env["DATABASE_URL"].replace(":5432/", f":{bouncer_port}/")
        port = free_port()
        server = start_gunicorn(
            {**subprocess_env, "DATABASE_URL": database_url, "DATABASE_POOLED": "true"},
            port,
            "--threads",
            "8",
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for slug, app in directory_readers.items():
                issued = requests.post(
                    f"{base}/o/token/",
                    {"grant_type": "client_credentials", "client_id": app.client_id,
                     "client_secret": app.secret},
                    headers={"Host": host(slug)},
                    timeout=30,
                )  # fmt: skip
                assert issued.status_code == 200, issued.text
                tokens[slug] = issued.json()["access_token"]
            threads = [threading.Thread(target=call, args=(offset,)) for offset in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=180)
        finally:
            stop(server)
    assert failures == []
