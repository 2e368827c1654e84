"""Persistent database connections: one the server ended is replaced before a request uses
it, so a PostgreSQL restart or an idle timeout never shows a person an error page."""

from __future__ import annotations

import time

import psycopg
from django.db import connections


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_the_server_ended_is_replaced_at_the_next_request(committed):
    wrapper = connections.create_connection("default")
    try:
        first = _backend_pid(wrapper)
        parameters = wrapper.get_connection_params()
        parameters.pop("cursor_factory", None)
        parameters.pop("context", None)
        with psycopg.connect(**parameters, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [first])
        time.sleep(0.2)
        wrapper.close_if_unusable_or_obsolete()  # what Django does when a request starts
        second = _backend_pid(wrapper)
        assert second != first
        # A healthy connection is kept from one request to the next.
        wrapper.close_if_unusable_or_obsolete()
        assert _backend_pid(wrapper) == second
    finally:
        wrapper.close()
