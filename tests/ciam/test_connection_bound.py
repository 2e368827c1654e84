"""A database connection that has served more than DATABASE_TENANTS_PER_CONNECTION different
tenants is closed at the end of its request or task (ciam/db): PostgreSQL's per-connection
caches grow with every tenant schema the connection touches (bench/tenants.py measured 244 MB
after 1,000 tenants), and CONN_MAX_AGE alone lets a busy thread visit thousands."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, connections

from ciam.db.base import DatabaseWrapper


def _connection(bound: int) -> DatabaseWrapper:
    """A persistent connection of our backend to this run's test database."""
    return DatabaseWrapper(
        {**connections["default"].settings_dict, "CONN_MAX_AGE": None,
         "TENANTS_PER_CONNECTION": bound},
        alias="default",  # not registered: Django's handlers look "default" up elsewhere
    )  # fmt: skip


def _serve(wrapper: DatabaseWrapper, tenant) -> int:
    """What a request in `tenant` does to the connection: its schema, a read, the request's end."""
    wrapper.set_tenant(tenant)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        users = cursor.fetchone()[0]
    wrapper.close_if_unusable_or_obsolete()  # Django's close_old_connections at request end
    return users


def _backend_pid(wrapper: DatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_past_its_bound_of_tenants_is_replaced_at_the_end_of_a_request(acme, globex):
    wrapper = _connection(bound=1)
    try:
        _serve(wrapper, acme.tenant)
        first = _backend_pid(wrapper)
        _serve(wrapper, acme.tenant)  # the same tenant again: nothing new cached
        assert wrapper.connection is not None and _backend_pid(wrapper) == first

        _serve(wrapper, globex.tenant)  # a second tenant: past the bound of one
        assert wrapper.connection is None
        # The next request opens a fresh server process, which counts from its own tenant.
        assert _serve(wrapper, globex.tenant) >= 1
        assert _backend_pid(wrapper) != first
        assert wrapper.tenants_visited == {globex.tenant.schema_name}
    finally:
        wrapper.close()


def test_without_a_bound_only_conn_max_age_closes_the_connection(acme, globex):
    wrapper = _connection(bound=0)
    try:
        _serve(wrapper, acme.tenant)
        first = _backend_pid(wrapper)
        _serve(wrapper, globex.tenant)
        _serve(wrapper, acme.tenant)
        assert wrapper.connection is not None and _backend_pid(wrapper) == first
    finally:
        wrapper.close()


def test_the_deployment_bounds_its_connections_by_default():
    assert settings.DATABASES["default"]["TENANTS_PER_CONNECTION"] == 200
    assert connection.tenants_per_connection == 200
